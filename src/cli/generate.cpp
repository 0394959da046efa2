#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate text for one prompt (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln generate: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
