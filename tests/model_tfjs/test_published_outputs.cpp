// Upscales the UpscalerJS fixture with every packaged model and compares the result with the
// package's own published output (assets/samples/{s}x/result.png, 8-bit PNG, produced by
// UpscalerJS on the whole 128x128 fixture without patching). Our output is rounded to 8 bits
// like theirs before PSNR is taken over the whole image.
// slim/medium ship x8 weights but no x8 sample: for those the x8 output, box-downscaled by 8,
// must reproduce the fixture (a weaker, documented check).
#include "model/torch/throughput.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <vector>

namespace upscaled::test {
namespace {

using Case = PackageCase;

const Case kPublished[] = {{"slim", 2},   {"slim", 3},  {"slim", 4},  {"medium", 2}, {"medium", 3},
                           {"medium", 4}, {"thick", 2}, {"thick", 3}, {"thick", 4},  {"thick", 8}};

class PublishedOutput : public testing::TestWithParam<Case> {};

TEST_P(PublishedOutput, CpuFloat32MatchesPublishedSample) {
  const int s = GetParam().scale;
  std::string why;
  const auto package = package_with_model(GetParam().size, s, &why);
  if (!package) GTEST_SKIP() << why;
  const auto out = upscale_fixture(*package, s, "cpu", "fp32");
  const auto expected = read_image(*package / "assets" / "samples" / (std::to_string(s) + "x") / "result.png");
  const double psnr = psnr_u8(out, expected);
  RecordProperty("psnr_db", std::to_string(psnr));
  std::cout << GetParam().size << " x" << s << " CPU fp32: PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 60.0);
}

TEST_P(PublishedOutput, CudaFloat16MatchesPublishedSample) {
  if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
  const int s = GetParam().scale;
  std::string why;
  const auto package = package_with_model(GetParam().size, s, &why);
  if (!package) GTEST_SKIP() << why;
  const auto out = upscale_fixture(*package, s, "cuda", "fp16");
  const auto expected = read_image(*package / "assets" / "samples" / (std::to_string(s) + "x") / "result.png");
  const double psnr = psnr_u8(out, expected);
  RecordProperty("psnr_db", std::to_string(psnr));
  std::cout << GetParam().size << " x" << s << " CUDA fp16: PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 50.0);
}

// bfloat16 keeps 8 mantissa bits, so it cannot reach the float16 bar and the issue sets
// none. 35 dB is a loose floor chosen without a GPU measurement; the PSNR is printed so that
// the docs can record the real figure.
TEST_P(PublishedOutput, CudaBFloat16IsPlausible) {
  if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
  const int s = GetParam().scale;
  std::string why;
  const auto package = package_with_model(GetParam().size, s, &why);
  if (!package) GTEST_SKIP() << why;
  const auto out = upscale_fixture(*package, s, "cuda", "bf16");
  const auto expected = read_image(*package / "assets" / "samples" / (std::to_string(s) + "x") / "result.png");
  const double psnr = psnr_u8(out, expected);
  RecordProperty("psnr_db", std::to_string(psnr));
  std::cout << GetParam().size << " x" << s << " CUDA bf16: PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 35.0);
}

INSTANTIATE_TEST_SUITE_P(UpscalerJS, PublishedOutput, testing::ValuesIn(kPublished), case_name);

class UnpublishedX8 : public testing::TestWithParam<const char*> {};

TEST_P(UnpublishedX8, DownscaledOutputReproducesFixture) {
  std::string why;
  const auto package = package_with_model(GetParam(), 8, &why);
  if (!package) GTEST_SKIP() << why;
  const auto out = upscale_fixture(*package, 8, "cpu", "fp32");
  const auto fixture = read_image(*package / "assets" / "fixture.png");
  const double psnr = psnr_float(box_downscale(out, 8), fixture);
  std::cout << GetParam() << " x8: box-downscaled output vs fixture PSNR " << psnr << " dB\n";
  // An independent Python torch port of the same graphs measured 33.6 dB (slim) and
  // 34.2 dB (medium) here; bicubic x8 of the fixture scores about 31 dB against thick's sample.
  EXPECT_GE(psnr, 30.0);
}

INSTANTIATE_TEST_SUITE_P(UpscalerJS, UnpublishedX8, testing::Values("slim", "medium"));

}  // namespace
}  // namespace upscaled::test
