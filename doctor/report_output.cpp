// Table and JSON renderings of the report (doctor/report_output.h).
#include "doctor/report_output.h"

#include <algorithm>
#include <sstream>

namespace upscaled::doctor {

const char* status_name(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
  }
  return "fail";
}

namespace {

nlohmann::json decision_json(const StageDecision& d) {
  return {{"device", d.device}, {"gpu", d.gpu}, {"fallback", d.fallback}, {"reason", d.reason}};
}

}  // namespace

nlohmann::json report_json(const Report& r) {
  nlohmann::json checks = nlohmann::json::array();
  int counts[3] = {0, 0, 0};
  for (const auto& c : r.checks) {
    ++counts[static_cast<int>(c.status)];
    checks.push_back({{"id", c.id},
                      {"group", c.group},
                      {"status", status_name(c.status)},
                      {"blocking", c.blocking},
                      {"summary", c.summary},
                      {"action", c.action},
                      {"details", c.details}});
  }
  return {{"schema", kReportSchema},
          {"can_run", r.can_run},
          {"exit_code", static_cast<int>(r.exit_code)},
          {"require_gpu", r.require_gpu},
          {"verdict", r.verdict},
          {"counts", {{"ok", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}}},
          {"plan",
           {{"cuda_device", r.plan.cuda_device},
            {"encoder", r.plan.encoder},
            {"nvdec_codecs", r.plan.nvdec_codecs},
            {"decode", decision_json(r.plan.decode)},
            {"preprocess", decision_json(r.plan.preprocess)},
            {"infer", decision_json(r.plan.infer)},
            {"encode", decision_json(r.plan.encode)}}},
          {"checks", checks},
          {"elapsed_ms", r.elapsed_ms}};
}

std::string report_table(const Report& r) {
  std::ostringstream out;
  size_t id_width = 5;
  for (const auto& c : r.checks) id_width = std::max(id_width, c.id.size());
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  out << pad("CHECK", id_width) << "  STATUS  RESULT\n";
  for (const auto& c : r.checks) {
    std::string status = status_name(c.status);
    for (auto& ch : status) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out << pad(c.id, id_width) << "  " << pad(status, 6) << "  " << c.summary << '\n';
    if (!c.action.empty()) out << pad("", id_width) << "          -> " << c.action << '\n';
  }
  out << "\nPLAN\n";
  for (const auto* s : r.plan.stages())
    out << "  " << pad(s->stage, 11) << pad(s->device, 6) << (s->fallback ? "CPU fallback: " : "") << s->reason << '\n';
  out << '\n' << r.verdict << '\n';
  return out.str();
}

}  // namespace upscaled::doctor
