// `upscaled serve`: the long-running watch-folder service.
//
// Contract: run_service() blocks until SIGTERM/SIGINT and returns the process exit code
// (0 after an orderly stop). It must be called before any other thread exists: it blocks
// SIGTERM, SIGINT and SIGHUP for the whole process and reads them through a signalfd.
// Start-up: configuration, single-instance lock (<state_dir>/upscaled.lock), journal
// recovery (running -> queued), orphaned staging files removed, full rescan, READY=1.
// SIGHUP re-reads the configuration (a bad one is logged and the old one kept).
// SIGTERM: STOPPING=1, no new jobs, running jobs get stop_timeout_seconds to finish, then
// are cancelled (back to queued).
#pragma once

#include "service/job_runner.h"

#include <filesystem>

namespace upscaled::service {

struct ServiceHooks {
  TranscodeFn transcode;  // empty = pipeline_transcoder()
  VerifyFn verify;        // empty = verify_output()
};

int run_service(const std::filesystem::path& config_path, ServiceHooks hooks = {});

// systemd notification (no-op when not started by systemd or built without libsystemd).
void notify(const std::string& state);

}  // namespace upscaled::service
