// The job journal: one SQLite database (WAL mode, synchronous=FULL) that survives crashes.
//
// Contract: thread-safe (one connection behind a mutex; several processes may open the
// same file: `upscaled status`/`retry` run beside the service, SQLite's busy timeout
// serialises writers). Every method is one transaction and synchronous. Errors throw
// upscaled::Error naming the database file.
//
// A job is keyed by (path, size, mtime): a file seen again unchanged maps to its job, a
// changed file gets a new job. `hash` (service/file_identity.h) identifies content, so
// that the same bytes under another name are not processed twice.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace upscaled::service {

enum class JobState { queued, running, done, failed, skipped };
const char* job_state_name(JobState s);

struct JobRecord {
  std::int64_t id = 0;
  std::filesystem::path watch;  // input folder of the watch the file came from
  std::filesystem::path path;   // where the input was found (any bytes)
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string hash;
  JobState state = JobState::queued;
  int attempts = 0;   // counted attempts (a run cut short by a crash counts)
  int transient = 0;  // transient failures since the last counted attempt
  double created_at = 0, started_at = 0, finished_at = 0, not_before = 0;  // unix seconds
  std::string error;
  std::filesystem::path output;    // final output name, chosen before the job runs
  double progress = 0;             // 0..1 while running
  std::filesystem::path moved_to;  // where the input went (done_dir / failed_dir), if moved
};

double now_seconds();

class Journal {
 public:
  explicit Journal(const std::filesystem::path& file, bool read_only = false);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::filesystem::path& file() const { return file_; }

  std::optional<JobRecord> get(std::int64_t id);
  std::optional<JobRecord> find_by_key(const std::filesystem::path& path, std::int64_t size, std::int64_t mtime_ns);
  // A job with the same content that is queued, running or done.
  std::optional<JobRecord> find_by_content(std::int64_t size, const std::string& hash);
  // Inserts a job; returns its id. state is queued, or skipped with `error` as the reason.
  std::int64_t add(const JobRecord& job);

  // Picks the oldest queued job whose not_before has passed, marks it running and counts
  // the attempt (so a run the process does not survive still counts).
  std::optional<JobRecord> claim_next(double now);
  void set_output(std::int64_t id, const std::filesystem::path& output);
  void set_progress(std::int64_t id, double progress);
  // Whether a queued/running job other than `except` already owns this output name.
  bool output_reserved(const std::filesystem::path& output, std::int64_t except);

  void mark_done(std::int64_t id, const std::filesystem::path& output);
  // Back to queued. count_attempt=false gives the attempt back (cancel, transient error).
  void requeue(std::int64_t id, double not_before, const std::string& error, bool count_attempt, bool transient);
  void mark_failed(std::int64_t id, const std::string& error);
  void mark_skipped(std::int64_t id, const std::string& reason);
  void set_moved_to(std::int64_t id, const std::filesystem::path& where);
  // failed -> queued with attempts reset; false when the job is not failed.
  bool retry(std::int64_t id);

  // Start-up recovery: running jobs (cut short by a crash) go back to queued.
  int recover_running();

  std::map<JobState, int> counts();
  std::vector<JobRecord> list(std::optional<JobState> state, int limit, bool newest_first);
  // Seconds until the next queued job becomes claimable (0 if one is ready), or -1 if none.
  double next_due_in(double now);

 private:
  struct Stmt;
  void exec(const char* sql);
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

}  // namespace upscaled::service
