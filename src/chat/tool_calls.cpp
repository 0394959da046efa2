// Tool-call recognition in generated text and the forced-call schema.
#include "chat/tool_calls.h"

#include <algorithm>
#include <utility>

namespace kiln::chat {

namespace {

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";
constexpr std::string_view kLlamaMarker = "<|python_tag|>";
constexpr std::string_view kGraniteMarker = "<|tool_call|>";

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view marker_of(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::kHermes:
      return kHermesOpen;
    case ToolCallFormat::kMistral:
      return kMistralMarker;
    case ToolCallFormat::kLlama3:
      return kLlamaMarker;
    case ToolCallFormat::kGranite:
      return kGraniteMarker;
    case ToolCallFormat::kJson:
      break;
  }
  return {};
}

// Arguments as compact object text: absent/null -> {}, an object, or a
// string holding one (some models quote them).
bool arguments_text(const Json* args, std::string& out) {
  if (args == nullptr || args->is_null()) {
    out = "{}";
    return true;
  }
  if (args->is_object()) {
    out = args->dump();
    return true;
  }
  if (args->is_string()) {
    Json parsed = Json::parse(args->get_ref<const std::string&>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return false;
    out = parsed.dump();
    return true;
  }
  return false;
}

const Json* find_key(const Json& o, const char* a, const char* b) {
  if (auto it = o.find(a); it != o.end()) return &*it;
  if (auto it = o.find(b); it != o.end()) return &*it;
  return nullptr;
}

// One call payload: {"name", "arguments"|"parameters"}, OpenAI's
// {"function": {"name", "arguments"}} or TGI's {"function": {"_name", ...}}.
bool one_call(const Json& o, ParsedToolCall& call) {
  if (!o.is_object()) return false;
  auto name = o.find("name");
  if (name == o.end()) {
    auto fn = o.find("function");
    if (fn == o.end() || !fn->is_object()) return false;
    if (auto tgi = fn->find("_name"); tgi != fn->end()) {
      if (!tgi->is_string()) return false;
      call.name = tgi->get<std::string>();
      Json args = *fn;
      args.erase("_name");
      call.arguments = args.dump();
      return !call.name.empty();
    }
    return one_call(*fn, call);
  }
  if (!name->is_string()) return false;
  call.name = name->get<std::string>();
  return !call.name.empty() &&
         arguments_text(find_key(o, "arguments", "parameters"), call.arguments);
}

// $ref targets inside a tool schema moved under `base`.
void rebase_refs(Json& j, const std::string& base) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) {
        const std::string& ref = it->get_ref<const std::string&>();
        if (!ref.empty() && ref[0] == '#') *it = base + ref.substr(1);
      } else {
        rebase_refs(*it, base);
      }
    }
  } else if (j.is_array()) {
    for (auto& x : j) rebase_refs(x, base);
  }
}

}  // namespace

ToolCallFormat detect_tool_call_format(std::string_view source) {
  if (source.find(kHermesOpen) != std::string_view::npos) return ToolCallFormat::kHermes;
  if (source.find(kMistralMarker) != std::string_view::npos) return ToolCallFormat::kMistral;
  if (source.find(kGraniteMarker) != std::string_view::npos) return ToolCallFormat::kGranite;
  if (source.find(kLlamaMarker) != std::string_view::npos ||
      (source.find("ipython") != std::string_view::npos &&
       source.find("\"parameters\"") != std::string_view::npos))
    return ToolCallFormat::kLlama3;
  return ToolCallFormat::kJson;
}

const char* tool_call_format_name(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kHermes:
      return "hermes";
    case ToolCallFormat::kMistral:
      return "mistral";
    case ToolCallFormat::kLlama3:
      return "llama3";
    case ToolCallFormat::kGranite:
      return "granite";
    case ToolCallFormat::kJson:
      break;
  }
  return "json";
}

const char* arguments_key(ToolCallFormat format) {
  return format == ToolCallFormat::kLlama3 || format == ToolCallFormat::kJson ? "parameters"
                                                                              : "arguments";
}

namespace {

enum class Head { kMore, kNo, kArgs };
constexpr size_t kMaxHeadBytes = 4096;

// Matches `{"name": "<name>", "arguments"|"parameters": {` (JSON whitespace
// anywhere between tokens) against the start of a forced reply.
Head match_head(std::string_view h, const std::vector<std::string>& names, std::string& name) {
  size_t p = 0;
  auto ws = [&] {
    while (p < h.size() && is_ws(h[p])) ++p;
    return p < h.size();
  };
  auto expect = [&](char c) -> Head {
    if (!ws()) return Head::kMore;
    return h[p++] == c ? Head::kArgs : Head::kNo;  // kArgs: matched, go on
  };
  // A string literal at p: its raw text, or kMore/kNo.
  auto literal = [&](std::string& raw) -> Head {
    if (!ws()) return Head::kMore;
    if (h[p] != '"') return Head::kNo;
    size_t q = p + 1;
    for (bool esc = false; q < h.size(); ++q) {
      if (esc)
        esc = false;
      else if (h[q] == '\\')
        esc = true;
      else if (h[q] == '"')
        break;
    }
    if (q >= h.size()) return Head::kMore;
    raw.assign(h.substr(p, q + 1 - p));
    p = q + 1;
    return Head::kArgs;
  };
  std::string key, value;
  Head r;
  if ((r = expect('{')) != Head::kArgs) return r;
  if ((r = literal(key)) != Head::kArgs) return r;
  if (key != "\"name\"") return Head::kNo;
  if ((r = expect(':')) != Head::kArgs) return r;
  if ((r = literal(value)) != Head::kArgs) return r;
  Json decoded = Json::parse(value, nullptr, false);
  if (decoded.is_discarded() || !decoded.is_string()) return Head::kNo;
  if ((r = expect(',')) != Head::kArgs) return r;
  if ((r = literal(key)) != Head::kArgs) return r;
  if (key != "\"arguments\"" && key != "\"parameters\"") return Head::kNo;
  if ((r = expect(':')) != Head::kArgs) return r;
  if ((r = expect('{')) != Head::kArgs) return r;
  if (p != h.size()) return Head::kNo;
  name = decoded.get<std::string>();
  if (std::find(names.begin(), names.end(), name) == names.end()) return Head::kNo;
  return Head::kArgs;
}

}  // namespace

ToolCallStreamParser::ToolCallStreamParser(ToolCallParserOptions options) : o_(std::move(options)) {
  if (o_.forced) forced_ = Forced::kHead;
}

void ToolCallStreamParser::feed(std::string_view text, ToolCallOutput& out) {
  if (forced_ != Forced::kOff) {
    feed_forced(text, out);
    return;
  }
  buf_.append(text);
  process(false, out);
}

void ToolCallStreamParser::feed_forced(std::string_view text, ToolCallOutput& out) {
  std::string args;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (forced_ == Forced::kHead) {
      head_.push_back(c);
      std::string name;
      const Head h =
          head_.size() > kMaxHeadBytes ? Head::kNo : match_head(head_, o_.tool_names, name);
      if (h == Head::kNo) {
        // Not the forced shape: parse the whole reply the usual way.
        forced_ = Forced::kOff;
        buf_ = std::move(head_);
        buf_.append(text.substr(i + 1));
        process(false, out);
        return;
      }
      if (h == Head::kArgs) {
        ParsedToolCall call;
        call.name = std::move(name);
        out.calls.push_back(std::move(call));
        calls_ = 1;
        any_call_ = true;
        forced_ = Forced::kArgs;
        depth_ = 1;
        args.push_back('{');
      }
    } else if (forced_ == Forced::kArgs) {
      if (in_string_) {
        args.push_back(c);
        string_char(c);
        continue;
      }
      if (is_ws(c)) continue;
      args.push_back(c);
      if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        ++depth_;
      } else if ((c == '}' || c == ']') && --depth_ == 0) {
        forced_ = Forced::kTail;  // the rest is the closing brace
      }
    }
  }
  if (!args.empty()) {
    ParsedToolCall piece;
    piece.first = false;
    piece.arguments = std::move(args);
    out.calls.push_back(std::move(piece));
  }
}

// One character inside a JSON string: tracks escapes and the closing quote.
void ToolCallStreamParser::string_char(char c) {
  if (escape_)
    escape_ = false;
  else if (c == '\\')
    escape_ = true;
  else if (c == '"')
    in_string_ = false;
}

void ToolCallStreamParser::finish(ToolCallOutput& out) {
  if (forced_ == Forced::kHead) {
    forced_ = Forced::kOff;
    buf_ = std::move(head_);
  }
  process(true, out);
  // Whitespace around calls is not content; a plain answer keeps all of it.
  if (!any_call_) out.content += held_ws_;
  held_ws_.clear();
}

void ToolCallStreamParser::process(bool at_end, ToolCallOutput& out) {
  for (;;) {
    bool progressed = false;
    switch (state_) {
      case State::kText:
        progressed = step_text(at_end, out);
        break;
      case State::kBlock:
        progressed = step_block(at_end, out);
        break;
      case State::kJson:
        progressed = step_json(at_end, out);
        break;
    }
    if (!progressed) return;
  }
}

void ToolCallStreamParser::emit_text(std::string_view text, ToolCallOutput& out) {
  size_t last = text.find_last_not_of(" \t\n\r");
  if (last == std::string_view::npos) {
    held_ws_.append(text);
    return;
  }
  out.content += held_ws_;
  held_ws_.clear();
  out.content.append(text.substr(0, last + 1));
  held_ws_.assign(text.substr(last + 1));
  value_start_ = false;
}

bool ToolCallStreamParser::step_text(bool at_end, ToolCallOutput& out) {
  const std::string_view marker = marker_of(o_.format);
  if (value_start_) {
    size_t i = 0;
    while (i < buf_.size() && (is_ws(buf_[i]) || (any_call_ && buf_[i] == ';'))) ++i;
    held_ws_.append(buf_, 0, i);
    buf_.erase(0, i);
    if (buf_.empty()) return false;
    const bool marker_prefix =
        !marker.empty() && buf_.size() < marker.size() && marker.substr(0, buf_.size()) == buf_;
    if (marker_prefix && !at_end) return false;
    const bool has_marker =
        !marker.empty() && std::string_view(buf_).substr(0, marker.size()) == marker;
    if (!has_marker && (buf_[0] == '{' || buf_[0] == '[')) {
      state_ = State::kJson;
      marker_.clear();
      scan_ = 0;
      return true;
    }
    value_start_ = false;
  }
  if (buf_.empty()) return false;
  size_t pos = marker.empty() ? std::string::npos : buf_.find(marker);
  if (pos != std::string::npos) {
    emit_text(std::string_view(buf_).substr(0, pos), out);
    dropped_ws_ = std::move(held_ws_);  // whitespace before a call is not content
    held_ws_.clear();
    buf_.erase(0, pos + marker.size());
    marker_.assign(marker);
    state_ = o_.format == ToolCallFormat::kHermes ? State::kBlock : State::kJson;
    scan_ = 0;
    return true;
  }
  // Hold back a suffix that may be the start of the marker.
  size_t keep = 0;
  if (!at_end) {
    for (size_t k = std::min(marker.size() - (marker.empty() ? 0 : 1), buf_.size()); k > 0; --k) {
      if (std::string_view(buf_).substr(buf_.size() - k) == marker.substr(0, k)) {
        keep = k;
        break;
      }
    }
  }
  emit_text(std::string_view(buf_).substr(0, buf_.size() - keep), out);
  buf_.erase(0, buf_.size() - keep);
  return false;
}

bool ToolCallStreamParser::step_block(bool at_end, ToolCallOutput& out) {
  const size_t from = scan_ >= kHermesClose.size() ? scan_ - kHermesClose.size() + 1 : 0;
  size_t pos = buf_.find(kHermesClose, from);
  std::string raw;
  bool closed = pos != std::string::npos;
  if (!closed) {
    scan_ = buf_.size();
    if (!at_end) return false;
    pos = buf_.size();
  }
  std::string inner = buf_.substr(0, pos);
  buf_.erase(0, closed ? pos + kHermesClose.size() : pos);
  const bool call = emit_calls(trim(inner), /*marked=*/true, out);
  if (!call) {
    held_ws_ = std::move(dropped_ws_);
    emit_text(marker_ + inner + (closed ? std::string(kHermesClose) : ""), out);
  }
  state_ = State::kText;
  marker_.clear();
  scan_ = 0;
  value_start_ = call;
  return true;
}

bool ToolCallStreamParser::step_json(bool at_end, ToolCallOutput& out) {
  size_t i = scan_;
  size_t end = std::string::npos;
  bool not_json = false;
  for (; i < buf_.size(); ++i) {
    const char c = buf_[i];
    if (!started_) {
      if (is_ws(c)) continue;
      if (c != '{' && c != '[') {
        not_json = true;
        break;
      }
      started_ = true;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      string_char(c);
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      end = i + 1;
      break;
    }
  }
  scan_ = i;
  if (not_json) {
    // A marker not followed by JSON was just text.
    std::string marker = std::move(marker_);
    marker_.clear();
    started_ = false;
    scan_ = 0;
    state_ = State::kText;
    held_ws_ = std::move(dropped_ws_);
    emit_text(marker, out);
    value_start_ = false;
    return true;
  }
  if (end == std::string::npos) {
    if (!at_end) return false;
    end = buf_.size();
  }
  std::string payload = buf_.substr(0, end);
  buf_.erase(0, end);
  const bool call = emit_calls(payload, !marker_.empty(), out);
  if (!call) {
    if (!marker_.empty()) held_ws_ = std::move(dropped_ws_);
    emit_text(marker_ + payload, out);
  }
  state_ = State::kText;
  marker_.clear();
  scan_ = 0;
  depth_ = 0;
  started_ = in_string_ = escape_ = false;
  value_start_ = call;
  return true;
}

bool ToolCallStreamParser::emit_calls(std::string_view payload, bool marked, ToolCallOutput& out) {
  Json j = Json::parse(payload, nullptr, false);
  if (j.is_discarded()) return false;
  std::vector<ParsedToolCall> calls;
  if (j.is_array()) {
    for (const auto& item : j) {
      ParsedToolCall c;
      if (!one_call(item, c)) return false;
      calls.push_back(std::move(c));
    }
  } else {
    ParsedToolCall c;
    if (!one_call(j, c)) return false;
    calls.push_back(std::move(c));
  }
  if (calls.empty()) return false;
  if (!marked) {
    for (const auto& c : calls) {
      if (std::find(o_.tool_names.begin(), o_.tool_names.end(), c.name) == o_.tool_names.end())
        return false;
    }
  }
  any_call_ = true;
  held_ws_.clear();
  for (auto& c : calls) {
    if (!o_.parallel && calls_ >= 1) continue;
    c.index = calls_++;
    out.calls.push_back(std::move(c));
  }
  return true;
}

ToolCallOutput parse_tool_calls(std::string_view text, const ToolCallParserOptions& options) {
  ToolCallStreamParser p(options);
  ToolCallOutput out;
  p.feed(text, out);
  p.finish(out);
  return out;
}

Json tool_call_schema(const Json& tools, ToolCallFormat format) {
  const char* key = arguments_key(format);
  Json defs = Json::object();
  Json branches = Json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& fn = tools[i]["function"];
    const std::string def = "kiln_tool_" + std::to_string(i);
    Json params = fn.contains("parameters") ? fn["parameters"] : Json::object();
    if (!params.is_object() || params.empty()) {
      params =
          Json{{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}};
    } else {
      rebase_refs(params, "#/$defs/" + def);
    }
    defs[def] = std::move(params);
    Json props = Json::object();
    props["name"] = Json{{"const", fn["name"]}};
    props[key] = Json{{"$ref", "#/$defs/" + def}};
    Json branch = Json::object();
    branch["type"] = "object";
    branch["properties"] = std::move(props);
    branch["required"] = Json::array({"name", key});
    branch["additionalProperties"] = false;
    branches.push_back(std::move(branch));
  }
  Json schema =
      branches.size() == 1 ? std::move(branches[0]) : Json{{"anyOf", std::move(branches)}};
  schema["$defs"] = std::move(defs);
  return schema;
}

}  // namespace kiln::chat
