// `kiln tokenize` and `kiln detokenize`: JSON Lines filters over a tokenizer,
// for scripts, tests and benchmarks. One output line per input line, in
// order; a malformed line yields {"error": "..."} and the rest go on.
//
//   echo '{"text": "Hello", "add_special_tokens": true}' | kiln tokenize --tokenizer tokenizer.json
//   {"ids":[1,15043],"tokens":["<s>","▁Hello"]}
//   echo '{"ids": [1, 15043], "skip_special_tokens": true}' | kiln detokenize --tokenizer
//   tokenizer.json
//   {"text":"Hello"}
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

namespace kiln::cli {

namespace {

using nlohmann::json;

struct TokenizeOptions {
  std::string tokenizer;
  bool offsets = false;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads stdin line by line, calling fn(parsed object) -> output object.
template <typename Fn>
int run_lines(const std::string& path, Fn&& fn) {
  auto tok = tokenizer::Tokenizer::load(path);
  if (!tok.ok()) {
    std::fprintf(stderr, "kiln: %s\n", tok.message().c_str());
    return 1;
  }
  std::ios::sync_with_stdio(false);
  std::string line;
  std::string out;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
    json result;
    if (in.is_discarded()) {
      result = {{"error", "line is not valid JSON"}};
    } else if (!in.is_object()) {
      result = {{"error", "line is not a JSON object"}};
    } else {
      result = fn(tok.value(), in);
    }
    out = dump(result);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

json tokenize_line(const tokenizer::Tokenizer& tok, const json& in, bool with_offsets) {
  auto text = in.find("text");
  if (text == in.end() || !text->is_string()) return {{"error", "\"text\" must be a string"}};
  bool add_special = true;
  if (auto a = in.find("add_special_tokens"); a != in.end()) {
    if (!a->is_boolean()) return {{"error", "\"add_special_tokens\" must be a boolean"}};
    add_special = a->get<bool>();
  }
  const auto& s = text->get_ref<const std::string&>();
  const tokenizer::Encoding e = tok.encode_with_offsets(s, add_special);
  json out = {{"ids", e.ids}, {"tokens", e.tokens}};
  if (with_offsets) {
    json offsets = json::array();
    for (const auto& o : e.offsets) offsets.push_back({o.start, o.stop});
    out["offsets"] = std::move(offsets);
  }
  return out;
}

json detokenize_line(const tokenizer::Tokenizer& tok, const json& in) {
  auto ids = in.find("ids");
  if (ids == in.end() || !ids->is_array()) return {{"error", "\"ids\" must be a list of integers"}};
  std::vector<tokenizer::TokenId> v;
  v.reserve(ids->size());
  for (const json& id : *ids) {
    if (!id.is_number_integer()) return {{"error", "\"ids\" must be a list of integers"}};
    const auto x = id.get<int64_t>();
    // Ids the vocabulary cannot hold are dropped by decode, as unknown ids are.
    v.push_back(x < 0 || x > INT32_MAX ? -1 : tokenizer::TokenId(x));
  }
  bool skip = false;
  if (auto a = in.find("skip_special_tokens"); a != in.end()) {
    if (!a->is_boolean()) return {{"error", "\"skip_special_tokens\" must be a boolean"}};
    skip = a->get<bool>();
  }
  return {{"text", tok.decode(v, skip)}};
}

}  // namespace

void add_tokenize_commands(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* tokenize = app.add_subcommand("tokenize",
                                      "Tokenize JSON Lines from stdin: {\"text\": ..., "
                                      "\"add_special_tokens\": true} -> {\"ids\", \"tokens\"}");
  tokenize->add_option("--tokenizer", opts->tokenizer, "tokenizer.json, model folder or GGUF file")
      ->required();
  tokenize->add_flag("--offsets", opts->offsets,
                     "also write byte offsets [start, stop] of each token");
  tokenize->callback([opts] {
    std::exit(run_lines(opts->tokenizer, [&](const tokenizer::Tokenizer& tok, const json& in) {
      return tokenize_line(tok, in, opts->offsets);
    }));
  });

  auto dopts = std::make_shared<TokenizeOptions>();
  auto* detokenize = app.add_subcommand("detokenize",
                                        "Decode JSON Lines from stdin: {\"ids\": [...], "
                                        "\"skip_special_tokens\": false} -> {\"text\"}");
  detokenize
      ->add_option("--tokenizer", dopts->tokenizer, "tokenizer.json, model folder or GGUF file")
      ->required();
  detokenize->callback([dopts] { std::exit(run_lines(dopts->tokenizer, detokenize_line)); });
}

}  // namespace kiln::cli
