#include "cli/serving_tools.h"

#include <utility>

#include "api/json_util.h"

namespace kiln::cli {

namespace {

using api::ToolChoice;

chat::Json tool_json(const api::ToolDef& t) {
  chat::Json fn = chat::Json::object();
  fn["name"] = t.name;
  if (t.description) fn["description"] = *t.description;
  fn["parameters"] = t.parameters;
  chat::Json tool = chat::Json::object();
  tool["type"] = "function";
  tool["function"] = std::move(fn);
  return tool;
}

// Generated text quoted in an error, bounded.
constexpr size_t kQuotedBytes = 256;

class ApiToolCallParser final : public api::ToolCallParser {
 public:
  ApiToolCallParser(chat::ToolCallParserOptions options, bool forced)
      : parser_(std::move(options)), forced_(forced) {}

  void feed(std::string_view text, api::AssistantDelta& out) override {
    if (quoted_.size() < kQuotedBytes)
      quoted_.append(text.substr(0, kQuotedBytes - quoted_.size()));
    chat::ToolCallOutput o;
    parser_.feed(text, o);
    convert(std::move(o), out);
  }

  std::optional<api::ApiError> finish(api::AssistantDelta& out) override {
    chat::ToolCallOutput o;
    parser_.finish(o);
    convert(std::move(o), out);
    if (forced_ && (parser_.calls() == 0 || parser_.truncated()))
      return api::ApiError::tool("Failed to parse generated text: " + quoted_);
    return std::nullopt;
  }

  bool called_tools() const override { return parser_.calls() > 0; }

 private:
  void convert(chat::ToolCallOutput o, api::AssistantDelta& out) {
    out.content += o.content;
    for (auto& piece : o.calls) {
      const auto index = static_cast<int32_t>(piece.index);
      if (piece.first) {
        api::ToolCallFragment first;
        first.index = index;
        first.id = "call_" + api::random_hex(24);
        first.name = std::move(piece.name);
        out.tool_calls.push_back(std::move(first));
      }
      if (!piece.arguments.empty()) {
        api::ToolCallFragment args;
        args.index = index;
        args.arguments = std::move(piece.arguments);
        out.tool_calls.push_back(std::move(args));
      }
    }
  }

  chat::ToolCallStreamParser parser_;
  bool forced_;
  std::string quoted_;
};

}  // namespace

std::optional<ToolSetup> tool_setup(const api::ChatRequest& request,
                                    const chat::ChatTemplate& tmpl) {
  if (request.tools.empty() || request.tool_choice.mode == ToolChoice::Mode::kNone)
    return std::nullopt;
  ToolSetup s;
  s.forced = request.tool_choice.mode == ToolChoice::Mode::kRequired ||
             request.tool_choice.mode == ToolChoice::Mode::kFunction;
  for (const auto& t : request.tools) {
    // A named choice offers only that tool (§6.2); api/ checked it exists.
    if (request.tool_choice.mode == ToolChoice::Mode::kFunction &&
        t.name != request.tool_choice.function)
      continue;
    s.tools.push_back(tool_json(t));
  }
  s.format = chat::detect_tool_call_format(tmpl.source(/*with_tools=*/true));
  s.describe_in_prompt = s.format == chat::ToolCallFormat::kJson;
  if (s.forced) {
    api::GrammarSpec g;
    g.type = api::GrammarSpec::Type::kJsonSchema;
    g.value = chat::tool_call_schema(s.tools, s.format);
    s.grammar = std::move(g);
  }
  return s;
}

std::unique_ptr<api::ToolCallParser> make_tool_call_parser(const api::ChatRequest& request,
                                                           const ToolSetup& setup) {
  chat::ToolCallParserOptions o;
  // A forced call is bare JSON whatever the template's format.
  o.format = setup.forced ? chat::ToolCallFormat::kJson : setup.format;
  for (const auto& t : setup.tools)
    o.tool_names.push_back(t["function"]["name"].get<std::string>());
  o.parallel = request.parallel_tool_calls;
  o.forced = setup.forced;
  return std::make_unique<ApiToolCallParser>(std::move(o), setup.forced);
}

}  // namespace kiln::cli
