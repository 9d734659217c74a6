// The cuDNN fused executor (model/cudnn/cudnn_graph.h) against eager libtorch: the same
// packaged model on the same fixture, CUDA float16 both ways, must agree to float16 rounding
// (PSNR >= 50 dB on 8-bit output), and the default CUDA float16 load must really use it.
// The published-output tests (test_published_outputs.cpp) check the fused path against
// UpscalerJS's own samples as well, since it is the default there.
#include "model/network_loader.h"
#include "model/torch/throughput.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace upscaled::test {
namespace {

struct Case {
  const char* size;
  int scale;
};
// gtest prints parameters into ctest's test names: a readable, stable form instead of the
// struct's bytes (which hold string addresses).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.size << " x" << c.scale;
}

model::PlanarImage run_fixture(const std::filesystem::path& package, int scale, bool eager, std::string* describe) {
  if (eager)
    setenv("UPSCALED_NETWORK_EXECUTOR", "eager", 1);
  else
    unsetenv("UPSCALED_NETWORK_EXECUTOR");
  model::ModelRequest request;
  request.name = (package / "models").string();
  request.scale = scale;
  request.device = "cuda";
  request.precision = "fp16";
  auto upscaler = model::load_network_upscaler(request);
  unsetenv("UPSCALED_NETWORK_EXECUTOR");
  *describe = upscaler->describe();
  const model::PlanarImage fixture = read_image(package / "assets" / "fixture.png");
  std::vector<model::PlanarImage> out(1);
  upscaler->upscale(std::span(&fixture, 1), out);
  return out[0];
}

std::string case_name(const testing::TestParamInfo<Case>& param) {
  return std::string(param.param.size) + "_x" + std::to_string(param.param.scale);
}

class FusedExecutor : public testing::TestWithParam<Case> {};

TEST_P(FusedExecutor, CudaFloat16MatchesEager) {
#ifndef UPSCALED_TEST_CUDNN_GRAPH
  GTEST_SKIP() << "this build has no cuDNN executor (needs libtorch with CUDA and cuDNN found at configure time)";
#endif
  if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
  std::string why;
  const auto package = package_with_model(GetParam().size, GetParam().scale, &why);
  if (!package) GTEST_SKIP() << why;
  std::string fused_name, eager_name;
  const auto fused = run_fixture(*package, GetParam().scale, false, &fused_name);
  const auto eager = run_fixture(*package, GetParam().scale, true, &eager_name);
  EXPECT_NE(fused_name.find("cuDNN fused executor"), std::string::npos) << fused_name;
  EXPECT_EQ(eager_name.find("cuDNN fused executor"), std::string::npos) << eager_name;
  const double psnr = psnr_u8(fused, eager);
  std::cout << GetParam().size << " x" << GetParam().scale << " fused vs eager (CUDA fp16): PSNR " << psnr << " dB; "
            << fused_name << "\n";
  EXPECT_GE(psnr, 50.0);
}

INSTANTIATE_TEST_SUITE_P(UpscalerJS, FusedExecutor,
                         testing::Values(Case{"slim", 2}, Case{"medium", 3}, Case{"medium", 4}, Case{"thick", 4}),
                         case_name);

}  // namespace
}  // namespace upscaled::test
