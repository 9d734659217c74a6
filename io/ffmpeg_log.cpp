#include "io/ffmpeg_log.h"

#include "core/log.h"
#include "io/av_error.h"

extern "C" {
#include <libavutil/log.h>
}

#include <cstdarg>
#include <string>

namespace upscaled::io {
namespace {

// Where FfmpegLogCapture collects this thread's error and warning lines; null when none.
thread_local std::string* t_capture = nullptr;

// Stateless apart from the calling thread's capture target: each call formats its own line
// (av_log_format_line2 with a local prefix flag), nothing is kept between calls.
void forward(void* avcl, int level, const char* fmt, va_list args) {
  const bool capture = t_capture && level <= AV_LOG_WARNING;
  if (!capture && (level > AV_LOG_VERBOSE || !log::enabled(log::Level::debug))) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  if (capture) {
    const auto start = text.find("] ");  // drop the "[h264_nvenc @ 0x...] " prefix
    *t_capture += (t_capture->empty() ? "" : "; ") + (start == std::string::npos ? text : text.substr(start + 2));
  }
  if (log::enabled(log::Level::debug)) log::debug("ffmpeg: " + text);
}

}  // namespace

void route_ffmpeg_log() {
  av_log_set_callback(forward);
}

FfmpegLogCapture::FfmpegLogCapture() {
  av_log_set_callback(forward);
  t_capture = &text_;
}

FfmpegLogCapture::~FfmpegLogCapture() {
  t_capture = nullptr;
}

std::string FfmpegLogCapture::reason(int rc) const {
  std::string text = text_.empty() ? av_error_text(rc) : text_ + " (" + av_error_text(rc) + ")";
  if (text.size() > 300) text = text.substr(0, 297) + "...";
  return text;
}

}  // namespace upscaled::io
