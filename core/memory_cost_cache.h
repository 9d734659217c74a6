// Measured device-memory costs of networks (MemoryCost, inference_plan.h) kept in a small
// JSON file, so that a later process with the same network on the same GPU and software
// skips the measurement (0.17-0.18 s of an `upscaled file` start on an H200 for esrgan-thick;
// with the first run beside the pipeline's start, 1.9 fps more on the issue #5 clip,
// docs/gpu-pipeline.md).
//
// Contract: the key is built by the caller and must name everything the cost depends on
// (network and its executor plan, precision, GPU, driver, CUDA, libtorch, cuDNN, this
// program's version). A missing, unreadable, corrupt or differently keyed entry is a miss,
// never an error. store() keeps the other keys' entries (at most kMaxEntries, the oldest
// dropped), writes a temporary file and renames it into place, so concurrent processes never
// see a partial file (one of two concurrent writers' entries may be lost: a later run
// measures again); it returns false, without throwing, when the folder is not writable.
// Synchronous; no global state.
#pragma once

#include "core/inference_plan.h"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace upscaled::model {

inline constexpr std::size_t kMaxMemoryCostEntries = 64;

std::optional<MemoryCost> load_memory_cost(const std::filesystem::path& file, const std::string& key);
bool store_memory_cost(const std::filesystem::path& file, const std::string& key, const MemoryCost& cost);

}  // namespace upscaled::model
