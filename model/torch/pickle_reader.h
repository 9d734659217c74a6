// A minimal, torch-free unpickler for the data.pkl of a zip-format torch.save() state dict.
//
// Why: libtorch's torch::pickle_load() turns collections.OrderedDict into None (seen with
// libtorch 1.13), so a state dict cannot be read with it. Only the opcode subset that
// torch.save (pickle protocol 2, also 3-5 where cheap) emits for nested dicts of tensors is
// handled; tensors come back as TensorRecord descriptions (storage key, dtype, offset,
// sizes, strides) that the caller resolves against the archive's data/<key> records.
//
// Contract: synchronous, no I/O, no global state. Input is untrusted: every read is bounds
// checked and anything outside the subset throws upscaled::Error(ErrorCode::model) whose
// message starts with `what` (the file name) and names the problem. Never executes code:
// GLOBAL names are kept as strings; only collections.OrderedDict, torch._utils
// ._rebuild_tensor_v2 / _rebuild_parameter and torch.<Type>Storage mean anything.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::model::torchnet {

// A tensor as pickled by torch: a view (offset, sizes, strides in elements) of a storage.
struct TensorRecord {
  std::string storage_key;    // the archive record is "data/<storage_key>"
  std::string storage_type;   // e.g. "FloatStorage", "HalfStorage", "BFloat16Storage"
  int64_t storage_numel = 0;  // elements in the whole storage
  int64_t offset = 0;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

struct PickleValue {
  enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor, object };
  Kind kind = Kind::none;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text;                                 // string / bytes content, "module.name" for global and object
  std::vector<std::shared_ptr<PickleValue>> items;  // tuple, list
  std::vector<std::pair<std::shared_ptr<PickleValue>, std::shared_ptr<PickleValue>>> entries;  // dict, in order
  TensorRecord tensor;                                                                         // storage, tensor

  // A short description for error messages: "tensor", "dict", "object numpy.core.multiarray.scalar".
  std::string kind_name() const;
  // The value stored under a string key of a dict, or nullptr.
  std::shared_ptr<PickleValue> find(const std::string& key) const;
};

using PickleRef = std::shared_ptr<PickleValue>;

// Runs the pickle program in `data` and returns the object STOP leaves on the stack.
// `what` prefixes every error message (normally "<file>: data.pkl").
PickleRef unpickle(std::span<const uint8_t> data, const std::string& what);

}  // namespace upscaled::model::torchnet
