// systemd integration of `upscaled serve`: the unit verifies, sd_notify messages arrive,
// the drop-in names the folders, and `cmake --install` puts the files in place.
#include "tests/service/service_harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

namespace upscaled::service::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(ServiceSystemd, UnitPassesSystemdAnalyzeVerify) {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "systemd-analyze not installed";
  }
  TempDir dir;
  // The installed unit points at the installed binary; verify a copy that points at the built one.
  std::string unit = read_file(fs::path(UPSCALED_SOURCE_DIR) / "systemd" / "upscaled.service.in");
  const std::string token = "@CMAKE_INSTALL_FULL_BINDIR@/upscaled";
  auto at = unit.find(token);
  ASSERT_NE(at, std::string::npos);
  unit.replace(at, token.size(), UPSCALED_BINARY);
  write_file(dir / "upscaled.service", unit);
  RunResult r{};
  std::string cmd =
      "cd '" + dir.path().string() + "' && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify ./upscaled.service 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int status = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("Unknown key"))) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("Failed to parse"))) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("ignoring"))) << r.output;
}

TEST(ServiceSystemd, NotifiesReadyStatusWatchdogAndStopping) {
  ServiceFolders f;
  f.write_config("", "extensions = [\"y4m\"]");
  const fs::path sock_path = f.root / "notify.sock";
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string received;
  auto drain = [&] {
    char buf[4096];
    for (ssize_t n; (n = ::recv(sock, buf, sizeof buf, 0)) > 0;) received += std::string(buf, n) + "\n";
  };
  ServiceProcess svc(f);
  svc.env = {"NOTIFY_SOCKET=" + sock_path.string(), "WATCHDOG_USEC=400000"};
  svc.start();
  ASSERT_TRUE(wait_until([&] { return drain(), received.find("READY=1") != std::string::npos; }, 10s)) << received;
  write_file(f.in / "n.y4m", y4m_clip(64, 36, 4, 13));
  ASSERT_TRUE(wait_until([&] { return drain(), received.find("1 done") != std::string::npos; }, 30s)) << received;
  EXPECT_THAT(received, HasSubstr("STATUS=0 queued, 0 done, 0 failed"));
  // WatchdogSec/2 = 0.2 s: pings keep coming while idle.
  received.clear();
  std::this_thread::sleep_for(1s);
  drain();
  std::size_t pings = 0;
  for (std::size_t at = 0; (at = received.find("WATCHDOG=1", at)) != std::string::npos; ++at) ++pings;
  EXPECT_GE(pings, 3u) << received;
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
  drain();
  EXPECT_THAT(received, HasSubstr("STOPPING=1"));
  ::close(sock);
}

TEST(ServiceSystemd, DropinNamesTheConfiguredFolders) {
  ServiceFolders f;
  f.write_config();
  RunResult r = run_upscaled("serve --config '" + f.config.string() + "' --systemd-dropin");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[Service]\n"));
  for (const fs::path& d : {f.state, f.in, f.out, f.done, f.failed}) {
    EXPECT_THAT(r.output, HasSubstr("ReadWritePaths=\"" + d.string() + "\"\n"));
  }
}

TEST(ServiceSystemd, CmakeInstallPutsTheFilesInPlace) {
  TempDir dest;
  RunResult r{};
  std::string cmd =
      "DESTDIR='" + dest.path().string() + "' '" UPSCALED_CMAKE "' --install '" UPSCALED_BUILD_DIR "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  ASSERT_EQ(WEXITSTATUS(::pclose(p)), 0) << r.output;
  const std::string prefix = UPSCALED_INSTALL_PREFIX;
  const fs::path root = dest.path().string() + prefix;
  std::string unit = read_file(root / "lib/systemd/system/upscaled.service");
  EXPECT_THAT(unit, HasSubstr("Type=notify"));
  EXPECT_THAT(unit, HasSubstr("ExecStart=" + prefix + "/bin/upscaled serve --config /etc/upscaled/upscaled.toml\n"));
  EXPECT_THAT(read_file(root / "lib/sysusers.d/upscaled.conf"), HasSubstr("u upscaled "));
  EXPECT_THAT(
      read_file(root / "lib/tmpfiles.d/upscaled.conf"),
      HasSubstr("C /etc/upscaled/upscaled.toml 0644 root root - " + prefix + "/share/upscaled/upscaled.toml.example"));
  EXPECT_EQ(read_file(root / "share/upscaled/upscaled.toml.example"),
            read_file(fs::path(UPSCALED_SOURCE_DIR) / "config/upscaled.toml"));
  EXPECT_TRUE(fs::exists(root / "bin/upscaled"));
}

}  // namespace
}  // namespace upscaled::service::test
