#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Describe a model file or directory (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln inspect: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
