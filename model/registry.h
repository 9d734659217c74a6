// The model registry: models/registry.json names every model `upscaled models` can fetch
// (architecture, scales, source, per-file sha256 and size, license) and which one is the
// default. This header loads and validates it and turns a model name + scale into
// verified files in the models folder.
//
// Contract: torch-free, synchronous, no global state (the registry file is small and is
// read on every call, so $UPSCALED_REGISTRY changes are seen at once). Paths in the
// registry are relative to the models folder ('/'-separated, no "..", no absolute paths).
// Every function throws upscaled::Error(ErrorCode::model) with one line naming the file and
// the problem. A checksum is never guessed: a file whose sha256 is unknown has an empty
// `sha256`, and resolve_model() refuses it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace upscaled::model {

struct ModelFile {
  std::string path;          // relative to the models folder, e.g. "esrgan-slim/x2/model.json"
  std::string sha256;        // 64 lowercase hex; empty = unknown (fetch needs --allow-unverified)
  std::uint64_t size = 0;    // bytes; 0 = unknown
  std::string url;           // url sources: published download address
  std::string archive_path;  // npm sources: member inside the package tarball
};

struct ModelVariant {
  int scale = 0;
  std::string entry;  // the file a loader opens (model.json, .pth); one of `files`
  std::vector<ModelFile> files;
};

enum class SourceKind { npm, url };

struct ModelSource {
  SourceKind kind = SourceKind::npm;
  std::string package, version, integrity, tarball;  // npm: name, version, sha512 SRI, tarball URL
  std::string release, checksum_provenance;          // url: release page, where the sha256 came from
};

struct RegistryModel {
  std::string name, description, architecture, format, license;
  int default_scale = 0;          // used when the caller asks for scale 0
  std::vector<int> fetch_scales;  // what `models fetch NAME` installs without --scale
  ModelSource source;
  std::vector<ModelVariant> variants;  // one per scale, ascending

  std::vector<int> scales() const;
  const ModelVariant* variant(int scale) const;  // nullptr if the model has no such scale
};

struct Registry {
  std::filesystem::path file;  // where it was loaded from (for messages)
  std::string default_model;
  std::vector<RegistryModel> models;

  const RegistryModel* find(std::string_view name) const;
  // Throws Error(model) "model 'x' is not in the registry (<file>); known: a, b, ...".
  const RegistryModel& get(std::string_view name) const;
};

// $UPSCALED_REGISTRY, else <executable>/../share/upscaled/models/registry.json (installed),
// else <source tree>/models/registry.json. Throws if none exists.
std::filesystem::path registry_path();

// Parses and validates (required fields, hex checksums, safe paths, unique names and scales,
// default model present). Throws Error(model) naming the file and the offending entry.
Registry load_registry(const std::filesystem::path& file);
Registry load_registry();  // load_registry(registry_path())

// The model `upscaled file` uses when none is named (the registry's "default_model").
std::string default_model_name();

// The exact command that installs `scale` of `model` into `models_dir` (a --models-dir
// argument is added when models_dir is not default_models_dir()).
std::string fetch_command(const RegistryModel& model, int scale, const std::filesystem::path& models_dir);

// ---- checking installed files
enum class FileState { ok, missing, size_mismatch, checksum_mismatch, unknown_checksum };

struct FileCheck {
  std::filesystem::path path;  // absolute location in the models folder
  FileState state = FileState::missing;
  std::string expected, actual;  // sha256 (or size) for mismatches
  std::string describe() const;  // e.g. "sha256 mismatch (expected ab.., got cd..)"
};

// hash=false checks presence and size only (cheap, for `models list`).
FileCheck check_file(const ModelFile& file, const std::filesystem::path& models_dir, bool hash);
// True when every file of the variant is present with the registry's size (no hashing).
bool variant_present(const ModelVariant& variant, const std::filesystem::path& models_dir);

// ---- resolving a name for the loader
struct ResolvedModel {
  std::string name, architecture, format;  // format: "tfjs-layers" | "pth" (registry's words)
  int scale = 0;
  std::filesystem::path path;                // the entry file (model.json or .pth), absolute
  std::vector<std::filesystem::path> files;  // every file of the variant, all verified
};

// Looks `name` up in the registry, picks `scale` (0 = the model's default_scale), and
// checks each file's size and sha256 against the registry before returning (about 30 ms
// for 29 MB on the development machine; see docs/models-registry.md). Throws
// Error(ErrorCode::model) with one line naming the file and the problem: unknown model,
// unsupported scale, not fetched (with the exact `upscaled models fetch` command),
// truncated, checksum mismatch (expected vs got), or no checksum in the registry.
ResolvedModel resolve_model(const std::string& name, int scale, const std::filesystem::path& models_dir);
ResolvedModel resolve_model(const Registry& registry, const std::string& name, int scale,
                            const std::filesystem::path& models_dir);

}  // namespace upscaled::model
