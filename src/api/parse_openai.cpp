// OpenAI bodies: /v1/chat/completions (§2.3, §2.4, §6) and /v1/completions
// (§2.5), and their reduction to the shared GenerationRequest.
#include <algorithm>
#include <string>

#include "api/field_reader.h"
#include "api/parse.h"

namespace kiln::api {

const char* const kDefaultToolPrompt =
    "\nGiven the functions available, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt. Respond in the format {name: function "
    "name, parameters: dictionary of argument name and its value}.Do not use variables.\n";

namespace {

std::string index_path(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

// Content: a string, an array of parts, or null (§2.4). Parts are flattened
// with no separator; an image becomes ![](url).
void read_content(FieldReader& r, const Json& msg, const std::string& path, bool vision,
                  ChatMessage& out) {
  auto it = msg.find("content");
  if (it == msg.end() || it->is_null()) {
    out.content_was_null = true;
    return;
  }
  if (it->is_string()) {
    out.content = it->get<std::string>();
    return;
  }
  if (!it->is_array()) {
    r.fail(ApiError::deserialize(path + ".content: invalid type: " + FieldReader::describe(*it) +
                                 ", expected a string or an array of content parts"));
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& part = (*it)[i];
    const std::string ppath = index_path(path + ".content", i);
    if (!part.is_object()) {
      r.fail(ApiError::deserialize(ppath + ": invalid type: " + FieldReader::describe(part) +
                                   ", expected a content part"));
      return;
    }
    FieldReader pr(part, ppath);
    std::string type = pr.required_string("type");
    if (pr.ok() && type == "text") {
      out.content += pr.required_string("text");
    } else if (pr.ok() && type == "image_url") {
      const Json* image = pr.get("image_url");
      std::string url;
      if (image && image->is_object()) {
        FieldReader ir(*image, ppath + ".image_url");
        url = ir.required_string("url");
        if (!ir.ok()) pr.fail(ir.error());
      } else if (image && image->is_string()) {
        url = image->get<std::string>();
      } else {
        pr.fail(ApiError::deserialize(ppath + ": missing field `image_url`"));
      }
      if (pr.ok() && !vision) {
        pr.fail(ApiError::validation("image inputs are not supported by this model"));
      }
      out.content += "![](" + url + ")";
    } else if (pr.ok()) {
      pr.fail(ApiError::deserialize(ppath + ".type: unknown variant `" + type +
                                    "`, expected `text` or `image_url`"));
    }
    if (!pr.ok()) {
      r.fail(pr.error());
      return;
    }
  }
}

void read_tool_calls(FieldReader& r, const Json& calls, const std::string& path, ChatMessage& out) {
  if (!calls.is_array()) {
    r.fail(ApiError::deserialize(path + ": invalid type: " + FieldReader::describe(calls) +
                                 ", expected a sequence"));
    return;
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string cpath = index_path(path, i);
    const Json& call = calls[i];
    if (!call.is_object()) {
      r.fail(ApiError::deserialize(cpath + ": invalid type: " + FieldReader::describe(call) +
                                   ", expected a tool call"));
      return;
    }
    FieldReader cr(call, cpath);
    ToolCallIn tc;
    tc.id = cr.string("id").value_or("");
    const Json* fn = cr.get("function");
    if (!fn || !fn->is_object()) {
      cr.fail(ApiError::deserialize(cpath + ": missing field `function`"));
    } else {
      FieldReader fr(*fn, cpath + ".function");
      tc.name = fr.required_string("name");
      const Json* args = fr.get("arguments");
      if (args && args->is_string()) {
        // Templates want the arguments as an object when they are JSON (DEV-16).
        Json parsed = Json::parse(args->get_ref<const std::string&>(), nullptr, false);
        tc.arguments = parsed.is_discarded() ? *args : std::move(parsed);
      } else if (args) {
        tc.arguments = *args;
      } else {
        tc.arguments = Json::object();
      }
      if (!fr.ok()) cr.fail(fr.error());
    }
    if (!cr.ok()) {
      r.fail(cr.error());
      return;
    }
    out.tool_calls.push_back(std::move(tc));
  }
}

void read_messages(FieldReader& r, const Json& body, const ApiConfig& config,
                   std::vector<ChatMessage>& out) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) {
    r.fail(ApiError::deserialize("missing field `messages`"));
    return;
  }
  if (!it->is_array()) {
    r.fail_field("messages",
                 "invalid type: " + FieldReader::describe(*it) + ", expected a sequence");
    return;
  }
  for (size_t i = 0; i < it->size() && r.ok(); ++i) {
    const Json& m = (*it)[i];
    const std::string path = index_path("messages", i);
    if (!m.is_object()) {
      r.fail(ApiError::deserialize(path + ": invalid type: " + FieldReader::describe(m) +
                                   ", expected a message"));
      return;
    }
    FieldReader mr(m, path);
    ChatMessage msg;
    msg.role = mr.required_string("role");
    if (msg.role == "developer") msg.role = "system";  // DEV-17
    msg.name = mr.string("name");
    msg.tool_call_id = mr.string("tool_call_id");
    if (mr.ok()) read_content(mr, m, path, config.vision, msg);
    if (const Json* calls = mr.get("tool_calls"); calls && mr.ok()) {
      read_tool_calls(mr, *calls, path + ".tool_calls", msg);
    }
    if (mr.ok() && msg.content_was_null && msg.tool_calls.empty()) {
      mr.fail(ApiError::deserialize(path + ": missing field `content`"));
    }
    if (!mr.ok()) {
      r.fail(mr.error());
      return;
    }
    out.push_back(std::move(msg));
  }
}

void read_tools(FieldReader& r, std::vector<ToolDef>& out) {
  const Json* tools = r.get("tools");
  if (!tools) return;
  if (!tools->is_array()) {
    r.fail_field("tools",
                 "invalid type: " + FieldReader::describe(*tools) + ", expected a sequence");
    return;
  }
  for (size_t i = 0; i < tools->size(); ++i) {
    const std::string path = index_path("tools", i);
    const Json& t = (*tools)[i];
    if (!t.is_object()) {
      r.fail(ApiError::deserialize(path + ": invalid type: " + FieldReader::describe(t) +
                                   ", expected a tool"));
      return;
    }
    FieldReader tr(t, path);
    std::string type = tr.string("type").value_or("function");
    if (tr.ok() && type != "function") {
      tr.fail(ApiError::deserialize(path + ".type: unknown variant `" + type +
                                    "`, expected `function`"));
    }
    const Json* fn = tr.get("function");
    ToolDef def;
    if (tr.ok() && (!fn || !fn->is_object())) {
      tr.fail(ApiError::deserialize(path + ": missing field `function`"));
    } else if (tr.ok()) {
      FieldReader fr(*fn, path + ".function");
      def.name = fr.required_string("name");
      def.description = fr.string("description");
      const Json* params = fr.get("parameters");
      if (!params) params = fr.get("arguments");  // TGI's alias
      if (params && !params->is_object()) {
        fr.fail_field("parameters", "invalid type: " + FieldReader::describe(*params) +
                                        ", expected a JSON schema object");
      } else if (params) {
        def.parameters = *params;
      }
      fr.boolean("strict");
      if (!fr.ok()) tr.fail(fr.error());
    }
    if (!tr.ok()) {
      r.fail(tr.error());
      return;
    }
    out.push_back(std::move(def));
  }
}

void read_tool_choice(FieldReader& r, ToolChoice& out) {
  const Json* c = r.get("tool_choice");
  if (!c) return;
  if (c->is_string()) {
    const std::string& s = c->get_ref<const std::string&>();
    if (s == "auto")
      out.mode = ToolChoice::Mode::kAuto;
    else if (s == "none")
      out.mode = ToolChoice::Mode::kNone;
    else if (s == "required")
      out.mode = ToolChoice::Mode::kRequired;
    else {
      out.mode = ToolChoice::Mode::kFunction;  // a bare tool name (TGI)
      out.function = s;
    }
    return;
  }
  if (!c->is_object()) {
    r.fail_field("tool_choice", "invalid type: " + FieldReader::describe(*c) +
                                    ", expected a string or a tool choice object");
    return;
  }
  FieldReader cr(*c, "tool_choice");
  std::string type = cr.string("type").value_or("function");
  const Json* fn = cr.get("function");
  if (cr.ok() && type == "function" && fn && fn->is_object()) {
    FieldReader fr(*fn, "tool_choice.function");
    out.mode = ToolChoice::Mode::kFunction;
    out.function = fr.required_string("name");
    if (!fr.ok()) cr.fail(fr.error());
  } else if (cr.ok()) {
    cr.fail(ApiError::deserialize("tool_choice: unsupported tool choice of type `" + type +
                                  "`, expected `function` with a `function.name`"));
  }
  if (!cr.ok()) r.fail(cr.error());
}

// §6.1/§6.2 checks that TGI runs while preparing the chat input.
std::optional<ApiError> check_tools(const ChatRequest& chat) {
  if (chat.tools.empty() || chat.tool_choice.mode == ToolChoice::Mode::kNone) return std::nullopt;
  if (chat.response_format) return ApiError::tool("Grammar and tools are mutually exclusive");
  if (chat.tool_choice.mode == ToolChoice::Mode::kFunction) {
    for (const auto& t : chat.tools) {
      if (t.name == chat.tool_choice.function) return std::nullopt;
    }
    return ApiError::tool("Tool with name " + chat.tool_choice.function + " not found");
  }
  return std::nullopt;
}

void refuse_logit_bias(FieldReader& r);

// `logit_bias`: OpenAI's object or TGI's array; only an empty one is accepted.
void check_logit_bias(FieldReader& r) {
  const Json* b = r.get("logit_bias");
  if (b && !b->is_object() && !b->is_array()) {
    r.fail_field("logit_bias", "invalid type: " + FieldReader::describe(*b) + ", expected a map");
  }
  refuse_logit_bias(r);
}

// OpenAI `n` (and `best_of` on completions): 1..max_best_of choices, which
// the engine runs as forks of one prefilled prompt.
int32_t read_n(FieldReader& r, const char* key, const ApiConfig& config) {
  auto n = r.integer(key, 0, kU32Max, "u32");
  if (n && (*n < 1 || *n > config.max_best_of) && r.ok()) {
    r.fail(ApiError::validation("`" + std::string(key) +
                                "` must be > 0 and <= " + std::to_string(config.max_best_of) +
                                ". Given: " + std::to_string(*n)));
  }
  return n && r.ok() ? static_cast<int32_t>(*n) : 1;
}

// Every OpenAI field is honoured or refused (docs/api-fields.md): these ask
// for things Kiln does not do, so a value other than "off" is a 422 that
// names the field rather than an answer that silently lacks it.
void refuse_unsupported_chat_fields(FieldReader& r) {
  auto refuse = [&](const char* key, const std::string& why) {
    if (r.ok()) r.fail(ApiError::validation("`" + std::string(key) + "` " + why));
  };
  if (const Json* m = r.get("modalities")) {
    const bool text_only = m->is_array() && std::all_of(m->begin(), m->end(), [](const Json& v) {
                             return v.is_string() && v.get<std::string>() == "text";
                           });
    if (!text_only) refuse("modalities", "is not supported: Kiln answers with text only");
  }
  // `audio` (voice, format) only shapes audio output, refused above;
  // `reasoning_effort` has nothing to set on a model without a reasoning
  // budget. Both are accepted (contract §2.3).
  if (r.get("functions")) refuse("functions", "(deprecated) is not supported: send `tools`");
  if (r.get("function_call")) {
    refuse("function_call", "(deprecated) is not supported: send `tool_choice`");
  }
  if (r.get("web_search_options"))
    refuse("web_search_options", "is not supported: Kiln does not search the web");
}

// `logit_bias` must be absent or empty: a bias that was asked for and not
// applied would change the answer silently.
void refuse_logit_bias(FieldReader& r) {
  const Json* b = r.get("logit_bias");
  if (b && !b->empty() && r.ok()) {
    r.fail(ApiError::validation("`logit_bias` is not supported (only an empty map is accepted)"));
  }
}

// OpenAI `seed`: a non-negative integer; -1 is the common "random" convention.
std::optional<uint64_t> read_seed(FieldReader& r) {
  const Json* s = r.get("seed");
  if (s && s->is_number_integer() && !s->is_number_unsigned() && s->get<int64_t>() == -1) {
    return std::nullopt;
  }
  return r.u64("seed");
}

}  // namespace

ApiResult<ChatRequest> parse_chat(const Json& body, const ApiConfig& config) {
  if (!body.is_object()) {
    return ApiError::deserialize("invalid type: " + FieldReader::describe(body) +
                                 ", expected struct ChatRequest");
  }
  FieldReader r(body, "");
  ChatRequest chat;
  chat.model = r.string("model");
  read_messages(r, body, config, chat.messages);
  chat.max_tokens = r.integer("max_completion_tokens", 0, kU32Max, "u32");
  if (!chat.max_tokens) chat.max_tokens = r.integer("max_tokens", 0, kU32Max, "u32");
  chat.temperature = r.number("temperature");
  chat.top_p = r.number("top_p");
  chat.frequency_penalty = r.number("frequency_penalty");
  chat.presence_penalty = r.number("presence_penalty");
  chat.top_k = r.integer("top_k", kI32Min, kI32Max, "i32");
  chat.repetition_penalty = r.number("repetition_penalty");
  chat.min_p = r.number("min_p");
  chat.stop = r.strings("stop", /*allow_single=*/true);
  chat.seed = read_seed(r);
  chat.stream = r.flag("stream", false);
  if (const Json* so = r.get("stream_options"); so && so->is_object()) {
    FieldReader sr(*so, "stream_options");
    chat.include_usage = sr.flag("include_usage", false);
    if (!sr.ok()) r.fail(sr.error());
  }
  chat.logprobs = r.flag("logprobs", false);
  chat.top_logprobs = r.integer("top_logprobs", 0, kU32Max, "u32");
  chat.n = read_n(r, "n", config);
  check_logit_bias(r);
  refuse_unsupported_chat_fields(r);
  read_tools(r, chat.tools);
  read_tool_choice(r, chat.tool_choice);
  chat.response_format = read_grammar(r, "response_format", /*openai=*/true);
  chat.tool_prompt = r.string("tool_prompt").value_or("");
  if (chat.tool_prompt.empty()) chat.tool_prompt = kDefaultToolPrompt;
  chat.parallel_tool_calls = r.flag("parallel_tool_calls", true);
  if (!r.ok()) return r.error();
  if (chat.messages.empty()) return ApiError::validation("`messages` cannot be empty");

  if (auto e = check_tools(chat)) return *e;
  return chat;
}

ApiResult<CompletionRequest> parse_completion(const Json& body, const ApiConfig& config) {
  if (!body.is_object()) {
    return ApiError::deserialize("invalid type: " + FieldReader::describe(body) +
                                 ", expected struct CompletionRequest");
  }
  FieldReader r(body, "");
  CompletionRequest req;
  req.model = r.string("model");
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) {
    r.fail(ApiError::deserialize("missing field `prompt`"));
  } else if (it->is_string()) {
    req.prompts.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (size_t i = 0; i < it->size() && r.ok(); ++i) {
      const Json& p = (*it)[i];
      if (p.is_string()) {
        req.prompts.push_back(p.get<std::string>());
      } else if (p.is_number_integer() || p.is_array()) {
        r.fail(ApiError::validation("token id prompts are not supported; send the prompt as text"));
      } else {
        r.fail(ApiError::deserialize(index_path("prompt", i) + ": invalid type: " +
                                     FieldReader::describe(p) + ", expected a string"));
      }
    }
  } else {
    r.fail_field("prompt", "invalid type: " + FieldReader::describe(*it) +
                               ", expected a string or a sequence of strings");
  }
  req.max_tokens = r.integer("max_tokens", 0, kU32Max, "u32");
  req.temperature = r.number("temperature");
  req.top_p = r.number("top_p");
  req.frequency_penalty = r.number("frequency_penalty");
  req.presence_penalty = r.number("presence_penalty");
  req.repetition_penalty = r.number("repetition_penalty");
  req.top_k = r.integer("top_k", kI32Min, kI32Max, "i32");
  req.seed = read_seed(r);
  req.stop = r.strings("stop", /*allow_single=*/true);
  req.stream = r.flag("stream", false);
  req.has_suffix = r.get("suffix") != nullptr;
  check_logit_bias(r);
  req.n = read_n(r, "n", config);
  req.best_of = r.get("best_of") ? read_n(r, "best_of", config) : req.n;
  if (auto lp = r.integer("logprobs", 0, kU32Max, "u32"); lp && r.ok()) {
    if (*lp > config.max_top_n_tokens) {
      r.fail(ApiError::validation(
          "`logprobs` must be >= 0 and <= " + std::to_string(config.max_top_n_tokens) +
          ". Given: " + std::to_string(*lp)));
    }
    req.logprobs = static_cast<int32_t>(*lp);
  }
  req.echo = r.flag("echo", false);
  if (!r.ok()) return r.error();
  if (req.best_of < req.n) {
    return ApiError::validation("`best_of` must be >= `n`. Given: " + std::to_string(req.best_of) +
                                " and " + std::to_string(req.n));
  }
  if (req.stream && req.best_of > req.n) {
    return ApiError::validation("`best_of` > `n` is not supported when streaming tokens");
  }
  if (req.echo && req.logprobs) {
    return ApiError::validation(
        "`echo` with `logprobs` is not supported (prompt token logprobs are not computed)");
  }
  if (req.has_suffix) {
    return ApiError{ErrorKind::kSuffixNotSupported,
                    "Suffix is not supported and can be achieved by preprocessing the prompt."};
  }
  if (req.prompts.empty()) return ApiError::validation("`prompt` cannot be an empty list");
  if (req.prompts.size() > static_cast<size_t>(config.max_client_batch_size)) {
    return ApiError{ErrorKind::kBatchSizeExceeded,
                    "Number of prompts exceeds the maximum allowed batch size of " +
                        std::to_string(config.max_client_batch_size)};
  }
  return req;
}

namespace {
// TGI's /v1 rule: temperature 0 means greedy, absent means sampling at 1.0.
void apply_openai_temperature(const std::optional<double>& t, GenerateParameters& p) {
  if (t && *t == 0.0) {
    p.do_sample = false;
  } else {
    p.do_sample = true;
    p.temperature = t;
  }
}
}  // namespace

GenerationRequest chat_to_generation(const ChatRequest& chat, std::string prompt) {
  GenerationRequest g;
  g.inputs = std::move(prompt);
  g.stream = chat.stream;
  g.add_special_tokens = false;
  g.keep_stop_in_text = false;
  g.openai = true;
  g.token_logprobs = chat.logprobs;
  g.n = chat.n;
  auto& p = g.parameters;
  apply_openai_temperature(chat.temperature, p);
  p.top_p = chat.top_p;
  p.frequency_penalty = chat.frequency_penalty;
  p.presence_penalty = chat.presence_penalty;
  p.top_k = chat.top_k;
  p.repetition_penalty = chat.repetition_penalty;
  p.min_p = chat.min_p;
  p.max_new_tokens = chat.max_tokens;
  p.stop = chat.stop;
  p.seed = chat.seed;
  p.details = true;
  p.top_n_tokens = chat.top_logprobs;
  p.grammar = chat.response_format;
  if (chat.model && *chat.model != "tgi") p.adapter_id = chat.model;
  return g;
}

GenerationRequest completion_to_generation(const CompletionRequest& req, size_t prompt) {
  GenerationRequest g;
  g.inputs = req.prompts[prompt];
  g.stream = req.stream;
  g.add_special_tokens = true;
  g.keep_stop_in_text = false;
  g.openai = true;
  // best_of ranks choices by mean logprob, so it needs them too.
  g.token_logprobs = req.logprobs.has_value() || req.best_of > req.n;
  g.n = req.best_of;
  auto& p = g.parameters;
  p.top_n_tokens = req.logprobs;
  apply_openai_temperature(req.temperature, p);
  p.top_p = req.top_p;
  p.frequency_penalty = req.frequency_penalty;
  p.presence_penalty = req.presence_penalty;
  p.repetition_penalty = req.repetition_penalty;
  p.top_k = req.top_k;
  p.max_new_tokens = req.max_tokens;
  p.stop = req.stop;
  p.seed = req.seed;
  p.details = true;
  if (req.model && *req.model != "tgi") p.adapter_id = req.model;
  return g;
}

}  // namespace kiln::api
