#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln serve: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
