// Internal to the upscaled_torch target: the networks and their file formats.
//
// A Network maps an NCHW float tensor of RGB in [0, 1] to an NCHW tensor of RGB upscaled by
// scale() (values roughly in [0, 1]; callers clamp). forward() runs on whatever device and
// dtype the module was moved to with to(); it is synchronous from the caller's point of
// view on CPU and enqueued on the current CUDA stream on GPU (torch semantics). Loaders
// throw upscaled::Error(ErrorCode::model) naming the file and what was expected.
// Never include this header outside model/torch/ (it pulls in libtorch).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace upscaled::model::torchnet {

class Network {
 public:
  virtual ~Network() = default;
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
  virtual int scale() const = 0;
  // Architecture and the hyper-parameters read from the file, e.g. "RRDN(C=4,D=3,G=32,T=10) x4".
  virtual std::string describe() const = 0;
  virtual void to(torch::Device device, torch::Dtype dtype) = 0;
  // Input pixels a tile must extend past its core for the output core to be exact-ish;
  // tiling uses max(this, the requested overlap).
  virtual int context_pixels() const { return 16; }
  // Convolution multiply-adds per input pixel (for achieved-FLOP/s figures); 0 = unknown.
  virtual double multiply_adds_per_input_pixel() const { return 0.0; }
  // Whether libtorch's cuDNN autotuning pays for this network after to(): it times every
  // algorithm of each convolution at each new input shape. Networks whose convolutions run
  // in libtorch say yes; one that runs its body through its own cuDNN plan says no.
  virtual bool wants_cudnn_autotune() const { return true; }
  // Pays the first-call costs of forward() for an n x 3 x h x w input ahead of it, on the
  // current CUDA stream, without running the whole network; false when this network has no
  // such step (then only a real forward pass does it). `after_step` (may be empty) is called
  // after each host-side set-up step, before the GPU work (cudnn::CudnnGraph::prime).
  virtual bool prime(int64_t /*n*/, int64_t /*h*/, int64_t /*w*/,
                     const std::function<void(const char* step)>& /*after_step*/) {
    return false;
  }
};

// idealo RDN / RRDN from a TF.js layers model (model.json beside its weight shards).
std::unique_ptr<Network> load_tfjs_network(const std::filesystem::path& model_json);
// Real-ESRGAN RRDBNet / SRVGGNetCompact from a PyTorch zip-format state dict (.pth).
std::unique_ptr<Network> load_pth_network(const std::filesystem::path& path);
// The same architectures from a .safetensors file.
std::unique_ptr<Network> load_safetensors_network(const std::filesystem::path& path);
// Any TorchScript module (.pt); scale is measured by running a small input through it.
std::unique_ptr<Network> load_torchscript_network(const std::filesystem::path& path);

// Sets libtorch's cuDNN autotuning (process-wide) for a network about to run on the GPU:
// network.wants_cudnn_autotune(), unless UPSCALED_CUDNN_BENCHMARK is 0 or 1 (comparisons).
// Autotuning times every algorithm at each new input shape, so it costs start-up (the
// memory measurement's three sizes and the first batch) for what it may gain per frame.
void set_cudnn_autotune(const Network& network);

}  // namespace upscaled::model::torchnet
