// CudnnGraph::run(): enqueues each convolution (cuDNN, the own kernel or the input kernel) and
// the epilogue passes that place results, in plan order (planning: cudnn_graph_plan.cpp; set-up,
// per-size plans and weights: cudnn_graph.cpp).
#include "model/cudnn/channel_epilogue.h"
#include "model/cudnn/cudnn_graph_internal.h"
#include "model/cudnn/dense_conv.h"
#include "model/cudnn/input_conv.h"
#include "model/cudnn/run_profile.h"

#include "core/log.h"

#include <chrono>
#include <cstdint>
#include <tuple>

namespace upscaled::model::cudnn {

using namespace graph_detail;

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

  // A cuDNN or split convolution's epilogue after its own inputs: the residuals it computes
  // (residual_), its bias and its ReLU.
  auto finish_epilogue = [&](int i, ChannelEpilogue& e) {
    const Residual& r = residual_[i];
    if (r.add >= 0) {
      e.in[e.inputs] = {value[r.z], stride(r.z)};
      e.alpha[e.inputs++] = r.alpha_z;
    }
    if (r.add2 >= 0) {
      e.in[e.inputs] = {value[r.z2], stride(r.z2)};
      e.alpha[e.inputs++] = r.alpha_z2;
    }
    e.bias = ops_[i].bias;
    e.bias_alpha = r.alpha_conv;
    e.relu = ops_[i].relu;
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
      finish_epilogue(i, e);
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
      finish_epilogue(i, e);
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
