// A file name's extension as the tools compare it: lower case, with its dot (".json", ".mp4"),
// so MODEL.JSON and clip.MP4 are taken like their lower-case names. Pure, header-only.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

namespace upscaled {

inline std::string lower_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace upscaled
