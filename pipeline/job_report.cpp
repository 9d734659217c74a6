// The end-of-job report behind --stats (format_stage_stats, contract in transcode_job.h):
// per-stage wall, busy and wait times, the busiest stage named, the whole job's and the steady
// state's rates, and where the start-up went.
#include "pipeline/transcode_job.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace upscaled::pipeline {

std::string format_stage_stats(const JobResult& r) {
  std::ostringstream out;
  // busy: the thread's own work, or for a stage that queues GPU work without waiting for it
  // (the GPU path's infer) that work's device time, whichever is longer; gpu s shows the latter.
  out << "stage         wall s   busy s  busy %  wait-in s  wait-out s   gpu s\n";
  const StageStats* bottleneck = nullptr;
  for (const StageStats& s : r.stages) {
    char line[192];
    const double pct = s.wall_s > 0 ? 100.0 * s.busy_s() / s.wall_s : 0;
    char gpu[16] = "      -";
    if (s.device_s > 0) std::snprintf(gpu, sizeof gpu, "%7.2f", s.device_s);
    std::snprintf(line, sizeof line, "%-12s %7.2f  %7.2f  %5.1f%%  %9.2f  %10.2f  %s\n", s.name.c_str(), s.wall_s,
                  s.busy_s(), pct, s.wait_input_s, s.wait_output_s, gpu);
    out << line;
    if (!bottleneck || s.busy_s() > bottleneck->busy_s()) bottleneck = &s;
  }
  if (bottleneck) out << "bottleneck: " << bottleneck->name << " (busiest stage)\n";
  char fps[96];
  std::snprintf(fps, sizeof fps, "%lld frames in %.2f s: %.2f fps end to end\n", static_cast<long long>(r.frames),
                r.seconds, r.seconds > 0 ? r.frames / r.seconds : 0.0);
  out << fps;
  if (r.frames > 1 && r.last_frame_s > r.first_frame_s) {
    std::snprintf(fps, sizeof fps, "steady state: %.2f fps (frames 2..%lld, after %.2f s of start-up)\n",
                  (r.frames - 1) / (r.last_frame_s - r.first_frame_s), static_cast<long long>(r.frames),
                  r.first_frame_s);
    out << fps;
  }
  if (!r.startup.empty()) {
    // Where the start-up went: the set-up steps, then the pipeline's fill up to the first
    // frame reaching the encoder (decode, a whole batch, the network's first run).
    std::ostringstream s;
    s << std::fixed << std::setprecision(3) << "start-up:";
    double sum = 0;
    for (const auto& [step, secs] : r.startup) {
      s << " " << step << " " << secs << " s,";
      sum += secs;
    }
    s << " first frame " << std::max(0.0, r.first_frame_s - sum) << " s";
    if (r.model_reused) s << " (model kept loaded from an earlier job)";
    s << "\n";
    out << s.str();
  }
  if (r.skipped_frames > 0) out << r.skipped_frames << " duplicate frames skipped the network\n";
  return out.str();
}

}  // namespace upscaled::pipeline
