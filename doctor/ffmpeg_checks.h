// FFmpeg libraries: versions (runtime against the headers this binary was built with), and
// the decoders/encoders the configuration needs.
//
// Contract: synchronous, thread-safe (read-only FFmpeg registry queries), never throw.
#pragma once

#include "doctor/check.h"

#include <string>
#include <vector>

namespace upscaled::doctor {

// "ffmpeg.libs", "ffmpeg.encoders", "ffmpeg.decoders". The configured encoder and the
// input's decoder (when known) are blocking: their absence fails the check.
std::vector<Check> ffmpeg_checks(const std::string& encoder, const std::string& input_codec);

// The CPU encoder an NVENC encoder falls back to ("h264_nvenc" -> "libx264"); the name
// itself for CPU encoders.
std::string cpu_encoder_for(const std::string& encoder);

}  // namespace upscaled::doctor
