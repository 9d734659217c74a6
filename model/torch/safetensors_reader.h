// Reads a .safetensors file into a StateDict.
//
// Format: u64 little-endian header length N, N bytes of JSON {"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, "__metadata__": {...}}, then the raw little-endian tensor
// bytes (offsets relative to the end of the header). F32, F16, BF16 and F64 are read and
// converted to float32.
//
// Contract: synchronous, CPU only, reads the whole file. Throws Error(ErrorCode::model)
// naming the file for a missing or truncated file, bad JSON, an unsupported dtype, or a
// tensor whose bytes do not match its shape or lie past the end of the file.
#pragma once

#include <filesystem>

#include "model/torch/pth_state_dict.h"

namespace upscaled::model::torchnet {

StateDict read_safetensors_state_dict(const std::filesystem::path& path);

}  // namespace upscaled::model::torchnet
