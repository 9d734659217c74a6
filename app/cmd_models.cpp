// `upscaled models list | fetch NAME | verify [NAME]`: the registry as a user sees it
// (docs/models-registry.md). Errors leave as upscaled::Error(ErrorCode::model), exit code 6.
#include "app/command_registry.h"
#include "core/error.h"
#include "model/fetch.h"
#include "model/model_loader.h"
#include "model/registry.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace upscaled::app {
namespace {
namespace fs = std::filesystem;
using model::Registry;
using model::RegistryModel;

struct ModelsOptions {
  std::string models_dir;  // empty = model::default_models_dir()
  bool json = false;
  std::string name;
  std::vector<int> scales;
  bool all_scales = false, allow_unverified = false, force = false;
};

fs::path models_dir_of(const ModelsOptions& o) {
  return o.models_dir.empty() ? model::default_models_dir() : fs::path(o.models_dir);
}

std::string join(const std::vector<int>& v, const char* sep = ",") {
  std::string out;
  for (int s : v) out += (out.empty() ? "" : sep) + std::to_string(s);
  return out;
}

std::vector<int> installed_scales(const RegistryModel& m, const fs::path& dir) {
  std::vector<int> out;
  for (const auto& v : m.variants)
    if (model::variant_present(v, dir)) out.push_back(v.scale);
  return out;
}

int run_list(const ModelsOptions& o) {
  const Registry reg = model::load_registry();
  const fs::path dir = models_dir_of(o);
  if (o.json) {
    nlohmann::json out = {
        {"registry", reg.file.string()}, {"models_dir", dir.string()}, {"default_model", reg.default_model}};
    out["models"] = nlohmann::json::array();
    for (const auto& m : reg.models)
      out["models"].push_back(
          {{"name", m.name},
           {"architecture", m.architecture},
           {"format", m.format},
           {"scales", m.scales()},
           {"default_scale", m.default_scale},
           {"installed_scales", installed_scales(m, dir)},
           {"default", m.name == reg.default_model},
           {"license", m.license},
           {"source", m.source.kind == model::SourceKind::npm ? m.source.package + "@" + m.source.version
                                                              : m.variants.front().files.front().url},
           {"description", m.description}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%-22s %-25s %-9s %-10s %-13s %s\n", "NAME", "ARCHITECTURE", "SCALES", "INSTALLED", "LICENSE", "SOURCE");
  for (const auto& m : reg.models) {
    const auto inst = installed_scales(m, dir);
    const std::string name = m.name + (m.name == reg.default_model ? " *" : "");
    const std::string source = m.source.kind == model::SourceKind::npm
                                   ? "npm " + m.source.package + "@" + m.source.version
                                   : "url " + m.source.release;
    std::printf("%-22s %-25s %-9s %-10s %-13s %s\n", name.c_str(), m.architecture.c_str(), join(m.scales()).c_str(),
                inst.empty() ? "-" : join(inst).c_str(), m.license.c_str(), source.c_str());
  }
  std::printf("\n* default model. Models folder: %s\n", dir.string().c_str());
  return 0;
}

int run_fetch(const ModelsOptions& o) {
  const Registry reg = model::load_registry();
  const RegistryModel& m = reg.get(o.name);
  model::FetchOptions fo;
  fo.scales = o.scales;
  fo.all_scales = o.all_scales;
  fo.allow_unverified = o.allow_unverified;
  fo.force = o.force;
  const bool quiet = global_options().quiet;
  fo.progress = [quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "upscaled: %s\n", line.c_str());
  };
  const auto r = model::fetch_model(m, models_dir_of(o), fo);
  std::printf("%s: installed %s, already present %s\n", m.name.c_str(),
              r.installed.empty() ? "none" : ("x" + join(r.installed, " x")).c_str(),
              r.present.empty() ? "none" : ("x" + join(r.present, " x")).c_str());
  return 0;
}

// Re-hashes every installed file (of one model or all); a variant with no file present is
// "not fetched" and not an error unless that model was named and none of it is installed.
int run_verify(const ModelsOptions& o) {
  const Registry reg = model::load_registry();
  const fs::path dir = models_dir_of(o);
  std::vector<const RegistryModel*> models;
  if (!o.name.empty())
    models.push_back(&reg.get(o.name));
  else
    for (const auto& m : reg.models) models.push_back(&m);

  int bad = 0, good = 0;
  for (const auto* m : models) {
    int present_variants = 0;
    for (const auto& v : m->variants) {
      std::vector<model::FileCheck> checks;
      bool any = false;
      for (const auto& f : v.files) {
        checks.push_back(model::check_file(f, dir, true));
        any |= checks.back().state != model::FileState::missing;
      }
      const std::string label = m->name + " x" + std::to_string(v.scale);
      if (!any) continue;
      ++present_variants;
      bool ok = true;
      for (const auto& c : checks)
        if (c.state != model::FileState::ok) {
          ok = false;
          std::printf("FAIL %-24s %s: %s\n", label.c_str(), c.path.string().c_str(), c.describe().c_str());
        }
      if (ok) std::printf("ok   %-24s %zu file(s)\n", label.c_str(), checks.size());
      ok ? ++good : ++bad;
      if (!ok) std::printf("     reinstall with: %s --force\n", model::fetch_command(*m, v.scale, dir).c_str());
    }
    if (present_variants == 0 && !o.name.empty())
      throw Error(ErrorCode::model, (dir / m->name).string() + ": model '" + m->name +
                                        "' is not fetched; run: " + model::fetch_command(*m, m->default_scale, dir));
  }
  std::printf("%d variant(s) verified, %d failed (models folder %s)\n", good, bad, dir.string().c_str());
  if (bad > 0)
    throw Error(ErrorCode::model,
                dir.string() + ": " + std::to_string(bad) + " installed model variant(s) failed verification");
  return 0;
}

const CommandRegistration reg{
    70, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto opts = std::make_shared<ModelsOptions>();
      auto* models = root.add_subcommand("models", "list, fetch and verify the registry's upscaling models");
      models->require_subcommand(1);
      auto add_dir = [&](CLI::App* sub) {
        sub->add_option("--models-dir", opts->models_dir,
                        "models folder (default: $UPSCALED_MODELS_DIR or ~/.cache/upscaled/models)");
        sub->fallthrough();
      };
      auto* list =
          models->add_subcommand("list", "every model in the registry, with installed scales and the default (*)");
      list->add_flag("--json", opts->json, "machine-readable output");
      add_dir(list);

      auto* fetch = models->add_subcommand("fetch", "download a model, check its checksums, install it");
      fetch->add_option("name", opts->name, "model name (see `upscaled models list`)")->required();
      fetch->add_option("--scale", opts->scales, "scale to install (repeatable); default: the registry's fetch_scales");
      fetch->add_flag("--all-scales", opts->all_scales, "install every scale the model has");
      fetch->add_flag("--allow-unverified", opts->allow_unverified, "accept files the registry has no sha256 for");
      fetch->add_flag("--force", opts->force, "reinstall even if installed and verified");
      add_dir(fetch);

      auto* verify = models->add_subcommand("verify", "re-hash installed model files; exit 6 on any mismatch");
      verify->add_option("name", opts->name, "only this model");
      add_dir(verify);

      return {models, [opts, list, fetch, verify]() -> int {
                if (list->parsed()) return run_list(*opts);
                if (fetch->parsed()) return run_fetch(*opts);
                if (verify->parsed()) return run_verify(*opts);
                return static_cast<int>(ErrorCode::usage);
              }};
    }};

}  // namespace
}  // namespace upscaled::app
