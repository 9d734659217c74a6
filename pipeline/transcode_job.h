// One upscaling job: input file -> upscaled output file, every other stream copied.
//
// Contract: run_transcode() is synchronous and runs the whole pipeline on its own threads
// (demux, decode, upscale, encode, mux), joined by bounded queues. The output is written to
// a temporary name in the output's folder and renamed into place only when complete; on
// any failure nothing is left at `output` and the input is never touched. Throws
// upscaled::Error (one line naming the file and the problem) or upscaled::Cancelled when
// `cancel` was requested. Safe to call from several threads for different jobs.
#pragma once

#include "model/model_loader.h"
#include "model/upscaler_cache.h"
#include "pipeline/cancel_token.h"
#include "pipeline/frame_geometry.h"
#include "pipeline/stage_group.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::pipeline {

struct Progress {
  std::int64_t frames_done = 0;
  std::int64_t frames_total = 0;  // estimate from the container; 0 when unknown
  double elapsed_s = 0;
  double fps = 0;
};

struct JobOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  model::ModelRequest model;      // model.scale is the wanted scale factor
  GeometryOptions geometry;       // --outscale, --size, --fit, --pre-resize
  bool grayscale = false;         // --grayscale
  double skip_duplicates = 0;     // --skip-duplicates threshold (mean abs luma difference); 0 = off
  std::string codec = "libx264";  // libx264 | libx265 | h264 | hevc | av1 | *_nvenc (video outputs)
  std::string decode = "auto";    // auto | cpu | nvdec (pipeline/nvdec_session.h)
  std::string encode = "auto";    // auto | cpu | nvenc (io/encoder_select.h)
  int crf = 18;
  std::string preset = "medium";
  bool overwrite = false;
  int queue_capacity = 8;  // frames per queue between stages
  int batch_queue = 1;     // batches per queue between the GPU path's upscale stages
  // Where the output is staged before the final rename; empty = the output's folder.
  std::filesystem::path temp_dir;
  // Called from the pipeline's threads about every 0.5 s and once at the end.
  std::function<void(const Progress&)> on_progress;
  // Models kept loaded between jobs (the service): the job borrows its model there and
  // gives it back when it succeeds. Null: the job loads its own.
  model::UpscalerCache* models = nullptr;
  // A GPU warm-up the caller started earlier for `model` (the CLI: before its startup check,
  // beside the driver's set-up). The job waits for it instead of starting its own; one whose
  // request names another model or device is ignored. Null: the job starts its own.
  std::shared_ptr<model::DeviceWarmUp> warm_up;
};

struct JobResult {
  std::int64_t frames = 0;
  int width = 0;  // output video size
  int height = 0;
  double seconds = 0;
  std::string model;                // Upscaler::describe()
  std::int64_t skipped_frames = 0;  // --skip-duplicates: frames that repeated the previous picture
  int network_width = 0;            // what the network was fed (smaller than the input when
  int network_height = 0;           // pre-resized)
  std::vector<StageStats> stages;   // in pipeline order
  // Seconds from the job's start to the first and the last frame reaching the encoder: the
  // steady-state rate leaves out start-up (model load, prepare) and the pipeline's fill.
  double first_frame_s = 0;
  double last_frame_s = 0;
  // The set-up before the pipeline's threads start, in order: what each step took (seconds).
  std::vector<std::pair<std::string, double>> startup;
  bool model_reused = false;  // the model came loaded from JobOptions::models
};

// A table of per-stage busy and waiting time, naming the bottleneck (--stats).
std::string format_stage_stats(const JobResult& result);

JobResult run_transcode(const JobOptions& options, const CancelToken& cancel = CancelToken());

// Checks a job's options without running it (the same checks run_transcode starts with):
// input readable, output not the input, output folder writable, output absent or overwrite.
void check_job_paths(const JobOptions& options);

}  // namespace upscaled::pipeline
