#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_eval_logits_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval-logits", "Write the logits of every position of a token list (not implemented yet)");
  cmd->callback([] {
    std::fprintf(stderr, "kiln eval-logits: not implemented yet\n");
    std::exit(2);
  });
}

}  // namespace kiln::cli
