// .npy reader for the fixtures: see npy_reader.h. Format: "\x93NUMPY", major, minor,
// header length (u16 for 1.x, u32 for 2.x/3.x), a Python dict literal, then the data.
#include "tests/model_formats/npy_reader.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace upscaled::test {

torch::Tensor read_npy_float32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw std::runtime_error(path.string() + ": not a .npy file");
  const auto u8 = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(bytes[i])); };
  const bool v1 = bytes[6] == 1;
  const size_t header_len = v1 ? u8(8) | u8(9) << 8 : u8(8) | u8(9) << 8 | u8(10) << 16 | u8(11) << 24;
  const size_t start = (v1 ? 10 : 12) + header_len;
  if (start > bytes.size()) throw std::runtime_error(path.string() + ": truncated header");
  const std::string header(bytes.begin() + (v1 ? 10 : 12), bytes.begin() + static_cast<std::ptrdiff_t>(start));
  if (header.find("'descr': '<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path.string() + ": not little-endian float32 C-order: " + header);
  const size_t open = header.find('(', header.find("'shape'")), close = header.find(')', open);
  std::vector<int64_t> shape;
  std::string dims = header.substr(open + 1, close - open - 1);
  for (size_t p = 0; p < dims.size();) {
    const size_t comma = dims.find(',', p);
    const std::string item = dims.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
    if (item.find_first_of("0123456789") != std::string::npos) shape.push_back(std::stoll(item));
    if (comma == std::string::npos) break;
    p = comma + 1;
  }
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  const size_t need = static_cast<size_t>(t.numel()) * sizeof(float);
  if (bytes.size() - start != need) throw std::runtime_error(path.string() + ": data size does not match shape");
  std::memcpy(t.data_ptr<float>(), bytes.data() + start, need);
  return t;
}

std::filesystem::path realesrgan_fixture(const std::string& name) {
  return std::filesystem::path(UPSCALED_SOURCE_DIR) / "tests" / "fixtures" / "realesrgan" / name;
}

double relative_max_error(const torch::Tensor& out, const torch::Tensor& reference) {
  const double scale = reference.abs().max().item<double>();
  return (out - reference).abs().max().item<double>() / scale;
}

}  // namespace upscaled::test
