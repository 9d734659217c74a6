// The environment check: what `upscaled doctor` prints and what `file` and `serve` run
// at start. Decides, per pipeline stage, GPU or CPU.
//
// Contract: all functions are synchronous and may be called from any thread, though not
// concurrently with FFmpeg work that installs its own av_log callback (codec_probe.h).
// startup_check() logs one line per stage decision and one per problem, and costs a few
// milliseconds without a GPU; with one it creates the CUDA context of the chosen GPU
// (which the pipeline then reuses) and reads the codec probes from the cache file
// (<cache_dir>/doctor-codecs.json; a miss opens the NVDEC/NVENC sessions once, about
// 0.1-0.5 s, and writes the file). Neither function throws for a missing GPU: that is a CPU
// plan. startup_check() throws Error(gpu_required) when require_gpu and a stage would run
// on the CPU.
#pragma once

#include "core/error.h"
#include "doctor/check.h"
#include "model/model_loader.h"

#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::doctor {

struct StartupOptions {
  model::ModelRequest model;        // name, device (auto | cpu | cuda), models_dir
  std::string encoder = "libx264";  // libx264 | libx265 | h264_nvenc | hevc_nvenc | av1_nvenc
  std::string input_codec;          // FFmpeg name of the input's video codec ("h264"); empty = unknown
  std::string decode = "auto";      // --decode: auto | cpu | nvdec
  bool require_gpu = false;         // any CPU fallback is an error (ErrorCode::gpu_required)
  std::filesystem::path state_dir;  // empty = default_state_dir()
  std::filesystem::path cache_dir;  // empty = default_cache_dir(); holds the codec probe cache
  bool use_cache = true;            // false: always open the codec sessions again
};

struct StageDecision {
  std::string stage;   // decode | preprocess | infer | encode
  std::string device;  // decode: nvdec|cpu; preprocess, infer: cuda|cpu; encode: nvenc|cpu
  bool gpu = false;
  bool fallback = false;  // the GPU was wanted but cannot be used: CPU instead
  std::string reason;     // one line: why
};

struct StagePlan {
  StageDecision decode, preprocess, infer, encode;
  int cuda_device = -1;                   // GPU the GPU stages use; -1 = none
  std::vector<std::string> nvdec_codecs;  // FFmpeg codec names NVDEC opened a session for
  std::string encoder;                    // FFmpeg encoder to use ("h264_nvenc" or "libx264")

  std::vector<const StageDecision*> stages() const { return {&decode, &preprocess, &infer, &encode}; }
  bool any_fallback() const;
  bool nvdec_supports(const std::string& codec) const;
};

struct Report {
  std::vector<Check> checks;
  StagePlan plan;
  bool require_gpu = false;
  bool can_run = false;                 // the chosen mode can run
  ErrorCode exit_code = ErrorCode::ok;  // what `upscaled doctor` exits with
  std::string verdict;                  // one line
  double elapsed_ms = 0;
  std::string steps;  // the check's steps and their host time, for a debug line
};

enum class Depth {
  startup,  // what startup_check() runs: no model load, no torch convolution, codec cache used
  full,     // `upscaled doctor`: every check, all GPUs, the model runs one tile
};

Report run_checks(const StartupOptions& options, Depth depth);

// The check `file` and `serve` run before their first job. Returns the plan; logs each
// decision (info) and each non-ok check (warn) unless all is well. Throws
// Error(ErrorCode::gpu_required, ...) when options.require_gpu and the plan has a fallback.
StagePlan startup_check(const StartupOptions& options);

}  // namespace upscaled::doctor
