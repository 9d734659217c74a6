// DeviceWarmUp (model/model_loader.h): which requests start the GPU warm-up thread, and on a
// GPU that the warm-up itself runs (libtorch's CUDA path and the cuDNN executor's).
#include "model/model_loader.h"
#include "model/network_loader.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

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
  int device = -1;
  EXPECT_TRUE(warm_up_network_device(request_for("auto"), &device));
  EXPECT_EQ(device, 0);
}

// The follow-up step (the CLI loads the frame path's kernels there) runs on the warm-up's
// thread with the warmed device, and only after a warm-up that ran.
TEST_F(DeviceWarmUpTest, ThenRunsAfterAWarmUpWithItsDevice) {
  std::atomic<int> seen{-2};
  {
    DeviceWarmUp warm(request_for("cpu"), [&](int d) { seen = d; });
    warm.wait();
  }
  EXPECT_EQ(seen.load(), -2) << "no warm-up, no follow-up";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device for libtorch (the CPU half passed)";
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  DeviceWarmUp warm(request_for("cuda:0"), [&](int d) {
    seen = d;
    ran_on = std::this_thread::get_id();
  });
  warm.wait();
  EXPECT_EQ(seen.load(), 0);
  EXPECT_NE(ran_on, caller);
}

}  // namespace
}  // namespace upscaled::model
