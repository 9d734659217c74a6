// TF.js weightsManifest reader: each group's shards are one byte stream, cut into the
// weights in manifest order (tfjs-core io/weights_loader semantics). float32 is read as is;
// quantized weights (uint8/uint16 with scale+min, or float16) are dequantized here so that
// everything downstream sees float32.
#include "core/error.h"
#include "model/torch/tfjs_model.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace upscaled::model::torchnet {
namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw Error(ErrorCode::model, file.string() + ": " + what);
}

// `bytes` of uninitialised CPU memory as a byte tensor, in its own mapping with transparent
// huge pages asked for: each first touch then maps 2 MiB instead of 4 KiB. Reading the 29 MB
// of esrgan-thick into malloc'd memory took one page fault per 4 KiB, most of the read's time
// on a virtual machine (docs/gpu-pipeline.md, start-up). Falls back to libtorch's allocator
// where mmap fails; UPSCALED_WEIGHT_HUGE_PAGES=0 always does (comparisons).
torch::Tensor uninitialised_bytes(std::size_t bytes) {
  const char* env = std::getenv("UPSCALED_WEIGHT_HUGE_PAGES");
  if (bytes > 0 && !(env && std::string(env) == "0")) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    // Over-map by one huge page so that the buffer can start on a 2 MiB boundary.
    const std::size_t length = bytes + kHuge;
    void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base != MAP_FAILED) {
      const auto start = (reinterpret_cast<std::uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1);
      auto* data = reinterpret_cast<void*>(start);
      madvise(data, bytes, MADV_HUGEPAGE);  // advice: without THP the pages are 4 KiB, as before
      return torch::from_blob(
          data, {static_cast<int64_t>(bytes)}, [base, length](void*) { munmap(base, length); }, torch::kUInt8);
    }
  }
  return torch::empty({static_cast<int64_t>(bytes)}, torch::kUInt8);
}

// The group's shards back to back in one uninitialised CPU byte tensor: float32 weights
// become views of it (no copy, no zero fill; 29 MB for esrgan-thick).
torch::Tensor read_group_bytes(const nlohmann::json& paths, const std::filesystem::path& dir,
                               const std::filesystem::path& model_json) {
  auto unreadable = [&](const std::filesystem::path& shard) {
    fail(shard, "weight shard is missing or unreadable (named in " + model_json.filename().string() + ")");
  };
  std::vector<std::filesystem::path> shards;
  std::vector<std::size_t> sizes;
  std::size_t total = 0;
  for (const auto& p : paths) {
    if (!p.is_string()) fail(model_json, "weightsManifest paths must be strings");
    shards.push_back(dir / p.get<std::string>());
    std::error_code ec;
    const auto size = std::filesystem::file_size(shards.back(), ec);
    if (ec) unreadable(shards.back());
    sizes.push_back(static_cast<std::size_t>(size));
    total += sizes.back();
  }
  torch::Tensor bytes = uninitialised_bytes(total);
  char* out = reinterpret_cast<char*>(bytes.data_ptr<std::uint8_t>());
  for (std::size_t i = 0; i < shards.size(); ++i) {
    std::ifstream in(shards[i], std::ios::binary);
    if (!in) unreadable(shards[i]);
    if (sizes[i] > 0 && !in.read(out, static_cast<std::streamsize>(sizes[i])))
      fail(shards[i], "cannot read weight shard");
    out += sizes[i];
  }
  return bytes;
}

size_t element_bytes(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "uint16" || dtype == "float16") return 2;
  if (dtype == "uint8") return 1;
  return 0;
}

// Decodes `count` elements stored as `stored` at `src` into float32.
torch::Tensor decode(const torch::Tensor& bytes, size_t offset, int64_t count, const std::string& stored,
                     const nlohmann::json* quant) {
  const char* src = reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()) + offset;
  // float32 at a 4-byte aligned offset (every weight of a float32-only manifest): a view.
  if (stored == "float32" && offset % 4 == 0)
    return bytes.narrow(0, static_cast<int64_t>(offset), count * 4).view(torch::kFloat32);
  auto out = torch::empty({count}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  if (stored == "float32") {
    std::memcpy(dst, src, static_cast<size_t>(count) * 4);
  } else if (stored == "int32") {
    for (int64_t i = 0; i < count; ++i) {
      int32_t v;
      std::memcpy(&v, src + i * 4, 4);
      dst[i] = static_cast<float>(v);
    }
  } else if (stored == "float16") {
    auto half = torch::from_blob(const_cast<char*>(src), {count}, torch::kFloat16);
    out.copy_(half);
  } else {
    const float scale = quant->at("scale").get<float>();
    const float min = quant->at("min").get<float>();
    for (int64_t i = 0; i < count; ++i) {
      uint32_t q;
      if (stored == "uint8") {
        q = static_cast<uint8_t>(src[i]);
      } else {
        uint16_t v;
        std::memcpy(&v, src + i * 2, 2);
        q = v;
      }
      dst[i] = min + scale * static_cast<float>(q);
    }
  }
  return out;
}

}  // namespace

std::map<std::string, torch::Tensor> read_tfjs_weights(const nlohmann::json& manifest, const std::filesystem::path& dir,
                                                       const std::filesystem::path& model_json) {
  if (!manifest.is_array()) fail(model_json, "weightsManifest is missing or not a list");
  std::map<std::string, torch::Tensor> weights;
  for (const auto& group : manifest) {
    if (!group.contains("paths") || !group.contains("weights"))
      fail(model_json, "weightsManifest group without 'paths' and 'weights'");
    const torch::Tensor bytes = read_group_bytes(group["paths"], dir, model_json);
    const auto size = static_cast<size_t>(bytes.numel());
    const std::string shard_names = group["paths"].dump();
    size_t offset = 0;
    for (const auto& w : group["weights"]) {
      const std::string name = w.value("name", "");
      const std::string dtype = w.value("dtype", "float32");
      if (name.empty() || !w.contains("shape") || !w["shape"].is_array())
        fail(model_json, "weightsManifest entry without name or shape");
      if (dtype != "float32" && dtype != "int32")
        fail(model_json, "weight '" + name + "' has dtype '" + dtype + "' (expected float32)");
      std::vector<int64_t> shape;
      int64_t count = 1;
      for (const auto& d : w["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0) fail(model_json, "weight '" + name + "' has a bad shape");
        shape.push_back(d.get<int64_t>());
        count *= shape.back();
      }
      std::string stored = dtype;
      const nlohmann::json* quant = nullptr;
      if (w.contains("quantization")) {
        quant = &w["quantization"];
        stored = quant->value("dtype", "");
        if (stored != "uint8" && stored != "uint16" && stored != "float16")
          fail(model_json, "weight '" + name + "' has unsupported quantization dtype '" + stored + "'");
        if (stored != "float16" && (!quant->contains("scale") || !quant->contains("min")))
          fail(model_json, "weight '" + name + "' is quantized without scale and min");
      }
      const size_t need = static_cast<size_t>(count) * element_bytes(stored);
      if (offset + need > size)
        fail(dir / group["paths"].back().get<std::string>(),
             "weight data truncated: shards " + shard_names + " hold " + std::to_string(size) +
                 " bytes but the manifest needs at least " + std::to_string(offset + need) + " (at weight '" + name +
                 "')");
      weights[name] = decode(bytes, offset, count, stored, quant).reshape(shape);
      offset += need;
    }
    if (offset != size)
      fail(dir / group["paths"].back().get<std::string>(),
           "weight shards " + shard_names + " hold " + std::to_string(size) + " bytes but the manifest describes " +
               std::to_string(offset));
  }
  return weights;
}

}  // namespace upscaled::model::torchnet
