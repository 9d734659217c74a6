#include "io/ffmpeg_log.h"

#include "core/log.h"

extern "C" {
#include <libavutil/log.h>
}

#include <cstdarg>
#include <string>

namespace upscaled::io {
namespace {

// Stateless: each call formats its own line (av_log_format_line2 with a local prefix flag),
// nothing is kept between calls.
void forward(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_VERBOSE || !log::enabled(log::Level::debug)) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!text.empty()) log::debug("ffmpeg: " + text);
}

}  // namespace

void route_ffmpeg_log() {
  av_log_set_callback(forward);
}

}  // namespace upscaled::io
