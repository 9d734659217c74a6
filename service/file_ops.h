// File-system steps of a job, each crash-safe on its own: identity of an input (stat key
// and cheap content hash), fsync, rename without overwriting, moving with a free name,
// and the disk-full test used to classify failures as transient.
//
// Contract: synchronous, stateless, never follows a symlink at the last path component
// (lstat / O_NOFOLLOW). Failures throw upscaled::Error naming the path; ENOSPC/EDQUOT
// become ErrorCode::no_space (transient: the job is retried later without counting).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace upscaled::service {

struct FileKey {
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileKey&) const = default;
};

// lstat of a regular file; nullopt when it is missing, a symlink or not a regular file.
std::optional<FileKey> regular_file_key(const std::filesystem::path& path);

// SHA-256 (FFmpeg's libavutil) over the size, the first MiB and the last MiB, as hex.
// Cheap for any file size; two files with the same size and both ends are taken as the same.
std::string content_hash(const std::filesystem::path& path);

// [[throws]] Error(no_space|output, "<path>: <strerror>").
[[noreturn]] void throw_errno(const std::filesystem::path& path, const std::string& what, int err);

void fsync_file(const std::filesystem::path& path);
void fsync_dir(const std::filesystem::path& dir);

// renameat2(RENAME_NOREPLACE), or link()+unlink() where the file system lacks it. Returns
// false (and changes nothing) when `to` exists.
bool rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to);

// "<dir>/<stem><ext>", then "<dir>/<stem>-1<ext>", ... the first name for which
// `taken(name)` is false and nothing exists on disk.
std::filesystem::path free_name(const std::filesystem::path& dir, const std::string& stem, const std::string& ext,
                                const std::function<bool(const std::filesystem::path&)>& taken = {});

// Moves `file` into `dir` under its own name (or a free variant), never overwriting; copies
// (fsynced) and unlinks when `dir` is on another file system. Returns the new path.
std::filesystem::path move_into(const std::filesystem::path& file, const std::filesystem::path& dir);

// Writes `text` to `path` atomically (temp + fsync + rename, replacing).
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

// True when the file system holding `dir` has less than `min_free` bytes for us.
bool disk_full(const std::filesystem::path& dir, std::uint64_t min_free = 1 << 20);

}  // namespace upscaled::service
