// Tiled inference must equal whole-frame inference within rounding, seams included: the
// fixture (128x128) is cut into 48- or 64-pixel tiles (so several seams cross it) and the
// PSNR is taken over the whole image. Also: several frames in one batched call equal the
// frames upscaled one by one.
#include "model/network_loader.h"
#include "model/torch/throughput.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#ifdef UPSCALED_WITH_CUDA
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#endif

namespace upscaled::test {
namespace {

model::PlanarImage run(const std::filesystem::path& package, int scale, int tile, int batch,
                       const model::PlanarImage& input, std::string* description = nullptr,
                       const std::string& device = "cpu", const std::string& precision = "auto") {
  model::ModelRequest request;
  request.name = (package / "models").string();
  request.scale = scale;
  request.device = device;
  request.precision = precision;
  request.tile = tile;
  request.tile_overlap = 16;
  request.batch = batch;
  auto upscaler = model::load_network_upscaler(request);
  if (description) *description = upscaler->describe();
  std::vector<model::PlanarImage> out(1);
  upscaler->upscale(std::span(&input, 1), out);
  return out[0];
}

struct TileCase {
  const char* size;
  int scale;
  int tile;
  int batch;
};
// gtest prints parameters into ctest's test names: a readable, stable form instead of the
// struct's bytes (which hold string addresses).
void PrintTo(const TileCase& c, std::ostream* os) {
  *os << c.size << " x" << c.scale << " tile " << c.tile << " batch " << c.batch;
}

class Tiling : public testing::TestWithParam<TileCase> {};

TEST_P(Tiling, TiledEqualsWholeFrame) {
  const TileCase c = GetParam();
  std::string why;
  const auto package = package_with_model(c.size, c.scale, &why);
  if (!package) GTEST_SKIP() << why;
  const auto fixture = read_image(*package / "assets" / "fixture.png");
  ASSERT_GT(fixture.width, c.tile);
  std::string tiled_description;
  const auto whole = run(*package, c.scale, 0, 1, fixture);
  const auto tiled = run(*package, c.scale, c.tile, c.batch, fixture, &tiled_description);
  // The tile really was used (the upscaler reports its tile and the effective overlap).
  EXPECT_NE(tiled_description.find("tile " + std::to_string(c.tile) + "+16"), std::string::npos) << tiled_description;
  const double psnr = psnr_float(tiled, whole);
  std::cout << c.size << " x" << c.scale << " tile " << c.tile << ": tiled vs whole PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 50.0);
}

TEST_P(Tiling, CudaFloat16TiledEqualsWholeFrame) {
  if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
  const TileCase c = GetParam();
  std::string why;
  const auto package = package_with_model(c.size, c.scale, &why);
  if (!package) GTEST_SKIP() << why;
  const auto fixture = read_image(*package / "assets" / "fixture.png");
  std::string tiled_description;
  const auto whole = run(*package, c.scale, 0, 1, fixture, nullptr, "cuda", "fp16");
  const auto tiled = run(*package, c.scale, c.tile, c.batch, fixture, &tiled_description, "cuda", "fp16");
  EXPECT_NE(tiled_description.find("tile " + std::to_string(c.tile) + "+16"), std::string::npos) << tiled_description;
  const double psnr = psnr_float(tiled, whole);
  std::cout << c.size << " x" << c.scale << " tile " << c.tile << " CUDA fp16: tiled vs whole PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 50.0);
}

INSTANTIATE_TEST_SUITE_P(UpscalerJS, Tiling,
                         testing::Values(TileCase{"slim", 4, 48, 2}, TileCase{"medium", 2, 48, 4},
                                         TileCase{"thick", 4, 64, 3}),
                         [](const testing::TestParamInfo<TileCase>& i) {
                           return std::string(i.param.size) + "_x" + std::to_string(i.param.scale);
                         });

TEST(Batching, BatchOfFramesEqualsSingleFrames) {
  std::string why;
  const auto package = package_with_model("slim", 2, &why);
  if (!package) GTEST_SKIP() << why;
  const auto fixture = read_image(*package / "assets" / "fixture.png");
  model::PlanarImage flipped = fixture;  // a second, different frame of the same size
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < fixture.height; ++y)
      for (int x = 0; x < fixture.width; ++x)
        flipped.plane(c)[static_cast<size_t>(y) * fixture.width + x] =
            fixture.plane(c)[static_cast<size_t>(fixture.height - 1 - y) * fixture.width + x];
  model::ModelRequest request;
  request.name = (*package / "models").string();
  request.scale = 2;
  request.device = "cpu";
  request.batch = 2;
  auto upscaler = model::load_network_upscaler(request);
  EXPECT_EQ(upscaler->preferred_batch(), 2);
  const std::vector<model::PlanarImage> in{fixture, flipped};
  std::vector<model::PlanarImage> batched(2), single(1);
  upscaler->upscale(in, batched);
  for (size_t i = 0; i < 2; ++i) {
    upscaler->upscale(std::span(&in[i], 1), single);
    EXPECT_GE(psnr_float(batched[i], single[0]), 80.0) << "frame " << i;
  }
  EXPECT_LT(psnr_float(batched[0], batched[1]), 40.0);  // the two frames really differ
}

// The GPU frame path's call (upscale_device: a batch in device memory, in and out, on the
// caller's stream) against the host call on the same float16 values, for a full batch and for
// fewer frames than the batch: the same frames within float16 rounding.
TEST(Batching, CudaDeviceBatchEqualsTheHostCall) {
#ifndef UPSCALED_WITH_CUDA
  GTEST_SKIP() << "this build has no CUDA";
#else
  if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
  std::string why;
  const auto package = package_with_model("slim", 2, &why);
  if (!package) GTEST_SKIP() << why;
  model::PlanarImage a = read_image(*package / "assets" / "fixture.png");
  model::PlanarImage b = a;  // a second, different frame: mirrored
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < a.height; ++y)
      for (int x = 0; x < a.width; ++x)
        b.plane(c)[static_cast<size_t>(y) * a.width + x] =
            a.plane(c)[static_cast<size_t>(y) * a.width + (a.width - 1 - x)];
  // Both calls must see the same float16 input: round the host frames first.
  for (model::PlanarImage* img : {&a, &b})
    for (float& v : img->pixels) v = kernels::half_to_float(kernels::float_to_half(v));
  model::ModelRequest request;
  request.name = (*package / "models").string();
  request.scale = 2;
  request.device = "cuda";
  request.precision = "fp16";
  request.batch = 2;
  auto upscaler = model::load_network_upscaler(request);
  const std::vector<model::PlanarImage> in{a, b};
  std::vector<model::PlanarImage> host(2);
  upscaler->upscale(in, host);

  const int h = a.height, w = a.width;
  const std::size_t out_frame = 12ull * h * w;
  // n frames through upscale_device; the output as floats, frame after frame.
  auto run_device = [&](int n) {
    std::vector<kernels::Half> src;
    for (int f = 0; f < n; ++f)
      for (float v : in[f].pixels) src.push_back(kernels::float_to_half(v));
    std::vector<kernels::Half> dst(out_frame * n, kernels::float_to_half(-7.0f));  // every value must be written
    kernels::DeviceBuffer src_d(src.size() * 2), dst_d(dst.size() * 2);
    kernels::cuda_check(cudaMemcpy(src_d.get(), src.data(), src.size() * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
    kernels::cuda_check(cudaMemcpy(dst_d.get(), dst.data(), dst.size() * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
    kernels::CudaStream stream;
    upscaler->upscale_device({src_d.get(), n, h, w}, {dst_d.get(), n, 2 * h, 2 * w},
                             reinterpret_cast<model::DeviceStream>(stream.get()));
    stream.synchronize();
    kernels::cuda_check(cudaMemcpy(dst.data(), dst_d.get(), dst.size() * 2, cudaMemcpyDeviceToHost), "cudaMemcpy");
    std::vector<float> out;
    for (kernels::Half v : dst) out.push_back(kernels::half_to_float(v));
    return out;
  };
  auto max_diff = [](const float* x, const float* y, std::size_t count) {
    float d = 0;
    for (std::size_t i = 0; i < count; ++i) d = std::max(d, std::abs(x[i] - y[i]));
    return d;
  };
  const std::vector<float> two = run_device(2);
  const std::vector<float> one = run_device(1);  // fewer frames than the batch
  const auto [lo, hi] = std::minmax_element(two.begin(), two.end());
  EXPECT_GE(*lo, 0.0f);  // clamped, and nothing left unwritten
  EXPECT_LE(*hi, 1.0f);
  for (int f = 0; f < 2; ++f)
    EXPECT_LE(max_diff(two.data() + f * out_frame, host[f].pixels.data(), out_frame), 1.0f / 1024) << "frame " << f;
  EXPECT_LE(max_diff(one.data(), host[0].pixels.data(), out_frame), 1.0f / 1024);
  EXPECT_GT(max_diff(two.data(), two.data() + out_frame, out_frame), 0.1f);  // the frames differ
#endif
}

}  // namespace
}  // namespace upscaled::test
