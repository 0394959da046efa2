// What the api layer needs from the model side: tokenization with byte
// offsets, the chat template, grammar compilation, tool-call parsing and the
// model's facts. api/ sits above chat/, tokenizer/ and model/ but must not
// reach into them; cli/serve.cpp (the composition root) implements this
// interface from the real modules, and tests use doubles under tests/.
//
// Thread safety: every method is const and may be called concurrently from
// the I/O threads (at most --validation-workers of them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"
#include "api/types.h"
#include "util/result.h"

namespace kiln::sampling {
class Constraint;
}

namespace kiln::api {

// One token of a tokenized string: byte offsets [start, stop) into the input.
// Tokens the tokenizer adds (BOS) have start == stop == 0 and special = true.
struct TokenSpan {
  int32_t id = 0;
  uint32_t start = 0;
  uint32_t stop = 0;
  bool special = false;
};

struct ModelFacts {
  std::string model_id;
  std::optional<std::string> sha;           // resolved hub commit
  std::optional<std::string> pipeline_tag;  // hub pipeline tag, if known
  std::string dtype;                        // e.g. "bfloat16", "q4_k_m"
  std::string device_type = "cpu";
  int32_t max_position_embeddings = 0;  // 0: unknown
  std::vector<int32_t> eos_token_ids;
  bool vision = false;  // accepts image parts
};

// The prompt produced from a ChatRequest (contract §5, §6).
struct ChatPrompt {
  std::string text;                    // rendered, §5.4 post-processing applied
  std::optional<GrammarSpec> grammar;  // output constraint the chat module chose (tools)
  bool parse_tool_calls = false;       // ask tool_call_parser() when rendering
};

// One fragment of a tool call in the OpenAI streaming shape (§6.3): `id` and
// `name` are non-empty only on a call's first fragment.
struct ToolCallFragment {
  int32_t index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};

// Generated text split into what the client sees as content and tool calls.
struct AssistantDelta {
  std::string content;
  std::vector<ToolCallFragment> tool_calls;
};

// Splits a request's generated text into content and tool calls as it
// streams in (chat module; §6.0). One per request, used on one thread.
class ToolCallParser {
 public:
  virtual ~ToolCallParser() = default;
  // Feeds the next piece of generated text; appends what may be emitted now.
  virtual void feed(std::string_view text, AssistantDelta& out) = 0;
  // End of generation: flushes held text. An error is a 422 `tool_error`
  // (non-streaming) or an in-band error (streaming).
  virtual std::optional<ApiError> finish(AssistantDelta& out) = 0;
  // True once at least one tool call was emitted (finish_reason tool_calls).
  virtual bool called_tools() const = 0;
};

class ModelServices {
 public:
  virtual ~ModelServices() = default;

  virtual ModelFacts facts() const = 0;

  // Tokenizes with byte offsets; add_special_tokens adds BOS etc. as the
  // tokenizer's config says (native routes and /v1/completions: true; chat: false).
  virtual util::Result<std::vector<TokenSpan>> tokenize(std::string_view text,
                                                        bool add_special_tokens) const = 0;

  // Renders the chat template for a parsed request: messages (content already
  // flattened to strings), tools offered per tool_choice, the tool prompt.
  // Errors: kTemplate ("Template error: ..."; no template: "template not
  // found"), kMissingTemplateVariable, kTool.
  virtual ApiResult<ChatPrompt> apply_chat_template(const ChatRequest& request) const = 0;

  // Compiles a grammar for the sampler. Errors are kValidation messages
  // ("Input validation error: grammar is not valid: ...", "... cannot compile
  // regex from schema: ...", "... grammar is not supported").
  virtual ApiResult<std::shared_ptr<const sampling::Constraint>> compile_grammar(
      const GrammarSpec& grammar) const = 0;

  // A parser for the output of a request whose prompt has parse_tool_calls
  // set; null when the model has no tool-call format.
  virtual std::unique_ptr<ToolCallParser> tool_call_parser(const ChatRequest& request,
                                                           const ChatPrompt& prompt) const = 0;
};

}  // namespace kiln::api
