// The cuDNN fused executor (model/cudnn/cudnn_graph.h) against eager libtorch: the same
// packaged model on the same fixture, CUDA float16 both ways, must agree to float16 rounding
// (PSNR >= 50 dB on 8-bit output), and the default CUDA float16 load must really use it.
// The published-output tests (test_published_outputs.cpp) check the fused path against
// UpscalerJS's own samples as well, since it is the default there.
#include "model/torch/throughput.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace upscaled::test {
namespace {

// The default load (fused) or one with UPSCALED_NETWORK_EXECUTOR=eager, CUDA float16.
model::PlanarImage run_fixture(const std::filesystem::path& package, int scale, bool eager, std::string* describe) {
  if (eager)
    setenv("UPSCALED_NETWORK_EXECUTOR", "eager", 1);
  else
    unsetenv("UPSCALED_NETWORK_EXECUTOR");
  const auto out = upscale_fixture(package, scale, "cuda", "fp16", describe);
  unsetenv("UPSCALED_NETWORK_EXECUTOR");
  return out;
}

// The case's package when this build and machine can run the executor; empty with the
// reason to skip otherwise.
std::optional<std::filesystem::path> executor_package(const PackageCase& c, std::string* why) {
#ifndef UPSCALED_TEST_CUDNN_GRAPH
  *why = "this build has no cuDNN executor (needs libtorch with CUDA and cuDNN found at configure time)";
  (void)c;
  return std::nullopt;
#else
  if (!model::torch_cuda_available()) {
    *why = "no CUDA device (libtorch reports none)";
    return std::nullopt;
  }
  return package_with_model(c.size, c.scale, why);
#endif
}

class FusedExecutor : public testing::TestWithParam<PackageCase> {};

TEST_P(FusedExecutor, CudaFloat16MatchesEager) {
  std::string why;
  const auto package = executor_package(GetParam(), &why);
  if (!package) GTEST_SKIP() << why;
  std::string fused_name, eager_name;
  const auto fused = run_fixture(*package, GetParam().scale, false, &fused_name);
  const auto eager = run_fixture(*package, GetParam().scale, true, &eager_name);
  EXPECT_NE(fused_name.find("cuDNN fused executor"), std::string::npos) << fused_name;
  EXPECT_EQ(eager_name.find("cuDNN fused executor"), std::string::npos) << eager_name;
  // The default plan: esrgan-thick's 150 dense-block convolutions (C=4: their concatenations are
  // prefixes of the dense block's widest one; the fusion convolutions read it whole, their
  // residuals in the kernel) on the executor's own kernel; slim and medium (one growth
  // convolution per block, nothing to host) split their dense blocks' convolutions.
  const bool thick_body = std::string(GetParam().size) == "thick";
  if (thick_body) {
    // ... with the two convolutions after the body (the first's residual the head's output; the
    // second's 48 outputs run as 64), and the head convolution (3 -> 64) on the input kernel
    // (model/cudnn/input_conv.h).
    EXPECT_NE(fused_name.find(" 152 convolutions on the own kernel, 1 on the input kernel"), std::string::npos)
        << fused_name;
    // The first two dense blocks' outputs of each of the 10 RRDBs are read in the next block's
    // buffer (cudnn_graph.h, lives_in_slot); the RRDBs' own outputs are read too late for that.
    EXPECT_NE(fused_name.find(" 20 values read in their slots"), std::string::npos) << fused_name;
  } else {
    EXPECT_EQ(fused_name.find(" 0 convolutions split"), std::string::npos) << fused_name;
    EXPECT_NE(fused_name.find(" 0 convolutions on the own kernel, 0 on the input kernel"), std::string::npos)
        << fused_name;
  }
  // The last two layers run as one pass of the executor's own kernel (model/cudnn/shuffle_conv.h):
  // esrgan-thick's depth_to_space and convolution at every scale, slim's and medium's nearest
  // up-sampling and convolution up to x4 (x8's 192-channel convolution stays in libtorch).
  const bool thick = std::string(GetParam().size) == "thick";
  const char* tail = thick                   ? "depth_to_space and the last convolution in one pass"
                     : GetParam().scale <= 4 ? "up-sampling and the last convolution in one pass"
                                             : nullptr;
  if (tail)
    EXPECT_NE(fused_name.find(tail), std::string::npos) << fused_name;
  else
    EXPECT_EQ(fused_name.find("in one pass"), std::string::npos) << fused_name;
  const double psnr = psnr_u8(fused, eager);
  std::cout << GetParam().size << " x" << GetParam().scale << " fused vs eager (CUDA fp16): PSNR " << psnr << " dB; "
            << fused_name << "\n";
  EXPECT_GE(psnr, 50.0);
}

// The fixture through a plan other than the default (the settings, set for that load only) against eager, CUDA float16:
// the PSNR (printed with `label`) and the load's description, which says which plan ran.
struct PlanAgainstEager {
  double psnr = 0;
  std::string describe;
};
using Setting = std::pair<const char*, const char*>;
PlanAgainstEager plan_against_eager(const std::filesystem::path& package, const PackageCase& c, const char* label,
                                    std::initializer_list<Setting> settings) {
  PlanAgainstEager r;
  std::string eager_name;
  for (const auto& [name, value] : settings) setenv(name, value, 1);
  const auto planned = run_fixture(package, c.scale, false, &r.describe);
  for (const auto& [name, value] : settings) unsetenv(name);
  const auto eager = run_fixture(package, c.scale, true, &eager_name);
  r.psnr = psnr_u8(planned, eager);
  std::cout << c.size << " x" << c.scale << " " << label << " vs eager (CUDA fp16): PSNR " << r.psnr << " dB; "
            << r.describe << "\n";
  return r;
}

// UPSCALED_CUDNN_SPLIT=0 (and the own kernel off): the plan that fills concatenations by
// placement instead of splitting convolutions (cudnn_graph.h).
TEST_P(FusedExecutor, CudaFloat16PlacedConcatenationsMatchEager) {
  std::string why;
  const auto package = executor_package(GetParam(), &why);
  if (!package) GTEST_SKIP() << why;
  const PlanAgainstEager r = plan_against_eager(*package, GetParam(), "placed",
                                                {{"UPSCALED_CUDNN_SPLIT", "0"}, {"UPSCALED_CUDNN_OWN_CONV", "0"}});
  EXPECT_NE(r.describe.find(" 0 convolutions split into 0 part convolutions"), std::string::npos) << r.describe;
  EXPECT_EQ(r.describe.find(" 0 concatenations filled in place"), std::string::npos) << r.describe;
  EXPECT_GE(r.psnr, 50.0);
}

// UPSCALED_CUDNN_OWN_CONV=0: every model splits its dense blocks' convolutions (cuDNN only).
TEST_P(FusedExecutor, CudaFloat16SplitWithoutOwnKernelMatchesEager) {
  std::string why;
  const auto package = executor_package(GetParam(), &why);
  if (!package) GTEST_SKIP() << why;
  const PlanAgainstEager r = plan_against_eager(*package, GetParam(), "split", {{"UPSCALED_CUDNN_OWN_CONV", "0"}});
  EXPECT_EQ(r.describe.find(" 0 convolutions split"), std::string::npos) << r.describe;
  EXPECT_NE(r.describe.find(" 0 convolutions on the own kernel"), std::string::npos) << r.describe;
  EXPECT_GE(r.psnr, 50.0);
}

// UPSCALED_CUDNN_OWN_FUSION=0: esrgan-thick's 30 fusion convolutions on cuDNN, their residuals
// in an epilogue pass; slim and medium plan as by default (nothing is hosted there).
TEST_P(FusedExecutor, CudaFloat16CudnnFusionMatchesEager) {
  std::string why;
  const auto package = executor_package(GetParam(), &why);
  if (!package) GTEST_SKIP() << why;
  const PlanAgainstEager r =
      plan_against_eager(*package, GetParam(), "cuDNN fusion", {{"UPSCALED_CUDNN_OWN_FUSION", "0"}});
  if (std::string(GetParam().size) == "thick") {
    EXPECT_NE(r.describe.find(" 120 convolutions on the own kernel"), std::string::npos) << r.describe;
    EXPECT_NE(r.describe.find(" 20 values read in their slots"), std::string::npos) << r.describe;
  }
  EXPECT_GE(r.psnr, 50.0);
}

INSTANTIATE_TEST_SUITE_P(UpscalerJS, FusedExecutor,
                         testing::Values(PackageCase{"slim", 2}, PackageCase{"medium", 3}, PackageCase{"medium", 4},
                                         PackageCase{"medium", 8}, PackageCase{"thick", 2}, PackageCase{"thick", 3},
                                         PackageCase{"thick", 4}, PackageCase{"thick", 8}),
                         case_name);

}  // namespace
}  // namespace upscaled::test
