// Executes a compiled TF.js graph (tfjs_graph.h) and wraps it as a torchnet::Network:
// load_tfjs_network() reads model.json + shards, recognises RDN/RRDN for the name and the
// pixel range, and maps the Network's [0, 1] pixels onto the range the weights expect.
#include "core/error.h"
#include "core/log.h"
#include "core/step_timer.h"
#include "model/torch/network.h"
#include "model/torch/rdn.h"
#include "model/torch/tfjs_cudnn.h"
#include "model/torch/tfjs_graph.h"

#include <algorithm>
#include <numeric>

namespace upscaled::model::torchnet {
namespace {

using Kind = GraphNode::Kind;

torch::Tensor activate(torch::Tensor t, const GraphNode& node, bool in_place) {
  const std::string& a = node.activation;
  if (a == "linear") return t;
  if (a == "relu") return in_place ? t.relu_() : t.relu();
  if (a == "sigmoid") return in_place ? t.sigmoid_() : t.sigmoid();
  if (a == "tanh") return in_place ? t.tanh_() : t.tanh();
  return in_place ? torch::leaky_relu_(t, node.alpha) : torch::leaky_relu(t, node.alpha);
}

// TF depth_to_space (NHWC): out[h*b+dy, w*b+dx, c] = in[h, w, (dy*b+dx)*C + c]. PyTorch's
// pixel_shuffle reads channel c*b*b + dy*b + dx instead, so the channel axis is split as
// (dy, dx, c) here rather than (c, dy, dx).
torch::Tensor depth_to_space(const torch::Tensor& x, int64_t b) {
  const int64_t n = x.size(0), c = x.size(1) / (b * b), h = x.size(2), w = x.size(3);
  return x.reshape({n, b, b, c, h, w}).permute({0, 3, 4, 1, 5, 2}).reshape({n, c, h * b, w * b});
}

// True when nothing else (no other handle, no view) shares t's memory: in-place is safe.
bool sole_owner(const torch::Tensor& t) {
  return t.use_count() == 1 && t.storage().use_count() == 1;
}

class TfjsNetwork final : public Network {
 public:
  TfjsNetwork(TfjsGraph graph, RdnInfo info, std::filesystem::path file)
      : graph_(std::move(graph)), info_(info), file_(std::move(file)) {}

  torch::Tensor forward(const torch::Tensor& input) override {
    if (info_.pixel_range == 1.0f) return run(input);
    return run(input * info_.pixel_range).div_(info_.pixel_range);
  }
  int scale() const override { return graph_.scale; }
  std::string describe() const override {
    return info_.describe() + " x" + std::to_string(graph_.scale) + " from " + file_.string() +
           (fused_ ? " (" + fused_->describe() + ")" : "");
  }
  void to(torch::Device device, torch::Dtype dtype) override {
    fused_.reset();
    options_ = torch::TensorOptions().device(device).dtype(dtype);
    StepTimer steps;
    graph_.to(device, dtype, device.is_cuda());
    steps.step("weights to the device");
    if (device.is_cuda() && dtype == torch::kHalf) fused_ = make_fused_runner(graph_);
    steps.step("executor");
    if (fused_) log::debug(log::cat(file_.string(), ": ", fused_->describe()));
    log::debug(log::cat(file_.string(), ": on ", device.str(), " (", steps.text(), ")"));
  }
  // The executor plans its own convolutions with cuDNN's heuristics; autotuning would only
  // reach the small eager tail, and cost start-up: on the H200, thick x4 at 640x360 batch 4,
  // the memory measurement took 0.20-0.27 s instead of 0.35-0.67 s and the first batch
  // 0.08 s instead of 0.13-0.15 s, with the same steady state (docs/gpu-pipeline.md).
  bool wants_cudnn_autotune() const override { return !fused_; }
  bool prime(int64_t n, int64_t h, int64_t w, const std::function<void(const char* step)>& after_step) override {
    if (!fused_) return false;
    fused_->prime(n, h, w, options_, after_step);
    return true;
  }
  // The dense blocks see far (>100 px), but their influence decays quickly; 16 input pixels
  // of context keeps tiled output within rounding of whole-frame output (tests/model_tfjs).
  int context_pixels() const override { return 16; }
  double multiply_adds_per_input_pixel() const override { return graph_.multiply_adds_per_pixel; }

 private:
  torch::Tensor run(const torch::Tensor& x) { return fused_ ? fused_->run(graph_, x) : graph_.run(x); }

  TfjsGraph graph_;
  std::unique_ptr<FusedRunner> fused_;  // CUDA float16 with cuDNN: the leading ops fused
  torch::TensorOptions options_;        // the device and dtype of to()
  RdnInfo info_;
  std::filesystem::path file_;
};

}  // namespace

torch::Tensor TfjsGraph::run(const torch::Tensor& x) const {
  std::vector<torch::Tensor> values(nodes.size());
  values[0] = x;
  return run_from(std::move(values), 1);
}

torch::Tensor TfjsGraph::run_from(std::vector<torch::Tensor> values, std::size_t first) const {
  // Hands out input k of node i; the slot is emptied at its last read so that the returned
  // handle may be the only reference (then the op may write into it, see sole_owner).
  auto take = [&](const GraphNode& node, size_t k, int i) -> torch::Tensor {
    const int j = node.inputs[k];
    auto& slot = values[static_cast<size_t>(j)];
    const bool read_again =
        std::find(node.inputs.begin() + static_cast<std::ptrdiff_t>(k) + 1, node.inputs.end(), j) != node.inputs.end();
    if (nodes[static_cast<size_t>(j)].last_use == i && !read_again) return std::move(slot);
    return slot;
  };
  for (size_t i = first; i < nodes.size(); ++i) {
    const GraphNode& node = nodes[i];
    const int self = static_cast<int>(i);
    torch::Tensor out;
    switch (node.kind) {
      case Kind::input:
        break;
      case Kind::conv: {
        torch::Tensor in = take(node, 0, self);
        const bool asymmetric = node.pad[0] != node.pad[1] || node.pad[2] != node.pad[3];
        if (asymmetric) in = torch::constant_pad_nd(in, {node.pad[0], node.pad[1], node.pad[2], node.pad[3]});
        const int64_t ph = asymmetric ? 0 : node.pad[2], pw = asymmetric ? 0 : node.pad[0];
        out = activate(torch::conv2d(in, node.weight, node.bias, 1, {ph, pw}), node, true);
        break;
      }
      case Kind::activation: {
        torch::Tensor in = take(node, 0, self);
        out = activate(in, node, sole_owner(in));
        break;
      }
      case Kind::concat: {
        std::vector<torch::Tensor> ins;
        for (size_t k = 0; k < node.inputs.size(); ++k) ins.push_back(take(node, k, self));
        out = torch::cat(ins, 1);
        break;
      }
      case Kind::add: {
        // Accumulate into an input of factor 1 (folded scales ride on add_'s alpha).
        const size_t base =
            static_cast<size_t>(std::find(node.alphas.begin(), node.alphas.end(), 1.0) - node.alphas.begin());
        if (base == node.alphas.size()) {
          out = take(node, 0, self) * node.alphas[0];
        } else {
          out = take(node, base, self);
          if (!sole_owner(out)) out = out.clone();
        }
        for (size_t k = 0; k < node.inputs.size(); ++k)
          if (k != base && !(base == node.alphas.size() && k == 0)) out.add_(take(node, k, self), node.alphas[k]);
        break;
      }
      case Kind::scale: {
        torch::Tensor in = take(node, 0, self);
        if (node.factor == 1.0)
          out = std::move(in);  // folded away at compile time
        else
          out = sole_owner(in) ? in.mul_(node.factor) : in * node.factor;
        break;
      }
      case Kind::depth_to_space:
        out = depth_to_space(take(node, 0, self), node.block);
        break;
      case Kind::upsample: {
        torch::Tensor in = take(node, 0, self);
        const std::vector<double> f{static_cast<double>(node.block), static_cast<double>(node.block)};
        out = node.bilinear ? torch::upsample_bilinear2d(in, c10::nullopt, false, f)
                            : torch::upsample_nearest2d(in, c10::nullopt, f);
        break;
      }
    }
    values[i] = std::move(out);
  }
  return std::move(values.back());
}

namespace {

// A dense tensor in any dimension order (compile's weight views) moved in its memory order:
// one plain copy, the view's order restored on arrival.
torch::Tensor move_as_stored(const torch::Tensor& t, torch::Device device) {
  if (t.device() == device) return t;
  std::vector<int64_t> order(static_cast<std::size_t>(t.dim()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return t.stride(a) > t.stride(b); });
  const torch::Tensor stored = t.permute(order);
  if (!stored.is_contiguous()) return t.to(device);
  std::vector<int64_t> back(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) back[static_cast<std::size_t>(order[i])] = static_cast<int64_t>(i);
  return stored.to(device).permute(back);
}

}  // namespace

void TfjsGraph::to(torch::Device device, torch::Dtype dtype, bool channels_last) {
  // On a GPU every step after the copy runs there. libtorch's CPU-side steps (to(device,
  // dtype) converts before copying; contiguous() lays out) split over its CPU thread pool,
  // and beside the GPU warm-up thread (DeviceWarmUp) each of those parallel steps waited for
  // a descheduled worker: on the H200 the load's CPU steps took 0.05-0.17 s there against
  // 0.02 s alone (docs/gpu-pipeline.md, start-up).
  // One conversion per weight (dtype and layout in one copy), its float32 copy freed before
  // the next: the caching allocator reuses that block rather than keep every one cached.
  const auto layout = channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (GraphNode& node : nodes) {
    if (node.weight.defined()) {
      const torch::Tensor moved = move_as_stored(node.weight, device);
      torch::Tensor laid_out =
          torch::empty(moved.sizes(), torch::TensorOptions().device(device).dtype(dtype).memory_format(layout));
      laid_out.copy_(moved);
      node.weight = std::move(laid_out);
    }
    if (node.bias.defined()) node.bias = node.bias.to(device).to(dtype);
  }
}

std::unique_ptr<Network> load_tfjs_network(const std::filesystem::path& model_json) {
  StepTimer steps;
  TfjsModel model = read_tfjs_model(model_json, &steps);
  const RdnInfo info = detect_rdn(model);
  TfjsGraph graph = compile_tfjs_graph(std::move(model));
  steps.step("compiled");
  if (info.arch == RdnInfo::Arch::other)
    log::warn(log::cat(model_json.string(),
                       ": not an idealo RDN/RRDN topology; running it as a generic graph "
                       "with pixels in [0, 1]"));
  auto net = std::make_unique<TfjsNetwork>(std::move(graph), info, model_json);
  log::debug(log::cat("loaded ", net->describe(), " (", steps.text(), ")"));
  return net;
}

}  // namespace upscaled::model::torchnet
