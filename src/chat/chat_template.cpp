// ChatTemplate: transformers' apply_chat_template variables over the engine.
#include "chat/chat_template.h"

#include <cstdint>

namespace kiln::chat {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

std::string apply_tgi_patches(std::string source) {
  // Order as TGI: drop generation tags, then the two Python-isms minijinja lacks.
  replace_all(source, "{% generation %}", "");
  replace_all(source, "{% endgeneration %}", "");
  replace_all(source, "[::-1]", "|reverse");
  replace_all(source, "messages[0]['content'][0]['text']", "messages[0]['content']");
  return source;
}

namespace {

// Deeper JSON becomes None in to_value (its recursion stays bounded); apply()
// rejects such input with a limit error before converting.
constexpr int kMaxJsonDepth = 1000;

bool deeper_than(const Json& j, int limit) {
  if (!j.is_structured()) return false;
  if (limit <= 0) return true;
  for (const auto& x : j)
    if (deeper_than(x, limit - 1)) return true;
  return false;
}

jinja::Value convert(const Json& j, int depth);

}  // namespace

jinja::Value to_value(const Json& j) { return convert(j, 0); }

namespace {

jinja::Value convert(const Json& j, int depth) {
  if (depth > kMaxJsonDepth) return jinja::Value::none();
  switch (j.type()) {
    case Json::value_t::null:
      return jinja::Value::none();
    case Json::value_t::boolean:
      return jinja::Value::boolean(j.get<bool>());
    case Json::value_t::number_integer:
      return jinja::Value::integer(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX))
        return jinja::Value::integer(static_cast<int64_t>(u));
      return jinja::Value::number(static_cast<double>(u));
    }
    case Json::value_t::number_float:
      return jinja::Value::number(j.get<double>());
    case Json::value_t::string:
      return jinja::Value::borrowed(j.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::vector<jinja::Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(convert(x, depth + 1));
      return jinja::Value::list(std::move(items));
    }
    case Json::value_t::object: {
      jinja::Value d = jinja::Value::dict();
      jinja::dict_reserve(d, j.size());
      for (auto it = j.begin(); it != j.end(); ++it)  // JSON object keys are unique
        jinja::dict_append_new(d, jinja::Value::borrowed(it.key()), convert(it.value(), depth + 1));
      return d;
    }
    default:
      return jinja::Value::none();
  }
}

}  // namespace

TemplateError to_template_error(const jinja::Error& e) {
  TemplateError out;
  out.kind = e.kind == jinja::ErrorKind::kUndefined ? TemplateError::Kind::kMissingVariable
                                                    : TemplateError::Kind::kTemplate;
  out.message = e.kind == jinja::ErrorKind::kTemplate ? e.message : e.describe();
  out.detail = e;
  return out;
}

util::Result<std::shared_ptr<const ChatTemplate>> ChatTemplate::compile(
    std::vector<NamedTemplate> templates, ChatTemplateOptions options) {
  if (templates.empty()) return util::make_error("template not found");
  auto ct = std::make_shared<ChatTemplate>();
  for (auto& t : templates) {
    std::string source =
        options.tgi_patches ? apply_tgi_patches(std::move(t.source)) : std::move(t.source);
    auto compiled = jinja::Template::compile(source, options.limits);
    if (!compiled) {
      const jinja::Error& e = compiled.error();
      return util::make_error("chat template '" + t.name + "' line " + std::to_string(e.line) +
                              ": " + e.describe());
    }
    ct->templates_.push_back({t.name, std::move(compiled).value(), std::move(source)});
  }
  ct->options_ = std::move(options);
  return std::shared_ptr<const ChatTemplate>(std::move(ct));
}

util::Result<std::shared_ptr<const ChatTemplate>> ChatTemplate::compile(
    std::string source, ChatTemplateOptions options) {
  std::vector<NamedTemplate> one;
  one.push_back({"default", std::move(source)});
  return compile(std::move(one), std::move(options));
}

const ChatTemplate::Compiled& ChatTemplate::select(bool with_tools) const {
  if (with_tools)
    for (const auto& t : templates_)
      if (t.name == "tool_use") return t;
  for (const auto& t : templates_)
    if (t.name == "default") return t;
  return templates_.front();
}

bool ChatTemplate::uses_tools(bool with_tools) const {
  return select(with_tools).tmpl->uses_variable("tools");
}

jinja::Expected<std::string> ChatTemplate::apply(const RenderInputs& in, bool with_tools) const {
  // Values nest one level deeper than the JSON (the variable itself).
  const int max_depth = options_.limits.max_recursion_depth - 1;
  for (const Json* j : {in.messages, in.tools, in.documents, in.extra}) {
    if (j != nullptr && deeper_than(*j, max_depth))
      return jinja::Error{jinja::ErrorKind::kLimit,
                          "input nesting exceeds max_recursion_depth (" +
                              std::to_string(options_.limits.max_recursion_depth) + ")",
                          0};
  }
  jinja::Context ctx;
  // transformers: template_kwargs = {**special_tokens_map, **kwargs}, then the
  // fixed variables; later set() calls win (the engine keeps the last value).
  const auto& bos = in.bos_token ? *in.bos_token : options_.bos_token;
  const auto& eos = in.eos_token ? *in.eos_token : options_.eos_token;
  if (bos) ctx.set("bos_token", jinja::Value::borrowed(*bos));
  if (eos) ctx.set("eos_token", jinja::Value::borrowed(*eos));
  if (in.extra != nullptr && in.extra->is_object()) {
    for (auto it = in.extra->begin(); it != in.extra->end(); ++it) {
      if (it.key() == "documents") continue;
      ctx.set(it.key(), to_value(it.value()));
    }
  }
  ctx.set("messages", in.messages ? to_value(*in.messages) : jinja::Value::list({}));
  if (in.tools) ctx.set("tools", to_value(*in.tools));
  const Json* docs = in.documents;
  if (in.extra != nullptr && in.extra->is_object() && in.extra->contains("documents"))
    docs = &(*in.extra)["documents"];
  if (docs) ctx.set("documents", to_value(*docs));
  ctx.set("add_generation_prompt", jinja::Value::boolean(in.add_generation_prompt));
  if (in.now) ctx.set_now(*in.now);
  return select(with_tools).tmpl->render(ctx);
}

}  // namespace kiln::chat
