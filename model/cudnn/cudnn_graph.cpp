// CudnnGraph's execution: per-size cuDNN descriptors on first use; run() enqueues each
// convolution and the epilogue pass that places its result (planning: cudnn_graph_plan.cpp).
#include "model/cudnn/cudnn_graph.h"

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
namespace {

using Kind = GraphOp::Kind;

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw Error(ErrorCode::device, std::string("cuDNN ") + what + ": " + cudnnGetErrorString(s));
}
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(ErrorCode::device, std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

// One owner per cuDNN descriptor type, written once.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Desc {
 public:
  Desc() { check(Create(&d_), "creating a descriptor"); }
  ~Desc() { Destroy(d_); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  T get() const { return d_; }

 private:
  T d_{};
};
using TensorDesc = Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Desc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    Desc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

// Implicit-GEMM with precomputed indices is the fastest algorithm cudnnFind picked for every
// packed float16 NHWC shape of these networks on an H200 (bench/cudnn_dense_bench.cpp).
constexpr cudnnConvolutionFwdAlgo_t kAlgo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;

// UPSCALED_CUDNN_PROFILE=1: the GPU time of each kind of call in one run() (events around
// every call, read after a synchronisation at the end of the run), on stderr. A diagnostic
// for docs/network-speed.md; off, it costs one branch per call.
class RunProfile {
 public:
  explicit RunProfile(cudaStream_t stream) : stream_(stream), on_(std::getenv("UPSCALED_CUDNN_PROFILE") != nullptr) {}
  ~RunProfile() {
    for (Span& s : spans_) {
      cudaEventDestroy(s.begin);
      cudaEventDestroy(s.end);
    }
  }
  RunProfile(const RunProfile&) = delete;
  RunProfile& operator=(const RunProfile&) = delete;
  template <typename L, typename F>
  void time(L&& label, F&& call) {
    if (!on_) return call();
    Span s{label(), nullptr, nullptr};
    cudaEventCreate(&s.begin);
    cudaEventCreate(&s.end);
    cudaEventRecord(s.begin, stream_);
    call();
    cudaEventRecord(s.end, stream_);
    spans_.push_back(s);
  }
  void report() {
    if (!on_ || spans_.empty()) return;
    cudaStreamSynchronize(stream_);
    std::map<std::string, std::pair<double, int>> by_label;
    double total = 0;
    for (const Span& s : spans_) {
      float ms = 0;
      cudaEventElapsedTime(&ms, s.begin, s.end);
      by_label[s.label].first += ms;
      ++by_label[s.label].second;
      total += ms;
    }
    std::fprintf(stderr, "cudnn executor profile: %.3f ms in %zu calls\n", total, spans_.size());
    for (const auto& [label, v] : by_label)
      std::fprintf(stderr, "  %-44s %8.3f ms %4d calls\n", label.c_str(), v.first, v.second);
  }

 private:
  struct Span {
    std::string label;
    cudaEvent_t begin, end;
  };
  cudaStream_t stream_;
  bool on_;
  std::vector<Span> spans_;
};

// The filter and convolution descriptors of one convolution shape, the same at every input
// size: the graph's many convolutions share a handful of shapes.
struct ConvShape {
  FilterDesc filter;
  ConvDesc conv;
};
using ConvKey = std::array<int, 4>;  // out, in, kernel, pad

}  // namespace

struct CudnnGraph::Handles {
  cudnnHandle_t handle{};
  std::map<ConvKey, std::unique_ptr<ConvShape>> shapes;
  Handles() { check(cudnnCreate(&handle), "creating a handle"); }
  ~Handles() { cudnnDestroy(handle); }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

// The part convolutions' weights: each reader's slice of its weights along the input
// channels, readers side by side along the outputs (KRSC like the ops' own weights).
struct CudnnGraph::PartWeights {
  std::vector<kernels::DeviceBuffer> buffers;  // by part
};

struct CudnnGraph::OwnWeights {
  std::map<int, kernels::DeviceBuffer> by_op;
  std::map<int, kernels::DeviceBuffer> padded;  // 48-output convolutions' weights as 64 rows
};

// Descriptors for one input size: tensors by (channels, pixel stride), each convolution's
// shape, and the workspace the convolutions need.
struct CudnnGraph::Plan {
  int n, h, w;
  std::map<std::pair<int, int>, std::unique_ptr<TensorDesc>> tensors;
  std::map<int, const ConvShape*> convs;       // by op
  std::map<int, const ConvShape*> part_convs;  // by part convolution
  std::size_t workspace = 0;
  bool ran = false;  // run() at this size once (prime() alone does not count)

  Plan(int n_, int h_, int w_) : n(n_), h(h_), w(w_) {}
  cudnnTensorDescriptor_t tensor(int channels, int stride = 0) {
    if (stride == 0) stride = channels;
    auto& d = tensors[{channels, stride}];
    if (!d) {
      d = std::make_unique<TensorDesc>();
      check(cudnnSetTensor4dDescriptorEx(d->get(), CUDNN_DATA_HALF, n, channels, h, w, h * w * stride, 1, w * stride,
                                         stride),
            "tensor descriptor");
    }
    return d->get();
  }
  std::size_t bytes(int channels) const { return std::size_t(n) * h * w * channels * 2; }
};

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

namespace {

// Host time spent in the caller's allocator, for the first run at a size (debug log).
class TimedAllocator final : public Allocator {
 public:
  explicit TimedAllocator(Allocator& inner) : inner_(inner) {}
  void* allocate(std::size_t bytes) override {
    const auto start = std::chrono::steady_clock::now();
    void* p = inner_.allocate(bytes);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++calls;
    return p;
  }
  void release(void* p) override { inner_.release(p); }
  double seconds = 0;
  int calls = 0;

 private:
  Allocator& inner_;
};

}  // namespace

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

std::vector<void*> CudnnGraph::run(const void* x, int n, int h, int w, cudaStream_t stream, Allocator& caller_alloc) {
  if (static_cast<long long>(n) * h * w * max_channels_ >= (1LL << 31))
    throw Error(ErrorCode::device, "cuDNN executor: input too large for 32-bit tensor indexing");
  make_handles();
  Handles& hd = *handles_;
  check(cudnnSetStream(hd.handle, stream), "setting the stream");
  // A first run at a size pays for set-up that later runs do not (cuDNN's own per-problem
  // preparation, new allocations): the debug log says where its host time went.
  const auto run_start = std::chrono::steady_clock::now();
  bool created = false;
  Plan& plan = plan_for(n, h, w, &created);
  const double plan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  const bool first = !plan.ran;  // also after prime(): what priming left to the first run shows
  plan.ran = true;
  TimedAllocator timed(caller_alloc);
  Allocator& alloc = first && log::enabled(log::Level::debug) ? static_cast<Allocator&>(timed) : caller_alloc;
  assemble_weights(stream);
  const float one = 1.0f, zero = 0.0f;
  const std::int64_t pixels = std::int64_t(n) * h * w;
  RunProfile profile(stream);

  void* workspace = plan.workspace ? alloc.allocate(plan.workspace) : nullptr;
  std::vector<void*> value(ops_.size(), nullptr);
  value[0] = const_cast<void*>(x);
  // A concatenation's buffer comes into being at the first value written into it.
  auto buffer = [&](int b) {
    if (!value[b]) value[b] = alloc.allocate(plan.bytes(ops_[b].channels));
    return value[b];
  };
  // A value's pixel stride: its packed buffer's, or its slot's concatenation's (plan_slots).
  auto stride = [&](int b) { return slotted_[b] ? ops_[dests_[b][0].concat].channels : ops_[b].channels; };
  auto view = [&](int op) { return ChannelView{value[alias_[op]], stride(alias_[op])}; };
  // The part convolutions of op v's value, as soon as it is complete.
  std::vector<void*> part_out(parts_.size(), nullptr);
  auto run_parts = [&](int v) {
    for (int p : part_at_[v]) {
      const PartConv& part = parts_[static_cast<std::size_t>(p)];
      void* y = part_out[p] = alloc.allocate(plan.bytes(part.channels));
      profile.time(
          [&] {
            return log::cat("part conv ", part.kernel, "x", part.kernel, " ", ops_[v].channels, "->", part.channels);
          },
          [&] {
            check(cudnnConvolutionForward(hd.handle, &one, plan.tensor(ops_[v].channels), value[v],
                                          plan.part_convs.at(p)->filter.get(), part_weights_->buffers[p].get(),
                                          plan.part_convs.at(p)->conv.get(), kAlgo, workspace, plan.workspace, &zero,
                                          plan.tensor(part.channels), y),
                  "part convolution");
          });
    }
  };
  // Runs e with op b's own buffer `own` (or none) and every concatenation slice of b as its
  // outputs, in launches of at most kMaxOutputs; a later launch copies from `own` when e
  // writes in place (planning gives b a buffer whenever its slices need a second launch).
  auto place = [&](int b, ChannelEpilogue e, void* own) {
    const int c = ops_[b].channels;
    e.pixels = pixels;
    e.channels = c;
    e.outputs = 0;
    if (own) e.out[e.outputs++] = {own, c};
    const std::vector<Placement>& dests = dests_[b];
    std::size_t d = 0;
    while (true) {
      for (; d < dests.size() && e.outputs < ChannelEpilogue::kMaxOutputs; ++d)
        e.out[e.outputs++] = {static_cast<char*>(buffer(dests[d].concat)) + std::size_t(dests[d].offset) * 2,
                              ops_[dests[d].concat].channels};
      if (e.outputs > 0)
        profile.time([&] { return log::cat("epilogue ", c, " ch, ", e.inputs, " in, ", e.outputs, " out"); },
                     [&] { run_channel_epilogue(e, stream); });
      if (d == dests.size()) break;
      if (own) {
        e = ChannelEpilogue{};
        e.in[0] = {own, c};
        e.alpha[0] = 1.0f;
        e.inputs = 1;
        e.pixels = pixels;
        e.channels = c;
      }
      e.outputs = 0;
    }
  };

  // Where a convolution on an own kernel writes: up to two outputs (its own buffer and one
  // slot, or two slots) in the kernel itself; with more, a packed buffer y that `finish` places.
  struct Outputs {
    void* out = nullptr;
    int out_stride = 0;
    void* out2 = nullptr;
    int out2_stride = 0;
    void* y = nullptr;
  };
  auto outputs_of = [&](int i) {
    const std::vector<Placement>& dests = dests_[i];
    const int c = ops_[i].channels;
    auto slot = [&](const Placement& d) {
      return std::pair<void*, int>{static_cast<char*>(buffer(d.concat)) + std::size_t(d.offset) * 2,
                                   ops_[d.concat].channels};
    };
    Outputs o;
    if (own_[i] && dests.size() == 1) {
      o.out = buffer(i);
      o.out_stride = c;
      std::tie(o.out2, o.out2_stride) = slot(dests[0]);
    } else if (!own_[i] && (dests.size() == 1 || dests.size() == 2)) {
      std::tie(o.out, o.out_stride) = slot(dests[0]);
      if (dests.size() == 2) std::tie(o.out2, o.out2_stride) = slot(dests[1]);
    } else {
      o.y = own_[i] ? buffer(i) : alloc.allocate(plan.bytes(c));
      o.out = o.y;
      o.out_stride = c;
    }
    return o;
  };
  auto finish = [&](int i, const Outputs& o) {
    if (o.y && !dests_[i].empty()) {
      ChannelEpilogue e;
      e.in[0] = {o.y, ops_[i].channels};
      e.alpha[0] = 1.0f;
      e.inputs = 1;
      place(i, e, nullptr);
    }
    if (o.y && !own_[i]) alloc.release(o.y);
  };

  if (!dests_[0].empty()) {
    ChannelEpilogue e;
    e.in[0] = {value[0], ops_[0].channels};
    e.alpha[0] = 1.0f;
    e.inputs = 1;
    place(0, e, nullptr);
  }
  run_parts(0);
  for (int i = 1; i < stop_; ++i) {
    const GraphOp& op = ops_[i];
    if (slotted_[i])  // its producer writes the slot, and its readers read it there
      value[i] = static_cast<char*>(buffer(dests_[i][0].concat)) + std::size_t(dests_[i][0].offset) * 2;
    if (alias_[i] != i) {
      value[i] = value[alias_[i]];
    } else if (op.kind == Kind::conv && !sums_[i].empty()) {
      // A split convolution: the sum of its slices of the part outputs, then its epilogue.
      const Residual& r = residual_[i];
      ChannelEpilogue e;
      for (const PartSlice& s : sums_[i]) {
        const int c = parts_[static_cast<std::size_t>(s.part)].channels;
        e.in[e.inputs] = {static_cast<char*>(part_out[s.part]) + std::size_t(s.offset) * 2, c};
        e.alpha[e.inputs++] = r.alpha_conv;
      }
      if (r.add >= 0) {
        e.in[e.inputs] = {value[r.z], stride(r.z)};
        e.alpha[e.inputs++] = r.alpha_z;
      }
      if (r.add2 >= 0) {
        e.in[e.inputs] = {value[r.z2], stride(r.z2)};
        e.alpha[e.inputs++] = r.alpha_z2;
      }
      e.bias = op.bias;
      e.bias_alpha = r.alpha_conv;
      e.relu = op.relu;
      place(i, e, own_[i] ? buffer(i) : nullptr);
    } else if (op.kind == Kind::conv && own_conv_[i]) {
      // The own kernel reads the prefix in place and writes bias + ReLU straight into the
      // value's one slot; with more destinations it writes a packed buffer that `place` copies.
      const int in = alias_[op.inputs[0]];
      const int holder = host_[in] >= 0 ? host_[in] : in;
      DenseConvArgs a;
      a.in = value[in];
      a.in_stride = slotted_[in] ? stride(in) : ops_[holder].channels;
      a.in_channels = ops_[in].channels;
      a.out_channels = op.channels;
      a.weights = own_weights_->by_op.at(i).get();
      a.bias = op.bias;
      a.relu = op.relu;
      a.n = n;
      a.h = h;
      a.w = w;
      const Residual& r = residual_[i];
      if (r.add >= 0) {  // a fusion convolution (own_fusion): out = alpha (conv + bias) + beta z
        a.alpha = r.alpha_conv;
        a.z = value[r.z];
        a.z_stride = stride(r.z);
        a.beta = r.alpha_z;
      }
      if (r.add2 >= 0) {
        a.z2 = value[r.z2];
        a.z2_stride = stride(r.z2);
        a.beta2 = r.alpha_z2;
      }
      const Outputs o = outputs_of(i);
      std::tie(a.out, a.out_stride, a.out2, a.out2_stride) = std::tie(o.out, o.out_stride, o.out2, o.out2_stride);
      profile.time([&] { return log::cat("own conv 3x3 ", a.in_channels, "->", op.channels); },
                   [&] { run_dense_conv(a, stream); });
      finish(i, o);
    } else if (op.kind == Kind::conv && input_conv_[i]) {
      InputConvArgs a;
      const ChannelView in = view(op.inputs[0]);
      a.in = in.base;
      a.in_stride = in.stride;
      a.in_channels = ops_[op.inputs[0]].channels;
      a.weight = op.weight;
      a.bias = op.bias;
      a.relu = op.relu;
      a.out_channels = op.channels;
      a.n = n;
      a.h = h;
      a.w = w;
      const Outputs o = outputs_of(i);
      std::tie(a.out, a.out_stride, a.out2, a.out2_stride) = std::tie(o.out, o.out_stride, o.out2, o.out2_stride);
      profile.time([&] { return log::cat("input conv 3x3 ", a.in_channels, "->", op.channels); },
                   [&] { run_input_conv(a, stream); });
      finish(i, o);
    } else if (op.kind == Kind::conv) {
      const int in = op.inputs[0];
      void* y = own_[i] ? buffer(i) : alloc.allocate(plan.bytes(op.channels));
      profile.time(
          [&] { return log::cat("conv ", op.kernel, "x", op.kernel, " ", ops_[in].channels, "->", op.channels); },
          [&] {
            check(cudnnConvolutionForward(hd.handle, &one, plan.tensor(ops_[in].channels), value[alias_[in]],
                                          plan.convs.at(i)->filter.get(), op.weight, plan.convs.at(i)->conv.get(),
                                          kAlgo, workspace, plan.workspace, &zero, plan.tensor(op.channels), y),
                  "convolution");
          });
      const Residual& r = residual_[i];
      ChannelEpilogue e;
      e.in[0] = {y, op.channels};
      e.alpha[0] = r.alpha_conv;
      e.inputs = 1;
      if (r.add >= 0) {
        e.in[e.inputs] = {value[r.z], stride(r.z)};
        e.alpha[e.inputs++] = r.alpha_z;
      }
      if (r.add2 >= 0) {
        e.in[e.inputs] = {value[r.z2], stride(r.z2)};
        e.alpha[e.inputs++] = r.alpha_z2;
      }
      e.bias = op.bias;
      e.bias_alpha = r.alpha_conv;
      e.relu = op.relu;
      place(i, e, own_[i] ? y : nullptr);
      if (!own_[i]) alloc.release(y);
    } else if (op.kind == Kind::relu || op.kind == Kind::scale || op.kind == Kind::add) {
      ChannelEpilogue e;
      for (std::size_t k = 0; k < op.inputs.size(); ++k) {
        e.in[k] = view(op.inputs[k]);
        e.alpha[k] = op.kind == Kind::add ? op.alphas[k] : op.kind == Kind::scale ? op.factor : 1.0f;
      }
      e.inputs = static_cast<int>(op.inputs.size());
      e.relu = op.kind == Kind::relu;
      place(i, e, own_[i] ? buffer(i) : nullptr);
    } else if (op.kind == Kind::concat && host_[i] >= 0) {
      value[i] = buffer(host_[i]);  // a prefix of its host, already filled
    } else if (op.kind == Kind::concat && own_[i]) {
      buffer(i);  // already filled by its values' producers
    }
    if (alias_[i] == i) run_parts(i);
    for (int p : part_releases_[i]) alloc.release(part_out[p]);
    for (int b : releases_[i]) alloc.release(value[b]);
  }
  if (workspace) alloc.release(workspace);
  profile.report();
  if (&alloc == &timed)
    log::debug(log::cat("cuDNN executor: first run at ", n, "x", h, "x", w, created ? "" : " (primed)", " enqueued in ",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count(),
                        " s of host time (plan ", plan_s, " s, ", timed.calls, " allocations ", timed.seconds, " s)"));
  std::vector<void*> kept(static_cast<std::size_t>(stop_), nullptr);
  for (int i = 1; i < stop_; ++i)
    if (alias_[i] != 0 && kept_[alias_[i]]) kept[i] = value[i];
  return kept;
}

}  // namespace upscaled::model::cudnn
