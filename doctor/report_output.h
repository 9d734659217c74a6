// The doctor's report as a table for people and as JSON for programs.
//
// Contract: pure functions of the report. The JSON layout is a stable schema
// ("upscaled.doctor/1", documented in docs/doctor.md, pinned by tests/doctor): keys are
// only ever added under a new schema version.
#pragma once

#include "doctor/doctor.h"

#include <nlohmann/json.hpp>

#include <string>

namespace upscaled::doctor {

inline constexpr const char* kReportSchema = "upscaled.doctor/1";

nlohmann::json report_json(const Report& report);
std::string report_table(const Report& report);

}  // namespace upscaled::doctor
