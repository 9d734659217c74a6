// `upscaled serve [--config FILE] [--systemd-dropin]`: the watch-folder service
// (service/service.h), or the unit drop-in that opens its folders under ProtectSystem=strict.
#include "app/command_registry.h"
#include "service/config.h"
#include "service/service.h"

#include <cstdio>
#include <memory>

namespace upscaled::app {
namespace {

struct ServeArgs {
  std::string config = service::kDefaultConfigPath;
  bool dropin = false;
};

const CommandRegistration registration{
    60, [](CLI::App& root) -> std::pair<CLI::App*, CommandRun> {
      auto a = std::make_shared<ServeArgs>();
      CLI::App* sub = root.add_subcommand("serve", "watch folders and upscale new files (systemd service)");
      sub->add_option("-c,--config", a->config, "configuration file (TOML)")->capture_default_str();
      sub->add_flag("--systemd-dropin", a->dropin,
                    "print the unit drop-in that makes the configured folders writable, and exit");
      return {sub, [a] {
                if (a->dropin) {
                  std::fputs(service::systemd_dropin(service::load_config(a->config)).c_str(), stdout);
                  return 0;
                }
                return service::run_service(a->config);
              }};
    }};

}  // namespace
}  // namespace upscaled::app
