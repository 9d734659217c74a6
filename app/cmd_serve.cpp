// `upscaled serve [--config FILE]`: the watch-folder service (service/service.h).
#include "app/command_registry.h"
#include "service/service.h"

#include <cstdio>
#include <memory>

namespace upscaled::app {
namespace {

const CommandRegistration registration{
    60, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto config = std::make_shared<std::string>(service::kDefaultConfigPath);
      CLI::App* sub = root.add_subcommand("serve", "watch folders and upscale new files (systemd service)");
      sub->add_option("-c,--config", *config, "configuration file (TOML)")->capture_default_str();
      return {sub, [config] { return service::run_service(*config); }};
    }};

}  // namespace
}  // namespace upscaled::app
