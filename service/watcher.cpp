#include "service/watcher.h"

#include "core/error.h"
#include "core/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace upscaled::service {
namespace fs = std::filesystem;

namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char want, char have) { return std::tolower(static_cast<unsigned char>(have)) == want; });
}

constexpr std::uint32_t kDirMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK;
constexpr int kMaxDepth = 64;

}  // namespace

bool ignored_name(std::string_view name, const std::vector<std::string>& extensions) {
  if (name.empty() || name[0] == '.' || name.back() == '~' || name.substr(0, 2) == "~$") return true;
  static constexpr std::array<std::string_view, 13> kPartial = {
      ".part", ".partial", ".tmp",   ".temp",      ".crdownload", ".download",  ".filepart",
      ".swp",  ".!qb",     ".aria2", ".error.txt", ".lock",       ".inprogress"};
  for (auto suffix : kPartial) {
    if (ends_with_ci(name, suffix)) return true;
  }
  if (extensions.empty()) return false;
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return true;
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(extensions.begin(), extensions.end(), ext) == extensions.end();
}

bool open_for_writing(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool writing = false;
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
  } else {
    writing = errno == EAGAIN;  // EACCES/EPERM/EINVAL: we may not ask; rely on settling
  }
  ::close(fd);
  return writing;
}

Watcher::Watcher(std::vector<WatchRoot> roots, double settle_seconds)
    : roots_(std::move(roots)),
      settle_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settle_seconds))) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) throw Error(ErrorCode::internal, std::string("inotify_init1: ") + std::strerror(errno));
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

bool Watcher::excluded(std::size_t watch, const fs::path& dir) const {
  const auto& ex = roots_[watch].excluded;
  return std::find(ex.begin(), ex.end(), dir) != ex.end();
}

void Watcher::add_dir_watch(std::size_t watch, const fs::path& dir) {
  int wd = ::inotify_add_watch(fd_, dir.c_str(), kDirMask);
  if (wd < 0) {
    log::warn(log::cat(dir.string(), ": cannot watch folder (", std::strerror(errno), "); periodic rescans only"));
    return;
  }
  dirs_[wd] = Dir{watch, dir};
}

void Watcher::rescan() {
  for (auto& [path, p] : pending_) p.writing = false;  // events may have been lost
  for (std::size_t w = 0; w < roots_.size(); ++w) {
    struct stat st {};
    if (::stat(roots_[w].input.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      log::warn(log::cat(roots_[w].input.string(), ": input folder missing; waiting for it"));
      continue;
    }
    scan_dir(w, roots_[w].input, 0);
  }
}

void Watcher::scan_dir(std::size_t watch, const fs::path& dir, int depth) {
  add_dir_watch(watch, dir);  // before listing, so nothing created meanwhile is missed
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (depth > 0 ? O_NOFOLLOW : 0));
  if (dfd < 0) return;
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return;
  }
  std::vector<fs::path> subdirs;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name[0] == '.') continue;
    struct stat st {};
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    fs::path full = dir / e->d_name;
    if (S_ISDIR(st.st_mode)) {
      if (roots_[watch].recursive && depth < kMaxDepth && !excluded(watch, full)) subdirs.push_back(full);
    } else if (S_ISREG(st.st_mode) && !ignored_name(name, roots_[watch].extensions)) {
      observe(watch, full, false, false);
    }  // symlinks, devices, sockets: never followed, never processed
  }
  ::closedir(d);
  for (auto& sub : subdirs) scan_dir(watch, sub, depth + 1);
}

void Watcher::observe(std::size_t watch, const fs::path& path, bool writing, bool clear_writing) {
  auto key = regular_file_key(path);
  if (!key) {
    pending_.erase(path);
    return;
  }
  auto now = Clock::now();
  auto [it, inserted] = pending_.try_emplace(path, Pending{watch, *key, now, writing});
  Pending& p = it->second;
  if (!inserted && !(p.key == *key)) {
    p.key = *key;
    p.since = now;
  }
  if (writing) {
    p.writing = true;
    p.since = now;
  }
  if (clear_writing) p.writing = false;
}

bool Watcher::read_events() {
  alignas(inotify_event) char buf[64 * 1024];
  bool overflow = false;
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        overflow = true;
        continue;
      }
      auto dir = dirs_.find(ev->wd);
      if (dir == dirs_.end()) continue;
      if (ev->mask & IN_IGNORED) {
        dirs_.erase(dir);
        continue;
      }
      if (ev->len == 0) continue;  // events on the folder itself
      const std::size_t watch = dir->second.watch;
      std::string_view name = ev->name;
      fs::path full = dir->second.path / ev->name;
      if (ev->mask & IN_ISDIR) {
        if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && name[0] != '.' && roots_[watch].recursive &&
            !excluded(watch, full)) {
          scan_dir(watch, full, 1);
        }
        continue;
      }
      if (ignored_name(name, roots_[watch].extensions)) continue;
      if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        pending_.erase(full);
      } else if (ev->mask & IN_MODIFY) {
        observe(watch, full, true, false);
      } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        observe(watch, full, false, true);
      } else if (ev->mask & IN_CREATE) {
        observe(watch, full, false, false);
      }
    }
  }
  return overflow;
}

std::vector<ReadyFile> Watcher::take_ready() {
  std::vector<ReadyFile> ready;
  const auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (now - p.since < settle_ || p.writing) {
      ++it;
      continue;
    }
    auto key = regular_file_key(it->first);
    if (!key) {
      it = pending_.erase(it);
      continue;
    }
    if (!(*key == p.key)) {
      p.key = *key;
      p.since = now;
      ++it;
      continue;
    }
    if (open_for_writing(it->first)) {  // a writer pausing longer than the settling delay
      p.since = now;
      ++it;
      continue;
    }
    ready.push_back(ReadyFile{p.watch, it->first, p.key});
    it = pending_.erase(it);
  }
  return ready;
}

double Watcher::next_check_in() const {
  double best = -1;
  const auto now = Clock::now();
  for (auto& [path, p] : pending_) {
    if (p.writing) continue;  // the close event will come
    double in = std::chrono::duration<double>(p.since + settle_ - now).count();
    in = std::max(in, 0.0);
    if (best < 0 || in < best) best = in;
  }
  return best;
}

}  // namespace upscaled::service
