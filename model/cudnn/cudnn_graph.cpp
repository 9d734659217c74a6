// CudnnGraph's set-up: construction, per-size cuDNN descriptors on first use, the part and own
// kernels' weights, and prime() (planning: cudnn_graph_plan.cpp; run(): cudnn_graph_run.cpp).
#include "model/cudnn/cudnn_graph_internal.h"

#include "kernels/cuda_raii.h"
#include "model/cudnn/channel_epilogue.h"
#include "model/cudnn/dense_conv.h"
#include "model/cudnn/input_conv.h"

#include "core/error.h"
#include "core/log.h"
#include "core/step_timer.h"

#include <cudnn.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace upscaled::model::cudnn {

using namespace graph_detail;

CudnnGraph::CudnnGraph(std::vector<GraphOp> ops, bool split_convolutions, bool own_convolutions, bool own_fusion,
                       bool slots, bool second_residual)
    : ops_(std::move(ops)),
      split_(own_convolutions ? false : split_convolutions),
      own_mode_(own_convolutions),
      own_fusion_(own_convolutions && own_fusion),
      slots_(slots),
      second_residual_(second_residual) {
  if (!own_mode_) {
    plan_graph();
    return;
  }
  const std::vector<GraphOp> original = ops_;  // planning folds activations into ops_
  plan_graph();
  if (own_kernel_convs() > 0) return;
  // Nothing here for the own kernel (no concatenation is a prefix of a wider one, or no 3x3
  // convolution with 32 or 64 outputs reads one): plan as without it.
  ops_ = original;
  split_ = split_convolutions;
  own_mode_ = own_fusion_ = false;
  plan_graph();
}

CudnnGraph::~CudnnGraph() = default;

CudnnGraph::Plan& CudnnGraph::plan_for(int n, int h, int w, bool* created) {
  for (auto& p : plans_)
    if (p->n == n && p->h == h && p->w == w) return *p;
  *created = true;
  if (plans_.size() >= 8) plans_.erase(plans_.begin());  // tiling uses a handful of sizes
  auto plan = std::make_unique<Plan>(n, h, w);
  // cuDNN's workspace query cost about 0.13 ms a call (thick: 153 calls, 20 ms per new input
  // size; cuDNN 9, H200): once per shape, not per convolution.
  std::map<const ConvShape*, bool> sized;
  auto shape = [&](int out, int in, int kernel, int pad) {
    std::unique_ptr<ConvShape>& d = handles_->shapes[{out, in, kernel, pad}];
    if (!d) {
      d = std::make_unique<ConvShape>();
      check(cudnnSetFilter4dDescriptor(d->filter.get(), CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, out, in, kernel, kernel),
            "filter descriptor");
      check(cudnnSetConvolution2dDescriptor(d->conv.get(), pad, pad, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
                                            CUDNN_DATA_FLOAT),
            "convolution descriptor");
      check(cudnnSetConvolutionMathType(d->conv.get(), CUDNN_TENSOR_OP_MATH), "math type");
    }
    if (!sized[d.get()]) {
      sized[d.get()] = true;
      std::size_t ws = 0;
      check(cudnnGetConvolutionForwardWorkspaceSize(handles_->handle, plan->tensor(in), d->filter.get(), d->conv.get(),
                                                    plan->tensor(out), kAlgo, &ws),
            "workspace size");
      plan->workspace = std::max(plan->workspace, ws);
    }
    return static_cast<const ConvShape*>(d.get());
  };
  for (int i = 1; i < stop_; ++i) {
    const GraphOp& op = ops_[i];
    if (op.kind != Kind::conv || alias_[i] != i || !sums_[i].empty() || own_conv_[i] || input_conv_[i]) continue;
    plan->convs[i] = shape(op.channels, ops_[op.inputs[0]].channels, op.kernel, op.pad);
  }
  for (int p = 0; p < static_cast<int>(parts_.size()); ++p) {
    const PartConv& part = parts_[static_cast<std::size_t>(p)];
    plan->part_convs[p] = shape(part.channels, ops_[part.leaf].channels, part.kernel, part.pad);
  }
  plans_.push_back(std::move(plan));
  return *plans_.back();
}

// Once, on the first run's stream: each reader's [out][k][k][in] weights, columns
// [in_offset, in_offset + leaf channels), copied to rows out_offset.. of the part's weights.
void CudnnGraph::assemble_part_weights(cudaStream_t stream) {
  part_weights_ = std::make_unique<PartWeights>();
  for (const PartConv& part : parts_) {
    const std::size_t c = static_cast<std::size_t>(ops_[part.leaf].channels);
    const std::size_t taps = static_cast<std::size_t>(part.kernel) * part.kernel;
    void* p = part_weights_->buffers.emplace_back(std::size_t(part.channels) * taps * c * 2).get();
    for (const PartConv::Reader& r : part.readers) {
      const GraphOp& op = ops_[r.conv];
      const std::size_t in = static_cast<std::size_t>(ops_[op.inputs[0]].channels);
      check(cudaMemcpy2DAsync(static_cast<char*>(p) + std::size_t(r.out_offset) * taps * c * 2, c * 2,
                              static_cast<const char*>(op.weight) + std::size_t(r.in_offset) * 2, in * 2, c * 2,
                              std::size_t(op.channels) * taps, cudaMemcpyDeviceToDevice, stream),
            "copying part weights");
    }
  }
}

// Once, at load or the first run: each own-kernel convolution's weights in its order, and the
// kernel loaded (so that its lazy load does not land on the first batch).
void CudnnGraph::assemble_own_weights(cudaStream_t stream) {
  load_dense_conv();
  if (input_kernel_convs() > 0) load_input_conv();
  own_weights_ = std::make_unique<OwnWeights>();
  for (int i = 1; i < stop_; ++i) {
    if (!own_conv_[i]) continue;
    const GraphOp& op = ops_[i];
    const int in = ops_[op.inputs[0]].channels;
    // The kernel runs 48 outputs as 64 (dense_conv.h): zero rows after the weights' 48.
    const int rows = op.channels == 48 ? 64 : op.channels;
    const std::size_t row_bytes = 9 * std::size_t(in) * 2;
    const void* ohwi = op.weight;
    if (rows != op.channels) {
      auto [pad, added] = own_weights_->padded.try_emplace(i, std::size_t(rows) * row_bytes);
      (void)added;
      check(cudaMemsetAsync(pad->second.get(), 0, std::size_t(rows) * row_bytes, stream), "padding weights");
      check(cudaMemcpyAsync(pad->second.get(), op.weight, std::size_t(op.channels) * row_bytes,
                            cudaMemcpyDeviceToDevice, stream),
            "padding weights");
      ohwi = pad->second.get();
    }
    auto [it, fresh] = own_weights_->by_op.try_emplace(i, std::size_t(rows) * row_bytes);
    (void)fresh;
    pack_dense_conv_weights_cuda(ohwi, it->second.get(), rows, in, stream);
  }
}

void CudnnGraph::make_handles() {
  if (handles_) return;
  const auto start = std::chrono::steady_clock::now();
  handles_ = std::make_unique<Handles>();
  log::debug(log::cat("cuDNN executor: handle created in ",
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s"));
}

void CudnnGraph::prime(int n, int h, int w, cudaStream_t stream, Allocator& alloc,
                       const std::function<void(const char* step)>& after_step) {
  if (static_cast<long long>(n) * h * w * max_channels_ >= (1LL << 31)) return;  // run() refuses it too
  StepTimer steps;
  make_handles();
  check(cudnnSetStream(handles_->handle, stream), "setting the stream");
  steps.step("handle");
  if (after_step) after_step("handle");
  bool created = false;
  Plan& plan = plan_for(n, h, w, &created);
  steps.step("plan");
  if (after_step) after_step("plan");
  assemble_weights(stream);
  steps.step("part weights");
  // One call per distinct shape (its descriptors are shared by every op of that shape), with
  // the weights of any op that has it.
  struct Call {
    int in, out;
    const void* weight;
  };
  std::map<const ConvShape*, Call> calls;
  for (const auto& [op, shape] : plan.convs)
    calls.emplace(shape, Call{ops_[ops_[op].inputs[0]].channels, ops_[op].channels, ops_[op].weight});
  for (const auto& [p, shape] : plan.part_convs) {
    const PartConv& part = parts_[static_cast<std::size_t>(p)];
    calls.emplace(shape, Call{ops_[part.leaf].channels, part.channels,
                              part_weights_->buffers[static_cast<std::size_t>(p)].get()});
  }
  int widest_in = 0, widest_out = 0;
  for (const auto& [shape, call] : calls) {
    widest_in = std::max(widest_in, call.in);
    widest_out = std::max(widest_out, call.out);
  }
  void* x = alloc.allocate(plan.bytes(widest_in));
  void* y = alloc.allocate(plan.bytes(widest_out));
  void* workspace = plan.workspace ? alloc.allocate(plan.workspace) : nullptr;
  check(cudaMemsetAsync(x, 0, plan.bytes(widest_in), stream), "clearing the priming input");
  steps.step("scratch");
  if (after_step) after_step("scratch");
  // cuDNN prepares a problem at its first call (in any handle: measured on the H200, a
  // handle's calls after other handles' are 0.05-0.3 ms): host time per shape, for the log.
  std::string first_calls;
  const float one = 1.0f, zero = 0.0f;
  for (const auto& [shape, call] : calls) {
    const auto call_start = std::chrono::steady_clock::now();
    check(cudnnConvolutionForward(handles_->handle, &one, plan.tensor(call.in), x, shape->filter.get(), call.weight,
                                  shape->conv.get(), kAlgo, workspace, plan.workspace, &zero, plan.tensor(call.out), y),
          "priming convolution");
    first_calls += log::cat(first_calls.empty() ? "" : ", ",
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start).count());
  }
  log::debug(log::cat("cuDNN executor: primed ", calls.size(), " shapes at ", n, "x", h, "x", w, " (", steps.text(),
                      "; first call of each shape, s: ", first_calls, ")"));
  if (workspace) alloc.release(workspace);
  alloc.release(y);
  alloc.release(x);
}

}  // namespace upscaled::model::cudnn
