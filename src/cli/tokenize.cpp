#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace kiln::cli {

void add_tokenize_commands(CLI::App& app) {
  for (const char* name : {"tokenize", "detokenize"}) {
    auto* cmd = app.add_subcommand(name, "Tokenizer JSON Lines tool (not implemented yet)");
    cmd->callback([name] {
      std::fprintf(stderr, "kiln %s: not implemented yet\n", name);
      std::exit(2);
    });
  }
}

}  // namespace kiln::cli
