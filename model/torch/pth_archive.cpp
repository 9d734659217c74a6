// read_pth_state_dict: see pth_archive.h.
#include "model/torch/pth_archive.h"

#include <caffe2/serialize/inline_container.h>

#include <fstream>
#include <map>

#include "core/error.h"
#include "model/torch/pickle_reader.h"

namespace upscaled::model::torchnet {
namespace {

// c10::Error messages carry a backtrace and several lines; keep the first line only.
std::string first_line(const char* text) {
  std::string s(text);
  return s.substr(0, s.find('\n'));
}

torch::Dtype storage_dtype(const std::string& type, const std::string& file) {
  static const std::map<std::string, torch::Dtype> types = {
      {"FloatStorage", torch::kFloat32},  {"HalfStorage", torch::kFloat16}, {"BFloat16Storage", torch::kBFloat16},
      {"DoubleStorage", torch::kFloat64}, {"LongStorage", torch::kInt64},   {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},    {"CharStorage", torch::kInt8},    {"ByteStorage", torch::kUInt8},
      {"BoolStorage", torch::kBool}};
  auto it = types.find(type);
  if (it == types.end()) throw Error(ErrorCode::model, file + ": unsupported storage type torch." + type);
  return it->second;
}

// Checks the file's first bytes so that a legacy or non-torch file gets a precise message.
void check_magic(const std::filesystem::path& path, const std::string& file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::model, file + ": cannot open model file");
  char magic[4] = {};
  in.read(magic, sizeof magic);
  if (in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return;
  if (in.gcount() >= 1 && static_cast<unsigned char>(magic[0]) == 0x80)
    throw Error(ErrorCode::model, file + ": legacy (pre-1.6, non-zip) torch.save format; re-save it with torch>=1.6");
  throw Error(ErrorCode::model, file + ": not a PyTorch zip archive (.pth from torch.save expected)");
}

class Archive {
 public:
  Archive(const std::filesystem::path& path, std::string file) : file_(std::move(file)) {
    check_magic(path, file_);
    try {
      reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::model,
                  file_ + ": corrupt or truncated zip archive: " + first_line(e.what_without_backtrace()));
    }
  }

  std::tuple<at::DataPtr, size_t> record(const std::string& name) {
    try {
      if (!reader_->hasRecord(name)) throw Error(ErrorCode::model, file_ + ": archive has no record '" + name + "'");
      return reader_->getRecord(name);
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::model,
                  file_ + ": cannot read record '" + name + "': " + first_line(e.what_without_backtrace()));
    }
  }

  // The 1-D storage tensor of data/<key>, read once and shared by every view of it.
  torch::Tensor storage(const TensorRecord& t) {
    auto it = storages_.find(t.storage_key);
    if (it != storages_.end()) return it->second;
    const torch::Dtype dtype = storage_dtype(t.storage_type, file_);
    auto [data, bytes] = record("data/" + t.storage_key);
    const size_t need = static_cast<size_t>(t.storage_numel) * torch::elementSize(dtype);
    if (bytes < need)
      throw Error(ErrorCode::model, file_ + ": storage '" + t.storage_key + "' has " + std::to_string(bytes) +
                                        " bytes, expected " + std::to_string(need));
    auto owner = std::make_shared<at::DataPtr>(std::move(data));
    torch::Tensor s = torch::from_blob(
        owner->get(), {t.storage_numel}, [owner](void*) mutable { owner.reset(); }, torch::TensorOptions(dtype));
    storages_.emplace(t.storage_key, s);
    return s;
  }

  torch::Tensor tensor(const std::string& key, const TensorRecord& t) {
    torch::Tensor s = storage(t);
    // as_strided does not check bounds against the storage: a corrupt file must not read past it.
    bool empty = false;
    int64_t last = t.offset;
    for (size_t d = 0; d < t.sizes.size(); ++d) {
      if (t.sizes[d] < 0 || t.strides[d] < 0) last = -1;
      if (t.sizes[d] == 0) empty = true;
      if (last >= 0 && t.sizes[d] > 0) last += (t.sizes[d] - 1) * t.strides[d];
    }
    if (t.offset < 0 || last < 0 || (!empty && last >= t.storage_numel))
      throw Error(ErrorCode::model, file_ + ": tensor '" + key + "' lies outside its storage");
    return s.as_strided(t.sizes, t.strides, t.offset);
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
  std::map<std::string, torch::Tensor> storages_;
};

}  // namespace

StateDict read_pth_state_dict(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::model, file + ": model file not found");
  Archive archive(path, file);
  auto [pkl, pkl_size] = archive.record("data.pkl");
  const PickleRef root =
      unpickle(std::span<const uint8_t>(static_cast<const uint8_t*>(pkl.get()), pkl_size), file + ": data.pkl");

  const std::string expected = "expected a state dict of tensors, optionally under 'params_ema' or 'params'";
  if (root->kind != PickleValue::Kind::dict)
    throw Error(ErrorCode::model, file + ": holds a " + root->kind_name() + "; " + expected);
  PickleRef dict = root;
  for (const char* wrapper : {"params_ema", "params"}) {
    if (PickleRef inner = root->find(wrapper)) {
      dict = inner;
      break;
    }
  }
  if (dict->kind != PickleValue::Kind::dict)
    throw Error(ErrorCode::model, file + ": holds a " + dict->kind_name() + "; " + expected);

  StateDict out(file);
  for (const auto& [k, v] : dict->entries) {
    if (k->kind != PickleValue::Kind::string)
      throw Error(ErrorCode::model, file + ": a " + k->kind_name() + " key; " + expected);
    if (v->kind != PickleValue::Kind::tensor)
      throw Error(ErrorCode::model, file + ": '" + k->text + "' is a " + v->kind_name() + "; " + expected);
    out.add(k->text, archive.tensor(k->text, v->tensor));
  }
  if (out.size() == 0) throw Error(ErrorCode::model, file + ": holds no tensors; " + expected);
  return out;
}

}  // namespace upscaled::model::torchnet
