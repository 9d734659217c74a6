// Routes FFmpeg's own log lines into the project's logger at debug level, so that the
// default output stays the project's one-line errors (which already carry FFmpeg's error
// text) while `--log-level debug` shows everything FFmpeg says. Call once at start.
#pragma once

#include <string>

namespace upscaled::io {

void route_ffmpeg_log();

// Collects FFmpeg's error and warning lines logged by the constructing thread while it
// lives (other threads' lines are unaffected), so that a failed open can report FFmpeg's
// own reason ("OpenEncodeSessionEx failed: unsupported device (2)") in one line.
// Installs the same routing as route_ffmpeg_log(); not nestable on one thread.
class FfmpegLogCapture {
 public:
  FfmpegLogCapture();
  ~FfmpegLogCapture();
  FfmpegLogCapture(const FfmpegLogCapture&) = delete;
  FfmpegLogCapture& operator=(const FfmpegLogCapture&) = delete;
  // What was captured, then FFmpeg's text for `rc`; at most about 300 characters.
  std::string reason(int rc) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace upscaled::io
