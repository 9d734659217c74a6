// The test suites' one temporary-folder owner (header-only; every test target has the
// source root on its include path).
//
// Contract: the constructor creates a fresh, empty, uniquely named folder under $TMPDIR (or
// /tmp) with mkdtemp, or throws std::runtime_error; the destructor removes it with
// everything in it, ignoring errors. Not copyable.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace upscaled::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "upscaled-test-") {
    const char* base = std::getenv("TMPDIR");
    std::string name = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
    if (!::mkdtemp(name.data())) throw std::runtime_error("mkdtemp failed for " + name);
    path_ = name;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace upscaled::test
