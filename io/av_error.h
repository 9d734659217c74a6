// FFmpeg error handling: turns negative AVERROR codes into upscaled::Error with FFmpeg's
// own text. Synchronous, no state.
#pragma once

#include "core/error.h"

#include <string>

namespace upscaled::io {

std::string av_error_text(int errnum);

// Throws Error(code, "<context>: <FFmpeg's text>") when rc < 0; returns rc otherwise.
int av_check(int rc, const std::string& context, ErrorCode code = ErrorCode::internal);

}  // namespace upscaled::io
