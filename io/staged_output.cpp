#include "io/staged_output.h"

#include "core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace upscaled::io {
namespace {

ErrorCode errno_code(int err) {
  return err == ENOSPC || err == EDQUOT ? ErrorCode::no_space : ErrorCode::output;
}

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::output, quoted(path) + ": cannot open for fsync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(errno_code(err), quoted(path) + ": fsync failed: " + std::strerror(err));
}

}  // namespace

StagedOutput::StagedOutput(const std::filesystem::path& final_path, bool overwrite,
                           const std::filesystem::path& staging_dir)
    : final_(final_path), overwrite_(overwrite) {
  std::filesystem::path dir = staging_dir.empty() ? final_path.parent_path() : staging_dir;
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error(ErrorCode::output, quoted(final_path) + ": output folder " + quoted(dir) + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(ErrorCode::output, quoted(final_path) + ": output folder " + quoted(dir) + " is not writable");
  if (!overwrite && std::filesystem::exists(std::filesystem::symlink_status(final_path, ec)))
    throw Error(ErrorCode::output, quoted(final_path) + ": already exists (use --overwrite to replace it)");
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%d-%08x", static_cast<int>(::getpid()), rd());
  // Keep the extension last: some tools look at it, and the muxer is chosen from the final name anyway.
  temp_ = dir / (std::string(kTempPrefix) + suffix + "-" + final_path.filename().string());
}

StagedOutput::~StagedOutput() {
  if (writeback_fd_ >= 0) ::close(writeback_fd_);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void StagedOutput::write_back_early() {
#ifdef __linux__
  static const bool off = [] {
    const char* v = std::getenv("UPSCALED_EARLY_WRITEBACK");
    return v && std::string(v) == "0";
  }();
  if (off || committed_) return;
  if (writeback_fd_ < 0) writeback_fd_ = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (writeback_fd_ >= 0) (void)::sync_file_range(writeback_fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
}

void StagedOutput::commit() {
  if (writeback_fd_ >= 0) {
    ::close(writeback_fd_);
    writeback_fd_ = -1;
  }
  fsync_path(temp_, O_RDONLY);
  if (overwrite_) {
    if (::rename(temp_.c_str(), final_.c_str()) != 0)
      throw Error(ErrorCode::output, quoted(final_) + ": cannot rename into place: " + std::strerror(errno));
  } else {
    // link() fails with EEXIST instead of replacing: no window where another file is lost.
    if (::link(temp_.c_str(), final_.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST) throw Error(ErrorCode::output, quoted(final_) + ": appeared while upscaling; not replaced");
      throw Error(ErrorCode::output, quoted(final_) + ": cannot move into place: " + std::strerror(err));
    }
    ::unlink(temp_.c_str());
  }
  committed_ = true;
  std::filesystem::path dir = final_.parent_path();
  fsync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace upscaled::io
