// TOML -> ServiceConfig. Each table is read through a TableReader that remembers which keys
// were consumed, so that unknown keys can be reported with their own line.
#include "service/config.h"

#include "core/error.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace upscaled::service {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_at(const fs::path& file, const toml::source_region& where, const std::string& key,
                          const std::string& why) {
  std::ostringstream out;
  out << file.string();
  if (where.begin.line > 0) out << ':' << where.begin.line;
  out << ": key '" << key << "': " << why;
  throw Error(ErrorCode::usage, out.str());
}

class TableReader {
 public:
  TableReader(const toml::table& table, const fs::path& file, std::string prefix)
      : table_(table), file_(file), prefix_(std::move(prefix)) {}

  const toml::node* find(const std::string& key) {
    used_.insert(key);
    return table_.get(key);
  }

  template <typename T>
  bool number(const std::string& key, T& out, double lo, double hi) {
    const toml::node* n = find(key);
    if (!n) return false;
    double v = 0;
    if (auto i = n->as_integer()) {
      v = static_cast<double>(i->get());
    } else if (auto f = n->as_floating_point(); f && std::is_floating_point_v<T>) {
      v = f->get();
    } else {
      fail(*n, key, std::is_floating_point_v<T> ? "expected a number" : "expected an integer");
    }
    if (!(v >= lo && v <= hi) || !std::isfinite(v)) {
      std::ostringstream why;
      why << "must be between " << lo << " and " << hi << ", got " << v;
      fail(*n, key, why.str());
    }
    out = static_cast<T>(v);
    return true;
  }

  bool boolean(const std::string& key, bool& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    auto b = n->as_boolean();
    if (!b) fail(*n, key, "expected true or false");
    out = b->get();
    return true;
  }

  bool string(const std::string& key, std::string& out, std::initializer_list<const char*> allowed = {}) {
    const toml::node* n = find(key);
    if (!n) return false;
    auto s = n->as_string();
    if (!s) fail(*n, key, "expected a string");
    if (allowed.size() > 0 &&
        std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return s->get() == a; })) {
      std::string why = "must be one of";
      for (const char* a : allowed) why += std::string(" \"") + a + "\"";
      fail(*n, key, why + ", got \"" + s->get() + "\"");
    }
    out = s->get();
    return true;
  }

  // Absolute paths only: the service's working directory is not something to rely on.
  bool path(const std::string& key, fs::path& out, bool allow_empty = false) {
    std::string s;
    if (!string(key, s)) return false;
    if (s.empty() && allow_empty) {
      out.clear();
      return true;
    }
    if (s.empty() || s[0] != '/') fail(*table_.get(key), key, "must be an absolute path, got \"" + s + "\"");
    out = fs::path(s).lexically_normal();
    if (out.string().size() > 1 && out.string().back() == '/') out = out.parent_path();
    return true;
  }

  bool strings(const std::string& key, std::vector<std::string>& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    auto arr = n->as_array();
    if (!arr) fail(*n, key, "expected an array of strings");
    out.clear();
    for (auto& item : *arr) {
      auto s = item.as_string();
      if (!s) fail(item, key, "expected an array of strings");
      out.push_back(s->get());
    }
    return true;
  }

  bool integers(const std::string& key, std::vector<int>& out, int lo, int hi) {
    const toml::node* n = find(key);
    if (!n) return false;
    auto arr = n->as_array();
    if (!arr) fail(*n, key, "expected an array of integers");
    out.clear();
    for (auto& item : *arr) {
      auto i = item.as_integer();
      if (!i || i->get() < lo || i->get() > hi) {
        fail(item, key, "expected integers between " + std::to_string(lo) + " and " + std::to_string(hi));
      }
      out.push_back(static_cast<int>(i->get()));
    }
    return true;
  }

  // Reports the first key that no reader asked for.
  void reject_unknown() const {
    for (auto&& [k, v] : table_) {
      if (!used_.count(std::string(k.str()))) {
        fail_at(file_, k.source(), qualified(std::string(k.str())), "unknown key");
      }
    }
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& why) const {
    fail_at(file_, n.source(), qualified(key), why);
  }
  [[noreturn]] void fail_missing(const std::string& key) const {
    fail_at(file_, table_.source(), qualified(key), "required key is missing");
  }
  std::string qualified(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  const toml::table& table_;
  const fs::path& file_;
  std::string prefix_;
  std::set<std::string> used_;
};

bool inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

WatchConfig read_watch(const toml::table& t, const fs::path& file, const std::string& prefix) {
  TableReader r(t, file, prefix);
  WatchConfig w;
  if (!r.path("input", w.input)) r.fail_missing("input");
  if (!r.path("output", w.output)) r.fail_missing("output");
  if (!r.path("failed_dir", w.failed_dir)) r.fail_missing("failed_dir");
  r.boolean("recursive", w.recursive);
  std::string action = "keep";
  r.string("on_done", action, {"keep", "move", "delete"});
  w.on_done = action == "move" ? InputAction::move : action == "delete" ? InputAction::remove : InputAction::keep;
  r.path("done_dir", w.done_dir, true);
  if (w.on_done == InputAction::move && w.done_dir.empty()) r.fail_missing("done_dir");
  if (r.strings("extensions", w.extensions)) {
    for (auto& e : w.extensions) {
      if (e.empty() || e.find('.') != std::string::npos || e.find('/') != std::string::npos) {
        r.fail(*t.get("extensions"), "extensions", "entries are extensions without a dot, got \"" + e + "\"");
      }
      std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
    }
  }
  r.string("output_extension", w.output_extension);
  if (w.output_extension.empty() || w.output_extension.find_first_of("./") != std::string::npos) {
    r.fail(*t.get("output_extension"), "output_extension", "must be an extension without a dot, e.g. \"mkv\"");
  }
  r.string("output_suffix", w.output_suffix);
  if (w.output_suffix.find('/') != std::string::npos)
    r.fail(*t.get("output_suffix"), "output_suffix", "must not contain '/'");
  r.string("model", w.model);
  if (w.model.empty()) r.fail(*t.get("model"), "model", "must not be empty");
  r.number("scale", w.scale, 1, 8);
  r.string("device", w.device, {"auto", "cpu", "cuda"});
  r.string("precision", w.precision, {"auto", "fp32", "fp16", "bf16"});
  r.number("tile", w.tile, 0, 16384);
  r.path("models_dir", w.models_dir, true);
  r.string("codec", w.codec, {"libx264", "libx265"});
  r.number("crf", w.crf, 0, 51);
  r.string("preset", w.preset,
           {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"});
  r.reject_unknown();

  // Folders must not overlap in ways that would make the service eat its own files.
  auto bad = [&](const char* key, const std::string& why) { r.fail(*t.get(key), key, why); };
  if (w.output == w.input) bad("output", "must differ from input");
  if (inside(w.input, w.output)) bad("output", "must not contain the input folder");
  for (auto [key, dir] : {std::pair{"failed_dir", &w.failed_dir}, std::pair{"done_dir", &w.done_dir}}) {
    if (dir->empty()) continue;
    if (*dir == w.input || *dir == w.output) bad(key, "must differ from input and output");
  }
  return w;
}

}  // namespace

ServiceConfig parse_config(std::string_view text, const fs::path& source) {
  toml::table root;
  try {
    root = toml::parse(text, source.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source.string() << ':' << e.source().begin.line << ": " << e.description();
    throw Error(ErrorCode::usage, out.str());
  }
  ServiceConfig c;
  c.source = source;
  TableReader top(root, source, "");
  if (const toml::node* n = top.find("service")) {
    auto t = n->as_table();
    if (!t) top.fail(*n, "service", "expected a table [service]");
    TableReader r(*t, source, "service");
    r.path("state_dir", c.state_dir);
    r.path("journal", c.journal, true);
    r.number("settle_seconds", c.settle_seconds, 0.0, 3600.0);
    r.number("rescan_interval_seconds", c.rescan_interval_seconds, 0.1, 86400.0);
    r.number("stop_timeout_seconds", c.stop_timeout_seconds, 0.0, 3600.0);
    r.number("max_attempts", c.max_attempts, 1, 1000);
    r.number("retry_delay_seconds", c.retry_delay_seconds, 0.0, 86400.0);
    r.number("transient_backoff_seconds", c.transient_backoff_seconds, 0.01, 86400.0);
    r.number("transient_backoff_max_seconds", c.transient_backoff_max_seconds, 0.01, 86400.0);
    r.integers("gpus", c.gpus, 0, 255);
    r.number("jobs_per_gpu", c.jobs_per_gpu, 1, 64);
    r.number("gpu_memory_mb", c.gpu_memory_mb, 0, 16 * 1024 * 1024);
    r.number("gpu_memory_wait_seconds", c.gpu_memory_wait_seconds, 0.0, 86400.0);
    r.boolean("keep_models", c.keep_models);
    r.reject_unknown();
  }
  const toml::node* watches = top.find("watch");
  if (!watches) top.fail_missing("watch");
  auto arr = watches->as_array();
  if (!arr || !arr->is_array_of_tables()) top.fail(*watches, "watch", "expected one or more [[watch]] tables");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    c.watches.push_back(read_watch(*arr->get(i)->as_table(), source, "watch[" + std::to_string(i) + "]"));
  }
  if (c.watches.empty()) top.fail(*watches, "watch", "at least one [[watch]] table is needed");
  for (std::size_t i = 0; i < c.watches.size(); ++i) {
    for (std::size_t j = 0; j < c.watches.size(); ++j) {
      if (i != j && inside(c.watches[j].input, c.watches[i].input)) {
        top.fail(*arr->get(j)->as_table()->get("input"), "watch[" + std::to_string(j) + "].input",
                 "overlaps the input of watch[" + std::to_string(i) + "]");
      }
    }
  }
  top.reject_unknown();
  return c;
}

ServiceConfig load_config(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::usage, file.string() + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file);
}

std::string systemd_dropin(const ServiceConfig& config) {
  std::vector<fs::path> dirs{config.state_dir, config.journal_path().parent_path()};
  for (auto& w : config.watches) {
    for (const fs::path& d : {w.input, w.output, w.done_dir, w.failed_dir}) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  std::string out = "# Generated by `upscaled serve --config " + config.source.string() +
                    " --systemd-dropin`\n# Save as /etc/systemd/system/upscaled.service.d/folders.conf\n[Service]\n";
  std::set<fs::path> seen;
  for (auto& d : dirs) {
    if (!seen.insert(d).second) continue;
    std::string q;
    for (char c : d.string()) {
      if (c == '%')
        q += "%%";
      else if (c == '"' || c == '\\')
        q += std::string("\\") + c;
      else
        q += c;
    }
    out += "ReadWritePaths=\"" + q + "\"\n";
  }
  return out;
}

const char* input_action_name(InputAction action) {
  switch (action) {
    case InputAction::keep:
      return "keep";
    case InputAction::move:
      return "move";
    case InputAction::remove:
      return "delete";
  }
  return "keep";
}

}  // namespace upscaled::service
