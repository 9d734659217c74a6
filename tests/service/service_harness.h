// Runs the real `upscaled serve` for the end-to-end tests: a folder layout under a temp
// dir, a generated configuration, the process (start, signal, wait) and journal queries.
#pragma once

#include "service/journal.h"
#include "tests/service/test_util.h"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace upscaled::service::test {

struct ServiceFolders {
  TempDir root;
  std::filesystem::path in = root / "in", out = root / "out", done = root / "done", failed = root / "failed",
                        state = root / "state", config = root / "upscaled.toml", log = root / "service.log";
  ServiceFolders();
  // Writes the configuration: `service_extra` lines go into [service], `watch_extra` into the
  // watch. Defaults: settle 0.3 s, bicubic x2, libx264 ultrafast, on_done = "move".
  void write_config(const std::string& service_extra = "", const std::string& watch_extra = "") const;
  std::vector<JobRecord> jobs() const;  // every journal row, oldest first (empty if none yet)
  int count(JobState s) const;
};

class ServiceProcess {
 public:
  explicit ServiceProcess(const ServiceFolders& f);
  ~ServiceProcess();  // SIGKILLs a process still running
  void start();
  void signal(int sig);
  // Waits for exit; returns the exit code, or 128 + signal; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  std::vector<std::string> env;  // "NAME=value" entries added to the service's environment

 private:
  const ServiceFolders& f_;
  pid_t pid_ = -1;
};

struct RunResult {
  int code = -1;
  std::string output;  // stdout and stderr
};
// Runs the upscaled binary with `args` (shell-quoted by the caller) and waits.
RunResult run_upscaled(const std::string& args);

// Frames of the video stream in `path` (service/verify.h); -1 when it does not open.
std::int64_t frames_of(const std::filesystem::path& path);

}  // namespace upscaled::service::test
