// Planning of model/cudnn/cudnn_graph.h on op lists shaped like the networks it serves.
#include "model/cudnn/cudnn_graph.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace upscaled::test {
namespace {

using Op = model::cudnn::GraphOp;
using Kind = Op::Kind;

// Any non-null address: planning never dereferences weights.
const int kWeight = 0;

Op input(int channels) {
  Op op;
  op.kind = Kind::input;
  op.channels = channels;
  return op;
}
Op conv(int from, int channels, int kernel = 3) {
  Op op;
  op.kind = Kind::conv;
  op.inputs = {from};
  op.channels = channels;
  op.kernel = kernel;
  op.pad = kernel / 2;
  op.weight = &kWeight;
  op.bias = &kWeight;
  return op;
}
Op unary(Kind kind, int from, int channels, float factor = 1.0f) {
  Op op;
  op.kind = kind;
  op.inputs = {from};
  op.channels = channels;
  op.factor = factor;
  return op;
}
Op add(std::vector<int> from, std::vector<float> alphas, int channels) {
  Op op;
  op.kind = Kind::add;
  op.inputs = std::move(from);
  op.alphas = std::move(alphas);
  op.channels = channels;
  return op;
}
Op concat(std::vector<int> from, int channels) {
  Op op;
  op.kind = Kind::concat;
  op.inputs = std::move(from);
  op.channels = channels;
  return op;
}

// One RRDN dense block (C=2): conv+relu, concat, conv+relu, concat, LFF conv, x + 0.2 * LFF,
// then depth_to_space (unsupported: the eager tail).
std::vector<Op> dense_block() {
  std::vector<Op> ops;
  ops.push_back(input(3));                      // 0
  ops.push_back(conv(0, 8));                    // 1 x0
  ops.push_back(conv(1, 4));                    // 2
  ops.push_back(unary(Kind::relu, 2, 4));       // 3 -> fused into 2
  ops.push_back(concat({1, 3}, 12));            // 4
  ops.push_back(conv(4, 4));                    // 5
  ops.push_back(unary(Kind::relu, 5, 4));       // 6 -> fused into 5
  ops.push_back(concat({4, 6}, 16));            // 7
  ops.push_back(conv(7, 8));                    // 8 LFF
  ops.push_back(add({1, 8}, {1.0f, 0.2f}, 8));  // 9 -> fused into 8 (z = op 1)
  ops.push_back(conv(9, 12));                   // 10
  Op d2s = unary(Kind::unsupported, 10, 3);     // 11 depth_to_space
  ops.push_back(d2s);
  ops.push_back(conv(11, 3));  // 12
  return ops;
}

TEST(CudnnGraphPlan, FusesReluAndScaledResidualIntoConvolutions) {
  model::cudnn::CudnnGraph g(dense_block());
  EXPECT_EQ(g.stop(), 11);  // stops at depth_to_space
  EXPECT_EQ(g.fused(), 3);  // two ReLUs and the residual add
  EXPECT_EQ(g.alias_of(3), 2);
  EXPECT_EQ(g.alias_of(6), 5);
  EXPECT_EQ(g.alias_of(9), 8);
  EXPECT_EQ(g.alias_of(4), 4);  // a concatenation owns its buffer
  EXPECT_EQ(g.alias_of(1), 1);
}

using Placements = std::vector<std::pair<int, int>>;
Placements placements(const model::cudnn::CudnnGraph& g, int op) {
  Placements out;
  for (const auto& p : g.placements(op)) out.emplace_back(p.concat, p.offset);
  return out;
}

TEST(CudnnGraphPlan, ValuesAreWrittenIntoEveryConcatenationThatHoldsThem) {
  model::cudnn::CudnnGraph g(dense_block());
  EXPECT_EQ(g.placed(), 2);
  // x0 (op 1) is read by conv 2 and the residual: a buffer of its own, and slot 0 of both
  // concatenations (the second one holds the first one flattened).
  EXPECT_TRUE(g.has_buffer(1));
  EXPECT_EQ(placements(g, 1), (Placements{{4, 0}, {7, 0}}));
  // The growth features are read only by concatenations: no buffer of their own.
  EXPECT_FALSE(g.has_buffer(2));
  EXPECT_EQ(placements(g, 2), (Placements{{4, 8}, {7, 8}}));
  EXPECT_FALSE(g.has_buffer(5));
  EXPECT_EQ(placements(g, 5), (Placements{{7, 12}}));
  EXPECT_TRUE(g.has_buffer(4));  // read by conv 5
  EXPECT_TRUE(g.has_buffer(7));  // read by the LFF conv
  EXPECT_TRUE(g.has_buffer(8));  // LFF + residual, read by conv 10 and kept for the tail
  EXPECT_TRUE(placements(g, 8).empty());
}

// An RRDN dense block at the real widths (C=3 here): x0 64, growth convolutions of 32, the
// fusion convolution back to 64 with its scaled residual.
std::vector<Op> wide_dense_block() {
  std::vector<Op> ops;
  ops.push_back(input(3));                        // 0
  ops.push_back(conv(0, 64));                     // 1 x0
  ops.push_back(conv(1, 32));                     // 2 f1
  ops.push_back(unary(Kind::relu, 2, 32));        // 3 -> fused into 2
  ops.push_back(concat({1, 3}, 96));              // 4 [x0 f1]
  ops.push_back(conv(4, 32));                     // 5 f2
  ops.push_back(unary(Kind::relu, 5, 32));        // 6 -> fused into 5
  ops.push_back(concat({4, 6}, 128));             // 7 [x0 f1 f2]
  ops.push_back(conv(7, 32));                     // 8 f3
  ops.push_back(unary(Kind::relu, 8, 32));        // 9 -> fused into 8
  ops.push_back(concat({1, 3, 6, 9}, 160));       // 10 [x0 f1 f2 f3], written flat
  ops.push_back(conv(10, 64));                    // 11 fusion
  ops.push_back(add({1, 11}, {1.0f, 0.2f}, 64));  // 12 -> fused into 11 (z = op 1)
  return ops;
}

TEST(CudnnGraphPlan, OwnKernelReadsPrefixesOfTheWidestConcatenation) {
  model::cudnn::CudnnGraph g(wide_dense_block(), true, true);
  // [x0 f1] and [x0 f1 f2] live in [x0 f1 f2 f3]'s buffer; the widest is read by the fusion
  // convolution (cuDNN) and keeps its own.
  EXPECT_EQ(g.host_of(4), 10);
  EXPECT_EQ(g.host_of(7), 10);
  EXPECT_EQ(g.host_of(10), -1);
  EXPECT_FALSE(g.has_buffer(4));
  EXPECT_FALSE(g.has_buffer(7));
  EXPECT_TRUE(g.has_buffer(10));
  EXPECT_EQ(g.placed(), 1);
  // The growth convolutions run on the own kernel (the first one reads x0's own buffer);
  // the fusion convolution, read by more than concatenations, stays on cuDNN.
  EXPECT_TRUE(g.runs_own_kernel(2));
  EXPECT_TRUE(g.runs_own_kernel(5));
  EXPECT_TRUE(g.runs_own_kernel(8));
  EXPECT_FALSE(g.runs_own_kernel(11));
  EXPECT_EQ(g.own_kernel_convs(), 3);
  // Every value is written once, into its slot of the widest buffer. x0, read also by the
  // first growth convolution (own kernel) and as the fusion's residual (an epilogue), both
  // before that buffer dies, lives in its slot too.
  EXPECT_EQ(placements(g, 1), (Placements{{10, 0}}));
  EXPECT_EQ(placements(g, 2), (Placements{{10, 64}}));
  EXPECT_EQ(placements(g, 5), (Placements{{10, 96}}));
  EXPECT_EQ(placements(g, 8), (Placements{{10, 128}}));
  EXPECT_FALSE(g.has_buffer(1));
  EXPECT_TRUE(g.lives_in_slot(1));
  EXPECT_FALSE(g.lives_in_slot(2));  // only concatenations read it: no question of a buffer
  EXPECT_EQ(g.part_count(), 0);      // not split
}

TEST(CudnnGraphPlan, OwnFusionRunsTheFusionConvolutionWithItsResidual) {
  model::cudnn::CudnnGraph g(wide_dense_block(), true, true, true);
  // The fusion convolution reads the widest concatenation's whole buffer and adds x0 (op 1)
  // in the own kernel's epilogue; the hosting is as without own_fusion.
  EXPECT_TRUE(g.runs_own_kernel(11));
  EXPECT_EQ(g.own_kernel_convs(), 4);
  EXPECT_EQ(g.alias_of(12), 11);  // the add is still the fusion convolution's
  EXPECT_EQ(g.host_of(4), 10);
  EXPECT_EQ(g.host_of(7), 10);
  EXPECT_TRUE(g.lives_in_slot(1));  // z is read in its slot, at the concatenation's stride
  // Without own_convolutions the flag changes nothing.
  model::cudnn::CudnnGraph off(wide_dense_block(), true, false, true);
  EXPECT_EQ(off.own_kernel_convs(), 0);
}

// Two RRDN dense blocks (C=2) and the RRDB's residual: block 1's output x1 is block 2's
// prefix, its first growth convolution's input and its fusion's residual; x0 is read again by
// the RRDB's add, after block 1's buffer has died.
std::vector<Op> two_dense_blocks() {
  std::vector<Op> ops;
  ops.push_back(input(3));                        // 0
  ops.push_back(conv(0, 64));                     // 1 x0
  ops.push_back(conv(1, 32));                     // 2 f1
  ops.push_back(unary(Kind::relu, 2, 32));        // 3 -> 2
  ops.push_back(concat({1, 3}, 96));              // 4 [x0 f1]
  ops.push_back(conv(4, 32));                     // 5 f2
  ops.push_back(unary(Kind::relu, 5, 32));        // 6 -> 5
  ops.push_back(concat({4, 6}, 128));             // 7 [x0 f1 f2]
  ops.push_back(conv(7, 64));                     // 8 fusion 1
  ops.push_back(add({1, 8}, {1.0f, 0.2f}, 64));   // 9 -> 8: x1
  ops.push_back(conv(9, 32));                     // 10 g1
  ops.push_back(unary(Kind::relu, 10, 32));       // 11 -> 10
  ops.push_back(concat({9, 11}, 96));             // 12 [x1 g1]
  ops.push_back(conv(12, 32));                    // 13 g2
  ops.push_back(unary(Kind::relu, 13, 32));       // 14 -> 13
  ops.push_back(concat({12, 14}, 128));           // 15 [x1 g1 g2]
  ops.push_back(conv(15, 64));                    // 16 fusion 2
  ops.push_back(add({9, 16}, {1.0f, 0.2f}, 64));  // 17 -> 16: x2
  ops.push_back(add({1, 17}, {1.0f, 0.2f}, 64));  // 18 the RRDB's residual
  return ops;
}

TEST(CudnnGraphPlan, ABlockOutputLivesInTheNextBlocksSlotWhenItsReadersCanReadItThere) {
  for (bool own_fusion : {false, true}) {
    SCOPED_TRACE(own_fusion ? "own fusion" : "cuDNN fusion");
    model::cudnn::CudnnGraph g(two_dense_blocks(), true, true, own_fusion);
    EXPECT_EQ(g.host_of(12), 15);
    EXPECT_TRUE(g.runs_own_kernel(10));
    EXPECT_EQ(g.runs_own_kernel(8), own_fusion);
    // x1: written once, into block 2's buffer, and read there by g1, by fusion 2's residual
    // and by the concatenations.
    EXPECT_TRUE(g.lives_in_slot(8));
    EXPECT_FALSE(g.has_buffer(8));
    EXPECT_EQ(placements(g, 8), (Placements{{15, 0}}));
    // x0: the RRDB's add reads it after fusion 1, block 1's buffer's last reader.
    EXPECT_FALSE(g.lives_in_slot(1));
    EXPECT_TRUE(g.has_buffer(1));
    EXPECT_EQ(placements(g, 1), (Placements{{7, 0}}));
    // x2 is read only by the RRDB's add, which fusion 2 computes too: x0 + 0.2 x2 as x0 +
    // 0.2 (x1 + 0.2 LFF) with x0 its second residual.
    EXPECT_EQ(g.alias_of(17), 16);
    EXPECT_EQ(g.alias_of(18), 16);
    EXPECT_EQ(g.second_residual_of(16), 1);
    EXPECT_EQ(g.second_residual_of(8), -1);
    EXPECT_EQ(g.fused(), 7);  // 4 ReLUs, 3 adds
    EXPECT_FALSE(g.lives_in_slot(16));
    EXPECT_TRUE(g.has_buffer(16));
    // x0's convolution reads the 3-channel input: the input kernel, which writes x0's buffer
    // and its slot itself.
    EXPECT_TRUE(g.runs_input_kernel(1));
    EXPECT_FALSE(g.runs_own_kernel(1));
    EXPECT_EQ(g.input_kernel_convs(), 1);
  }
  // Each turned off on its own (the executor's UPSCALED_CUDNN_SLOTS=0 / _SECOND_RESIDUAL=0).
  model::cudnn::CudnnGraph no_slots(two_dense_blocks(), true, true, true, false, true);
  EXPECT_FALSE(no_slots.lives_in_slot(8));
  EXPECT_TRUE(no_slots.has_buffer(8));
  EXPECT_EQ(no_slots.second_residual_of(16), 1);
  model::cudnn::CudnnGraph no_fold(two_dense_blocks(), true, true, true, true, false);
  EXPECT_TRUE(no_fold.lives_in_slot(8));
  EXPECT_EQ(no_fold.second_residual_of(16), -1);
  EXPECT_EQ(no_fold.alias_of(18), 18);
  // Without the own kernel g1 is a cuDNN convolution, which reads packed tensors only.
  model::cudnn::CudnnGraph plain(two_dense_blocks());
  EXPECT_EQ(plain.input_kernel_convs(), 0);  // cuDNN's, as every convolution there
  EXPECT_FALSE(plain.lives_in_slot(8));
  EXPECT_TRUE(plain.has_buffer(8));
}

TEST(CudnnGraphPlan, OwnFusionRunsTheConvolutionsAfterTheBody) {
  std::vector<Op> ops = two_dense_blocks();
  ops.push_back(conv(18, 64));                    // 19 the convolution after the body
  ops.push_back(add({1, 19}, {1.0f, 1.0f}, 64));  // 20 -> 19: the global residual, x0
  ops.push_back(conv(20, 48));                    // 21 before depth_to_space: 48 outputs
  model::cudnn::CudnnGraph g(ops, true, true, true);
  EXPECT_TRUE(g.runs_own_kernel(19));  // reads the RRDB's output (fusion 2's buffer)
  EXPECT_EQ(g.alias_of(20), 19);       // x0 added in its epilogue
  EXPECT_TRUE(g.runs_own_kernel(21));  // 48 outputs, run as 64
  EXPECT_EQ(g.own_kernel_convs(), 8);  // 4 growth, 2 fusion, these two
  model::cudnn::CudnnGraph cudnn_fusion(ops, true, true, false);
  EXPECT_FALSE(cudnn_fusion.runs_own_kernel(19));
  EXPECT_FALSE(cudnn_fusion.runs_own_kernel(21));
  EXPECT_EQ(cudnn_fusion.own_kernel_convs(), 4);
}

TEST(CudnnGraphPlan, OwnKernelModeFallsBackToSplitWhenNothingFits) {
  // dense_block()'s growth convolutions have 4 outputs: nothing for the own kernel.
  model::cudnn::CudnnGraph g(dense_block(), true, true);
  EXPECT_EQ(g.own_kernel_convs(), 0);
  EXPECT_GT(g.part_count(), 0);  // planned as split
  EXPECT_EQ(g.fused(), 3);       // the activations folded once, not twice
  model::cudnn::CudnnGraph placed(dense_block(), false, true);
  EXPECT_EQ(placed.part_count(), 0);
  EXPECT_EQ(placed.placed(), 2);
}

using Slices = std::vector<std::pair<int, int>>;
Slices slices(const model::cudnn::CudnnGraph& g, int conv) {
  Slices out;
  for (const auto& s : g.part_slices(conv)) out.emplace_back(g.part_leaf(s.part), s.offset);
  return out;
}

TEST(CudnnGraphPlan, SplitConvolutionsConvolveEachPartOnceForAllItsReaders) {
  model::cudnn::CudnnGraph g(dense_block(), true);
  // Values 1 (x0), 2 (f1) and 5 (f2) are convolved once each: x0 for conv 5 (4 outputs),
  // the LFF conv 8 (8) and, directly, conv 2 (4); f1 for conv 5 and 8; f2 for conv 8.
  ASSERT_EQ(g.part_count(), 3);
  EXPECT_EQ(g.part_leaf(0), 1);
  EXPECT_EQ(g.part_channels(0), 16);
  EXPECT_EQ(g.part_leaf(1), 2);
  EXPECT_EQ(g.part_channels(1), 12);
  EXPECT_EQ(g.part_leaf(2), 5);
  EXPECT_EQ(g.part_channels(2), 8);
  EXPECT_EQ(slices(g, 5), (Slices{{1, 0}, {2, 0}}));
  EXPECT_EQ(slices(g, 8), (Slices{{1, 4}, {2, 4}, {5, 0}}));
  EXPECT_EQ(slices(g, 2), (Slices{{1, 12}}));
  EXPECT_TRUE(slices(g, 10).empty());  // reads the LFF result, which no other conv reads
  // No concatenation is materialised; every value a part convolution reads has a buffer.
  EXPECT_FALSE(g.has_buffer(4));
  EXPECT_FALSE(g.has_buffer(7));
  EXPECT_EQ(g.placed(), 0);
  EXPECT_TRUE(g.has_buffer(2));
  EXPECT_TRUE(g.has_buffer(5));
  EXPECT_TRUE(g.placements(2).empty());
  // Off by default: the same graph fills its concatenations by placement.
  model::cudnn::CudnnGraph placed(dense_block());
  EXPECT_EQ(placed.part_count(), 0);
  EXPECT_EQ(placed.placed(), 2);
}

TEST(CudnnGraphPlan, SplitKeepsKernelSizesApartAndTheInputCanBeAPart) {
  // A 1x1 fusion convolution (idealo RDN) over [input, f1]: its parts are separate from the
  // 3x3 growth convolution's, and the caller's input is one of them.
  std::vector<Op> ops{input(8), conv(0, 8), concat({0, 1}, 16), conv(2, 8, 1), conv(3, 3)};
  model::cudnn::CudnnGraph g(std::move(ops), true);
  ASSERT_EQ(g.part_count(), 2);
  EXPECT_EQ(slices(g, 3), (Slices{{0, 0}, {1, 0}}));
  EXPECT_TRUE(slices(g, 1).empty());  // 3x3 over the input: no 3x3 part of it to join
  EXPECT_FALSE(g.has_buffer(2));
}

TEST(CudnnGraphPlan, ResidualThroughAPassThroughScaleFoldsIntoTheConvolution) {
  // TF.js RRDN: LFF -> MultiplyBeta (folded into the weights, left as a factor-1 scale) -> add.
  std::vector<Op> ops{input(3),  conv(0, 8), conv(1, 8), unary(Kind::scale, 2, 8, 1.0f), add({1, 3}, {1.0f, 1.0f}, 8),
                      conv(4, 3)};
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_EQ(g.stop(), 6);
  EXPECT_EQ(g.fused(), 1);
  EXPECT_EQ(g.alias_of(3), 2);
  EXPECT_EQ(g.alias_of(4), 2);
}

TEST(CudnnGraphPlan, ConcatenationReadOnlyByConcatenationsHasNoBuffer) {
  std::vector<Op> ops{input(8), conv(0, 8), conv(0, 8), concat({1, 2}, 16), conv(0, 8), concat({3, 4}, 24), conv(5, 3)};
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_FALSE(g.has_buffer(3));
  EXPECT_TRUE(g.has_buffer(5));
  EXPECT_EQ(g.placed(), 1);
  EXPECT_EQ(placements(g, 1), (Placements{{5, 0}}));
  EXPECT_EQ(placements(g, 2), (Placements{{5, 8}}));
  EXPECT_EQ(placements(g, 4), (Placements{{5, 16}}));
  EXPECT_FALSE(g.has_buffer(1));
}

TEST(CudnnGraphPlan, InputIsCopiedIntoItsConcatenationsAndManySlicesForceABuffer) {
  // Op 1 sits in six concatenations that convolutions read: more slices than one epilogue
  // launch writes, so it keeps a buffer to copy the rest from.
  std::vector<Op> ops{input(8), conv(0, 8)};
  int prev = 1, channels = 8;
  for (int k = 0; k < 6; ++k) {
    ops.push_back(conv(prev, 8));
    const int f = static_cast<int>(ops.size()) - 1;
    channels += 8;
    ops.push_back(concat({prev, f}, channels));
    prev = static_cast<int>(ops.size()) - 1;
  }
  ops.push_back(concat({0, 1}, 16));
  ops.push_back(conv(static_cast<int>(ops.size()) - 1, 3));
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_EQ(g.placed(), 7);
  EXPECT_EQ(placements(g, 1).size(), 7u);
  EXPECT_TRUE(g.has_buffer(1));
  EXPECT_EQ(placements(g, 0), (Placements{{14, 0}}));  // the caller's input, copied once
}

TEST(CudnnGraphPlan, ConvolutionWithSeveralReadersKeepsItsOwnOutput) {
  std::vector<Op> ops{input(3), conv(0, 4), unary(Kind::relu, 1, 4), add({1, 2}, {1.0f, 1.0f}, 4)};
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_EQ(g.stop(), 4);
  EXPECT_EQ(g.fused(), 0);  // conv 1 is read by the ReLU and the add: nothing can fold into it
  EXPECT_EQ(g.alias_of(2), 2);
  EXPECT_EQ(g.alias_of(3), 3);
}

TEST(CudnnGraphPlan, ResidualNeedsTheOtherInputReadyFirst) {
  // add(conv 2, op 3): op 3 runs after the conv, so the conv cannot take it as z; op 3 (a
  // conv itself) can take conv 2 as its z instead.
  std::vector<Op> ops{input(3), conv(0, 4), conv(1, 4), conv(1, 4), add({2, 3}, {1.0f, 0.5f}, 4)};
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_EQ(g.fused(), 1);
  EXPECT_EQ(g.alias_of(4), 3);
}

TEST(CudnnGraphPlan, UnsupportedConvolutionsAndPassThroughScales) {
  Op even = conv(0, 4, 2);  // even kernels pad asymmetrically in TF: not run here
  std::vector<Op> ops{input(3), unary(Kind::scale, 0, 3, 1.0f), even, conv(2, 3)};
  model::cudnn::CudnnGraph g(std::move(ops));
  EXPECT_EQ(g.stop(), 2);
  EXPECT_EQ(g.alias_of(1), 0);  // a factor-1 scale is its input
}

}  // namespace
}  // namespace upscaled::test
