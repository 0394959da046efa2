// kiln: a text-generation inference server compatible with Hugging Face TGI
// and the OpenAI API. See `kiln --help` and docs/.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Kiln: a text-generation inference server (TGI and OpenAI compatible)", "kiln"};
  app.require_subcommand(1);
  app.set_version_flag("--version", KILN_VERSION);
  kiln::cli::add_serve_command(app);
  kiln::cli::add_generate_command(app);
  kiln::cli::add_eval_logits_command(app);
  kiln::cli::add_bench_command(app);
  kiln::cli::add_tokenize_commands(app);
  kiln::cli::add_template_command(app);
  kiln::cli::add_inspect_command(app);
  kiln::cli::add_download_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
