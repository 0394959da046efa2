// Typed requests of both API families, as parsed from JSON and before
// validation (parse.h builds them, validate.h checks them). Optional fields
// stay std::optional so "absent or null" is distinguishable from a value the
// user sent (contract §0.3: null == absent everywhere).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/json_util.h"

namespace kiln::api {

// A constraint on the output: native `parameters.grammar`, OpenAI
// `response_format`, or a tool grammar chosen by the chat module (§6).
struct GrammarSpec {
  enum class Type { kJsonSchema, kRegex, kAnyJsonObject };
  Type type = Type::kJsonSchema;
  Json value;                       // schema object, or the regex string
  bool require_properties = false;  // TGI's top-level `properties` check (native)
};

// TGI `GenerateParameters` (§2.2) plus the OpenAI sampling fields that the
// /v1 routes map onto it.
struct GenerateParameters {
  std::optional<int64_t> best_of;
  std::optional<double> temperature;
  std::optional<double> repetition_penalty;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;  // OpenAI semantics (DEV-6)
  std::optional<int64_t> top_k;
  std::optional<double> top_p;
  std::optional<double> typical_p;
  std::optional<double> min_p;
  bool do_sample = false;
  std::optional<int64_t> max_new_tokens;
  std::optional<bool> return_full_text;
  std::vector<std::string> stop;
  std::optional<int64_t> truncate;
  bool watermark = false;
  bool details = false;
  bool decoder_input_details = false;
  std::optional<uint64_t> seed;
  std::optional<int64_t> top_n_tokens;
  std::optional<GrammarSpec> grammar;
  std::optional<std::string> adapter_id;
};

// The one generation request both families reduce to: a prompt string and
// TGI parameters. Chat requests get here after the template is applied.
struct GenerationRequest {
  std::string inputs;
  GenerateParameters parameters;
  bool stream = false;
  bool add_special_tokens = true;  // false for chat: the template emits BOS
  bool keep_stop_in_text = true;   // native keeps a matched stop string; /v1 strips it
  bool openai = false;             // /v1 semantics for penalties (sampling/params.h)
  bool token_logprobs = true;      // the chosen token's logprob is rendered
  // OpenAI `n`: independent choices the engine runs for this prompt (at
  // least best_of of them; the renderer decides which it shows).
  int32_t n = 1;
};

// --- OpenAI chat (§2.3, §2.4) ---

struct ToolCallIn {
  std::string id;
  std::string name;
  Json arguments;  // an object when the string parsed as JSON, else the string
};

struct ChatMessage {
  std::string role;     // `developer` already rewritten to `system` (DEV-17)
  std::string content;  // parts flattened (§2.4); null -> ""
  bool content_was_null = false;
  std::optional<std::string> name;
  std::vector<ToolCallIn> tool_calls;
  std::optional<std::string> tool_call_id;
};

struct ToolDef {
  std::string name;
  std::optional<std::string> description;
  Json parameters = Json::object();  // JSON Schema
};

struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kFunction };
  Mode mode = Mode::kAuto;
  std::string function;  // kFunction only
};

struct ChatRequest {
  std::optional<std::string> model;
  std::vector<ChatMessage> messages;
  std::optional<int64_t> max_tokens;  // max_tokens / max_completion_tokens
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;
  std::optional<int64_t> top_k;
  std::optional<double> repetition_penalty;
  std::optional<double> min_p;
  std::vector<std::string> stop;
  std::optional<uint64_t> seed;  // -1 means "random" and arrives here as nullopt
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  std::optional<int64_t> top_logprobs;
  int32_t n = 1;
  std::vector<ToolDef> tools;
  ToolChoice tool_choice;
  std::optional<GrammarSpec> response_format;  // null for {"type":"text"}
  std::string tool_prompt;                     // default applied when absent/empty
  bool parallel_tool_calls = true;             // false: at most one tool call
};

// --- OpenAI completions (§2.5) ---

struct CompletionRequest {
  std::optional<std::string> model;
  std::vector<std::string> prompts;  // a string prompt becomes one entry
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;
  std::optional<double> repetition_penalty;
  std::optional<int64_t> top_k;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool has_suffix = false;  // non-null `suffix`: rejected (§2.5)
  int32_t n = 1;            // choices returned per prompt
  int32_t best_of = 1;      // choices generated per prompt (>= n); the best n by mean logprob win
  std::optional<int32_t> logprobs;  // legacy logprobs: top alternatives per token (0..max_top_n)
  bool echo = false;                // the prompt is prepended to each choice's text
};

// The default tool prompt (§6.1 step 3); byte-identical to TGI's.
extern const char* const kDefaultToolPrompt;

}  // namespace kiln::api
