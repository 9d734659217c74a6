// Finds new input files: inotify (close-after-write, moved-in, new folders) plus full
// rescans, and a settling check before a file is handed on.
//
// Contract: single-threaded (the service's main loop owns it); never blocks: read_events()
// drains what inotify has, poll() on fd() tells when to call it. A file is *ready* when
//   - its name is not ignored (hidden, temporary/partial, or outside `extensions`),
//   - it is a regular file reached without following any symlink inside the tree,
//   - its size and mtime have not changed for `settle_seconds`,
//   - no write is in progress: no IN_MODIFY since the last IN_CLOSE_WRITE, and (where the
//     kernel lets us take a read lease) no process holds it open for writing.
// A ready file is reported once per (size, mtime); the journal decides what it means.
#pragma once

#include "service/file_ops.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace upscaled::service {

struct WatchRoot {
  std::filesystem::path input;
  std::vector<std::filesystem::path> excluded;  // folders inside the tree never entered
  bool recursive = true;
  std::vector<std::string> extensions;  // lower case, no dot; empty = any
};

// Hidden (".x"), editor/download leftovers ("x~", "~$x", "*.part", "*.tmp", ...), our own
// ".error.txt" notes, or an extension outside `extensions`.
bool ignored_name(std::string_view name, const std::vector<std::string>& extensions);

// Whether some process has `path` open for writing (F_SETLEASE probe); false when the
// kernel does not let us ask (not the owner and no CAP_LEASE).
bool open_for_writing(const std::filesystem::path& path);

struct ReadyFile {
  std::size_t watch = 0;  // index into the roots
  std::filesystem::path path;
  FileKey key;
};

class Watcher {
 public:
  using Clock = std::chrono::steady_clock;
  Watcher(std::vector<WatchRoot> roots, double settle_seconds);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  int fd() const { return fd_; }
  // Drains inotify. Returns true when the kernel's queue overflowed: call rescan().
  bool read_events();
  // Walks every tree again (start, periodic, after overflow); re-adds folder watches.
  void rescan();
  // Files that have settled since the last call.
  std::vector<ReadyFile> take_ready();
  // Seconds until take_ready() may return something; -1 when nothing is pending.
  double next_check_in() const;
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::size_t watch;
    FileKey key;
    Clock::time_point since;
    bool writing = false;
  };
  void scan_dir(std::size_t watch, const std::filesystem::path& dir, int depth);
  void add_dir_watch(std::size_t watch, const std::filesystem::path& dir);
  void observe(std::size_t watch, const std::filesystem::path& path, bool writing, bool clear_writing);
  bool excluded(std::size_t watch, const std::filesystem::path& dir) const;

  std::vector<WatchRoot> roots_;
  Clock::duration settle_;
  int fd_ = -1;
  struct Dir {
    std::size_t watch;
    std::filesystem::path path;
  };
  std::map<int, Dir> dirs_;  // inotify watch descriptor -> folder
  std::map<std::filesystem::path, Pending> pending_;
};

}  // namespace upscaled::service
