// `upscaled file IN -o OUT`: one video or image, with a progress bar.
#include "app/command_registry.h"
#include "app/progress_printer.h"
#include "app/signal_forwarder.h"
#include "core/error.h"
#include "core/log.h"
#include "io/encoder_select.h"
#include "model/gpu_library_prefetch.h"
#include "pipeline/duplicate_skipper.h"
#include "pipeline/frame_upscaler.h"
#include "pipeline/transcode_job.h"
#ifdef HAVE_UPSCALED_DOCTOR
#include "doctor/doctor.h"
#include "doctor/env_traps.h"
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>

namespace upscaled::app {
namespace {

struct FileArgs {
  pipeline::JobOptions job;
  std::string size;
  std::string fit = "stretch";
  std::string pre_resize = "auto";
  std::string skip_duplicates;  // the threshold's text when --skip-duplicates was given
  CLI::Option* skip_option = nullptr;
  bool no_progress = false;
  bool stats = false;
  bool require_gpu = false;
};

std::pair<int, int> parse_size(const std::string& text) {
  static const std::regex re(R"((\d+)[xX](\d+))");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw Error(ErrorCode::usage, "--size '" + text + "': expected WxH, e.g. 1920x1080");
  return {std::stoi(m[1]), std::stoi(m[2])};
}

// --skip-duplicates[=T] is a CLI11 flag: its value comes only from the "=T" form (a bare
// flag gives the default), so a following input path is never taken for a threshold.
double parse_threshold(const std::string& text) {
  std::size_t used = 0;
  double t = -1;
  try {
    t = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(t > 0 && t < 1))
    throw Error(ErrorCode::usage, "--skip-duplicates=" + text +
                                      ": expected a mean luma difference above 0 and below 1, e.g. "
                                      "--skip-duplicates=0.002");
  return t;
}

int run_file(FileArgs& a) {
  // First, before the startup check creates the CUDA context (the driver starts threads):
  // threads inherit the blocked SIGINT/SIGTERM, so a signal reaches the forwarder and becomes
  // a clean cancel instead of killing the process with its temporary output in place.
  pipeline::CancelToken cancel;
  SignalForwarder signals(cancel);
  if (!a.size.empty()) a.job.geometry.size = parse_size(a.size);
  a.job.geometry.fit = pipeline::parse_fit(a.fit);
  a.job.geometry.pre_resize = a.pre_resize == "auto";
  if (a.skip_option->count() > 0) a.job.skip_duplicates = parse_threshold(a.skip_duplicates);
  pipeline::check_job_paths(a.job);
  // Beside the startup check: cuDNN's libraries read in before the network's first use.
  const model::GpuLibraryPrefetch prefetch(a.job.model.device != "cpu" && !model::is_classic_model(a.job.model.name));
  // The GPU's one-off set-up (libtorch's CUDA state, cuDNN's, the frame path's kernels) starts
  // now, beside the startup check, which itself spends most of its time waiting for the
  // driver; the job then finds it done or nearly so. UPSCALED_EARLY_WARMUP=0 leaves it to the
  // job (comparisons).
  if (const char* env = std::getenv("UPSCALED_EARLY_WARMUP"); !env || std::string(env) != "0")
    a.job.warm_up = std::make_shared<model::DeviceWarmUp>(a.job.model, pipeline::preload_gpu_frame_kernels);
#ifdef HAVE_UPSCALED_DOCTOR
  // The same checks as `upscaled doctor`, quiet unless something is wrong; one line per
  // stage decision; --require-gpu turns a CPU fallback into exit code 7.
  doctor::StartupOptions startup;
  startup.model = a.job.model;
  startup.encoder = io::encoder_candidates(a.job.codec, a.job.encode).front();  // NVENC when it is tried
  startup.decode = a.job.decode;
  startup.require_gpu = a.require_gpu;
  doctor::startup_check(startup);
  // Next to the codec probe cache: a GPU model's measured memory cost, so the next run of the
  // same model skips the measurement (core/memory_cost_cache.h). UPSCALED_MEMORY_COST_CACHE=0
  // measures every time (comparisons).
  if (const char* env = std::getenv("UPSCALED_MEMORY_COST_CACHE"); !env || std::string(env) != "0")
    a.job.model.memory_cost_cache = doctor::default_cache_dir() / "memory-costs.json";
#else
  if (a.require_gpu) throw Error(ErrorCode::gpu_required, "--require-gpu: this build has no environment checks");
#endif
  ProgressPrinter printer(!global_options().quiet && !a.no_progress);
  a.job.on_progress = [&](const pipeline::Progress& p) { printer.update(p); };
  try {
    const auto job_start = std::chrono::steady_clock::now();
    const pipeline::JobResult r = pipeline::run_transcode(a.job, cancel);
    // What follows the job's clock: its stages, pools and model released (debug only).
    log::debug(log::cat("job returned ",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count() - r.seconds,
                        " s after its clock stopped (resources released)"));
    printer.finish();
    log::info(log::cat("wrote '", a.job.output.string(), "': ", r.frames, " frames at ", r.width, "x", r.height, " in ",
                       static_cast<int>(r.seconds * 10) / 10.0, " s (", r.model, ")"));
    if (a.stats) std::fputs(pipeline::format_stage_stats(r).c_str(), stderr);
    // The output is committed and every job resource released: what is left is the
    // process's own teardown.
    global_options().exit_without_teardown = true;
    return 0;
  } catch (...) {
    printer.finish();
    throw;
  }
}

const CommandRegistration registration{
    10, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto args = std::make_shared<FileArgs>();
      auto& j = args->job;
      CLI::App* sub = root.add_subcommand("file", "upscale one video or image file");
      sub->add_option("input", j.input, "input video or image")->required();
      sub->add_option("-o,--output", j.output, "output file (.mp4, .mkv, .webm, .mov, .png, .jpg)")->required();
      sub->add_option("-m,--model", j.model.name,
                      "model name (see `upscaled models list`), a model file, or lanczos/bicubic/bilinear")
          ->capture_default_str();
      sub->add_option("--models-dir", j.model.models_dir,
                      "where fetched models live (default: $UPSCALED_MODELS_DIR or ~/.cache/upscaled/models)");
      sub->add_option("-s,--scale", j.model.scale, "scale factor (model's own when omitted)")
          ->check(CLI::IsMember({0, 2, 3, 4, 8}));
      sub->add_option("--outscale", j.geometry.outscale,
                      "final size = input x F (e.g. 1.5); the model runs at -s or the smallest scale >= F");
      sub->add_option("--size", args->size, "exact output size WxH (see --fit)");
      sub->add_option("--fit", args->fit,
                      "with --size: stretch (keep display aspect through the pixel aspect), pad (black bars) or "
                      "crop (fill and cut the edges)")
          ->check(CLI::IsMember({"stretch", "pad", "crop"}))
          ->capture_default_str();
      sub->add_option("--pre-resize", args->pre_resize,
                      "auto: shrink the input before the network when the output needs less than input x scale")
          ->check(CLI::IsMember({"auto", "never"}))
          ->capture_default_str();
      sub->add_flag("--grayscale", j.grayscale, "monochrome output: R = G = B = luma, chroma exactly neutral");
      // "{T}": the value of a bare --skip-duplicates (CLI11's flag default).
      args->skip_option = sub->add_flag(
          "--skip-duplicates{" + std::to_string(pipeline::kDefaultDuplicateThreshold) + "}", args->skip_duplicates,
          "[=THRESHOLD] reuse the previous picture for frames whose 64x36 luma thumbnail differs by less than "
          "THRESHOLD (mean absolute difference, 0..1; default 0.002) from the last upscaled one");
      sub->add_option("--codec", j.codec, "video codec (h264, hevc, av1) or encoder (libx264, h264_nvenc, ...)")
          ->check(CLI::IsMember({"libx264", "libx265", "h264", "hevc", "av1", "h264_nvenc", "hevc_nvenc", "av1_nvenc",
                                 "libsvtav1", "libaom-av1"}))
          ->capture_default_str();
      sub->add_option("--decode", j.decode, "video decoding: NVDEC when the GPU path runs (auto), cpu, or nvdec")
          ->check(CLI::IsMember({"auto", "cpu", "nvdec"}))
          ->capture_default_str();
      sub->add_option("--encode", j.encode, "video encoding: NVENC then CPU (auto), cpu, or nvenc")
          ->check(CLI::IsMember({"auto", "cpu", "nvenc"}))
          ->capture_default_str();
      sub->add_option("--crf", j.crf, "encoder quality (lower is better)")
          ->check(CLI::Range(0, 51))
          ->capture_default_str();
      sub->add_option("--preset", j.preset, "encoder preset (ultrafast ... veryslow)")->capture_default_str();
      sub->add_flag("--overwrite", j.overwrite, "replace OUT if it exists");
      sub->add_option("--device", j.model.device, "where the model runs")
          ->check(CLI::IsMember(
              {"auto", "cpu", "cuda", "cuda:0", "cuda:1", "cuda:2", "cuda:3", "cuda:4", "cuda:5", "cuda:6", "cuda:7"}))
          ->capture_default_str();
      sub->add_option("--precision", j.model.precision, "network precision on the GPU")
          ->check(CLI::IsMember({"auto", "fp32", "fp16", "bf16"}))
          ->capture_default_str();
      sub->add_option("--tile", j.model.tile, "tile size in input pixels (0 = whole frame)")
          ->check(CLI::NonNegativeNumber);
      sub->add_option("--tile-overlap", j.model.tile_overlap, "tile overlap in input pixels")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub->add_option("--batch", j.model.batch, "frames per network call (0 = model's choice)")
          ->check(CLI::NonNegativeNumber);
      sub->add_option("--queue-capacity", j.queue_capacity, "frames held between two stages")
          ->check(CLI::Range(1, 1024))
          ->capture_default_str();
      sub->add_option("--batch-queue", j.batch_queue, "batches held between two GPU upscale stages")
          ->check(CLI::Range(1, 16))
          ->capture_default_str();
      sub->add_flag("--no-progress", args->no_progress, "no progress bar or progress log lines");
      sub->add_flag("--stats", args->stats, "print per-stage busy and waiting time at the end");
      sub->add_flag("--require-gpu", args->require_gpu, "fail (exit 7) instead of falling back to the CPU");
      return {sub, [args] { return run_file(*args); }};
    }};

}  // namespace
}  // namespace upscaled::app
