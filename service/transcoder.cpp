// Binds the service's TranscodeFn to the pipeline library (pipeline/transcode_job.h).
#include "core/log.h"
#include "pipeline/transcode_job.h"
#include "service/job_runner.h"

namespace upscaled::service {

pipeline::JobOptions transcode_options(const TranscodeRequest& req) {
  const WatchConfig& w = *req.watch;
  pipeline::JobOptions o;
  o.input = req.input;
  o.output = req.output;
  o.temp_dir = req.temp_dir;
  o.model.name = w.model;
  o.model.scale = w.scale;
  // A worker bound to GPU N runs the whole job there, unless the watch wants the CPU.
  o.model.device = req.gpu >= 0 && w.device != "cpu" ? "cuda:" + std::to_string(req.gpu) : w.device;
  if (const ServiceConfig* c = req.service) {
    o.model.gpu_memory_limit = static_cast<std::size_t>(c->gpu_memory_mb) * 1024 * 1024;
    o.model.gpu_memory_wait_seconds = c->gpu_memory_wait_seconds;
    o.model.gpu_jobs = c->jobs_per_gpu;
    // A GPU model's measured memory cost outlives the process, so a restarted service's
    // first job skips the measurement as a repeated `upscaled file` does.
    o.model.memory_cost_cache = c->state_dir / "memory-costs.json";
  }
  o.model.precision = w.precision;
  o.model.tile = w.tile;
  o.model.models_dir = w.models_dir;
  o.codec = w.codec;
  o.crf = w.crf;
  o.preset = w.preset;
  o.overwrite = false;
  o.models = req.models;
  if (req.on_progress) {
    o.on_progress = [cb = req.on_progress](const pipeline::Progress& p) {
      if (p.frames_total > 0)
        cb(std::min(1.0, static_cast<double>(p.frames_done) / static_cast<double>(p.frames_total)));
    };
  }
  return o;
}

TranscodeFn pipeline_transcoder() {
  return [](const TranscodeRequest& req, const pipeline::CancelToken& cancel) {
    const pipeline::JobResult r = pipeline::run_transcode(transcode_options(req), cancel);
    log::info(log::cat("'", req.input.string(), "': ", r.frames, " frames in ", r.seconds, " s, first frame after ",
                       r.first_frame_s, " s", r.model_reused ? " (model kept loaded from an earlier job)" : ""));
  };
}

}  // namespace upscaled::service
