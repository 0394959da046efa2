// JSON parsing shared by all routes, and the native TGI bodies (§2.1, §2.2).
#include <string>

#include "api/field_reader.h"
#include "api/parse.h"

namespace kiln::api {

namespace {

// Deeper nesting than this is refused before parsing: nothing in the contract
// nests past a dozen levels, and later recursive walks (dump, schema
// compilation) must not meet an unbounded depth.
constexpr int kMaxJsonDepth = 128;

bool too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the
// client does not need the library's error id.
std::string strip_exception_id(const char* what) {
  std::string s = what;
  if (!s.empty() && s[0] == '[') {
    auto end = s.find("] ");
    if (end != std::string::npos) s = s.substr(end + 2);
  }
  return s;
}

void read_parameters(FieldReader& r, GenerateParameters& p) {
  p.best_of = r.integer("best_of", 0, kI64Max, "usize");
  p.temperature = r.number("temperature");
  p.repetition_penalty = r.number("repetition_penalty");
  p.frequency_penalty = r.number("frequency_penalty");
  p.top_k = r.integer("top_k", kI32Min, kI32Max, "i32");
  p.top_p = r.number("top_p");
  p.typical_p = r.number("typical_p");
  p.do_sample = r.flag("do_sample", false);
  p.max_new_tokens = r.integer("max_new_tokens", 0, kU32Max, "u32");
  p.return_full_text = r.boolean("return_full_text");
  p.stop = r.strings("stop", /*allow_single=*/true);
  p.truncate = r.integer("truncate", 0, kI64Max, "usize");
  p.watermark = r.flag("watermark", false);
  if (p.watermark && r.ok()) {
    // Asked-for behaviour Kiln lacks is refused, not silently skipped.
    r.fail(ApiError::validation("`watermark` is not supported"));
  }
  p.details = r.flag("details", false);
  p.decoder_input_details = r.flag("decoder_input_details", false);
  p.seed = r.u64("seed");
  p.top_n_tokens = r.integer("top_n_tokens", 0, kU32Max, "u32");
  p.grammar = read_grammar(r, "grammar", /*openai=*/false);
  p.adapter_id = r.string("adapter_id");
}

}  // namespace

ApiResult<Json> parse_json(std::string_view body) {
  if (too_deep(body)) return ApiError::malformed_json("nesting deeper than 128 levels");
  try {
    return Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    return ApiError::malformed_json(strip_exception_id(e.what()));
  }
}

ApiResult<GenerationRequest> parse_generate(const Json& body, NativeRoute route,
                                            const ApiConfig& config) {
  if (!body.is_object()) {
    return ApiError::deserialize("invalid type: " + FieldReader::describe(body) +
                                 ", expected struct GenerateRequest");
  }
  FieldReader r(body, "");
  GenerationRequest out;
  out.inputs = r.required_string("inputs");
  out.stream = route == NativeRoute::kGenerateStream ||
               (route == NativeRoute::kCompat && r.flag("stream", false));
  const Json* params = r.get("parameters");
  if (!params) {
    // TGI quirk (§2.1): without a `parameters` object its default set samples.
    out.parameters.do_sample = true;
  } else if (!params->is_object()) {
    r.fail_field("parameters", "invalid type: " + FieldReader::describe(*params) +
                                   ", expected struct GenerateParameters");
  } else {
    FieldReader pr(*params, "parameters");
    read_parameters(pr, out.parameters);
    if (!pr.ok()) r.fail(pr.error());
  }
  if (!r.ok()) return r.error();
  if (route == NativeRoute::kCompat && !out.parameters.return_full_text) {
    // POST / echoes the prompt for text-generation models (and unknown ones).
    out.parameters.return_full_text =
        !config.model_pipeline_tag || *config.model_pipeline_tag == "text-generation";
  }
  return out;
}

std::optional<InvocationKind> classify_invocation(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  if (body.contains("inputs")) return InvocationKind::kCompat;
  if (body.contains("messages")) return InvocationKind::kChat;
  if (body.contains("prompt")) return InvocationKind::kCompletion;
  return std::nullopt;
}

std::string response_model(const std::optional<std::string>& requested, const ApiConfig& config) {
  if (requested && !requested->empty() && *requested != "tgi") return *requested;
  return config.public_model_name();
}

}  // namespace kiln::api
