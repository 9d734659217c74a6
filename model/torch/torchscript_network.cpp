// load_torchscript_network: any TorchScript module (torch.jit.trace / torch.jit.script,
// saved with .save()) that maps NCHW RGB to NCHW RGB upscaled by an integer factor. The
// factor is not stored anywhere in such a file, so it is measured by running a small input.
#include <torch/script.h>

#include "core/error.h"
#include "model/torch/network.h"

namespace upscaled::model::torchnet {
namespace {

// Sides of the probe input: different, and multiples of 8 so networks that unshuffle accept it.
constexpr int64_t kProbeH = 16, kProbeW = 24;
constexpr int64_t kMaxScale = 16;

std::string first_line(const char* text) {
  std::string s(text);
  return s.substr(0, s.find('\n'));
}

class TorchScriptNetwork final : public Network {
 public:
  TorchScriptNetwork(torch::jit::Module module, std::string file) : module_(std::move(module)), file_(std::move(file)) {
    module_.eval();
    const torch::Tensor probe = torch::rand({1, 3, kProbeH, kProbeW});
    const torch::Tensor out = forward(probe);
    const int64_t s = out.dim() == 4 ? out.size(2) / kProbeH : 0;
    if (out.dim() != 4 || out.size(0) != 1 || out.size(1) != 3 || s < 1 || s > kMaxScale ||
        out.size(2) != kProbeH * s || out.size(3) != kProbeW * s)
      throw Error(ErrorCode::model, file_ + ": TorchScript module maps [1, 3, 16, 24] to " + shape(out) +
                                        "; expected [1, 3, 16*s, 24*s] for an integer scale s");
    scale_ = static_cast<int>(s);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    c10::InferenceMode inference;
    c10::IValue out;
    try {
      out = module_.forward({input});
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::model, file_ + ": TorchScript forward failed: " + first_line(e.what_without_backtrace()));
    }
    if (!out.isTensor())
      throw Error(ErrorCode::model, file_ + ": TorchScript forward returned a " + out.tagKind() + ", not a tensor");
    return out.toTensor();
  }

  int scale() const override { return scale_; }
  std::string describe() const override { return "TorchScript(" + file_ + ") x" + std::to_string(scale_); }
  void to(torch::Device device, torch::Dtype dtype) override { module_.to(device, dtype); }

 private:
  static std::string shape(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
    return s + "]";
  }

  torch::jit::Module module_;
  std::string file_;
  int scale_ = 0;
};

}  // namespace

std::unique_ptr<Network> load_torchscript_network(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::model, file + ": model file not found");
  torch::jit::Module module;
  try {
    module = torch::jit::load(file, torch::kCPU);
  } catch (const c10::Error& e) {
    throw Error(ErrorCode::model,
                file + ": not a loadable TorchScript module: " + first_line(e.what_without_backtrace()));
  }
  return std::make_unique<TorchScriptNetwork>(std::move(module), file);
}

}  // namespace upscaled::model::torchnet
