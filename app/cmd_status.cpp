// `upscaled status`: the service's queue and recent jobs, read from the journal.
#include "app/command_registry.h"
#include "core/error.h"
#include "service/admin.h"
#include "service/journal.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

namespace upscaled::app {
namespace {

using service::JobRecord;
using service::JobState;

struct StatusArgs {
  std::string config = service::kDefaultConfigPath;
  std::string journal;
  int recent = 20;
  bool json = false;
};

std::string when(double t) {
  if (t <= 0) return "-";
  std::time_t s = static_cast<std::time_t>(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&s));
  return buf;
}

nlohmann::json to_json(const JobRecord& j) {
  // Paths may hold bytes that are not UTF-8: nlohmann would throw, so they are escaped.
  auto text = [](const std::filesystem::path& p) {
    std::string out;
    for (unsigned char c : p.native()) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
    return out;
  };
  return {{"id", j.id},
          {"state", service::job_state_name(j.state)},
          {"input", text(j.path)},
          {"output", text(j.output)},
          {"moved_to", text(j.moved_to)},
          {"size", j.size},
          {"attempts", j.attempts},
          {"transient_failures", j.transient},
          {"created_at", j.created_at},
          {"started_at", j.started_at},
          {"finished_at", j.finished_at},
          {"not_before", j.not_before},
          {"progress", j.progress},
          {"error", j.error}};
}

void print_job(const JobRecord& j) {
  std::printf("%6lld  %-8s %3d%%  att %d  %s  %s", static_cast<long long>(j.id), service::job_state_name(j.state),
              static_cast<int>(j.progress * 100), j.attempts,
              when(j.finished_at > 0 ? j.finished_at : j.created_at).c_str(), j.path.c_str());
  if (!j.output.empty() && j.state == JobState::done) std::printf(" -> %s", j.output.c_str());
  if (!j.error.empty()) std::printf("  [%s]", j.error.c_str());
  std::printf("\n");
}

int run_status(const StatusArgs& a) {
  auto file = service::resolve_journal(a.journal, a.config);
  if (!std::filesystem::exists(file))
    throw Error(ErrorCode::input_missing, file.string() + ": no journal (has the service run yet?)");
  service::Journal journal(file, true);
  auto counts = journal.counts();
  auto running = journal.list(JobState::running, -1, false);
  auto queued = journal.list(JobState::queued, -1, false);
  auto recent = journal.list(std::nullopt, a.recent, true);
  if (a.json) {
    nlohmann::json out;
    out["journal"] = file.string();
    for (auto s : {JobState::queued, JobState::running, JobState::done, JobState::failed, JobState::skipped}) {
      out["counts"][service::job_state_name(s)] = counts[s];
    }
    for (auto* list : {&running, &queued, &recent}) {
      const char* key = list == &running ? "running" : list == &queued ? "queued" : "recent";
      out[key] = nlohmann::json::array();
      for (auto& j : *list) out[key].push_back(to_json(j));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("journal %s: %d queued, %d running, %d done, %d failed, %d skipped\n", file.c_str(),
              counts[JobState::queued], counts[JobState::running], counts[JobState::done], counts[JobState::failed],
              counts[JobState::skipped]);
  if (!running.empty()) std::printf("running:\n");
  for (auto& j : running) print_job(j);
  if (!queued.empty()) std::printf("queued:\n");
  for (auto& j : queued) print_job(j);
  std::printf("recent:\n");
  for (auto& j : recent) print_job(j);
  return 0;
}

const CommandRegistration registration{
    61, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto a = std::make_shared<StatusArgs>();
      CLI::App* sub = root.add_subcommand("status", "show the service's queue and recent jobs");
      sub->add_option("-c,--config", a->config, "service configuration (for the journal's location)")
          ->capture_default_str();
      sub->add_option("--journal", a->journal, "journal file (overrides the configuration)");
      sub->add_option("-n,--recent", a->recent, "how many recent jobs to list")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub->add_flag("--json", a->json, "machine-readable output");
      return {sub, [a] { return run_status(*a); }};
    }};

}  // namespace
}  // namespace upscaled::app
