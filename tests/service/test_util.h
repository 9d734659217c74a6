// Helpers shared by the service tests: temporary folders, small files, tiny Y4M clips.
#pragma once

#include "tests/common/temp_dir.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace upscaled::service::test {

// One temporary-folder owner for every suite (tests/common/temp_dir.h); service tests name
// their folders upscaled-svc-*.
struct TempDir : upscaled::test::TempDir {
  TempDir() : upscaled::test::TempDir("upscaled-svc-") {}
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);
// Names of the entries in `dir` (not recursive), sorted; empty when dir is missing.
std::vector<std::string> list_dir(const std::filesystem::path& dir);

// A raw YUV4MPEG2 clip, width x height, `frames` frames at 25 fps, pixels derived from seed
// (different seeds give different bytes).
std::string y4m_clip(int width, int height, int frames, unsigned seed);

// Polls `done` every 20 ms until it is true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace upscaled::service::test
