// The service's configuration: one TOML file (default /etc/upscaled/upscaled.toml).
//
// Contract: load_config() is synchronous and pure (reads the file, touches nothing else).
// Every key is documented in config/upscaled.toml. Unknown keys, wrong types and bad values
// throw upscaled::Error(ErrorCode::usage) with one line "<file>:<line>: key '<key>': <why>".
// The result is an immutable value; SIGHUP builds a new one and swaps it in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::service {

inline constexpr const char* kDefaultConfigPath = "/etc/upscaled/upscaled.toml";

enum class InputAction { keep, move, remove };  // TOML: "keep", "move", "delete"

// One watched input folder and what to do with the files found in it.
struct WatchConfig {
  std::filesystem::path input;       // watched folder (absolute)
  std::filesystem::path output;      // where outputs land (absolute, not inside `input`'s files)
  std::filesystem::path done_dir;    // where inputs go after success when on_done = move
  std::filesystem::path failed_dir;  // where poison inputs go, with <name>.error.txt beside
  bool recursive = true;
  InputAction on_done = InputAction::keep;
  std::vector<std::string> extensions;  // lower case, no dot; empty = any name
  std::string output_extension = "mkv";
  std::string output_suffix;  // appended to the input's stem
  // Job settings, passed to the pipeline.
  std::string model = "lanczos";
  int scale = 2;
  std::string device = "auto";
  std::string precision = "auto";
  int tile = 0;
  std::filesystem::path models_dir;
  std::string codec = "libx264";
  int crf = 18;
  std::string preset = "medium";
};

struct ServiceConfig {
  std::filesystem::path source;  // the file it came from (for messages)
  std::filesystem::path state_dir = "/var/lib/upscaled";
  std::filesystem::path journal;  // default <state_dir>/journal.sqlite3
  double settle_seconds = 5.0;
  double rescan_interval_seconds = 300.0;
  double stop_timeout_seconds = 30.0;
  int max_attempts = 3;
  double retry_delay_seconds = 30.0;
  double transient_backoff_seconds = 30.0;
  double transient_backoff_max_seconds = 900.0;
  std::vector<int> gpus;  // GPU indices; empty = let the pipeline choose
  int jobs_per_gpu = 1;
  // Device memory the service's jobs may plan for on each GPU together, in MiB (0 = 90% of
  // what is free when the first job starts), and how long a job waits for another job's
  // memory before it is retried later as a transient failure.
  int gpu_memory_mb = 0;
  double gpu_memory_wait_seconds = 300.0;
  // Keep each job's model loaded for the next job with the same model settings (no model
  // load, no GPU first-run set-up per file); idle models hold no memory reservation but keep
  // their weights and libtorch's cached GPU memory.
  bool keep_models = true;
  std::vector<WatchConfig> watches;

  // Worker threads: jobs_per_gpu per listed GPU (one GPU's worth when none is listed).
  int workers() const { return jobs_per_gpu * static_cast<int>(gpus.empty() ? 1 : gpus.size()); }
  std::filesystem::path journal_path() const { return journal.empty() ? state_dir / "journal.sqlite3" : journal; }
};

ServiceConfig load_config(const std::filesystem::path& file);
// Parses TOML text; `source` names it in error messages.
ServiceConfig parse_config(std::string_view text, const std::filesystem::path& source);

const char* input_action_name(InputAction action);

// A systemd drop-in ("[Service]" + one ReadWritePaths= per folder the configuration writes
// to: state, journal, inputs, outputs, done and failed folders) for ProtectSystem=strict.
// Paths are quoted and '%' escaped as systemd.unit(5) wants.
std::string systemd_dropin(const ServiceConfig& config);

}  // namespace upscaled::service
