// Runs the checks and decides the plan (doctor/doctor.h).
#include "doctor/doctor.h"

#include "core/log.h"
#include "core/step_timer.h"
#include "doctor/codec_cache.h"
#include "doctor/env_traps.h"
#include "doctor/ffmpeg_checks.h"
#include "doctor/model_check.h"
#include "doctor/plan.h"
#ifdef UPSCALED_DOCTOR_HAVE_TORCH
#include "model/torch_info.h"
#endif

#include <algorithm>
#include <chrono>

namespace upscaled::doctor {
namespace {

TorchFacts torch_facts(bool run_conv, int cuda_device) {
  TorchFacts t;
#ifdef UPSCALED_DOCTOR_HAVE_TORCH
  const auto info = model::query_torch_info();
  t.linked = true;
  t.version = info.version;
  t.built_with_cuda = info.built_with_cuda;
  t.cuda_version = info.cuda_version;
  t.cuda_available = info.cuda_available;
  t.device_count = info.device_count;
  t.cudnn_available = info.cudnn_available;
  t.cudnn_version = info.cudnn_version;
  t.error = info.error;
  if (run_conv && t.cuda_available) {
    // libtorch may see a GPU this binary's own kernels cannot use: prove it on GPU 0 then.
    const auto conv = model::run_torch_conv_probe(std::max(cuda_device, 0));
    t.conv_run = true;
    t.conv_ok = conv.ok;
    t.conv_device = conv.device;
    t.conv_cudnn = conv.used_cudnn;
    t.conv_error = conv.error;
  }
#else
  (void)run_conv;
  (void)cuda_device;
#endif
  return t;
}

// Codec probes from the cache file when it matches this driver, GPU and FFmpeg; probed
// (and stored) otherwise.
CodecProbes codec_probes(const DriverInfo& driver, const kernels::DeviceProbe& devices, int cuda_device,
                         const std::filesystem::path& cache_dir, bool read_cache) {
  CodecCacheKey key;
  key.driver_version = driver.driver_version;
  key.driver_cuda = driver.cuda_version;
  key.gpu = devices.devices.empty() ? "" : devices.devices.front().name;
  key.visible_devices = env_value("CUDA_VISIBLE_DEVICES").value_or("<unset>");
  key.cuda_device = cuda_device;
  const auto file = codec_cache_file(cache_dir);
  if (read_cache) {
    if (auto cached = load_codec_cache(file, key)) return *cached;
  }
  auto probes = probe_nv_codecs(cuda_device);
  // Without a driver the probes fail in microseconds: nothing worth caching.
  if (driver.libcuda_loaded && !store_codec_cache(file, key, probes))
    log::debug(log::cat("doctor: cannot write the codec probe cache ", file.string()));
  return probes;
}

void finish(Report& r, const StartupOptions& o) {
  r.require_gpu = o.require_gpu;
  r.can_run = true;
  for (const auto& c : r.checks) {
    if (c.blocking && c.status == Status::fail) {
      r.can_run = false;
      r.exit_code = c.group == "model" ? ErrorCode::model : ErrorCode::usage;
      r.verdict = "cannot run: " + c.summary;
      return;
    }
  }
  if (o.require_gpu && o.model.device == "cpu") {
    r.can_run = false;
    r.exit_code = ErrorCode::usage;
    r.verdict = "cannot run: --require-gpu contradicts --device cpu";
    return;
  }
  std::string fallbacks;
  for (const auto* s : r.plan.stages())
    if (s->fallback) fallbacks += (fallbacks.empty() ? "" : ", ") + s->stage;
  if (o.require_gpu && !fallbacks.empty()) {
    r.can_run = false;
    r.exit_code = ErrorCode::gpu_required;
    const StageDecision* first = nullptr;
    for (const auto* s : r.plan.stages())
      if (s->fallback && !first) first = s;
    r.verdict = "cannot run with --require-gpu: " + fallbacks + " would run on the CPU (" + first->reason + ")";
    return;
  }
  std::string where;
  for (const auto* s : r.plan.stages()) where += (where.empty() ? "" : ", ") + s->stage + " " + s->device;
  r.verdict = "can run: " + where + (fallbacks.empty() ? "" : " (CPU fallback for " + fallbacks + ")");
}

}  // namespace

Report run_checks(const StartupOptions& o, Depth depth) {
  const auto start = std::chrono::steady_clock::now();
  const bool full = depth == Depth::full;
  const bool gpu_wanted = o.model.device != "cpu";
  const bool classic = model::is_classic_model(o.model.name);
  Report r;
  StepTimer steps;  // where the check's time goes (--log-level debug)

  const DriverInfo driver = query_driver();
  steps.step("driver");
  // Startup touches only the GPU it will use; doctor probes them all. Without a driver the
  // runtime answers in microseconds, so the probe still runs and reports its own words.
  const kernels::DeviceProbe devices = kernels::probe_devices(full ? -1 : 1);
  steps.step("CUDA devices");
  const int cuda_device = !devices.devices.empty() && devices.devices.front().kernel_ok ? 0 : -1;
  const bool need_torch = full || (!classic && gpu_wanted);
  const TorchFacts torch = need_torch ? torch_facts(full, cuda_device) : TorchFacts{};
  steps.step("libtorch");

  r.checks.push_back(driver_check(driver, devices.runtime_version, torch.cuda_version));
  for (auto& c : gpu_checks(devices, driver)) r.checks.push_back(std::move(c));
  if (need_torch)
    for (auto& c : torch_checks(torch, driver)) r.checks.push_back(std::move(c));

  const auto cache_dir = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
  // Codec sessions need a GPU; at startup skip them entirely when there is none.
  std::optional<CodecProbes> codecs;
  if (full || (gpu_wanted && cuda_device >= 0))
    codecs = codec_probes(driver, devices, std::max(cuda_device, 0), cache_dir, o.use_cache && !full);
  if (codecs)
    for (auto& c : codec_checks(*codecs, driver)) r.checks.push_back(std::move(c));
  steps.step("codec probes");

  for (auto& c : ffmpeg_checks(o.encoder, o.input_codec)) r.checks.push_back(std::move(c));
  steps.step("FFmpeg");

  PlanInputs in;
  in.device = o.model.device;
  in.classic_model = classic;
  in.encoder = o.encoder;
  in.input_codec = o.input_codec;
  in.decode = o.decode;
  in.driver = &driver;
  in.devices = &devices;
  in.torch = &torch;
  in.codecs = codecs ? &*codecs : nullptr;
  r.plan = decide_plan(in);

  if (full) {
    model::ModelRequest req = o.model;
    req.device = r.plan.infer.gpu ? "cuda" : "cpu";
    r.checks.push_back(model_check(req));
  }

  r.checks.push_back(cuda_visible_devices_check(env_value("CUDA_VISIBLE_DEVICES"), driver.physical_gpus));
  r.checks.push_back(ld_library_path_check(env_value("LD_LIBRARY_PATH"), list_dir_names));
  const auto models_dir = o.model.models_dir.empty() ? model::default_models_dir() : o.model.models_dir;
  r.checks.push_back(folder_check("env.models_dir", "models", models_dir, "set UPSCALED_MODELS_DIR or --models-dir"));
  r.checks.push_back(folder_check("env.state_dir", "state", o.state_dir.empty() ? default_state_dir() : o.state_dir,
                                  "set UPSCALED_STATE_DIR or --state-dir"));
  r.checks.push_back(folder_check("env.cache_dir", "cache", cache_dir, "set UPSCALED_CACHE_DIR or --cache-dir"));

  finish(r, o);
  steps.step("the rest");
  r.steps = steps.text();
  r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return r;
}

StagePlan startup_check(const StartupOptions& options) {
  Report r = run_checks(options, Depth::startup);
  // On a machine without any NVIDIA driver the GPU lines all say the same thing: log the
  // driver line only, then the plan.
  const bool no_driver =
      !r.checks.empty() && r.checks.front().id == "driver" && !r.checks.front().details["loaded"].get<bool>();
  for (const auto& c : r.checks) {
    if (c.status == Status::ok) continue;
    if (no_driver && c.id != "driver" &&
        (c.group == "gpu" || c.group == "torch" || c.group == "nvdec" || c.group == "nvenc"))
      continue;
    const std::string line = log::cat(c.id, ": ", c.summary, c.action.empty() ? "" : " -> ", c.action);
    if (c.status == Status::fail)
      log::error(line);
    else
      log::warn(line);
  }
  log_plan(r.plan, false);
  log::debug(log::cat("startup check took ", r.elapsed_ms, " ms (", r.steps, ")"));
  if (!r.can_run) throw Error(r.exit_code, r.verdict);
  return r.plan;
}

}  // namespace upscaled::doctor
