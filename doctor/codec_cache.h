// Caches the NVDEC/NVENC session probes (codec_probe.h) in a small JSON file, so that the
// start of every `upscaled file` does not open nine codec sessions again.
//
// Contract: the cache key names everything the answer depends on: driver version and the
// CUDA it supports, the GPU names, the FFmpeg library versions and CUDA_VISIBLE_DEVICES. A
// missing, unreadable, corrupt or differently keyed file is a miss, never an error.
// store() writes a temporary file and renames it into place (concurrent starts are safe)
// and returns false, without throwing, when the folder is not writable. Synchronous.
#pragma once

#include "doctor/codec_probe.h"

#include <filesystem>
#include <optional>
#include <string>

namespace upscaled::doctor {

struct CodecCacheKey {
  std::string driver_version;   // "580.65.06"
  int driver_cuda = 0;          // cuDriverGetVersion()
  std::string gpu;              // name of the probed GPU
  std::string visible_devices;  // CUDA_VISIBLE_DEVICES as set ("<unset>" when not)
  int cuda_device = 0;

  std::string text() const;  // includes FFmpeg's library versions
};

std::filesystem::path codec_cache_file(const std::filesystem::path& cache_dir);

std::optional<CodecProbes> load_codec_cache(const std::filesystem::path& file, const CodecCacheKey& key);
bool store_codec_cache(const std::filesystem::path& file, const CodecCacheKey& key, const CodecProbes& probes);

}  // namespace upscaled::doctor
