// DeviceWarmUp (model/model_loader.h): which requests start the GPU warm-up thread, and on a
// GPU that the warm-up itself runs (libtorch's CUDA path and the cuDNN executor's).
#include "model/model_loader.h"
#include "model/network_loader.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace upscaled::model {
namespace {

ModelRequest request_for(const std::string& device, const std::string& name = "esrgan-slim") {
  ModelRequest r;
  r.name = name;
  r.device = device;
  return r;
}

// Restores UPSCALED_GPU_WARMUP however a test leaves it.
class DeviceWarmUpTest : public testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("UPSCALED_GPU_WARMUP")) saved_ = v;
    unsetenv("UPSCALED_GPU_WARMUP");
  }
  void TearDown() override {
    if (saved_)
      setenv("UPSCALED_GPU_WARMUP", saved_->c_str(), 1);
    else
      unsetenv("UPSCALED_GPU_WARMUP");
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(DeviceWarmUpTest, NoThreadForTheCpuClassicModelsOrWhenTurnedOff) {
  EXPECT_FALSE(DeviceWarmUp(request_for("cpu")).started());
  EXPECT_FALSE(DeviceWarmUp(request_for("auto", "lanczos")).started());
  setenv("UPSCALED_GPU_WARMUP", "0", 1);
  EXPECT_FALSE(DeviceWarmUp(request_for("auto")).started());
  EXPECT_FALSE(DeviceWarmUp(request_for("cuda")).started());
}

TEST_F(DeviceWarmUpTest, AutoStartsAThreadThatJoinsWithOrWithoutAGpu) {
  DeviceWarmUp warm(request_for("auto"));
  EXPECT_TRUE(warm.started());
  warm.wait();
  warm.wait();  // a second wait is harmless
  EXPECT_EQ(warm_up_network_device(request_for("cpu")), false);
}

TEST_F(DeviceWarmUpTest, WarmsTheGpuWhenThereIsOne) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device for libtorch";
  EXPECT_TRUE(warm_up_network_device(request_for("cuda")));
  EXPECT_TRUE(warm_up_network_device(request_for("auto")));
}

}  // namespace
}  // namespace upscaled::model
