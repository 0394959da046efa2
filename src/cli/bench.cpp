#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln bench: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
