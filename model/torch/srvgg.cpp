// SRVGGNetCompact: see srvgg.h. Mirrors Real-ESRGAN's srvgg_arch.py.
#include "model/torch/srvgg.h"

#include <cmath>

namespace upscaled::model::torchnet {
namespace {

const std::string kArch = "SRVGGNetCompact";

namespace F = torch::nn::functional;

class SrvggNet final : public Network {
 public:
  SrvggNet(StateDict& dict, int64_t num_feat, int64_t num_conv, int64_t scale) : num_feat_(num_feat), scale_(scale) {
    for (int64_t i = 0; i <= num_conv; ++i) {
      convs_.push_back(take_conv(dict, "body." + std::to_string(2 * i), num_feat, i == 0 ? 3 : num_feat, kArch));
      slopes_.push_back(dict.take("body." + std::to_string(2 * i + 1) + ".weight", {num_feat}, kArch));
    }
    last_ = take_conv(dict, "body." + std::to_string(2 * num_conv + 2), 3 * scale * scale, num_feat, kArch);
    dict.expect_consumed(kArch);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    c10::InferenceMode inference;
    torch::Tensor out = input;
    for (size_t i = 0; i < convs_.size(); ++i) out = torch::prelu(convs_[i](out), slopes_[i]);
    out = torch::pixel_shuffle(last_(out), scale_);
    const double s = static_cast<double>(scale_);
    return out.add_(F::interpolate(
        input, F::InterpolateFuncOptions().scale_factor(std::vector<double>{s, s}).mode(torch::kNearest)));
  }

  int scale() const override { return static_cast<int>(scale_); }

  std::string describe() const override {
    return "SRVGGNetCompact(num_feat=" + std::to_string(num_feat_) + ",num_conv=" + std::to_string(convs_.size() - 1) +
           ",act=prelu) x" + std::to_string(scale_);
  }

  void to(torch::Device device, torch::Dtype dtype) override {
    for (Conv3x3& c : convs_) c.to(device, dtype);
    for (torch::Tensor& s : slopes_) s = s.to(device, dtype);
    last_.to(device, dtype);
  }

  // Every 3x3 convolution widens the receptive field by one pixel on each side.
  int context_pixels() const override { return static_cast<int>(convs_.size()) + 1; }

 private:
  int64_t num_feat_, scale_;
  std::vector<Conv3x3> convs_;
  std::vector<torch::Tensor> slopes_;
  Conv3x3 last_;
};

// N of "body.N.weight" / "body.N.bias", or -1.
int64_t layer_index(const std::string& key) {
  std::string rest;
  const int64_t n = body_index(key, &rest);
  return n >= 0 && (rest == ".weight" || rest == ".bias") ? n : -1;
}

}  // namespace

bool is_srvgg(const StateDict& dict) {
  return dict.contains("body.0.weight") && dict.contains("body.1.weight") &&
         dict.peek("body.0.weight", kArch).dim() == 4 && dict.peek("body.1.weight", kArch).dim() == 1;
}

std::unique_ptr<Network> make_srvgg(StateDict dict) {
  const int64_t num_feat = dict.peek("body.0.weight", kArch).size(0);
  int64_t last = -1;
  for (const std::string& key : dict.keys()) last = std::max(last, layer_index(key));
  if (last < 2 || last % 2 != 0)
    dict.fail(kArch, "last layer is body." + std::to_string(last) + "; expected an even index >= 2 (a convolution)");
  const torch::Tensor& last_weight = dict.peek("body." + std::to_string(last) + ".weight", kArch);
  const int64_t out_ch = last_weight.dim() == 4 ? last_weight.size(0) : 0;
  const auto scale = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(out_ch) / 3.0)));
  if (scale < 1 || 3 * scale * scale != out_ch)
    dict.fail(kArch, "last convolution body." + std::to_string(last) + " has " + std::to_string(out_ch) +
                         " output channels; expected 3*scale*scale");
  return std::make_unique<SrvggNet>(dict, num_feat, (last - 2) / 2, scale);
}

}  // namespace upscaled::model::torchnet
