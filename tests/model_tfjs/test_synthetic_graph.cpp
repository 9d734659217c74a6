// Layout checks on small synthetic TF.js models whose output is known in closed form:
// depth_to_space channel order (TF differs from PyTorch's pixel_shuffle), HWIO kernel
// orientation, TF "same" padding (asymmetric for even kernels), and the element-wise layers.
#include "model/network_loader.h"
#include "tests/model_tfjs/synthetic_model.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include <gtest/gtest.h>

#include <vector>

namespace upscaled::test {
namespace {

model::PlanarImage ramp(int w, int h, float peak) {
  model::PlanarImage img;
  img.resize(w, h);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = peak * static_cast<float>(i % 97) / 96.0f;
  return img;
}

float at(const model::PlanarImage& img, int c, int y, int x) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return 0.0f;  // TF zero padding
  return img.plane(c)[static_cast<size_t>(y) * img.width + x];
}

model::PlanarImage run(const std::filesystem::path& dir, const model::PlanarImage& in, int scale) {
  model::ModelRequest request;
  request.name = dir.string();
  request.device = "cpu";
  auto upscaler = model::load_network_upscaler(request);
  EXPECT_EQ(upscaler->scale(), scale);
  std::vector<model::PlanarImage> out(1);
  upscaler->upscale(std::span(&in, 1), out);
  EXPECT_EQ(out[0].width, in.width * scale);
  EXPECT_EQ(out[0].height, in.height * scale);
  return out[0];
}

SyntheticWeight identity_1x1(const std::string& layer, int channels) {
  SyntheticWeight k{
      layer + "/kernel", {1, 1, channels, channels}, std::vector<float>(static_cast<size_t>(channels * channels))};
  for (int c = 0; c < channels; ++c) k.values[static_cast<size_t>(c * channels + c)] = 1.0f;
  return k;
}

TEST(SyntheticGraph, DepthToSpaceUsesTensorFlowChannelOrder) {
  TempDir dir;
  // PreShuffle outputs the constant k/12 in channel k; depth_to_space(2) then puts channel
  // (dy*2 + dx)*3 + c at output pixel (2h+dy, 2w+dx), colour c.
  SyntheticWeight pre_k{"PreShuffle/kernel", {1, 1, 3, 12}, std::vector<float>(36, 0.0f)};
  SyntheticWeight pre_b{"PreShuffle/bias", {12}, {}};
  for (int k = 0; k < 12; ++k) pre_b.values.push_back(static_cast<float>(k) / 12.0f);
  const std::vector<SyntheticWeight> weights{pre_k, pre_b, identity_1x1("SR", 3), {"SR/bias", {3}, {0, 0, 0}}};
  const nlohmann::json layers = {input_layer("LR"), conv_layer("PreShuffle", "LR", 12, 1),
                                 layer("PixelShuffle2x", "pixel_shuffle", {"PreShuffle"}, {{"scale", 2}}),
                                 conv_layer("SR", "pixel_shuffle", 3, 1)};
  write_model(dir.path(), model_document(layers, weights), weights);
  const auto out = run(dir.path(), ramp(5, 4, 1.0f), 2);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x)
        ASSERT_NEAR(at(out, c, y, x), static_cast<float>(((y % 2) * 2 + x % 2) * 3 + c) / 12.0f, 1e-6)
            << "c=" << c << " y=" << y << " x=" << x;
}

// One tap of a k x k kernel at (th, tw) moving input colour ci to output colour (ci+1)%3;
// TF's convolution is a cross-correlation, out(y,x) = in(y + th - top, x + tw - left).
void check_single_tap(int k, int th, int tw) {
  TempDir dir;
  SyntheticWeight kernel{"Shift/kernel", {k, k, 3, 3}, std::vector<float>(static_cast<size_t>(k * k * 9), 0.0f)};
  for (int ci = 0; ci < 3; ++ci) kernel.values[static_cast<size_t>(((th * k + tw) * 3 + ci) * 3 + (ci + 1) % 3)] = 1.0f;
  const std::vector<SyntheticWeight> weights{kernel, {"Shift/bias", {3}, {0.0f, 0.1f, 0.2f}}};
  const nlohmann::json layers = {input_layer("LR"), conv_layer("Shift", "LR", 3, k)};
  write_model(dir.path(), model_document(layers, weights), weights);
  const auto in = ramp(7, 6, 0.7f);
  const auto out = run(dir.path(), in, 1);
  const int top = (k - 1) / 2, left = (k - 1) / 2;  // TF puts the odd extra pixel bottom/right
  for (int co = 0; co < 3; ++co)
    for (int y = 0; y < in.height; ++y)
      for (int x = 0; x < in.width; ++x)
        ASSERT_NEAR(at(out, co, y, x), at(in, (co + 2) % 3, y + th - top, x + tw - left) + 0.1f * co, 1e-6)
            << "k=" << k << " c=" << co << " y=" << y << " x=" << x;
}

TEST(SyntheticGraph, Conv3x3KernelOrientationAndSamePadding) {
  check_single_tap(3, 0, 2);
}
TEST(SyntheticGraph, Conv2x2SamePaddingIsAsymmetricLikeTensorFlow) {
  check_single_tap(2, 1, 1);
}

TEST(SyntheticGraph, ConcatMultiplyAddUpsample) {
  TempDir dir;
  // Mix: 1x1 conv over concat(LR, LR) summing colour c from both halves = 2*LR;
  // MultiplyBeta(0.25) = 0.5*LR; Add with LR = 1.5*LR; ReLU; nearest UpSampling2D x3.
  SyntheticWeight mix{"Mix/kernel", {1, 1, 6, 3}, std::vector<float>(18, 0.0f)};
  for (int c = 0; c < 3; ++c)
    mix.values[static_cast<size_t>(c * 3 + c)] = mix.values[static_cast<size_t>((c + 3) * 3 + c)] = 1.0f;
  const std::vector<SyntheticWeight> weights{mix, {"Mix/bias", {3}, {0, 0, 0}}};
  const nlohmann::json layers = {
      input_layer("LR"),
      layer("Concatenate", "Cat", {"LR", "LR"}, {{"axis", 3}}),
      conv_layer("Mix", "Cat", 3, 1),
      layer("MultiplyBeta", "Beta", {"Mix"}, {{"beta", 0.25}}),
      layer("Add", "Sum", {"Beta", "LR"}),
      layer("Activation", "Relu", {"Sum"}, {{"activation", "relu"}}),
      layer("UpSampling2D", "Up", {"Relu"},
            {{"size", {3, 3}}, {"interpolation", "nearest"}, {"data_format", "channels_last"}})};
  write_model(dir.path(), model_document(layers, weights), weights);
  const auto in = ramp(4, 5, 0.6f);
  const auto out = run(dir.path(), in, 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x)
        ASSERT_NEAR(at(out, c, y, x), 1.5f * at(in, c, y / 3, x / 3), 1e-6) << "c=" << c << " y=" << y << " x=" << x;
}

}  // namespace
}  // namespace upscaled::test
