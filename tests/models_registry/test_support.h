// Helpers for the model-registry tests: temporary folders, scoped environment variables,
// small test registries with url sources, and running the real `upscaled` binary.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace upscaled::test {
namespace fs = std::filesystem;

class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (fs::temp_directory_path() / "upscaled-models-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

inline void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every regular file below `dir`, as paths relative to it (to prove nothing was left behind).
inline std::vector<std::string> list_tree(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

// A url-source model entry with one file; sha256 "" becomes null (unknown).
inline nlohmann::json url_model(const std::string& name, const std::string& file, const std::string& sha256,
                                std::uint64_t size, int scale = 4) {
  nlohmann::json f = {
      {"path", name + "/" + file}, {"url", "https://example.invalid/releases/download/v1/" + file}, {"size", size}};
  f["sha256"] = sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(sha256);
  return {{"name", name},
          {"architecture", "realesrgan-srvgg-compact"},
          {"format", "pth"},
          {"license", "BSD-3-Clause"},
          {"default_scale", scale},
          {"source", {{"type", "url"}, {"release", "https://example.invalid/releases/tag/v1"}}},
          {"variants", {{{"scale", scale}, {"entry", name + "/" + file}, {"files", {f}}}}}};
}

inline fs::path write_registry(const fs::path& file, const nlohmann::json& models, const std::string& def) {
  nlohmann::json r = {{"schema_version", 1}, {"default_model", def}, {"models", models}};
  write_file(file, r.dump(2));
  return file;
}

struct CliResult {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the real binary through /bin/sh with the current environment (ScopedEnv applies).
inline CliResult run_cli(const std::string& args) {
  const std::string cmd = std::string("'") + UPSCALED_BINARY + "' " + args + " 2>&1";
  CliResult r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace upscaled::test
