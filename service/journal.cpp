// SQLite implementation of the job journal. Paths are stored as BLOBs so that file names
// that are not UTF-8 survive unchanged.
#include "service/journal.h"

#include "core/error.h"

#include <sqlite3.h>

#include <chrono>

namespace upscaled::service {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY,
  watch BLOB NOT NULL,
  path BLOB NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK(state IN ('queued','running','done','failed','skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  transient INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  started_at REAL NOT NULL DEFAULT 0,
  finished_at REAL NOT NULL DEFAULT 0,
  not_before REAL NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  output BLOB NOT NULL DEFAULT x'',
  progress REAL NOT NULL DEFAULT 0,
  moved_to BLOB NOT NULL DEFAULT x'',
  UNIQUE(path, size, mtime_ns));
CREATE INDEX IF NOT EXISTS jobs_content ON jobs(size, hash);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, not_before);
CREATE INDEX IF NOT EXISTS jobs_output ON jobs(output);
)sql";

constexpr const char* kColumns =
    "id, watch, path, size, mtime_ns, hash, state, attempts, transient, created_at, started_at, finished_at, "
    "not_before, error, output, progress, moved_to";

JobState parse_state(std::string_view s) {
  if (s == "queued") return JobState::queued;
  if (s == "running") return JobState::running;
  if (s == "done") return JobState::done;
  if (s == "failed") return JobState::failed;
  return JobState::skipped;
}

}  // namespace

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::queued:
      return "queued";
    case JobState::running:
      return "running";
    case JobState::done:
      return "done";
    case JobState::failed:
      return "failed";
    case JobState::skipped:
      return "skipped";
  }
  return "?";
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// One prepared statement; finalized on scope exit. Binds by position, starting at 1.
struct Journal::Stmt {
  Stmt(Journal& j, const char* sql) : j_(j) {
    if (sqlite3_prepare_v2(j.db_, sql, -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(std::int64_t v) {
    check(sqlite3_bind_int64(s_, ++n_, v));
    return *this;
  }
  Stmt& bind(double v) {
    check(sqlite3_bind_double(s_, ++n_, v));
    return *this;
  }
  Stmt& bind(const std::string& v) {
    check(sqlite3_bind_text(s_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(const fs::path& p) {
    const std::string& v = p.native();
    check(sqlite3_bind_blob(s_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  std::int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  double real(int c) { return sqlite3_column_double(s_, c); }
  std::string text(int c) {
    auto p = static_cast<const char*>(sqlite3_column_blob(s_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }
  JobRecord record() {
    JobRecord r;
    r.id = i64(0);
    r.watch = text(1);
    r.path = text(2);
    r.size = i64(3);
    r.mtime_ns = i64(4);
    r.hash = text(5);
    r.state = parse_state(text(6));
    r.attempts = static_cast<int>(i64(7));
    r.transient = static_cast<int>(i64(8));
    r.created_at = real(9);
    r.started_at = real(10);
    r.finished_at = real(11);
    r.not_before = real(12);
    r.error = text(13);
    r.output = text(14);
    r.progress = real(15);
    r.moved_to = text(16);
    return r;
  }
  void check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
  }
  [[noreturn]] void fail(const char* what) {
    throw Error(ErrorCode::internal, j_.file_.string() + ": journal " + what + ": " + sqlite3_errmsg(j_.db_));
  }

  Journal& j_;
  sqlite3_stmt* s_ = nullptr;
  int n_ = 0;
};

Journal::Journal(const fs::path& file, bool read_only) : file_(file) {
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(read_only ? ErrorCode::input_missing : ErrorCode::output,
                file.string() + ": cannot open the job journal: " + why);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    if (!read_only) {
      // WAL: readers (upscaled status) never block the service; FULL: a committed state
      // change survives power loss, not only a process crash.
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec(kSchema);
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Journal::~Journal() {
  sqlite3_close(db_);
}

void Journal::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw Error(ErrorCode::internal, file_.string() + ": journal: " + why);
  }
}

std::optional<JobRecord> Journal::get(std::int64_t id) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, (std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?").c_str());
  s.bind(id);
  if (s.step()) return s.record();
  return std::nullopt;
}

std::optional<JobRecord> Journal::find_by_key(const fs::path& path, std::int64_t size, std::int64_t mtime_ns) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, (std::string("SELECT ") + kColumns + " FROM jobs WHERE path=? AND size=? AND mtime_ns=?").c_str());
  s.bind(path).bind(size).bind(mtime_ns);
  if (s.step()) return s.record();
  return std::nullopt;
}

std::optional<JobRecord> Journal::find_by_content(std::int64_t size, const std::string& hash) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, (std::string("SELECT ") + kColumns +
                 " FROM jobs WHERE size=? AND hash=? AND state IN ('queued','running','done') ORDER BY id LIMIT 1")
                    .c_str());
  s.bind(size).bind(hash);
  if (s.step()) return s.record();
  return std::nullopt;
}

std::int64_t Journal::add(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  Stmt s(*this,
         "INSERT INTO jobs(watch, path, size, mtime_ns, hash, state, created_at, finished_at, error) "
         "VALUES(?,?,?,?,?,?,?,?,?)");
  double now = now_seconds();
  s.bind(job.watch).bind(job.path).bind(job.size).bind(job.mtime_ns).bind(job.hash);
  s.bind(std::string(job_state_name(job.state))).bind(now).bind(job.state == JobState::skipped ? now : 0.0);
  s.bind(job.error);
  s.step();
  return sqlite3_last_insert_rowid(db_);
}

std::optional<JobRecord> Journal::claim_next(double now) {
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    std::optional<JobRecord> job;
    {
      Stmt s(*this, (std::string("SELECT ") + kColumns +
                     " FROM jobs WHERE state='queued' AND not_before<=? ORDER BY not_before, id LIMIT 1")
                        .c_str());
      s.bind(now);
      if (s.step()) job = s.record();
    }
    if (job) {
      Stmt u(*this,
             "UPDATE jobs SET state='running', attempts=attempts+1, started_at=?, progress=0, error='' WHERE id=?");
      u.bind(now).bind(job->id);
      u.step();
      job->state = JobState::running;
      job->attempts += 1;
      job->started_at = now;
    }
    exec("COMMIT");
    return job;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Journal::set_output(std::int64_t id, const fs::path& output) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET output=? WHERE id=?");
  s.bind(output).bind(id);
  s.step();
}

void Journal::set_progress(std::int64_t id, double progress) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET progress=? WHERE id=? AND state='running'");
  s.bind(progress).bind(id);
  s.step();
}

bool Journal::output_reserved(const fs::path& output, std::int64_t except) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "SELECT 1 FROM jobs WHERE output=? AND id<>? AND state IN ('queued','running','done') LIMIT 1");
  s.bind(output).bind(except);
  return s.step();
}

void Journal::mark_done(std::int64_t id, const fs::path& output) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET state='done', output=?, finished_at=?, progress=1, error='', transient=0 WHERE id=?");
  s.bind(output).bind(now_seconds()).bind(id);
  s.step();
}

void Journal::requeue(std::int64_t id, double not_before, const std::string& error, bool count_attempt,
                      bool transient) {
  std::lock_guard lock(mutex_);
  Stmt s(*this,
         "UPDATE jobs SET state='queued', not_before=?, error=?, progress=0, "
         "attempts=attempts-?, transient=transient+? WHERE id=?");
  s.bind(not_before).bind(error).bind(std::int64_t{count_attempt ? 0 : 1}).bind(std::int64_t{transient ? 1 : 0});
  s.bind(id);
  s.step();
}

void Journal::mark_failed(std::int64_t id, const std::string& error) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET state='failed', error=?, finished_at=?, progress=0 WHERE id=?");
  s.bind(error).bind(now_seconds()).bind(id);
  s.step();
}

void Journal::mark_skipped(std::int64_t id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET state='skipped', error=?, finished_at=?, progress=0 WHERE id=?");
  s.bind(reason).bind(now_seconds()).bind(id);
  s.step();
}

void Journal::set_moved_to(std::int64_t id, const fs::path& where) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET moved_to=? WHERE id=?");
  s.bind(where).bind(id);
  s.step();
}

bool Journal::retry(std::int64_t id) {
  std::lock_guard lock(mutex_);
  Stmt s(*this,
         "UPDATE jobs SET state='queued', attempts=0, transient=0, not_before=0, finished_at=0, "
         "output=x'', moved_to=x'', error='' WHERE id=? AND state='failed'");
  s.bind(id);
  s.step();
  return sqlite3_changes(db_) == 1;
}

int Journal::recover_running() {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "UPDATE jobs SET state='queued', progress=0 WHERE state='running'");
  s.step();
  return sqlite3_changes(db_);
}

std::map<JobState, int> Journal::counts() {
  std::lock_guard lock(mutex_);
  std::map<JobState, int> out;
  Stmt s(*this, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
  while (s.step()) out[parse_state(s.text(0))] = static_cast<int>(s.i64(1));
  return out;
}

std::vector<JobRecord> Journal::list(std::optional<JobState> state, int limit, bool newest_first) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM jobs";
  if (state) sql += " WHERE state=?";
  sql += newest_first ? " ORDER BY id DESC" : " ORDER BY id";
  sql += " LIMIT ?";
  Stmt s(*this, sql.c_str());
  if (state) s.bind(std::string(job_state_name(*state)));
  s.bind(std::int64_t{limit < 0 ? -1 : limit});
  std::vector<JobRecord> out;
  while (s.step()) out.push_back(s.record());
  return out;
}

double Journal::next_due_in(double now) {
  std::lock_guard lock(mutex_);
  Stmt s(*this, "SELECT MIN(not_before) FROM jobs WHERE state='queued'");
  if (!s.step() || sqlite3_column_type(s.s_, 0) == SQLITE_NULL) return -1;
  double t = s.real(0) - now;
  return t < 0 ? 0 : t;
}

}  // namespace upscaled::service
