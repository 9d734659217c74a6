// StateDict: see pth_state_dict.h.
#include "model/torch/pth_state_dict.h"

#include "core/error.h"

namespace upscaled::model::torchnet {

std::string shape_text(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t body_index(const std::string& key, std::string* rest) {
  if (key.rfind("body.", 0) != 0) return -1;
  const size_t dot = key.find('.', 5);
  if (dot == std::string::npos || dot == 5) return -1;
  int64_t n = 0;
  for (size_t i = 5; i < dot; ++i) {
    if (key[i] < '0' || key[i] > '9' || n > 100000) return -1;
    n = n * 10 + (key[i] - '0');
  }
  *rest = key.substr(dot);
  return n;
}

void StateDict::add(const std::string& key, const torch::Tensor& tensor) {
  if (!tensors_.emplace(key, tensor.to(torch::kFloat32).contiguous()).second)
    throw Error(ErrorCode::model, file_ + ": key '" + key + "' appears twice");
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : tensors_) out.push_back(k);
  return out;
}

void StateDict::fail(const std::string& arch, const std::string& problem) const {
  throw Error(ErrorCode::model, file_ + ": " + arch + ": " + problem);
}

const torch::Tensor& StateDict::peek(const std::string& key, const std::string& arch) const {
  auto it = tensors_.find(key);
  if (it == tensors_.end()) fail(arch, "missing key '" + key + "'");
  return it->second;
}

torch::Tensor StateDict::take(const std::string& key, const std::vector<int64_t>& shape, const std::string& arch) {
  auto it = tensors_.find(key);
  if (it == tensors_.end()) fail(arch, "missing key '" + key + "'");
  if (it->second.sizes() != c10::IntArrayRef(shape))
    fail(arch, "'" + key + "' has shape " + shape_text(it->second.sizes()) + ", expected " + shape_text(shape));
  torch::Tensor t = std::move(it->second);
  tensors_.erase(it);
  return t;
}

void StateDict::expect_consumed(const std::string& arch) const {
  if (tensors_.empty()) return;
  std::string names;
  int shown = 0;
  for (const auto& [k, v] : tensors_) {
    if (shown++ == 3) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "'" : ", '") + k + "'";
  }
  fail(arch, std::to_string(tensors_.size()) + " unexpected key(s) " + names + " (a different architecture?)");
}

Conv3x3 take_conv(StateDict& dict, const std::string& prefix, int64_t out, int64_t in, const std::string& arch) {
  Conv3x3 c;
  c.weight = dict.take(prefix + ".weight", {out, in, 3, 3}, arch);
  c.bias = dict.take(prefix + ".bias", {out}, arch);
  return c;
}

}  // namespace upscaled::model::torchnet
