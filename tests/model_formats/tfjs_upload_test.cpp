// TfjsGraph::to_in_one_copy(): a GPU's weights as views of one buffer (model/torch/tfjs_graph.h),
// checked on the CPU against the per-tensor path, so that every build runs it.
#include "model/torch/tfjs_graph.h"
#include "model/torch/tfjs_model.h"
#include "tests/common/temp_dir.h"
#include "tests/model_tfjs/synthetic_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::test {
namespace {

// The same weights as the per-tensor path: views of one buffer, 64-byte aligned,
// channels_last where asked, and the same output.
TEST(TfjsWeightsUpload, OneCopyGivesAlignedViewsThatComputeTheSame) {
  TempDir dir;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto random_weight = [&](const std::string& name, std::vector<int64_t> shape) {
    SyntheticWeight w{name, shape, {}};
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    for (int64_t i = 0; i < n; ++i) w.values.push_back(u(rng));
    return w;
  };
  // Odd sizes (3x3x3x5: 135 values, 5 biases) so that the offsets need padding.
  const std::vector<SyntheticWeight> weights{random_weight("A/kernel", {3, 3, 3, 5}), random_weight("A/bias", {5}),
                                             random_weight("B/kernel", {1, 1, 5, 3}), random_weight("B/bias", {3})};
  const nlohmann::json layers = {input_layer("LR"), conv_layer("A", "LR", 5, 3), conv_layer("B", "A", 3, 1)};
  write_model(dir.path(), model_document(layers, weights), weights);
  const model::torchnet::TfjsModel tfjs = model::torchnet::read_tfjs_model(dir.path() / "model.json");
  model::torchnet::TfjsGraph each = model::torchnet::compile_tfjs_graph(tfjs);
  model::torchnet::TfjsGraph bulk = model::torchnet::compile_tfjs_graph(tfjs);
  each.to(torch::kCPU, torch::kFloat32, true);
  bulk.to_in_one_copy(torch::kCPU, torch::kFloat32, true);
  const void* storage = nullptr;
  int tensors = 0;
  for (std::size_t i = 0; i < bulk.nodes.size(); ++i) {
    for (const auto& [mine, theirs] :
         {std::pair(bulk.nodes[i].weight, each.nodes[i].weight), std::pair(bulk.nodes[i].bias, each.nodes[i].bias)}) {
      if (!mine.defined()) continue;
      ++tensors;
      EXPECT_EQ(mine.sizes(), theirs.sizes());
      EXPECT_TRUE(torch::equal(mine, theirs.to(torch::kFloat32)));
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(mine.data_ptr()) % 64, 0u);
      if (mine.dim() == 4) {
        EXPECT_TRUE(mine.is_contiguous(torch::MemoryFormat::ChannelsLast));
      }
      if (!storage) storage = mine.storage().data();
      EXPECT_EQ(mine.storage().data(), storage) << "node " << i << " is not a view of the one buffer";
    }
  }
  EXPECT_EQ(tensors, 4);
  const torch::Tensor x = torch::rand({2, 3, 7, 9});
  EXPECT_TRUE(torch::allclose(bulk.run(x), each.run(x), 1e-5, 1e-6));
}

}  // namespace
}  // namespace upscaled::test
