// RRDBNet: see rrdbnet.h. Follows BasicSR's rrdbnet_arch.py operation for operation so that
// float32 results match PyTorch's to rounding.
#include "model/torch/rrdbnet.h"

#include <array>

namespace upscaled::model::torchnet {
namespace {

const std::string kArch = "RRDBNet";
constexpr double kSlope = 0.2;     // LeakyReLU negative slope
constexpr double kResidual = 0.2;  // residual scaling of dense blocks and RRDBs

namespace F = torch::nn::functional;

// In place: the convolution output is a fresh tensor nobody else holds.
torch::Tensor lrelu(torch::Tensor x) {
  torch::leaky_relu_(x, kSlope);
  return x;
}

struct DenseBlock {
  std::array<Conv3x3, 5> conv;
  torch::Tensor forward(const torch::Tensor& x) const {
    torch::Tensor x1 = lrelu(conv[0](x));
    torch::Tensor x2 = lrelu(conv[1](torch::cat({x, x1}, 1)));
    torch::Tensor x3 = lrelu(conv[2](torch::cat({x, x1, x2}, 1)));
    torch::Tensor x4 = lrelu(conv[3](torch::cat({x, x1, x2, x3}, 1)));
    return conv[4](torch::cat({x, x1, x2, x3, x4}, 1)).mul_(kResidual).add_(x);
  }
};

struct Rrdb {
  std::array<DenseBlock, 3> rdb;
  torch::Tensor forward(const torch::Tensor& x) const {
    return rdb[2].forward(rdb[1].forward(rdb[0].forward(x))).mul_(kResidual).add_(x);
  }
};

torch::Tensor upsample2(const torch::Tensor& x) {
  return F::interpolate(x,
                        F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
}

class RrdbNet final : public Network {
 public:
  RrdbNet(StateDict& dict, int64_t unshuffle, int64_t num_feat, int64_t num_grow, int64_t num_block)
      : unshuffle_(unshuffle), num_feat_(num_feat), num_grow_(num_grow) {
    conv_first_ = take_conv(dict, "conv_first", num_feat, 3 * unshuffle * unshuffle, kArch);
    for (int64_t b = 0; b < num_block; ++b) {
      Rrdb block;
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 5; ++c) {
          const std::string prefix =
              "body." + std::to_string(b) + ".rdb" + std::to_string(r + 1) + ".conv" + std::to_string(c + 1);
          block.rdb[r].conv[c] = take_conv(dict, prefix, c == 4 ? num_feat : num_grow, num_feat + c * num_grow, kArch);
        }
      }
      blocks_.push_back(std::move(block));
    }
    conv_body_ = take_conv(dict, "conv_body", num_feat, num_feat, kArch);
    conv_up1_ = take_conv(dict, "conv_up1", num_feat, num_feat, kArch);
    conv_up2_ = take_conv(dict, "conv_up2", num_feat, num_feat, kArch);
    conv_hr_ = take_conv(dict, "conv_hr", num_feat, num_feat, kArch);
    conv_last_ = take_conv(dict, "conv_last", 3, num_feat, kArch);
    dict.expect_consumed(kArch);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    c10::InferenceMode inference;
    const int64_t h = input.size(2), w = input.size(3);
    torch::Tensor feat = input;
    const int64_t ph = (unshuffle_ - h % unshuffle_) % unshuffle_, pw = (unshuffle_ - w % unshuffle_) % unshuffle_;
    if (ph || pw) {
      // Reflection needs the pad to be smaller than the side; tiny inputs replicate instead.
      feat = (ph < h && pw < w) ? torch::reflection_pad2d(feat, {0, pw, 0, ph})
                                : torch::replication_pad2d(feat, {0, pw, 0, ph});
    }
    if (unshuffle_ > 1) feat = torch::pixel_unshuffle(feat, unshuffle_);
    feat = conv_first_(feat);
    torch::Tensor body = feat;
    for (const Rrdb& block : blocks_) body = block.forward(body);
    feat = feat + conv_body_(body);
    feat = lrelu(conv_up1_(upsample2(feat)));
    feat = lrelu(conv_up2_(upsample2(feat)));
    torch::Tensor out = conv_last_(lrelu(conv_hr_(feat)));
    if (ph || pw) out = out.slice(2, 0, h * scale()).slice(3, 0, w * scale()).contiguous();
    return out;
  }

  int scale() const override { return static_cast<int>(4 / unshuffle_); }

  std::string describe() const override {
    return "RRDBNet(num_feat=" + std::to_string(num_feat_) + ",num_block=" + std::to_string(blocks_.size()) +
           ",num_grow_ch=" + std::to_string(num_grow_) + ") x" + std::to_string(scale());
  }

  void to(torch::Device device, torch::Dtype dtype) override {
    for (Conv3x3* c : {&conv_first_, &conv_body_, &conv_up1_, &conv_up2_, &conv_hr_, &conv_last_}) c->to(device, dtype);
    for (Rrdb& block : blocks_) {
      for (DenseBlock& rdb : block.rdb) {
        for (Conv3x3& c : rdb.conv) c.to(device, dtype);
      }
    }
  }

 private:
  int64_t unshuffle_, num_feat_, num_grow_;
  Conv3x3 conv_first_, conv_body_, conv_up1_, conv_up2_, conv_hr_, conv_last_;
  std::vector<Rrdb> blocks_;
};

// N of "body.N.rdb...", or -1.
int64_t block_index(const std::string& key) {
  std::string rest;
  const int64_t n = body_index(key, &rest);
  return n >= 0 && rest.rfind(".rdb", 0) == 0 ? n : -1;
}

}  // namespace

bool is_rrdbnet(const StateDict& dict) {
  return dict.contains("conv_first.weight") && dict.contains("body.0.rdb1.conv1.weight");
}

std::unique_ptr<Network> make_rrdbnet(StateDict dict) {
  const torch::Tensor& first = dict.peek("conv_first.weight", kArch);
  const torch::Tensor& grow = dict.peek("body.0.rdb1.conv1.weight", kArch);
  if (first.dim() != 4 || grow.dim() != 4)
    dict.fail(kArch, "conv_first / body.0.rdb1.conv1 weights are not 4-D convolution kernels");
  const int64_t in_ch = first.size(1);
  int64_t unshuffle = 0;
  if (in_ch == 3) unshuffle = 1;
  if (in_ch == 12) unshuffle = 2;
  if (in_ch == 48) unshuffle = 4;
  if (unshuffle == 0)
    dict.fail(kArch, "conv_first takes " + std::to_string(in_ch) +
                         " input channels; expected 3 (x4), 12 (x2, pixel-unshuffled) or 48 (x1, pixel-unshuffled)");
  int64_t num_block = 0;
  for (const std::string& key : dict.keys()) num_block = std::max(num_block, block_index(key) + 1);
  return std::make_unique<RrdbNet>(dict, unshuffle, first.size(0), grow.size(0), num_block);
}

}  // namespace upscaled::model::torchnet
