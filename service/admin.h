// Operator actions on the journal, used by `upscaled retry` and `upscaled status`, also
// while the service runs (SQLite serialises the writers).
//
// Contract: synchronous. Errors are upscaled::Error with one line naming the job or file.
#pragma once

#include "service/config.h"
#include "service/journal.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace upscaled::service {

// The journal file for `--journal` or, when empty, the configuration's.
std::filesystem::path resolve_journal(const std::filesystem::path& journal_flag,
                                      const std::filesystem::path& config_path);

// failed -> queued with attempts reset. The input goes back from failed_dir to the path it
// was found at (and its .error.txt is removed), so the service picks it up as before.
// Returns the input path.
std::filesystem::path retry_job(Journal& journal, std::int64_t id);

}  // namespace upscaled::service
