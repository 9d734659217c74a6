#include "service/service.h"

#include "core/error.h"
#include "core/log.h"
#include "kernels/device_probe.h"
#include "service/verify.h"
#include "service/watcher.h"

#ifdef UPSCALED_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>

namespace upscaled::service {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void notify(const std::string& state) {
#ifdef UPSCALED_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

namespace {

// Every index in `gpus` must be a CUDA device here: a worker bound to a missing GPU would
// fail every job it takes.
void check_gpus(const ServiceConfig& config) {
  if (config.gpus.empty()) return;
  const kernels::DeviceProbe probe = kernels::probe_devices(0);
  for (int gpu : config.gpus)
    if (gpu >= probe.device_count)
      throw Error(ErrorCode::device, log::cat(config.source.string(), ": gpus: GPU ", gpu,
                                              " is not a CUDA device of this machine (", probe.device_count, " visible",
                                              probe.error.empty() ? std::string() : ": " + probe.error, ")"));
}

double watchdog_interval_s() {
#ifdef UPSCALED_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return static_cast<double>(usec) / 2e6;
#endif
  return -1;
}

// Holds <state_dir>/upscaled.lock for the process lifetime: a second service on the same
// journal would wipe the first one's staging files.
class InstanceLock {
 public:
  explicit InstanceLock(const fs::path& state_dir) {
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    fs::path file = state_dir / "upscaled.lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) throw Error(ErrorCode::output, file.string() + ": cannot open lock file: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error(ErrorCode::usage, file.string() + ": another upscaled service uses this state folder");
    }
  }
  ~InstanceLock() { ::close(fd_); }
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

 private:
  int fd_ = -1;
};

std::unique_ptr<Watcher> make_watcher(const ServiceConfig& c) {
  std::vector<WatchRoot> roots;
  for (auto& w : c.watches) {
    WatchRoot r{w.input, {}, w.recursive, w.extensions};
    // Never walk into our own output, done or failed folders if they sit inside the tree.
    for (const fs::path& d : {w.output, w.done_dir, w.failed_dir}) {
      if (!d.empty()) r.excluded.push_back(d);
    }
    roots.push_back(std::move(r));
  }
  return std::make_unique<Watcher>(std::move(roots), c.settle_seconds);
}

class Service {
 public:
  Service(fs::path config_path, ServiceHooks hooks) : config_path_(std::move(config_path)), hooks_(std::move(hooks)) {}
  int run();

 private:
  void on_ready(const ReadyFile& f);
  void reload();
  void update_status(bool force);

  fs::path config_path_;
  ServiceHooks hooks_;
  std::shared_ptr<const ServiceConfig> config_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<Watcher> watcher_;
  std::string last_status_;
};

void Service::on_ready(const ReadyFile& f) {
  const WatchConfig& watch = config_->watches[f.watch];
  if (auto job = journal_->find_by_key(f.path, f.key.size, f.key.mtime_ns)) {
    // Known file. A crash may have cut a done/failed job short before the input was handled.
    if (job->state == JobState::done || job->state == JobState::failed) {
      try {
        runner_->settle_input(*job, watch);
      } catch (const std::exception& e) {
        log::error(log::cat("job ", job->id, ": ", e.what()));
      }
    }
    return;
  }
  JobRecord job;
  job.watch = watch.input;
  job.path = f.path;
  job.size = f.key.size;
  job.mtime_ns = f.key.mtime_ns;
  try {
    job.hash = content_hash(f.path);
  } catch (const Error& e) {
    log::warn(e.what());  // vanished or unreadable: a later event or rescan brings it back
    return;
  }
  if (auto same = journal_->find_by_content(job.size, job.hash)) {
    job.state = JobState::skipped;
    job.error = "same content as job " + std::to_string(same->id) + " (" + same->path.string() + ")";
    journal_->add(job);
    log::info(log::cat(f.path.string(), ": skipped, ", job.error));
    return;
  }
  std::int64_t id = journal_->add(job);
  log::info(log::cat("job ", id, ": queued ", f.path.string()));
  runner_->wake();
}

void Service::reload() {
  try {
    auto fresh = std::make_shared<const ServiceConfig>(load_config(config_path_));
    if (fresh->journal_path() != config_->journal_path() || fresh->workers() != config_->workers() ||
        fresh->gpus != config_->gpus) {
      log::warn("reload: state_dir, journal, gpus and jobs_per_gpu take effect at the next start");
    }
    auto watcher = make_watcher(*fresh);
    config_ = fresh;
    runner_->set_config(fresh);
    watcher_ = std::move(watcher);
    watcher_->rescan();
    log::info(log::cat("reloaded ", config_path_.string()));
  } catch (const std::exception& e) {
    log::error(log::cat("reload failed, keeping the previous configuration: ", e.what()));
  }
  notify("READY=1");
}

void Service::update_status(bool force) {
  auto counts = journal_->counts();
  std::ostringstream s;
  s << counts[JobState::queued] << " queued, " << counts[JobState::done] << " done, " << counts[JobState::failed]
    << " failed";
  for (auto& a : runner_->active()) {
    s << "; running job " << a.id << " " << a.input.filename().string() << " " << static_cast<int>(a.progress * 100)
      << "%";
  }
  if (force || s.str() != last_status_) {
    last_status_ = s.str();
    notify("STATUS=" + last_status_);
  }
}

int Service::run() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) throw Error(ErrorCode::internal, "pthread_sigmask failed");
  ::signal(SIGIO, SIG_IGN);  // lease-break signal of the open_for_writing() probe
  ::signal(SIGPIPE, SIG_IGN);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) throw Error(ErrorCode::internal, std::string("signalfd: ") + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } sfd_closer{sfd};

  config_ = std::make_shared<const ServiceConfig>(load_config(config_path_));
  check_gpus(*config_);
  InstanceLock lock(config_->state_dir);
  journal_ = std::make_unique<Journal>(config_->journal_path());
  if (int n = journal_->recover_running()) log::info(log::cat(n, " interrupted job(s) queued again"));
  clean_staging(*config_);
  runner_ = std::make_unique<JobRunner>(*journal_, hooks_.transcode ? hooks_.transcode : pipeline_transcoder(),
                                        hooks_.verify ? hooks_.verify : VerifyFn(verify_output));
  runner_->set_config(config_);
  watcher_ = make_watcher(*config_);
  watcher_->rescan();
  runner_->start();
  log::info(log::cat("serving ", config_->watches.size(), " folder(s), journal ", journal_->file().string(), ", ",
                     config_->workers(), " worker(s)"));
  notify("READY=1");

  const double watchdog = watchdog_interval_s();
  auto next_rescan = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(config_->rescan_interval_seconds));
  auto next_status = Clock::now();
  bool stopping = false;
  while (!stopping) {
    double wait = 1.0;
    if (watchdog > 0) wait = std::min(wait, watchdog);
    double settle = watcher_->next_check_in();
    if (settle >= 0) wait = std::min(wait, settle + 0.001);
    wait = std::min(wait, std::max(0.0, std::chrono::duration<double>(next_rescan - Clock::now()).count()));
    pollfd fds[2] = {{sfd, POLLIN, 0}, {watcher_->fd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(std::ceil(wait * 1000)));
    if (rc < 0 && errno != EINTR) throw Error(ErrorCode::internal, std::string("poll: ") + std::strerror(errno));
    if (rc > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo si{};
      while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          notify("RELOADING=1");
          reload();
          next_rescan = Clock::now();
        } else {
          log::info(log::cat("signal ", ::strsignal(static_cast<int>(si.ssi_signo)), ": stopping"));
          stopping = true;
        }
      }
    }
    if (stopping) break;
    try {
      if (rc > 0 && (fds[1].revents & POLLIN) && watcher_->read_events()) {
        log::warn("inotify queue overflowed: rescanning");
        watcher_->rescan();
      }
      if (Clock::now() >= next_rescan) {
        watcher_->rescan();
        next_rescan = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(config_->rescan_interval_seconds));
      }
      for (auto& f : watcher_->take_ready()) on_ready(f);
      if (Clock::now() >= next_status) {
        update_status(false);
        next_status = Clock::now() + std::chrono::seconds(1);
      }
    } catch (const std::exception& e) {
      log::error(e.what());  // e.g. journal busy: try again on the next round
    }
    if (watchdog > 0) notify("WATCHDOG=1");
  }

  notify("STOPPING=1");
  runner_->stop_taking();
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(config_->stop_timeout_seconds));
  // Let running jobs finish within stop_timeout_seconds, keeping the watchdog fed.
  while (!runner_->wait_idle(std::chrono::milliseconds(200))) {
    if (watchdog > 0) notify("WATCHDOG=1");
    if (Clock::now() >= deadline) {
      log::info("stop timeout reached: aborting running jobs (they stay queued)");
      runner_->abort_running();
      break;
    }
  }
  runner_->join();
  log::info("stopped");
  return 0;
}

}  // namespace

int run_service(const fs::path& config_path, ServiceHooks hooks) {
  return Service(config_path, std::move(hooks)).run();
}

}  // namespace upscaled::service
