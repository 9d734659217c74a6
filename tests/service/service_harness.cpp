#include "tests/service/service_harness.h"

#include "service/verify.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace upscaled::service::test {
namespace fs = std::filesystem;

ServiceFolders::ServiceFolders() {
  for (auto& d : {in, out}) fs::create_directories(d);
}

void ServiceFolders::write_config(const std::string& service_extra, const std::string& watch_extra) const {
  std::ofstream c(config);
  c << "[service]\n"
    << "state_dir = \"" << state.string() << "\"\n";
  // Defaults, unless the test sets the key itself (TOML rejects a key given twice).
  for (const char* line :
       {"settle_seconds = 0.3", "rescan_interval_seconds = 5", "retry_delay_seconds = 0.1",
        "transient_backoff_seconds = 0.2", "transient_backoff_max_seconds = 0.5", "stop_timeout_seconds = 10"}) {
    std::string key = std::string(line).substr(0, std::string(line).find(' '));
    if (service_extra.find(key + " =") == std::string::npos) c << line << "\n";
  }
  c << service_extra << "\n"
    << "[[watch]]\n"
    << "input = \"" << in.string() << "\"\n"
    << "output = \"" << out.string() << "\"\n"
    << "failed_dir = \"" << failed.string() << "\"\n"
    << "done_dir = \"" << done.string() << "\"\n";
  for (const char* line :
       {"on_done = \"move\"", "model = \"bicubic\"", "scale = 2", "device = \"cpu\"", "preset = \"ultrafast\""}) {
    std::string key = std::string(line).substr(0, std::string(line).find(' '));
    if (watch_extra.find(key + " =") == std::string::npos) c << line << "\n";
  }
  c << watch_extra << "\n";
}

std::vector<JobRecord> ServiceFolders::jobs() const {
  fs::path file = state / "journal.sqlite3";
  if (!fs::exists(file)) return {};
  try {
    Journal j(file, true);
    return j.list(std::nullopt, -1, false);
  } catch (const std::exception&) {
    return {};  // the service is creating it right now
  }
}

int ServiceFolders::count(JobState s) const {
  int n = 0;
  for (auto& j : jobs()) n += j.state == s;
  return n;
}

ServiceProcess::ServiceProcess(const ServiceFolders& f) : f_(f) {}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ServiceProcess::start() {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(f_.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execl(UPSCALED_BINARY, "upscaled", "serve", "--config", f_.config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

void ServiceProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ServiceProcess::wait(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

RunResult run_upscaled(const std::string& args) {
  RunResult r;
  std::string cmd = std::string("'") + UPSCALED_BINARY + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::int64_t frames_of(const fs::path& path) {
  try {
    return probe_media(path).frames;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace upscaled::service::test
