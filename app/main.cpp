// upscaled: command-line entry. Parses the command line, applies global options and runs
// the chosen subcommand; every error that escapes a command becomes a one-line message and
// its documented exit code (docs/exit-codes.md).
#include "app/command_registry.h"
#include "core/error.h"
#include "core/log.h"
#include "core/process_clock.h"
#include "io/ffmpeg_log.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>

namespace upscaled::app {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> entries;
  return entries;
}

GlobalOptions& global_options() {
  static GlobalOptions options;
  return options;
}

namespace {

// A finished `upscaled file` on a GPU spent 0.24-0.41 s of its wall time after the command, in
// static destructors: libtorch's and CUDA's teardown of a context the kernel frees anyway when
// the process ends (0.13-0.20 s with _Exit; H200, docs/gpu-pipeline.md). Leak checkers need the
// orderly exit: sanitizer builds keep it, and UPSCALED_QUICK_EXIT=0 asks for it.
bool quick_exit_allowed() {
#if defined(__SANITIZE_ADDRESS__) || defined(UPSCALED_SANITIZE_BUILD)
  return false;
#else
  const char* env = std::getenv("UPSCALED_QUICK_EXIT");
  return !(env && std::string(env) == "0");
#endif
}

}  // namespace
}  // namespace upscaled::app

int main(int argc, char** argv) {
  using namespace upscaled;
  const double main_entered_s = seconds_since_process_start();
  CLI::App root{"upscaled: video and image upscaling with ESRGAN-family networks"};
  root.require_subcommand(1);
  root.set_version_flag("--version", "upscaled 0.1.0");
  auto& g = app::global_options();
  root.add_option("--log-level", g.log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  root.add_flag("-q,--quiet", g.quiet, "no progress and only errors");

  auto entries = app::command_registry();
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.order < b.order; });
  std::map<CLI::App*, app::CommandRun> runs;
  for (auto& e : entries) {
    auto [sub, run] = e.setup(root);
    // Global options are accepted after the subcommand too.
    sub->fallthrough();
    runs[sub] = std::move(run);
  }

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return root.exit(e);  // --help, --version
    std::fprintf(stderr, "upscaled: %s\n", e.what());
    return static_cast<int>(ErrorCode::usage);
  }

  try {
    log::set_level(g.quiet ? log::Level::error : log::parse_level(g.log_level));
    // FFmpeg's own chatter (encoder statistics, probing notes) only when debugging.
    io::route_ffmpeg_log();
    log::debug(log::cat("main entered ", main_entered_s, " s after the process started"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "upscaled: --log-level: %s\n", e.what());
    return static_cast<int>(ErrorCode::usage);
  }

  for (auto& [sub, run] : runs) {
    if (!sub->parsed()) continue;
    try {
      const int rc = run();
      log::debug(log::cat("command done ", seconds_since_process_start(), " s after the process started"));
      if (rc == 0 && g.exit_without_teardown && app::quick_exit_allowed()) {
        std::fflush(nullptr);
        std::_Exit(rc);
      }
      return rc;
    } catch (const Error& e) {
      std::fprintf(stderr, "upscaled: error: %s\n", e.what());
      return static_cast<int>(e.code());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "upscaled: internal error: %s\n", e.what());
      return static_cast<int>(ErrorCode::internal);
    }
  }
  return static_cast<int>(ErrorCode::usage);
}
