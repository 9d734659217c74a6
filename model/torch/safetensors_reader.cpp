// read_safetensors_state_dict: see safetensors_reader.h.
#include "model/torch/safetensors_reader.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "core/error.h"

namespace upscaled::model::torchnet {
namespace {

// Headers of real models are a few tens of kB; a huge value means a corrupt or foreign file.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

std::vector<char> read_file(const std::filesystem::path& path, const std::string& file) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(ErrorCode::model, file + ": cannot open model file");
  const std::streamsize size = in.tellg();
  std::vector<char> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(bytes.data(), size)) throw Error(ErrorCode::model, file + ": read error");
  return bytes;
}

}  // namespace

StateDict read_safetensors_state_dict(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::model, file + ": model file not found");
  const std::vector<char> bytes = read_file(path, file);
  auto fail = [&](const std::string& problem) -> Error { return Error(ErrorCode::model, file + ": " + problem); };
  if (bytes.size() < 8) throw fail("truncated safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (header_size > kMaxHeaderBytes)
    throw fail("not a safetensors file (header length " + std::to_string(header_size) + ")");
  if (header_size > bytes.size() - 8)
    throw fail("truncated safetensors file: header of " + std::to_string(header_size) + " bytes but only " +
               std::to_string(bytes.size() - 8) + " follow");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("safetensors header is not a JSON object");

  static const std::map<std::string, torch::Dtype> dtypes = {
      {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64}};
  const char* data = bytes.data() + 8 + header_size;
  const uint64_t data_size = bytes.size() - 8 - header_size;
  StateDict out(file);
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      const std::string dtype_name = entry.at("dtype").get<std::string>();
      auto dt = dtypes.find(dtype_name);
      if (dt == dtypes.end()) throw fail("tensor '" + name + "' has unsupported dtype " + dtype_name);
      const auto shape = entry.at("shape").get<std::vector<int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1]) throw fail("tensor '" + name + "' has bad data_offsets");
      uint64_t numel = 1;
      for (int64_t d : shape) {
        if (d < 0 || (d > 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(d)))
          throw fail("tensor '" + name + "' has bad shape");
        numel *= static_cast<uint64_t>(d);
      }
      const uint64_t need = numel * torch::elementSize(dt->second);
      if (offsets[1] - offsets[0] != need)
        throw fail("tensor '" + name + "' holds " + std::to_string(offsets[1] - offsets[0]) + " bytes, its shape " +
                   shape_text(shape) + " needs " + std::to_string(need));
      if (offsets[1] > data_size)
        throw fail("truncated safetensors file: tensor '" + name + "' ends at byte " + std::to_string(offsets[1]) +
                   " of a " + std::to_string(data_size) + "-byte data section");
      torch::Tensor t = torch::empty(shape, torch::TensorOptions(dt->second));
      std::memcpy(t.data_ptr(), data + offsets[0], need);
      out.add(name, t);
    } catch (const nlohmann::json::exception& e) {
      throw fail("safetensors entry '" + name + "' is malformed: " + e.what());
    }
  }
  if (out.size() == 0) throw fail("safetensors file holds no tensors");
  return out;
}

}  // namespace upscaled::model::torchnet
