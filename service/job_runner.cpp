#include "service/job_runner.h"

#include "core/error.h"
#include "core/log.h"
#include "service/file_ops.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace upscaled::service {
namespace fs = std::filesystem;

namespace {
constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

const WatchConfig* find_watch(const ServiceConfig& config, const fs::path& input) {
  for (auto& w : config.watches) {
    if (w.input == input) return &w;
  }
  return nullptr;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}
}  // namespace

fs::path staging_dir(const WatchConfig& watch) {
  return watch.output / ".upscaled-staging";
}

void clean_staging(const ServiceConfig& config) {
  for (auto& w : config.watches) {
    std::error_code ec;
    fs::path dir = staging_dir(w);
    if (!fs::is_directory(fs::symlink_status(dir, ec))) continue;
    int removed = 0;
    for (auto& e : fs::directory_iterator(dir, ec)) {
      std::error_code rm;
      fs::remove_all(e.path(), rm);
      if (rm) {
        log::warn(log::cat(e.path().string(), ": cannot remove orphaned temporary output: ", rm.message()));
      } else {
        ++removed;
      }
    }
    if (removed) log::info(log::cat(dir.string(), ": removed ", removed, " orphaned temporary output(s)"));
  }
}

JobRunner::JobRunner(Journal& journal, TranscodeFn transcode, VerifyFn verify)
    : journal_(journal), transcode_(std::move(transcode)), verify_(std::move(verify)) {}

JobRunner::~JobRunner() {
  stop_taking();
  abort_running();
  join();
}

void JobRunner::set_config(std::shared_ptr<const ServiceConfig> config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

std::shared_ptr<const ServiceConfig> JobRunner::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void JobRunner::start() {
  auto cfg = config();
  std::lock_guard lock(mutex_);
  const int workers = cfg->workers();
  slots_.resize(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i) {
    int gpu = cfg->gpus.empty() ? -1 : cfg->gpus[static_cast<std::size_t>(i / cfg->jobs_per_gpu)];
    threads_.emplace_back([this, i, gpu] { worker(static_cast<std::size_t>(i), gpu); });
  }
}

void JobRunner::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  cv_.notify_all();
}

void JobRunner::stop_taking() {
  std::lock_guard lock(mutex_);
  stop_ = true;
  cv_.notify_all();
}

bool JobRunner::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] {
    return std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.id == 0; });
  });
}

void JobRunner::abort_running() {
  std::lock_guard lock(mutex_);
  for (auto& s : slots_) {
    if (s.cancel) s.cancel->request();
  }
}

void JobRunner::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::vector<JobRunner::Active> JobRunner::active() const {
  std::lock_guard lock(mutex_);
  std::vector<Active> out;
  for (auto& s : slots_) {
    if (s.id) out.push_back({s.id, s.input, s.progress});
  }
  return out;
}

void JobRunner::worker(std::size_t slot, int gpu) {
  for (;;) {
    pipeline::CancelToken cancel;
    std::shared_ptr<const ServiceConfig> cfg;
    std::optional<JobRecord> job;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      cfg = config_;
    }
    try {
      job = journal_.claim_next(now_seconds());
      if (job) {
        {
          std::lock_guard lock(mutex_);
          slots_[slot].id = job->id;
          slots_[slot].input = job->path;
          slots_[slot].progress = 0;
          slots_[slot].cancel = std::make_unique<pipeline::CancelToken>(cancel);
        }
        process(*job, *cfg, gpu, cancel, slot);
      }
    } catch (const std::exception& e) {
      // Journal or file-system trouble outside a job's own handling: keep the service up.
      log::error(log::cat("job runner: ", e.what()));
      if (job) {
        try {
          journal_.requeue(job->id, now_seconds() + cfg->retry_delay_seconds, e.what(), true, false);
        } catch (const std::exception&) {
        }
      }
    }
    std::unique_lock lock(mutex_);
    if (job) {
      slots_[slot] = Slot{};
      cv_.notify_all();
      continue;
    }
    double due = 1.0;
    try {
      double d = journal_.next_due_in(now_seconds());
      if (d >= 0) due = std::min(due, d);
    } catch (const std::exception&) {
    }
    cv_.wait_for(lock, std::chrono::duration<double>(std::max(due, 0.01)), [&] { return stop_ || woken_; });
    woken_ = false;
  }
}

bool JobRunner::run_next(int gpu, const pipeline::CancelToken& cancel) {
  auto cfg = config();
  auto job = journal_.claim_next(now_seconds());
  if (!job) return false;
  process(*job, *cfg, gpu, cancel, kNoSlot);
  return true;
}

fs::path JobRunner::choose_output(const JobRecord& job, const WatchConfig& watch) {
  std::lock_guard lock(naming_);  // two workers must not pick the same free name
  fs::path out = free_name(watch.output, job.path.stem().string() + watch.output_suffix, "." + watch.output_extension,
                           [&](const fs::path& p) { return journal_.output_reserved(p, job.id); });
  journal_.set_output(job.id, out);
  return out;
}

void JobRunner::process(JobRecord job, const ServiceConfig& config, int gpu, const pipeline::CancelToken& cancel,
                        std::size_t slot) {
  const WatchConfig* watch = find_watch(config, job.watch);
  if (!watch) {
    journal_.requeue(job.id, now_seconds() + 60, "no [[watch]] for " + job.watch.string() + " in the configuration",
                     false, false);
    return;
  }
  const FileKey key{job.size, job.mtime_ns};
  auto now_key = regular_file_key(job.path);
  if (!now_key) {
    journal_.mark_skipped(job.id, "input vanished before processing");
    return;
  }
  if (!(*now_key == key)) {
    journal_.mark_skipped(job.id, "input changed before processing (the new version is its own job)");
    return;
  }
  const fs::path staging = staging_dir(*watch);
  fs::path staged = staging / ("job-" + std::to_string(job.id) + "." + watch->output_extension);
  try {
    std::error_code ec;
    fs::create_directories(staging, ec);
    if (ec) throw_errno(staging, "create folder", ec.value());

    // A previous run may have renamed the output into place and died before recording it.
    if (!job.output.empty() && fs::exists(fs::symlink_status(job.output, ec))) {
      try {
        verify_(job.path, job.output);
        journal_.mark_done(job.id, job.output);
        log::info(log::cat("job ", job.id, ": output ", job.output.string(), " was already complete"));
        job.state = JobState::done;
        try {
          settle_input(job, *watch);
        } catch (const std::exception& e) {
          log::error(log::cat("job ", job.id, ": ", e.what()));
        }
        return;
      } catch (const Cancelled&) {
        throw;
      } catch (const std::exception&) {
        job.output.clear();  // not ours after all: choose another name
      }
    }
    fs::path final_out = job.output.empty() ? choose_output(job, *watch) : job.output;
    remove_quietly(staged);
    log::info(
        log::cat("job ", job.id, ": ", job.path.string(), " -> ", final_out.string(), " (attempt ", job.attempts, ")"));

    TranscodeRequest req;
    req.input = job.path;
    req.output = staged;
    req.temp_dir = staging;
    req.watch = watch;
    req.gpu = gpu;
    req.service = &config;
    if (!config.keep_models) models_.clear();  // turned off by a reload: free what is idle
    req.models = config.keep_models ? &models_ : nullptr;
    req.on_progress = [this, slot, id = job.id](double f) {
      if (slot != kNoSlot) {
        std::lock_guard lock(mutex_);
        slots_[slot].progress = f;
      }
      try {
        journal_.set_progress(id, f);
      } catch (const std::exception&) {
      }
    };
    transcode_(req, cancel);
    if (cancel.requested()) throw Cancelled();
    fsync_file(staged);
    verify_(job.path, staged);
    if (!(regular_file_key(job.path) == std::optional<FileKey>(key))) {
      remove_quietly(staged);
      journal_.mark_skipped(job.id, "input changed while it was processed (the new version is its own job)");
      return;
    }
    while (!rename_noreplace(staged, final_out)) final_out = choose_output(job, *watch);
    fsync_dir(watch->output);
    journal_.mark_done(job.id, final_out);
    log::info(log::cat("job ", job.id, ": done: ", final_out.string()));
  } catch (const std::exception& e) {
    remove_quietly(staged);
    const auto* err = dynamic_cast<const Error*>(&e);
    if (dynamic_cast<const Cancelled*>(&e) || cancel.requested()) {
      journal_.requeue(job.id, 0, "interrupted by shutdown", false, false);
      log::info(log::cat("job ", job.id, ": interrupted; queued again"));
      return;
    }
    if ((err && err->transient()) || disk_full(watch->output)) {
      double delay = std::min(config.transient_backoff_max_seconds,
                              config.transient_backoff_seconds * std::pow(2.0, std::min(job.transient, 30)));
      journal_.requeue(job.id, now_seconds() + delay, e.what(), false, true);
      log::warn(log::cat("job ", job.id, ": transient failure, retry in ", delay, " s: ", e.what()));
      return;
    }
    if (job.attempts >= config.max_attempts) {
      journal_.mark_failed(job.id, e.what());
      log::error(log::cat("job ", job.id, ": failed after ", job.attempts, " attempts: ", e.what()));
      try {
        fail_input(job, *watch, e.what());
      } catch (const std::exception& move_error) {  // the next rescan tries again
        log::error(log::cat("job ", job.id, ": ", move_error.what()));
      }
      return;
    }
    journal_.requeue(job.id, now_seconds() + config.retry_delay_seconds, e.what(), true, false);
    log::warn(log::cat("job ", job.id, ": attempt ", job.attempts, " of ", config.max_attempts, " failed: ", e.what()));
    return;
  }
  try {
    settle_input(job, *watch);
  } catch (const std::exception& e) {  // the job is done; the next rescan tries again
    log::error(log::cat("job ", job.id, ": ", e.what()));
  }
}

void JobRunner::fail_input(const JobRecord& job, const WatchConfig& watch, const std::string& error) {
  if (!(regular_file_key(job.path) == std::optional<FileKey>(FileKey{job.size, job.mtime_ns}))) return;
  fs::path moved = move_into(job.path, watch.failed_dir);
  journal_.set_moved_to(job.id, moved);
  std::ostringstream note;
  note << "upscaled: job " << job.id << " failed after " << job.attempts << " attempt(s)\n"
       << "input: " << job.path.string() << "\n"
       << "error: " << error << "\n"
       << "retry: upscaled retry " << job.id << "\n";
  write_file_atomic(moved.parent_path() / (moved.filename().string() + ".error.txt"), note.str());
  log::info(log::cat("job ", job.id, ": input moved to ", moved.string()));
}

void JobRunner::settle_input(const JobRecord& job, const WatchConfig& watch) {
  // Only the very file the job saw: a replaced file at the same path is a new job.
  if (!(regular_file_key(job.path) == std::optional<FileKey>(FileKey{job.size, job.mtime_ns}))) return;
  if (job.state == JobState::failed) {
    // Moved already (moved_to set): the file is back because `upscaled retry` is at work.
    if (job.moved_to.empty()) fail_input(job, watch, job.error);
    return;
  }
  switch (watch.on_done) {
    case InputAction::keep:
      return;
    case InputAction::move: {
      fs::path moved = move_into(job.path, watch.done_dir);
      journal_.set_moved_to(job.id, moved);
      log::info(log::cat("job ", job.id, ": input moved to ", moved.string()));
      return;
    }
    case InputAction::remove:
      if (::unlink(job.path.c_str()) != 0) throw_errno(job.path, "delete input", errno);
      fsync_dir(job.path.parent_path());
      return;
  }
}

}  // namespace upscaled::service
