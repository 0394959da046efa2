#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_template_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("template", "Render chat templates (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln template: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
