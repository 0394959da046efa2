// The `kiln` subcommands. Each lives in its own file and registers itself on
// the CLI11 app; main.cpp only calls these.
#pragma once

namespace CLI {
class App;
}

namespace kiln::cli {

void add_serve_command(CLI::App& app);        // serve.cpp: the HTTP server
void add_generate_command(CLI::App& app);     // generate.cpp: one prompt, tokens as they come
void add_eval_logits_command(CLI::App& app);  // eval_logits.cpp: logits of a token list
void add_bench_command(CLI::App& app);        // bench.cpp: prefill/decode tokens per second
void add_tokenize_commands(CLI::App& app);    // tokenize.cpp: tokenize / detokenize JSON Lines
void add_template_command(CLI::App& app);     // template.cpp: render chat templates
void add_inspect_command(CLI::App& app);      // inspect.cpp: describe a model
void add_download_command(CLI::App& app);     // download.cpp: fetch a model from the Hub

}  // namespace kiln::cli
