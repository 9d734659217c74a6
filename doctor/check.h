// One line of the doctor's report, and the report itself.
//
// Contract: plain values, no behaviour beyond counting. `id` values are stable (the JSON
// schema in docs/doctor.md pins them); `summary` says what was found, `action` what to do
// (empty when nothing is to be done). `details` holds machine-readable facts for --json.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace upscaled::doctor {

enum class Status { ok, warn, fail };

const char* status_name(Status s);  // "ok", "warn", "fail"

struct Check {
  std::string id;     // e.g. "driver", "gpu.0", "nvdec.hevc", "env.cuda_visible_devices"
  std::string group;  // driver | gpu | torch | nvdec | nvenc | ffmpeg | model | env
  Status status = Status::ok;
  std::string summary;    // one line: what was found
  std::string action;     // one line: what to do; empty when status is ok
  bool blocking = false;  // a fail here means the chosen mode cannot run (exit non-zero)
  nlohmann::json details = nlohmann::json::object();
};

inline Check make_check(std::string id, std::string group, Status status, std::string summary,
                        std::string action = {}) {
  Check c;
  c.id = std::move(id);
  c.group = std::move(group);
  c.status = status;
  c.summary = std::move(summary);
  c.action = std::move(action);
  return c;
}

}  // namespace upscaled::doctor
