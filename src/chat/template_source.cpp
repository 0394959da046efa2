// Chat template discovery in a Hugging Face model directory.
#include "chat/template_source.h"

#include <fstream>
#include <sstream>

namespace kiln::chat {

namespace {

util::Result<std::string> read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return util::make_error(p.string() + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

util::Result<Json> read_json(const std::filesystem::path& p) {
  auto text = read_text(p);
  if (!text) return text.error();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return util::make_error(p.string() + ": not valid JSON");
  return j;
}

std::optional<std::string> token_text(const Json& cfg, const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const Json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

util::Result<std::vector<NamedTemplate>> parse_template_value(const Json& value,
                                                              const std::string& where) {
  std::vector<NamedTemplate> out;
  if (value.is_string()) {
    out.push_back({"default", value.get<std::string>()});
    return out;
  }
  if (!value.is_array())
    return util::make_error(where +
                            ": chat_template must be a string or a list of {name, template}");
  for (const Json& item : value) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("template") || !item["template"].is_string())
      return util::make_error(where +
                              ": chat_template list entries need string 'name' and 'template'");
    out.push_back({item["name"].get<std::string>(), item["template"].get<std::string>()});
  }
  return out;
}

util::Result<ModelTemplates> load_hf_templates(const std::filesystem::path& dir,
                                               const std::filesystem::path& tokenizer_config) {
  ModelTemplates out;
  std::filesystem::path cfg_path =
      tokenizer_config.empty() ? dir / "tokenizer_config.json" : tokenizer_config;
  Json cfg = Json::object();
  if (std::filesystem::exists(cfg_path)) {
    auto j = read_json(cfg_path);
    if (!j) return j.error();
    if (!j->is_object()) return util::make_error(cfg_path.string() + ": expected a JSON object");
    cfg = std::move(j).value();
    out.bos_token = token_text(cfg, "bos_token");
    out.eos_token = token_text(cfg, "eos_token");
  }
  auto take = [&](const Json& value, const std::filesystem::path& from) -> util::Status {
    auto t = parse_template_value(value, from.string());
    if (!t) return t.error();
    out.templates = std::move(t).value();
    out.origin = from.string();
    return util::Status::Ok();
  };
  if (auto p = dir / "chat_template.json"; std::filesystem::exists(p)) {
    auto j = read_json(p);
    if (!j) return j.error();
    if (!j->is_object() || !j->contains("chat_template"))
      return util::make_error(p.string() + ": missing 'chat_template'");
    auto st = take((*j)["chat_template"], p);
    if (!st) return util::make_error(st.message());
    return out;
  }
  if (cfg.contains("chat_template") && !cfg["chat_template"].is_null()) {
    auto st = take(cfg["chat_template"], cfg_path);
    if (!st) return util::make_error(st.message());
    return out;
  }
  if (auto p = dir / "chat_template.jinja"; std::filesystem::exists(p)) {
    auto text = read_text(p);
    if (!text) return text.error();
    out.templates.push_back({"default", std::move(text).value()});
    out.origin = p.string();
    return out;
  }
  if (auto p = dir / "processor_config.json"; std::filesystem::exists(p)) {
    auto j = read_json(p);
    if (!j) return j.error();
    if (j->is_object() && j->contains("chat_template") && !(*j)["chat_template"].is_null()) {
      auto st = take((*j)["chat_template"], p);
      if (!st) return util::make_error(st.message());
    }
  }
  return out;
}

util::Result<ModelTemplates> load_template_file(const std::filesystem::path& file) {
  auto text = read_text(file);
  if (!text) return text.error();
  ModelTemplates out;
  out.templates.push_back({"default", std::move(text).value()});
  out.origin = file.string();
  return out;
}

}  // namespace kiln::chat
