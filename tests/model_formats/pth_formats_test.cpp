// Real-ESRGAN networks loaded from .pth / .safetensors / TorchScript fixtures must reproduce
// the outputs Python torch computed for the same weights (scripts/gen_pth_fixtures.py).
// Tolerance: max|out - ref| <= 1e-4 * max|ref| (relative_max_error), float32 on the CPU.
#include <gtest/gtest.h>

#include <sstream>

#include "model/torch/network.h"
#include "tests/model_formats/npy_reader.h"

namespace upscaled::model::torchnet {
namespace {

using test::read_npy_float32;
using test::realesrgan_fixture;
using test::relative_max_error;

constexpr double kTolerance = 1e-4;

struct Case {
  const char* file;
  const char* reference;
  int scale;
  const char* describe;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.file;
}

std::unique_ptr<Network> load(const std::filesystem::path& path) {
  if (path.extension() == ".safetensors") return load_safetensors_network(path);
  if (path.extension() == ".pt") return load_torchscript_network(path);
  return load_pth_network(path);
}

class FixtureMatches : public ::testing::TestWithParam<Case> {};

TEST_P(FixtureMatches, OutputMatchesPythonReference) {
  const Case& c = GetParam();
  std::unique_ptr<Network> net = load(realesrgan_fixture(c.file));
  EXPECT_EQ(net->scale(), c.scale);
  EXPECT_EQ(net->describe(), c.describe);
  const torch::Tensor input = read_npy_float32(realesrgan_fixture("input_3x11x9.npy"));
  const torch::Tensor reference = read_npy_float32(realesrgan_fixture(c.reference));
  ASSERT_EQ(reference.sizes(), (std::vector<int64_t>{1, 3, 11 * c.scale, 9 * c.scale}));
  const torch::Tensor out = net->forward(input);
  ASSERT_EQ(out.sizes(), reference.sizes());
  ASSERT_EQ(out.scalar_type(), torch::kFloat32);
  const double err = relative_max_error(out, reference);
  EXPECT_LE(err, kTolerance) << c.file << " vs " << c.reference;
  std::ostringstream text;
  text << std::scientific << err;
  RecordProperty("relative_max_error", text.str());
}

INSTANTIATE_TEST_SUITE_P(
    RealEsrgan, FixtureMatches,
    ::testing::Values(
        Case{"rrdb_x4.pth", "rrdb_x4.out.npy", 4, "RRDBNet(num_feat=8,num_block=2,num_grow_ch=3) x4"},
        Case{"rrdb_x2_params_ema.pth", "rrdb_x2.out.npy", 2, "RRDBNet(num_feat=8,num_block=2,num_grow_ch=3) x2"},
        Case{"rrdb_x4_fp16.pth", "rrdb_x4_fp16.out.npy", 4, "RRDBNet(num_feat=8,num_block=2,num_grow_ch=3) x4"},
        Case{"srvgg_x4_params.pth", "srvgg_x4.out.npy", 4, "SRVGGNetCompact(num_feat=8,num_conv=3,act=prelu) x4"},
        Case{"srvgg_x2.pth", "srvgg_x2.out.npy", 2, "SRVGGNetCompact(num_feat=8,num_conv=3,act=prelu) x2"},
        Case{"both_wrappers.pth", "srvgg_x2.out.npy", 2, "SRVGGNetCompact(num_feat=8,num_conv=3,act=prelu) x2"},
        Case{"rrdb_x2.safetensors", "rrdb_x2.out.npy", 2, "RRDBNet(num_feat=8,num_block=2,num_grow_ch=3) x2"},
        Case{"srvgg_x4_fp16.safetensors", "srvgg_x4_fp16.out.npy", 4,
             "SRVGGNetCompact(num_feat=8,num_conv=3,act=prelu) x4"},
        Case{"srvgg_x2_bf16.safetensors", "srvgg_x2_bf16.out.npy", 2,
             "SRVGGNetCompact(num_feat=8,num_conv=3,act=prelu) x2"}));

// The bound is tight enough to notice weights rounded to float16: the fp16 file's output
// differs from the float32 model's reference by more than the tolerance.
TEST(FixtureTolerance, DetectsHalfPrecisionRounding) {
  std::unique_ptr<Network> net = load_pth_network(realesrgan_fixture("rrdb_x4_fp16.pth"));
  const torch::Tensor input = read_npy_float32(realesrgan_fixture("input_3x11x9.npy"));
  EXPECT_GT(relative_max_error(net->forward(input), read_npy_float32(realesrgan_fixture("rrdb_x4.out.npy"))),
            kTolerance);
}

// Inputs smaller than the reflection pad (1 pixel, x2 net) still come out at scale x size.
TEST(RrdbNetX2, OnePixelInputUsesReplicationPadding) {
  std::unique_ptr<Network> net = load_pth_network(realesrgan_fixture("rrdb_x2_params_ema.pth"));
  const torch::Tensor out = net->forward(torch::full({1, 3, 1, 1}, 0.5f));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 2, 2}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(TorchScript, TracedModuleLoadsWithMeasuredScaleAndMatches) {
  std::unique_ptr<Network> net = load_torchscript_network(realesrgan_fixture("srvgg_x2_traced.pt"));
  EXPECT_EQ(net->scale(), 2);
  EXPECT_NE(net->describe().find("TorchScript("), std::string::npos);
  const torch::Tensor input = read_npy_float32(realesrgan_fixture("input_3x11x9.npy"));
  const torch::Tensor reference = read_npy_float32(realesrgan_fixture("srvgg_x2.out.npy"));
  const torch::Tensor out = net->forward(input);
  ASSERT_EQ(out.sizes(), reference.sizes());
  EXPECT_LE(relative_max_error(out, reference), kTolerance);
}

TEST(Networks, MoveToDoubleAndBackKeepsResults) {
  for (const char* file : {"rrdb_x4.pth", "srvgg_x4_params.pth"}) {
    std::unique_ptr<Network> net = load_pth_network(realesrgan_fixture(file));
    const torch::Tensor input = read_npy_float32(realesrgan_fixture("input_3x11x9.npy"));
    const torch::Tensor f32 = net->forward(input);
    net->to(torch::kCPU, torch::kFloat64);
    const torch::Tensor f64 = net->forward(input.to(torch::kFloat64));
    EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
    EXPECT_LE(relative_max_error(f32.to(torch::kFloat64), f64), kTolerance) << file;
  }
}

}  // namespace
}  // namespace upscaled::model::torchnet
