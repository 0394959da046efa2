#include "cli/serving_model.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/template_source.h"
#include "cli/builtin_templates.h"
#include "model/hub.h"
#include "model/summary.h"

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The commit of a huggingface_hub cache path (.../snapshots/<commit>/...).
std::optional<std::string> snapshot_commit(const fs::path& path) {
  bool after_snapshots = false;
  for (const auto& part : path) {
    const std::string s = part.string();
    if (after_snapshots) return is_commit_hash(s) ? std::optional(s) : std::nullopt;
    after_snapshots = s == "snapshots";
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string seconds(std::chrono::steady_clock::time_point since) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
  return buf;
}

std::string params_text(int64_t n) {
  char buf[32];
  if (n >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
  else if (n >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%.0fM", static_cast<double>(n) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0fK", static_cast<double>(n) / 1e3);
  return buf;
}

// --chat-template: an existing file, or the template text itself.
util::Result<chat::ModelTemplates> explicit_template(const std::string& value) {
  std::error_code ec;
  if (fs::is_regular_file(value, ec)) return chat::load_template_file(value);
  if (value.find("{{") != std::string::npos || value.find("{%") != std::string::npos) {
    chat::ModelTemplates t;
    t.templates.push_back({"default", value});
    t.origin = "--chat-template (inline)";
    return t;
  }
  return util::make_error("--chat-template " + value +
                          ": no such file (and not Jinja text either)");
}

// tokenizer_config.json's "bos_token"/"eos_token": "<s>" or {"content": "<s>"}.
std::optional<std::string> config_token(const chat::Json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

// --tokenizer-config-path for a GGUF model: its chat_template and special tokens.
util::Result<chat::ModelTemplates> config_templates(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::make_error("--tokenizer-config-path " + path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  chat::Json cfg = chat::Json::parse(ss.str(), nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object())
    return util::make_error("--tokenizer-config-path " + path + ": not a JSON object");
  chat::ModelTemplates out;
  out.bos_token = config_token(cfg, "bos_token");
  out.eos_token = config_token(cfg, "eos_token");
  if (auto it = cfg.find("chat_template"); it != cfg.end() && !it->is_null()) {
    auto t = chat::parse_template_value(*it, path);
    if (!t) return t.error();
    out.templates = std::move(t).value();
    out.origin = path;
  }
  return out;
}

// The model's own templates (steps 1-2 of the header's order).
util::Result<chat::ModelTemplates> model_templates(const model::ModelDescription& d,
                                                   const std::string& tokenizer_config) {
  if (d.format == model::Format::kSafetensors)
    return chat::load_hf_templates(d.path, tokenizer_config);
  chat::ModelTemplates out;
  if (!tokenizer_config.empty()) {
    auto from_config = config_templates(tokenizer_config);
    if (!from_config) return from_config.error();
    out = std::move(from_config).value();
  }
  if (out.templates.empty()) {
    for (const auto& t : d.chat_templates) out.templates.push_back({t.name, t.source});
    if (!out.templates.empty()) out.origin = d.path.string() + " (tokenizer.chat_template)";
  }
  return out;
}

}  // namespace

std::string model_dtype(const model::ModelDescription& d) {
  if (d.gguf) {
    auto ftype = d.gguf->get_int("general.file_type", -1);
    if (ftype.ok()) {
      switch (*ftype) {
        case 0: return "f32";
        case 1: return "f16";
        case 2: return "q4_0";
        case 3: return "q4_1";
        case 7: return "q8_0";
        case 8: return "q5_0";
        case 9: return "q5_1";
        case 10: return "q2_k";
        case 11: return "q3_k_s";
        case 12: return "q3_k_m";
        case 13: return "q3_k_l";
        case 14: return "q4_k_s";
        case 15: return "q4_k_m";
        case 16: return "q5_k_s";
        case 17: return "q5_k_m";
        case 18: return "q6_k";
        case 32: return "bf16";
        default: break;
      }
    }
  }
  const auto summary = model::summarize(d);
  if (summary.types.empty()) return "";
  const std::string t = summary.types.front().type;
  if (t == "F32") return "float32";
  if (t == "F16") return "float16";
  if (t == "BF16") return "bfloat16";
  return lower(t);
}

util::Result<ServingModel> load_serving_model(const ServingModelOptions& o) {
  auto log = [&](bool warning, const std::string& line) {
    if (o.log) o.log(warning, line);
  };
  const auto t0 = std::chrono::steady_clock::now();

  auto hub = model::hub::options_from_env();
  hub.revision = o.revision;
  if (!o.hub_cache.empty()) hub.cache_dir = o.hub_cache;
  hub.log = [&](std::string_view line) { log(false, std::string(line)); };
  auto path = model::hub::resolve_model(o.model_id, hub);
  if (!path) return util::make_error("--model-id " + o.model_id + ": " + path.message());
  log(false, "loading model " + path->string());

  auto desc = model::load_model(*path);
  if (!desc) return desc.error();
  ServingModel m;
  m.description = std::make_shared<const model::ModelDescription>(std::move(desc).value());
  const auto& d = *m.description;

  if (d.tokenizer.kind == model::TokenizerSource::Kind::kNone)
    return util::make_error(d.path.string() + ": the model has no tokenizer Kiln can load");
  auto tok = d.format == model::Format::kGguf && d.gguf ? tokenizer::Tokenizer::from_gguf(*d.gguf)
                                                         : tokenizer::Tokenizer::load(d.path);
  if (!tok) return tok.error();
  m.tokenizer = std::make_shared<const tokenizer::Tokenizer>(std::move(tok).value());

  // Chat template.
  auto templates = o.chat_template.empty() ? model_templates(d, o.tokenizer_config_path)
                                           : explicit_template(o.chat_template);
  if (!templates) return templates.error();
  chat::ChatTemplateOptions topt;
  topt.bos_token = templates->bos_token;
  topt.eos_token = templates->eos_token;
  if (!topt.bos_token && !d.special.bos_text.empty()) topt.bos_token = d.special.bos_text;
  if (!topt.eos_token && !d.special.eos_text.empty()) topt.eos_token = d.special.eos_text;
  std::vector<chat::NamedTemplate> sources = templates->templates;
  m.template_origin = templates->origin;
  if (sources.empty()) {
    if (auto builtin = builtin_template_for(d.arch, *m.tokenizer)) {
      sources.push_back({"default", std::string(builtin->source)});
      m.template_origin = "Kiln's built-in '" + std::string(builtin->name) + "' template";
      m.builtin_template = true;
      log(true, "the model has no chat template: using " + m.template_origin +
                    " (docs/api-fields.md; --chat-template FILE replaces it)");
    } else {
      log(true, "the model has no chat template and Kiln knows no turn format for it: chat "
                "routes answer 422 (give one with --chat-template FILE)");
    }
  }
  if (!sources.empty()) {
    auto compiled = chat::ChatTemplate::compile(std::move(sources), topt);
    if (!compiled) return util::make_error("chat template (" + m.template_origin + "): " +
                                           compiled.message());
    m.chat_template = std::move(compiled).value();
    if (!m.builtin_template) log(false, "chat template from " + m.template_origin);
  }

  // Facts for /info and the limits.
  auto& f = m.facts;
  f.model_id = o.model_id;
  if (model::hub::is_repo_id(o.model_id) && !fs::exists(o.model_id)) f.sha = snapshot_commit(*path);
  f.dtype = model_dtype(d);
  f.device_type = "cpu";
  f.max_position_embeddings = static_cast<int32_t>(std::min<int64_t>(d.hparams.n_ctx_train, INT32_MAX));
  f.eos_token_ids = d.special.eos_ids;
  const auto summary = model::summarize(d);
  log(false, "loaded " + (d.name.empty() ? d.path.filename().string() : d.name) + ": " +
                 std::string(model::arch_name(d.arch)) + ", " + params_text(summary.n_params) +
                 " parameters, " + (f.dtype.empty() ? "?" : f.dtype) + ", context " +
                 std::to_string(d.hparams.n_ctx_train) + ", vocabulary " +
                 std::to_string(m.tokenizer->vocab_size()) + " (" + seconds(t0) + ")");
  return m;
}

}  // namespace kiln::cli
