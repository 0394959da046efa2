// kiln generate: one prompt through the model, greedy, printing the text as
// it comes, then prefill and decode speed. --tokens bypasses the tokenizer
// (ids are printed when the model has none Kiln can load).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/model_session.h"
#include "tokenizer/stream.h"
#include "tokenizer/tokenizer.h"

namespace kiln::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  std::string tokens;
  int64_t n_predict = 64;
  bool chat = false;
  bool ignore_eos = false;
  SessionOptions session;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int32_t argmax(std::span<const float> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

// The prompt rendered through the model's chat template as one user turn.
util::Result<std::string> chat_prompt(const model::ModelDescription& m, const std::string& text) {
  if (m.chat_templates.empty()) return util::make_error("--chat: the model has no chat template");
  std::vector<chat::NamedTemplate> templates;
  for (const auto& t : m.chat_templates) templates.push_back({t.name, t.source});
  chat::ChatTemplateOptions options;
  if (!m.special.bos_text.empty()) options.bos_token = m.special.bos_text;
  if (!m.special.eos_text.empty()) options.eos_token = m.special.eos_text;
  auto tmpl = chat::ChatTemplate::compile(std::move(templates), options);
  if (!tmpl) return util::make_error("--chat: " + tmpl.message());
  const chat::Json messages = chat::Json::array({{{"role", "user"}, {"content", text}}});
  chat::RenderInputs in;
  in.messages = &messages;
  in.add_generation_prompt = true;
  auto rendered = (*tmpl)->apply(in);
  if (!rendered) return util::make_error("--chat: " + rendered.error().describe());
  return std::move(rendered).value();
}

int run_generate(const GenerateArgs& a) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "kiln generate: %s\n", message.c_str());
    return 1;
  };
  if (a.prompt.empty() == a.tokens.empty())
    return fail("give exactly one of --prompt and --tokens");
  auto session = ModelSession::open(a.model, a.session);
  if (!session) return fail(session.message());
  ModelSession& s = **session;

  std::optional<tokenizer::Tokenizer> tok;
  auto loaded = tokenizer::Tokenizer::load(a.model);
  if (loaded) tok.emplace(std::move(loaded).value());

  std::vector<int32_t> prompt;
  if (!a.tokens.empty()) {
    auto ids = parse_token_list(a.tokens);
    if (!ids) return fail(ids.message());
    prompt = std::move(ids).value();
  } else {
    if (!tok) return fail("--prompt needs the model's tokenizer: " + loaded.message());
    std::string text = a.prompt;
    if (a.chat) {
      auto rendered = chat_prompt(*s.description(), a.prompt);
      if (!rendered) return fail(rendered.message());
      text = std::move(rendered).value();
    }
    // A chat template writes its own BOS; a plain prompt gets the
    // tokenizer's special tokens.
    prompt = tok->encode(text, /*add_special_tokens=*/!a.chat);
  }
  if (prompt.empty()) return fail("the prompt has no tokens");

  std::optional<tokenizer::StreamDecoder> stream;
  if (tok) {
    stream.emplace(*tok);
    stream->prime(prompt);
  }
  auto emit = [&](int32_t id) {
    if (stream) {
      std::fputs(stream->push(id).c_str(), stdout);
    } else {
      std::printf("%d ", id);
    }
    std::fflush(stdout);
  };

  const auto t0 = Clock::now();
  auto logits = s.append(prompt, false);
  if (!logits) return fail(logits.message());
  const double prefill_s = seconds_since(t0);

  const auto t1 = Clock::now();
  int64_t n_decoded = 0;
  int32_t next = argmax(logits->row(0));
  for (int64_t i = 0; i < a.n_predict; ++i) {
    emit(next);
    if (!a.ignore_eos && tok && tok->is_end_of_generation(next)) break;
    if (i + 1 == a.n_predict) break;
    if (s.n_positions() >= s.model().n_ctx()) {
      std::fprintf(stderr, "\n[stopped: the context length %lld is reached]",
                   static_cast<long long>(s.model().n_ctx()));
      break;
    }
    auto step = s.append({next}, false);
    if (!step) return fail(step.message());
    ++n_decoded;
    next = argmax(step->row(0));
  }
  const double decode_s = seconds_since(t1);
  if (stream) std::fputs(stream->finish().c_str(), stdout);
  std::printf("\n");
  std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tokens/s)\n", prompt.size(), prefill_s,
               static_cast<double>(prompt.size()) / prefill_s);
  std::fprintf(stderr, "decode: %lld tokens in %.3f s (%.1f tokens/s)\n",
               static_cast<long long>(n_decoded), decode_s,
               n_decoded > 0 ? static_cast<double>(n_decoded) / decode_s : 0.0);
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate", "Generate text for one prompt (greedy), printing tokens as they come");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face model directory")->required();
  cmd->add_option("--prompt", args->prompt, "Prompt text");
  cmd->add_option("--tokens", args->tokens,
                  "Prompt as token ids, comma-separated (instead of --prompt)");
  cmd->add_option("-n,--n-predict", args->n_predict, "Tokens to generate")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--chat", args->chat,
                "Apply the model's chat template to --prompt (one user turn)");
  cmd->add_flag("--ignore-eos", args->ignore_eos,
                "Keep generating after an end-of-generation token");
  cmd->add_option("--threads", args->session.n_threads, "Compute threads (0: one per core)");
  cmd->add_option("--ctx", args->session.n_ctx, "Context length (0: the model's)");
  cmd->add_option("--batch", args->session.max_batch, "Prompt tokens per forward call")
      ->check(CLI::PositiveNumber);
  cmd->callback([args] { std::exit(run_generate(*args)); });
}

}  // namespace kiln::cli
