// Loading, validating and resolving models/registry.json (see registry.h).
#include "model/registry.h"

#include "core/error.h"
#include "model/model_loader.h"
#include "model/sha.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <system_error>

namespace upscaled::model {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw Error(ErrorCode::model, file.string() + ": " + what);
}

std::string req_string(const fs::path& file, const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty())
    fail(file, where + ": missing or empty string field '" + key + "'");
  return it->get<std::string>();
}

std::string opt_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Registry paths become file names under the models folder; a registry given through
// $UPSCALED_REGISTRY must not be able to write outside it.
bool safe_relative(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(p))
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

ModelFile parse_file(const fs::path& file, const json& j, const std::string& where, SourceKind kind) {
  ModelFile f;
  f.path = req_string(file, j, "path", where);
  if (!safe_relative(f.path)) fail(file, where + ": unsafe path '" + f.path + "'");
  const std::string w = where + " file '" + f.path + "'";
  // sha256 null/absent = unknown; anything else must be a real digest.
  if (auto it = j.find("sha256"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || !is_sha256_hex(it->get<std::string>()))
      fail(file, w + ": sha256 must be 64 lowercase hex characters or null (unknown)");
    f.sha256 = it->get<std::string>();
  }
  if (auto it = j.find("size"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) fail(file, w + ": size must be a non-negative integer");
    f.size = it->get<std::uint64_t>();
  }
  if (kind == SourceKind::url) {
    f.url = req_string(file, j, "url", w);
    if (f.url.rfind("https://", 0) != 0 && f.url.rfind("http://", 0) != 0)
      fail(file, w + ": url must start with https:// or http://");
  } else {
    f.archive_path = req_string(file, j, "archive_path", w);
    if (f.archive_path.rfind("package/", 0) != 0 || !safe_relative(f.archive_path))
      fail(file, w + ": archive_path must be a plain path under package/");
  }
  return f;
}

ModelSource parse_source(const fs::path& file, const json& j, const std::string& where) {
  if (!j.is_object()) fail(file, where + ": missing object 'source'");
  ModelSource s;
  const std::string type = req_string(file, j, "type", where + " source");
  if (type == "npm") {
    s.kind = SourceKind::npm;
    s.package = req_string(file, j, "package", where + " source");
    s.version = req_string(file, j, "version", where + " source");
    s.integrity = req_string(file, j, "integrity", where + " source");
    // sha512 of 64 bytes is 88 base64 characters.
    if (s.integrity.rfind("sha512-", 0) != 0 || s.integrity.size() != 7 + 88)
      fail(file, where + ": source integrity must be an npm sha512 SRI string (sha512-<88 base64 chars>)");
    s.tarball = opt_string(j, "tarball");
  } else if (type == "url") {
    s.kind = SourceKind::url;
    s.release = opt_string(j, "release");
    s.checksum_provenance = opt_string(j, "checksum_provenance");
  } else {
    fail(file, where + ": source type '" + type + "' is not npm or url");
  }
  return s;
}

RegistryModel parse_model(const fs::path& file, const json& j, std::size_t index) {
  if (!j.is_object()) fail(file, "models[" + std::to_string(index) + "] is not an object");
  RegistryModel m;
  m.name = req_string(file, j, "name", "models[" + std::to_string(index) + "]");
  const std::string where = "model '" + m.name + "'";
  if (!safe_relative(m.name) || m.name.find('/') != std::string::npos) fail(file, where + ": name must be one word");
  m.description = opt_string(j, "description");
  m.architecture = req_string(file, j, "architecture", where);
  m.format = req_string(file, j, "format", where);
  m.license = req_string(file, j, "license", where);
  m.source = parse_source(file, j.value("source", json()), where);

  const json& variants = j.value("variants", json());
  if (!variants.is_array() || variants.empty()) fail(file, where + ": 'variants' must be a non-empty array");
  for (const json& v : variants) {
    ModelVariant var;
    if (!v.is_object() || !v.contains("scale") || !v["scale"].is_number_integer() || v["scale"].get<int>() < 1)
      fail(file, where + ": every variant needs an integer 'scale' >= 1");
    var.scale = v["scale"].get<int>();
    const std::string vw = where + " x" + std::to_string(var.scale);
    if (m.variant(var.scale)) fail(file, vw + ": scale listed twice");
    var.entry = req_string(file, v, "entry", vw);
    const json& files = v.value("files", json());
    if (!files.is_array() || files.empty()) fail(file, vw + ": 'files' must be a non-empty array");
    for (const json& f : files) var.files.push_back(parse_file(file, f, vw, m.source.kind));
    if (std::none_of(var.files.begin(), var.files.end(), [&](const ModelFile& f) { return f.path == var.entry; }))
      fail(file, vw + ": entry '" + var.entry + "' is not one of its files");
    m.variants.push_back(std::move(var));
  }
  std::sort(m.variants.begin(), m.variants.end(), [](auto& a, auto& b) { return a.scale < b.scale; });

  m.default_scale = j.value("default_scale", m.variants.front().scale);
  if (!m.variant(m.default_scale))
    fail(file, where + ": default_scale " + std::to_string(m.default_scale) + " is not one of its scales");
  if (auto it = j.find("fetch_scales"); it != j.end()) {
    if (!it->is_array()) fail(file, where + ": fetch_scales must be an array of scales");
    for (const json& s : *it) {
      if (!s.is_number_integer() || !m.variant(s.get<int>()))
        fail(file, where + ": fetch_scales lists a scale it does not have");
      m.fetch_scales.push_back(s.get<int>());
    }
  }
  if (m.fetch_scales.empty()) m.fetch_scales = m.scales();
  return m;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

std::string join_scales(const std::vector<int>& scales) {
  std::string out;
  for (int s : scales) out += (out.empty() ? "" : ", ") + std::to_string(s);
  return out;
}

}  // namespace

std::vector<int> RegistryModel::scales() const {
  std::vector<int> out;
  for (const auto& v : variants) out.push_back(v.scale);
  return out;
}

const ModelVariant* RegistryModel::variant(int scale) const {
  for (const auto& v : variants)
    if (v.scale == scale) return &v;
  return nullptr;
}

const RegistryModel* Registry::find(std::string_view name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const RegistryModel& Registry::get(std::string_view name) const {
  if (const auto* m = find(name)) return *m;
  std::string known;
  for (const auto& m : models) known += (known.empty() ? "" : ", ") + m.name;
  throw Error(ErrorCode::model, "model '" + std::string(name) + "' is not in the registry (" + file.string() +
                                    "); known: " + known + " (or pass a path to a model file)");
}

fs::path registry_path() {
  if (const char* env = std::getenv("UPSCALED_REGISTRY"); env && *env) {
    if (!fs::is_regular_file(env))
      throw Error(ErrorCode::model, std::string(env) + ": model registry (from $UPSCALED_REGISTRY) does not exist");
    return env;
  }
  std::vector<fs::path> candidates;
  if (auto dir = executable_dir(); !dir.empty())
    candidates.push_back(dir.parent_path() / "share" / "upscaled" / "models" / "registry.json");
#ifdef UPSCALED_SOURCE_DIR
  candidates.push_back(fs::path(UPSCALED_SOURCE_DIR) / "models" / "registry.json");
#endif
  for (const auto& c : candidates)
    if (fs::is_regular_file(c)) return c;
  std::string tried;
  for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
  throw Error(ErrorCode::model, "model registry not found (tried " + tried + "); set UPSCALED_REGISTRY");
}

Registry load_registry(const fs::path& file) {
  std::ifstream in(file);
  if (!in) fail(file, "cannot open the model registry");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail(file, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("schema_version", 0) != 1)
    fail(file, "not a model registry (schema_version 1 expected)");
  Registry r;
  r.file = file;
  const json& models = j.value("models", json());
  if (!models.is_array() || models.empty()) fail(file, "'models' must be a non-empty array");
  std::set<std::string> names, paths;
  for (std::size_t i = 0; i < models.size(); ++i) {
    RegistryModel m = parse_model(file, models[i], i);
    if (!names.insert(m.name).second) fail(file, "model '" + m.name + "' is listed twice");
    for (const auto& v : m.variants)
      for (const auto& f : v.files)
        if (!paths.insert(f.path).second)
          fail(file, "model '" + m.name + "': file path '" + f.path + "' is used twice");
    r.models.push_back(std::move(m));
  }
  r.default_model = j.value("default_model", std::string());
  if (!r.find(r.default_model)) fail(file, "default_model '" + r.default_model + "' is not one of its models");
  return r;
}

Registry load_registry() {
  return load_registry(registry_path());
}

std::string default_model_name() {
  return load_registry().default_model;
}

std::string fetch_command(const RegistryModel& model, int scale, const fs::path& models_dir) {
  std::string cmd = "upscaled models fetch " + model.name;
  if (model.variants.size() > 1) cmd += " --scale " + std::to_string(scale);
  std::error_code ec;
  if (!fs::equivalent(models_dir, default_models_dir(), ec) &&
      models_dir.lexically_normal() != default_models_dir().lexically_normal())
    cmd += " --models-dir " + models_dir.string();
  return cmd;
}

std::string FileCheck::describe() const {
  switch (state) {
    case FileState::ok:
      return "ok";
    case FileState::missing:
      return "not fetched";
    case FileState::size_mismatch:
      return "size mismatch (expected " + expected + " bytes, got " + actual + "): truncated or replaced";
    case FileState::checksum_mismatch:
      return "sha256 mismatch (expected " + expected + ", got " + actual + ")";
    case FileState::unknown_checksum:
      return "no sha256 in the registry, cannot be verified";
  }
  return "?";
}

FileCheck check_file(const ModelFile& file, const fs::path& models_dir, bool hash) {
  FileCheck c;
  c.path = models_dir / fs::path(file.path);
  std::error_code ec;
  const auto size = fs::file_size(c.path, ec);
  if (ec || !fs::is_regular_file(c.path)) {
    c.state = FileState::missing;
    return c;
  }
  if (file.size != 0 && size != file.size) {
    c.state = FileState::size_mismatch;
    c.expected = std::to_string(file.size);
    c.actual = std::to_string(size);
    return c;
  }
  if (file.sha256.empty()) {
    c.state = FileState::unknown_checksum;
    return c;
  }
  if (hash) {
    c.actual = sha256_file(c.path);
    if (c.actual != file.sha256) {
      c.state = FileState::checksum_mismatch;
      c.expected = file.sha256;
      return c;
    }
  }
  c.state = FileState::ok;
  return c;
}

bool variant_present(const ModelVariant& variant, const fs::path& models_dir) {
  return std::all_of(variant.files.begin(), variant.files.end(), [&](const ModelFile& f) {
    const auto s = check_file(f, models_dir, false).state;
    return s == FileState::ok || s == FileState::unknown_checksum;
  });
}

ResolvedModel resolve_model(const Registry& registry, const std::string& name, int scale, const fs::path& models_dir) {
  const RegistryModel& m = registry.get(name);
  if (scale == 0) scale = m.default_scale;
  const ModelVariant* v = m.variant(scale);
  if (!v)
    throw Error(ErrorCode::model, "model '" + name + "' has no x" + std::to_string(scale) + " variant (scales: " +
                                      join_scales(m.scales()) + "; registry " + registry.file.string() + ")");
  ResolvedModel r{m.name, m.architecture, m.format, scale, models_dir / fs::path(v->entry), {}};
  const std::string what = "model '" + name + "' x" + std::to_string(scale);
  for (const auto& f : v->files) {
    const FileCheck c = check_file(f, models_dir, true);
    switch (c.state) {
      case FileState::ok:
        break;
      case FileState::missing:
        throw Error(ErrorCode::model,
                    c.path.string() + ": " + what + " is not fetched; run: " + fetch_command(m, scale, models_dir));
      case FileState::unknown_checksum:
        throw Error(ErrorCode::model,
                    c.path.string() + ": " + what +
                        " has no sha256 in the registry, so it cannot be verified; pass the file's path "
                        "instead of the name to load it unverified");
      default:
        throw Error(ErrorCode::model, c.path.string() + ": " + what + ": " + c.describe() +
                                          "; reinstall with: " + fetch_command(m, scale, models_dir) + " --force");
    }
    r.files.push_back(c.path);
  }
  return r;
}

ResolvedModel resolve_model(const std::string& name, int scale, const fs::path& models_dir) {
  return resolve_model(load_registry(), name, scale, models_dir);
}

}  // namespace upscaled::model
