#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_download_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("download", "Download a model from the Hugging Face Hub (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln download: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
