#include "service/admin.h"

#include "core/error.h"
#include "service/file_ops.h"

namespace upscaled::service {
namespace fs = std::filesystem;

fs::path resolve_journal(const fs::path& journal_flag, const fs::path& config_path) {
  if (!journal_flag.empty()) return journal_flag;
  return load_config(config_path).journal_path();
}

fs::path retry_job(Journal& journal, std::int64_t id) {
  auto job = journal.get(id);
  if (!job) throw Error(ErrorCode::usage, journal.file().string() + ": no job " + std::to_string(id));
  if (job->state != JobState::failed) {
    throw Error(ErrorCode::usage, "job " + std::to_string(id) + " is " + job_state_name(job->state) +
                                      "; only failed jobs can be retried");
  }
  const FileKey key{job->size, job->mtime_ns};
  if (!(regular_file_key(job->path) == std::optional<FileKey>(key))) {
    if (job->moved_to.empty() || !(regular_file_key(job->moved_to) == std::optional<FileKey>(key))) {
      throw Error(ErrorCode::input_missing, "job " + std::to_string(id) + ": input not found at " + job->path.string() +
                                                (job->moved_to.empty() ? "" : " nor at " + job->moved_to.string()));
    }
    if (!rename_noreplace(job->moved_to, job->path)) {
      throw Error(ErrorCode::output, job->path.string() + ": exists; move it away to retry job " + std::to_string(id));
    }
    fsync_dir(job->path.parent_path());
    std::error_code ec;
    fs::remove(job->moved_to.parent_path() / (job->moved_to.filename().string() + ".error.txt"), ec);
  }
  if (!journal.retry(id)) throw Error(ErrorCode::usage, "job " + std::to_string(id) + " changed state meanwhile");
  return job->path;
}

}  // namespace upscaled::service
