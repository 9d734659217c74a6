// Which video encoder a job opens: NVENC or a CPU encoder, with the run-time fallback.
//
// Contract: synchronous, main thread, before the pipeline starts. `codec` is the user's
// --codec: a family (h264, hevc, av1), an NVENC encoder (h264_nvenc, hevc_nvenc, av1_nvenc)
// or a CPU encoder (libx264, libx265, libsvtav1, libaom-av1); png/mjpeg (image outputs) pass
// through. `mode` is --encode:
//   cpu   : the family's CPU encoder;
//   nvenc : the family's NVENC encoder, required: Error(gpu_required) with FFmpeg's reason
//           when it cannot be opened (e.g. H100/H200: no NVENC on the chip);
//   auto  : NVENC first, then the CPU encoder, unless `codec` names a CPU encoder
//           (libx264 stays libx264, as before this option existed).
// NVENC is opened with the job's real size and format, so a failure shows before any frame
// is decoded; the fallback is logged once (warn) with FFmpeg's own reason. NVENC is fed
// frames in system memory (the GPU frame path downloads the encoder-ready picture anyway).
#pragma once

#include "io/encoder.h"

#include <string>
#include <vector>

namespace upscaled::io {

// The encoders `open_video_encoder` would try, in order (tests, doctor start-up plan).
// Throws Error(usage) for an unknown codec or mode.
std::vector<std::string> encoder_candidates(const std::string& codec, const std::string& mode);

// Opens the first candidate that works (config.codec is replaced by each candidate).
Encoder open_video_encoder(EncoderConfig config, const std::string& mode);

// Options the Encoder sets for NVENC and the AV1 CPU encoders: preset and quality from
// the x264-style --preset and --crf.
void apply_encoder_options(AVCodecContext* ctx, const EncoderConfig& config);

}  // namespace upscaled::io
