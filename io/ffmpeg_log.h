// Routes FFmpeg's own log lines into the project's logger at debug level, so that the
// default output stays the project's one-line errors (which already carry FFmpeg's error
// text) while `--log-level debug` shows everything FFmpeg says. Call once at start.
#pragma once

namespace upscaled::io {

void route_ffmpeg_log();

}  // namespace upscaled::io
