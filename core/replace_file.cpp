// replace_file() (core/replace_file.h).
#include "core/replace_file.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <system_error>

namespace upscaled {

bool replace_file(const std::filesystem::path& file, std::string_view text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return false;
  const std::filesystem::path tmp = file.string() + ".tmp." + std::to_string(getpid());
  bool written = false;
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (out) written = static_cast<bool>(out.write(text.data(), static_cast<std::streamsize>(text.size())).flush());
  }
  if (written) {
    std::filesystem::rename(tmp, file, ec);
    if (!ec) return true;
  }
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  return false;
}

}  // namespace upscaled
