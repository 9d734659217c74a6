#include "tests/service/test_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace upscaled::service::test {
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string y4m_clip(int width, int height, int frames, unsigned seed) {
  std::ostringstream out;
  out << "YUV4MPEG2 W" << width << " H" << height << " F25:1 Ip A1:1 C420jpeg\n";
  std::mt19937 rng(seed);
  const std::size_t luma = static_cast<std::size_t>(width * height);
  const std::size_t chroma = static_cast<std::size_t>(((width + 1) / 2) * ((height + 1) / 2));
  std::string plane;
  for (int f = 0; f < frames; ++f) {
    out << "FRAME\n";
    plane.assign(luma + 2 * chroma, '\0');
    const unsigned base = rng() & 0xff;
    for (std::size_t i = 0; i < luma; ++i)
      plane[i] = static_cast<char>((base + i * 3 + static_cast<std::size_t>(f) * 7) & 0xff);
    for (std::size_t i = luma; i < plane.size(); ++i) plane[i] = static_cast<char>(96 + (rng() & 63));
    out << plane;
  }
  return out.str();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace upscaled::service::test
