// Full-size Real-ESRGAN weight files, when a folder of them is named in
// UPSCALED_REALESRGAN_WEIGHTS (they are not in the repository: tens of MB each, and not
// reachable from CI). Checks that each file present is detected with the published
// hyper-parameters and runs. Skips, saying why, when the variable is not set.
#include <gtest/gtest.h>

#include <cstdlib>

#include "model/torch/network.h"

namespace upscaled::model::torchnet {
namespace {

struct Published {
  const char* file;
  int scale;
  const char* describe;
};

TEST(RealWeights, PublishedFilesAreDetectedAndRun) {
  const char* dir = std::getenv("UPSCALED_REALESRGAN_WEIGHTS");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "UPSCALED_REALESRGAN_WEIGHTS not set (folder of .pth files)";
  const Published published[] = {
      {"RealESRGAN_x4plus.pth", 4, "RRDBNet(num_feat=64,num_block=23,num_grow_ch=32) x4"},
      {"RealESRGAN_x2plus.pth", 2, "RRDBNet(num_feat=64,num_block=23,num_grow_ch=32) x2"},
      {"realesr-animevideov3.pth", 4, "SRVGGNetCompact(num_feat=64,num_conv=16,act=prelu) x4"},
      {"realesr-general-x4v3.pth", 4, "SRVGGNetCompact(num_feat=64,num_conv=32,act=prelu) x4"},
  };
  int found = 0;
  for (const Published& p : published) {
    const std::filesystem::path path = std::filesystem::path(dir) / p.file;
    if (!std::filesystem::exists(path)) continue;
    ++found;
    std::unique_ptr<Network> net = load_pth_network(path);
    EXPECT_EQ(net->scale(), p.scale) << p.file;
    EXPECT_EQ(net->describe(), p.describe) << p.file;
    const torch::Tensor out = net->forward(torch::rand({1, 3, 12, 10}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 12 * p.scale, 10 * p.scale})) << p.file;
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>()) << p.file;
  }
  if (found == 0) GTEST_SKIP() << "none of the published file names in " << dir;
}

}  // namespace
}  // namespace upscaled::model::torchnet
