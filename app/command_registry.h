// Subcommands register themselves here; app/main.cpp builds the CLI from the registry.
//
// Each subcommand lives in its own app/cmd_<name>.cpp with a file-scope
// `const CommandRegistration reg{order, setup};`. setup() adds a CLI11 subcommand to the
// root app and returns the function to run when that subcommand is chosen; it returns the
// process exit code. Registration happens during static initialisation, before main().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace upscaled::app {

using CommandRun = std::function<int()>;
using CommandSetup = std::function<std::pair<CLI::App*, CommandRun>(CLI::App& root)>;

struct CommandEntry {
  int order;
  CommandSetup setup;
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistration {
  CommandRegistration(int order, CommandSetup setup) { command_registry().push_back({order, std::move(setup)}); }
};

// Options shared by every subcommand (--log-level, --quiet), applied before run().
struct GlobalOptions {
  std::string log_level = "info";
  bool quiet = false;
  // Set by a command whose work is done and durable (`file`: the output committed) when
  // nothing it still holds needs an orderly release: main() then exits without running
  // destructors (app/main.cpp says why).
  bool exit_without_teardown = false;
};
GlobalOptions& global_options();

}  // namespace upscaled::app
