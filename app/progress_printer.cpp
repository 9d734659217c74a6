#include "app/progress_printer.h"

#include "core/log.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace upscaled::app {
namespace {

std::string format_eta(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressPrinter::ProgressPrinter(bool enabled)
    : enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1), last_log_(std::chrono::steady_clock::now()) {}

void ProgressPrinter::update(const pipeline::Progress& p) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  const bool known = p.frames_total > 0;
  const double frac = known ? std::min(1.0, static_cast<double>(p.frames_done) / p.frames_total) : 0.0;
  const double eta = known && p.fps > 0 ? (p.frames_total - p.frames_done) / p.fps : -1;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    if (known)
      std::fprintf(stderr, "\r[%s] %3d%% %lld/%lld frames  %.1f fps  ETA %s   ", bar.c_str(),
                   static_cast<int>(frac * 100), static_cast<long long>(p.frames_done),
                   static_cast<long long>(p.frames_total), p.fps, format_eta(eta).c_str());
    else
      std::fprintf(stderr, "\r%lld frames  %.1f fps   ", static_cast<long long>(p.frames_done), p.fps);
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log_ < std::chrono::seconds(5)) return;
  last_log_ = now;
  log::info(log::cat("progress: ", p.frames_done, "/", known ? std::to_string(p.frames_total) : std::string("?"),
                     " frames, ", static_cast<int>(p.fps * 10) / 10.0, " fps, ETA ", format_eta(eta)));
}

void ProgressPrinter::finish() {
  std::lock_guard lock(mutex_);
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace upscaled::app
