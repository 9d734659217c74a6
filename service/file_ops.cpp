#include "service/file_ops.h"

#include "core/error.h"

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace upscaled::service {
namespace fs = std::filesystem;

namespace {

// Owns a file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

void read_exact_at(int fd, std::vector<std::uint8_t>& buf, std::size_t n, off_t at, const fs::path& path) {
  buf.resize(n);
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf.data() + got, n - got, at + static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno(path, "read", errno);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  buf.resize(got);
}

}  // namespace

[[noreturn]] void throw_errno(const fs::path& path, const std::string& what, int err) {
  ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::no_space : ErrorCode::output;
  throw Error(code, path.string() + ": " + what + ": " + std::strerror(err));
}

std::optional<FileKey> regular_file_key(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileKey{static_cast<std::int64_t>(st.st_size),
                 static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

std::string content_hash(const fs::path& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (f.fd < 0) throw_errno(path, "open", errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw_errno(path, "stat", errno);
  std::unique_ptr<AVSHA, decltype(&av_free)> sha(av_sha_alloc(), &av_free);
  if (!sha || av_sha_init(sha.get(), 256) < 0) throw Error(ErrorCode::internal, "av_sha_init failed");
  constexpr std::size_t kMiB = 1 << 20;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::string header = std::to_string(size) + "\n";
  av_sha_update(sha.get(), reinterpret_cast<const std::uint8_t*>(header.data()), static_cast<unsigned>(header.size()));
  std::vector<std::uint8_t> buf;
  read_exact_at(f.fd, buf, static_cast<std::size_t>(std::min<std::uint64_t>(size, kMiB)), 0, path);
  av_sha_update(sha.get(), buf.data(), static_cast<unsigned>(buf.size()));
  if (size > kMiB) {
    std::uint64_t tail_at = size > 2 * kMiB ? size - kMiB : kMiB;
    read_exact_at(f.fd, buf, static_cast<std::size_t>(size - tail_at), static_cast<off_t>(tail_at), path);
    av_sha_update(sha.get(), buf.data(), static_cast<unsigned>(buf.size()));
  }
  std::uint8_t digest[32];
  av_sha_final(sha.get(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

void fsync_file(const fs::path& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (f.fd < 0) throw_errno(path, "open for fsync", errno);
  if (::fsync(f.fd) != 0) throw_errno(path, "fsync", errno);
}

void fsync_dir(const fs::path& dir) {
  Fd f(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (f.fd < 0) throw_errno(dir, "open folder for fsync", errno);
  if (::fsync(f.fd) != 0 && errno != EINVAL) throw_errno(dir, "fsync folder", errno);
}

namespace {
// 0 on success, else the errno (EEXIST when `to` exists).
int try_rename_noreplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  int err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP) return err;
  // File systems without RENAME_NOREPLACE: link() refuses to replace, then drop the old name.
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  if (::unlink(from.c_str()) != 0) return errno;
  return 0;
}
}  // namespace

bool rename_noreplace(const fs::path& from, const fs::path& to) {
  int err = try_rename_noreplace(from, to);
  if (err == 0) return true;
  if (err == EEXIST) return false;
  throw_errno(to, "rename from " + from.string(), err);
}

fs::path free_name(const fs::path& dir, const std::string& stem, const std::string& ext,
                   const std::function<bool(const fs::path&)>& taken) {
  for (int i = 0;; ++i) {
    fs::path p = dir / (i == 0 ? stem + ext : stem + "-" + std::to_string(i) + ext);
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) continue;
    if (taken && taken(p)) continue;
    return p;
  }
}

fs::path move_into(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_errno(dir, "create folder", ec.value());
  const std::string stem = file.stem().string(), ext = file.extension().string();
  for (;;) {
    fs::path target = free_name(dir, stem, ext);
    int err = try_rename_noreplace(file, target);
    if (err == EEXIST) continue;  // somebody took the name meanwhile
    if (err == 0) {
      fsync_dir(dir);
      fsync_dir(file.parent_path());
      return target;
    }
    if (err != EXDEV) throw_errno(target, "move from " + file.string(), err);
    // Another file system: copy under a hidden name, fsync, rename into place, unlink.
    fs::path tmp = dir / (".upscaled-move-" + std::to_string(::getpid()) + ext);
    fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      fs::remove(tmp);
      throw_errno(tmp, "copy from " + file.string(), ec.value());
    }
    fsync_file(tmp);
    if (!rename_noreplace(tmp, target)) {
      fs::remove(tmp);
      continue;
    }
    fsync_dir(dir);
    if (::unlink(file.c_str()) != 0) throw_errno(file, "unlink", errno);
    fsync_dir(file.parent_path());
    return target;
  }
}

void write_file_atomic(const fs::path& path, const std::string& text) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (f.fd < 0) throw_errno(tmp, "create", errno);
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t w = ::write(f.fd, text.data() + done, text.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw_errno(tmp, "write", errno);
      done += static_cast<std::size_t>(w);
    }
    if (::fsync(f.fd) != 0) throw_errno(tmp, "fsync", errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno(path, "rename", errno);
  fsync_dir(path.parent_path());
}

bool disk_full(const fs::path& dir, std::uint64_t min_free) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return false;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize < min_free;
}

}  // namespace upscaled::service
