// `upscaled doctor`: checks the driver, GPUs, libtorch, NVDEC/NVENC, FFmpeg, the model and
// the environment, prints what it found (a table, or JSON with --json) and the GPU/CPU
// decision per stage. Exits 0 when the chosen mode can run; otherwise with the code of
// the first blocking problem (6 model, 2 configuration, 7 --require-gpu with a fallback).
#include "app/command_registry.h"

#ifdef HAVE_UPSCALED_DOCTOR
#include "doctor/doctor.h"
#include "doctor/report_output.h"

#include <cstdio>
#include <memory>

namespace upscaled::app {
namespace {

struct DoctorOptions {
  doctor::StartupOptions startup;
  bool json = false;
  bool quick = false;
};

int run_doctor(const DoctorOptions& o) {
  const auto report = doctor::run_checks(o.startup, o.quick ? doctor::Depth::startup : doctor::Depth::full);
  const std::string text = o.json ? doctor::report_json(report).dump(2) + "\n" : doctor::report_table(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return static_cast<int>(report.exit_code);
}

const CommandRegistration reg{
    80, [](CLI::App& root) {
      auto opts = std::make_shared<DoctorOptions>();
      auto* sub = root.add_subcommand("doctor", "Check the GPU, driver, libtorch, codecs, model and environment");
      auto& s = opts->startup;
      sub->add_flag("--json", opts->json, "print the report as JSON (schema upscaled.doctor/1, docs/doctor.md)");
      sub->add_flag("--require-gpu", s.require_gpu, "fail (exit 7) when any stage would fall back to the CPU");
      sub->add_flag("--quick", opts->quick, "only the start-up checks (cached codec probes, no model run)");
      sub->add_option("-m,--model", s.model.name, "model name or path to check")->capture_default_str();
      sub->add_option("--scale", s.model.scale, "scale the model is loaded for (0 = its own)");
      sub->add_option("--device", s.model.device, "auto, cpu or cuda")
          ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
          ->capture_default_str();
      sub->add_option("--models-dir", s.model.models_dir,
                      "models folder (default: UPSCALED_MODELS_DIR or ~/.cache/upscaled/models)");
      sub->add_option("-c,--codec", s.encoder,
                      "video encoder the jobs will use (libx264, libx265, h264_nvenc, hevc_nvenc, av1_nvenc)")
          ->capture_default_str();
      sub->add_option("--input-codec", s.input_codec,
                      "video codec of the input (FFmpeg name, e.g. h264) for the decode decision");
      sub->add_option("--state-dir", s.state_dir,
                      "state folder (default: UPSCALED_STATE_DIR or ~/.local/state/upscaled)");
      sub->add_option("--cache-dir", s.cache_dir, "cache folder (default: UPSCALED_CACHE_DIR or ~/.cache/upscaled)");
      return std::pair<CLI::App*, CommandRun>{sub, [opts] { return run_doctor(*opts); }};
    }};

}  // namespace
}  // namespace upscaled::app
#endif
