// The rule that sets libtorch's cuDNN autotuning (model/torch/network.h: set_cudnn_autotune):
// the network's wish (Network::wants_cudnn_autotune) unless UPSCALED_CUDNN_BENCHMARK forces it.
#include "model/torch/network.h"

#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace upscaled::model::torchnet {
namespace {

class FixedWish final : public Network {
 public:
  explicit FixedWish(bool wants) : wants_(wants) {}
  torch::Tensor forward(const torch::Tensor& input) override { return input; }
  int scale() const override { return 1; }
  std::string describe() const override { return "fixed"; }
  void to(torch::Device, torch::Dtype) override {}
  bool wants_cudnn_autotune() const override { return wants_; }

 private:
  bool wants_;
};

// Restores the variable and libtorch's flag however a test leaves them.
class CudnnAutotune : public testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("UPSCALED_CUDNN_BENCHMARK");
    had_ = v != nullptr;
    if (had_) saved_ = v;
    flag_ = at::globalContext().benchmarkCuDNN();
  }
  void TearDown() override {
    if (had_)
      setenv("UPSCALED_CUDNN_BENCHMARK", saved_.c_str(), 1);
    else
      unsetenv("UPSCALED_CUDNN_BENCHMARK");
    at::globalContext().setBenchmarkCuDNN(flag_);
  }
  static bool after(const Network& n) {
    set_cudnn_autotune(n);
    return at::globalContext().benchmarkCuDNN();
  }

 private:
  bool had_ = false, flag_ = false;
  std::string saved_;
};

TEST_F(CudnnAutotune, FollowsTheNetworkUnlessTheVariableForcesIt) {
  const FixedWish yes(true), no(false);
  unsetenv("UPSCALED_CUDNN_BENCHMARK");
  EXPECT_TRUE(after(yes));
  EXPECT_FALSE(after(no));
  setenv("UPSCALED_CUDNN_BENCHMARK", "0", 1);
  EXPECT_FALSE(after(yes));
  setenv("UPSCALED_CUDNN_BENCHMARK", "1", 1);
  EXPECT_TRUE(after(no));
  setenv("UPSCALED_CUDNN_BENCHMARK", "", 1);  // neither 0 nor 1: the network decides
  EXPECT_FALSE(after(no));
}

}  // namespace
}  // namespace upscaled::model::torchnet
