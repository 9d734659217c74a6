// Environment traps (doctor/env_traps.h).
#include "doctor/env_traps.h"

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>
#include <system_error>

namespace upscaled::doctor {
namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool is_device_entry(const std::string& e) {
  if (e.empty()) return false;
  if (e.rfind("GPU-", 0) == 0 || e.rfind("MIG-", 0) == 0) return e.size() > 4;
  return std::all_of(e.begin(), e.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  while (true) {
    const auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> env_value(const char* name) {
  if (const char* v = std::getenv(name)) return std::string(v);
  return std::nullopt;
}

VisibleDevicesVerdict parse_cuda_visible_devices(const std::optional<std::string>& value) {
  VisibleDevicesVerdict v;
  if (!value) return v;
  v.set = true;
  for (const auto& raw : split(*value, ',')) {
    const auto e = trim(raw);
    if (!is_device_entry(e)) {
      if (v.entries.empty())
        v.explanation = e.empty() ? "CUDA_VISIBLE_DEVICES is set but empty"
                                  : "CUDA_VISIBLE_DEVICES starts with '" + e + "', which names no device";
      break;  // CUDA ignores everything from the first invalid entry on
    }
    v.entries.push_back(e);
  }
  v.hides_all = v.entries.empty();
  return v;
}

Check cuda_visible_devices_check(const std::optional<std::string>& value, int physical_gpus) {
  auto v = parse_cuda_visible_devices(value);
  Check c = make_check("env.cuda_visible_devices", "env", Status::ok, "CUDA_VISIBLE_DEVICES not set");
  c.details["set"] = v.set;
  c.details["value"] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  c.details["hides_all"] = v.hides_all;
  c.details["physical_gpus"] = physical_gpus;
  if (!v.set) return c;
  if (v.hides_all) {
    c.status = Status::warn;
    c.summary = v.explanation + ": every GPU is hidden" +
                (physical_gpus > 0 ? " (" + std::to_string(physical_gpus) + " present)" : std::string());
    c.action = "unset CUDA_VISIBLE_DEVICES or list a GPU (e.g. CUDA_VISIBLE_DEVICES=0) to use the GPU";
    return c;
  }
  // Indices at or past the physical count are invalid too: CUDA stops there.
  if (physical_gpus >= 0) {
    const auto& first = v.entries.front();
    if (std::isdigit(static_cast<unsigned char>(first[0])) && std::stoll(first) >= physical_gpus) {
      c.status = Status::warn;
      c.summary = "CUDA_VISIBLE_DEVICES=" + *value + " names GPU " + first + " but only " +
                  std::to_string(physical_gpus) + " exist: every GPU is hidden";
      c.action = "list an existing GPU index (0.." + std::to_string(std::max(0, physical_gpus - 1)) + ")";
      c.details["hides_all"] = true;
      return c;
    }
  }
  c.summary = "CUDA_VISIBLE_DEVICES=" + *value + " (" + std::to_string(v.entries.size()) + " GPU(s) visible)";
  return c;
}

std::vector<std::string> list_dir_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  return names;
}

std::vector<CudaLibDir> cuda_dirs_in_library_path(const std::string& value, const ListDir& list_dir) {
  static const std::regex dir_version(R"(cuda[-_]?(\d+)\.(\d+))", std::regex::icase);
  static const std::regex cudart_major(R"(^libcudart\.so\.(\d+)(\..*)?$)");
  std::vector<CudaLibDir> out;
  for (const auto& dir : split(value, ':')) {
    if (dir.empty()) continue;
    std::smatch m;
    if (std::regex_search(dir, m, dir_version)) {
      out.push_back({dir, m[1].str() + "." + m[2].str()});
      continue;
    }
    for (const auto& name : list_dir(dir)) {
      if (std::regex_match(name, m, cudart_major)) {
        out.push_back({dir, m[1].str()});
        break;
      }
    }
  }
  return out;
}

bool cuda_versions_conflict(const std::vector<CudaLibDir>& dirs) {
  std::set<std::string> full, majors;
  for (const auto& d : dirs) {
    const auto dot = d.version.find('.');
    majors.insert(d.version.substr(0, dot));
    if (dot != std::string::npos) full.insert(d.version);
  }
  return majors.size() > 1 || full.size() > 1;
}

Check ld_library_path_check(const std::optional<std::string>& value, const ListDir& list_dir) {
  Check c = make_check("env.ld_library_path", "env", Status::ok, "LD_LIBRARY_PATH holds no CUDA libraries");
  const auto dirs = value ? cuda_dirs_in_library_path(*value, list_dir) : std::vector<CudaLibDir>{};
  nlohmann::json jd = nlohmann::json::array();
  std::string listing;
  for (const auto& d : dirs) {
    jd.push_back({{"dir", d.dir}, {"cuda", d.version}});
    listing += (listing.empty() ? "" : ", ") + d.version + " (" + d.dir + ")";
  }
  c.details["cuda_dirs"] = jd;
  if (dirs.empty()) return c;
  if (cuda_versions_conflict(dirs)) {
    c.status = Status::warn;
    c.summary = "LD_LIBRARY_PATH mixes CUDA versions: " + listing;
    c.action = "keep the lib folder of one CUDA version in LD_LIBRARY_PATH (the one libtorch was built for)";
  } else {
    c.summary = "LD_LIBRARY_PATH CUDA libraries: " + listing;
  }
  return c;
}

Check folder_check(const std::string& id, const std::string& purpose, const std::filesystem::path& dir,
                   const std::string& how_to_change) {
  namespace fs = std::filesystem;
  Check c = make_check(id, "env", Status::ok, "");
  c.details["path"] = dir.string();
  std::error_code ec;
  if (dir.empty()) {
    c.status = Status::warn;
    c.summary = purpose + " folder unknown (HOME not set)";
    c.action = how_to_change;
    return c;
  }
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      c.status = Status::warn;
      c.summary = purpose + " folder " + dir.string() + " exists but is not a folder";
      c.action = "remove or rename that file, or " + how_to_change;
      return c;
    }
    // access(W_OK) ignores read-only mounts and ACL subtleties: really create a file.
    std::string tmpl = (dir / ".upscaled-doctor-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) {
      c.status = Status::warn;
      c.summary =
          purpose + " folder " + dir.string() + " is not writable (" + std::generic_category().message(errno) + ")";
      c.action = "make it writable for this user, or " + how_to_change;
      return c;
    }
    close(fd);
    fs::remove(tmpl, ec);
    c.summary = purpose + " folder " + dir.string() + " is writable";
    c.details["exists"] = true;
    return c;
  }
  // Absent: it will be created on first use if its nearest existing ancestor is writable.
  fs::path parent = dir.parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.parent_path()) parent = parent.parent_path();
  c.details["exists"] = false;
  if (!parent.empty() && fs::is_directory(parent, ec) && access(parent.c_str(), W_OK | X_OK) == 0) {
    c.summary =
        purpose + " folder " + dir.string() + " does not exist yet (will be created in " + parent.string() + ")";
    return c;
  }
  c.status = Status::warn;
  c.summary =
      purpose + " folder " + dir.string() + " cannot be created (" + parent.string() + " is not a writable folder)";
  c.action = "create it for this user, or " + how_to_change;
  return c;
}

namespace {
std::filesystem::path xdg_dir(const char* own_var, const char* xdg_var, const char* home_suffix) {
  if (auto v = env_value(own_var); v && !v->empty()) return *v;
  if (auto v = env_value(xdg_var); v && !v->empty()) return std::filesystem::path(*v) / "upscaled";
  if (auto v = env_value("HOME"); v && !v->empty()) return std::filesystem::path(*v) / home_suffix / "upscaled";
  return {};
}
}  // namespace

std::filesystem::path default_state_dir() {
  return xdg_dir("UPSCALED_STATE_DIR", "XDG_STATE_HOME", ".local/state");
}
std::filesystem::path default_cache_dir() {
  return xdg_dir("UPSCALED_CACHE_DIR", "XDG_CACHE_HOME", ".cache");
}

}  // namespace upscaled::doctor
