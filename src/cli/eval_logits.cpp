// kiln eval-logits: the logits of every position of a token list, as raw
// float32 little-endian [n_tokens, n_vocab] (the layout of the llama.cpp
// goldens), for comparing against other implementations.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/commands.h"
#include "cli/model_session.h"

namespace kiln::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string tokens;
  std::string out;
  SessionOptions session;
};

int run_eval_logits(const EvalArgs& a) {
  auto ids = parse_token_list(a.tokens);
  if (!ids) {
    std::fprintf(stderr, "kiln eval-logits: %s\n", ids.message().c_str());
    return 2;
  }
  auto session = ModelSession::open(a.model, a.session);
  if (!session) {
    std::fprintf(stderr, "kiln eval-logits: %s\n", session.message().c_str());
    return 1;
  }
  auto logits = (*session)->append(*ids, true);
  if (!logits) {
    std::fprintf(stderr, "kiln eval-logits: %s\n", logits.message().c_str());
    return 1;
  }
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(logits->data.data()),
            static_cast<std::streamsize>(logits->data.size() * sizeof(float)));
  if (!out) {
    std::fprintf(stderr, "kiln eval-logits: cannot write %s\n", a.out.c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s: float32 [%zu, %lld]\n", a.out.c_str(), logits->n_rows(),
               static_cast<long long>(logits->n_vocab));
  return 0;
}

}  // namespace

void add_eval_logits_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval-logits",
      "Write the logits of every position of a token list (float32 [n_tokens, n_vocab])");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face model directory")->required();
  cmd->add_option("--tokens", args->tokens, "Token ids, comma-separated: 1,2,3")->required();
  cmd->add_option("--out", args->out, "Output file")->required();
  cmd->add_option("--threads", args->session.n_threads, "Compute threads (0: one per core)");
  cmd->add_option("--ctx", args->session.n_ctx, "Context length (0: the model's)");
  cmd->add_option("--batch", args->session.max_batch, "Tokens per forward call")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--gelu-f16-table", args->session.gelu_f16_table,
                "Compute GELU through llama.cpp's f16 table (to reproduce its numbers)");
  cmd->callback([args] { std::exit(run_eval_logits(*args)); });
}

}  // namespace kiln::cli
