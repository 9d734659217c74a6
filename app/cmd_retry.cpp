// `upscaled retry ID`: puts a failed job back in the queue (service/admin.h).
#include "app/command_registry.h"
#include "core/log.h"
#include "service/admin.h"

#include <cstdio>
#include <memory>

namespace upscaled::app {
namespace {

struct RetryArgs {
  std::int64_t id = 0;
  std::string config = service::kDefaultConfigPath;
  std::string journal;
};

const CommandRegistration registration{
    62, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto a = std::make_shared<RetryArgs>();
      CLI::App* sub = root.add_subcommand("retry", "queue a failed service job again");
      sub->add_option("id", a->id, "job id (see `upscaled status`)")->required()->check(CLI::PositiveNumber);
      sub->add_option("-c,--config", a->config, "service configuration (for the journal's location)")
          ->capture_default_str();
      sub->add_option("--journal", a->journal, "journal file (overrides the configuration)");
      return {sub, [a] {
                service::Journal journal(service::resolve_journal(a->journal, a->config));
                auto input = service::retry_job(journal, a->id);
                std::printf("job %lld queued again: %s\n", static_cast<long long>(a->id), input.c_str());
                return 0;
              }};
    }};

}  // namespace
}  // namespace upscaled::app
