// A state dict read from a weight file (.pth or .safetensors), and the checks the
// architectures run while taking their weights out of it.
//
// Contract: owns float32 contiguous CPU tensors keyed by their PyTorch names. Every error is
// upscaled::Error(ErrorCode::model) with a one-line message "<file>: <arch>: <problem>".
// Architectures take() each weight they need with its expected shape, then call
// expect_consumed() so that a file of another architecture (extra keys) is refused rather
// than half-used. Not thread-safe; used only while loading.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace upscaled::model::torchnet {

class StateDict {
 public:
  explicit StateDict(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // Adds a tensor (converted to contiguous float32); a repeated key is an error.
  void add(const std::string& key, const torch::Tensor& tensor);
  bool contains(const std::string& key) const { return tensors_.count(key) != 0; }
  size_t size() const { return tensors_.size(); }
  std::vector<std::string> keys() const;

  // Looks at a tensor without taking it (architecture detection). Throws if missing.
  const torch::Tensor& peek(const std::string& key, const std::string& arch) const;
  // Removes and returns `key`, which must have exactly `shape`.
  torch::Tensor take(const std::string& key, const std::vector<int64_t>& shape, const std::string& arch);
  // Throws naming the first keys nobody took.
  void expect_consumed(const std::string& arch) const;

  // "<file>: <arch>: <problem>" as an Error(model), for the architectures' own checks.
  [[noreturn]] void fail(const std::string& arch, const std::string& problem) const;

 private:
  std::string file_;
  std::map<std::string, torch::Tensor> tensors_;
};

// A 3x3, stride 1, padding 1 convolution with bias: the only kind these networks use.
struct Conv3x3 {
  torch::Tensor weight, bias;
  torch::Tensor operator()(const torch::Tensor& x) const { return torch::conv2d(x, weight, bias, {1, 1}, {1, 1}); }
  void to(torch::Device device, torch::Dtype dtype) {
    weight = weight.to(device, dtype);
    bias = bias.to(device, dtype);
  }
};
// Takes "<prefix>.weight" [out, in, 3, 3] and "<prefix>.bias" [out].
Conv3x3 take_conv(StateDict& dict, const std::string& prefix, int64_t out, int64_t in, const std::string& arch);

// "[64, 3, 3, 3]" for error messages.
std::string shape_text(c10::IntArrayRef shape);

// For a key "body.<N><rest>" (N decimal, rest starting with '.'): N, with `rest` set to the
// part after the number. -1 for any other key. Both Real-ESRGAN networks count their blocks so.
int64_t body_index(const std::string& key, std::string* rest);

}  // namespace upscaled::model::torchnet
