// DeviceWarmUp (model/model_loader.h): which requests start the GPU warm-up thread, and on a
// GPU that the warm-up itself runs (libtorch's CUDA path and the cuDNN executor's).
#include "model/model_loader.h"
#include "model/network_loader.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
  EXPECT_TRUE(warm_up_network_device(request_for("auto"), WarmUpPath::both, &device));
  EXPECT_EQ(device, 0);
  device = -1;
  EXPECT_TRUE(warm_up_network_device(request_for("cuda:0"), WarmUpPath::executor, &device));
  EXPECT_EQ(device, 0);
}

// The warm-up leaves libtorch's convolution out only for what the cuDNN executor will run:
// TF.js models (by registry name, the default, a folder or a model.json) at float16.
TEST_F(DeviceWarmUpTest, ExpectsTheExecutorOnlyForTfjsModelsAtHalfPrecision) {
  const char* saved = std::getenv("UPSCALED_NETWORK_EXECUTOR");
  const std::optional<std::string> executor = saved ? std::optional<std::string>(saved) : std::nullopt;
  unsetenv("UPSCALED_NETWORK_EXECUTOR");
  EXPECT_TRUE(executor_expected(request_for("cuda", "esrgan-thick")));
  EXPECT_TRUE(executor_expected(request_for("cuda", "default")));
  EXPECT_FALSE(executor_expected(request_for("cuda", "RealESRGAN_x4plus")));
  EXPECT_FALSE(executor_expected(request_for("cuda", "realesr-animevideov3")));
  EXPECT_FALSE(executor_expected(request_for("cuda", "no-such-model")));
  ModelRequest fp32 = request_for("cuda", "esrgan-thick");
  fp32.precision = "fp32";
  EXPECT_FALSE(executor_expected(fp32));
  ModelRequest bf16 = request_for("cuda", "esrgan-thick");
  bf16.precision = "bf16";
  EXPECT_FALSE(executor_expected(bf16));
  const std::string dir = testing::TempDir() + "/warm_up_model_dir";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/model.json") << "{}";
  std::ofstream(dir + "/net.pth") << "x";
  EXPECT_TRUE(executor_expected(request_for("cuda", dir)));
  EXPECT_TRUE(executor_expected(request_for("cuda", dir + "/model.json")));
  std::ofstream(dir + "/UPPER.JSON") << "{}";  // the loader takes the extension in any case
  EXPECT_TRUE(executor_expected(request_for("cuda", dir + "/UPPER.JSON")));
  EXPECT_FALSE(executor_expected(request_for("cuda", dir + "/net.pth")));
  setenv("UPSCALED_NETWORK_EXECUTOR", "eager", 1);
  EXPECT_FALSE(executor_expected(request_for("cuda", "esrgan-thick")));
  if (executor)
    setenv("UPSCALED_NETWORK_EXECUTOR", executor->c_str(), 1);
  else
    unsetenv("UPSCALED_NETWORK_EXECUTOR");
  std::filesystem::remove_all(dir);
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
