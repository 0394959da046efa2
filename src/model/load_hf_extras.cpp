// The files of an HF directory besides config.json and the weights:
// generation_config.json (sampling defaults, eos ids), tokenizer_config.json
// (special tokens, add_bos/add_eos, chat templates), chat_template.jinja,
// additional_chat_templates/*.jinja, chat_template.json, and tokenizer.json
// (only to resolve special-token strings to ids when tokenizer_config.json
// does not list them).
#include <algorithm>
#include <fstream>
#include <sstream>

#include "model/json_reader.h"
#include "model/loaders.h"

namespace kiln::model::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uintmax_t kMaxTemplateBytes = 16 << 20;

util::Result<std::string> read_text_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return util::make_error(path.string() + ": cannot read: " + ec.message());
  if (size > kMaxTemplateBytes) return util::make_error(path.string() + ": file is over 16 MB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Token text -> id, from tokenizer_config.json's added_tokens_decoder, then
// tokenizer.json's added_tokens and vocabulary (parsed only when needed).
class TokenIds {
 public:
  TokenIds(const fs::path& dir, const json* added_decoder) : dir_(dir) {
    if (added_decoder == nullptr || !added_decoder->is_object()) return;
    for (const auto& [id_text, tok] : added_decoder->items()) {
      if (!tok.is_object() || !tok.contains("content") || !tok["content"].is_string()) continue;
      try {
        added_.emplace_back(std::stoll(id_text), tok["content"].get<std::string>());
      } catch (const std::exception&) {
        continue;  // not an id; transformers would fail too, but nothing here needs it
      }
    }
  }

  std::optional<int64_t> id_of(const std::string& text) {
    for (const auto& [id, t] : added_)
      if (t == text) return id;
    load_tokenizer_json();
    for (const auto& [id, t] : json_added_)
      if (t == text) return id;
    if (vocab_ != nullptr && vocab_->is_object()) {
      auto it = vocab_->find(text);
      if (it != vocab_->end() && it->is_number_integer()) return it->get<int64_t>();
    }
    return std::nullopt;
  }

  std::string text_of(int64_t id) {
    for (const auto& [i, t] : added_)
      if (i == id) return t;
    load_tokenizer_json();
    for (const auto& [i, t] : json_added_)
      if (i == id) return t;
    return {};
  }

  // Every added (special) token text, for finding the end-of-turn token.
  std::vector<std::pair<int64_t, std::string>> added() {
    load_tokenizer_json();
    auto all = added_;
    all.insert(all.end(), json_added_.begin(), json_added_.end());
    return all;
  }

 private:
  void load_tokenizer_json() {
    if (loaded_) return;
    loaded_ = true;
    std::error_code ec;
    if (!fs::exists(dir_ / "tokenizer.json", ec)) return;
    auto j = read_json_file(dir_ / "tokenizer.json");
    if (!j) return;  // the tokenizer module reports a broken tokenizer.json
    tokenizer_json_ = std::move(j).value();
    if (auto a = tokenizer_json_.find("added_tokens");
        a != tokenizer_json_.end() && a->is_array()) {
      for (const auto& t : *a) {
        if (t.is_object() && t.contains("id") && t["id"].is_number_integer() &&
            t.contains("content") && t["content"].is_string())
          json_added_.emplace_back(t["id"].get<int64_t>(), t["content"].get<std::string>());
      }
    }
    if (auto mdl = tokenizer_json_.find("model");
        mdl != tokenizer_json_.end() && mdl->is_object()) {
      if (auto v = mdl->find("vocab"); v != mdl->end()) vocab_ = &*v;
    }
  }

  fs::path dir_;
  std::vector<std::pair<int64_t, std::string>> added_, json_added_;
  bool loaded_ = false;
  json tokenizer_json_;
  const json* vocab_ = nullptr;
};

// A special token in tokenizer_config.json: "text" or {"content": "text", ...}.
std::optional<std::string> token_text(const JsonReader& r, const std::string& key) {
  const json* v = r.find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object() && v->contains("content") && (*v)["content"].is_string())
    return (*v)["content"].get<std::string>();
  return std::nullopt;
}

util::Status read_generation_config(const fs::path& dir, ModelDescription& m,
                                    std::vector<int64_t>& eos_ids) {
  std::error_code ec;
  const fs::path path = dir / "generation_config.json";
  if (!fs::exists(path, ec)) return {};
  auto j = read_json_file(path);
  if (!j) return j.error();
  JsonReader r(*j, path.string());
  auto& g = m.generation;
  g.do_sample = r.opt_bool("do_sample");
  g.temperature = r.opt_float("temperature");
  g.top_p = r.opt_float("top_p");
  g.min_p = r.opt_float("min_p");
  g.repetition_penalty = r.opt_float("repetition_penalty");
  g.top_k = r.opt_int("top_k");
  g.max_new_tokens = r.opt_int("max_new_tokens");
  g.max_length = r.opt_int("max_length");
  eos_ids = r.int_list("eos_token_id");
  if (auto bos = r.opt_int("bos_token_id"); bos && !m.special.bos) {
    if (*bos >= 0 && *bos < m.hparams.n_vocab) m.special.bos = static_cast<int32_t>(*bos);
  }
  return r.status();
}

util::Status read_templates(const fs::path& dir, const json* tok_config, ModelDescription& m) {
  auto set = [&](const std::string& name, std::string source) {
    for (auto& t : m.chat_templates) {
      if (t.name == name) {
        t.source = std::move(source);
        return;
      }
    }
    m.chat_templates.push_back({name, std::move(source)});
  };
  const fs::path config_path = dir / "tokenizer_config.json";
  if (tok_config != nullptr) {
    if (auto it = tok_config->find("chat_template"); it != tok_config->end() && !it->is_null()) {
      if (it->is_string()) {
        set("default", it->get<std::string>());
      } else if (it->is_array()) {
        for (const auto& t : *it) {
          if (!t.is_object() || !t.contains("name") || !t["name"].is_string() ||
              !t.contains("template") || !t["template"].is_string())
            return util::make_error(
                config_path.string() +
                ": chat_template list entries need string 'name' and 'template'");
          set(t["name"].get<std::string>(), t["template"].get<std::string>());
        }
      } else {
        return util::make_error(config_path.string() +
                                ": field 'chat_template' should be a string or a list");
      }
    }
  }
  std::error_code ec;
  // chat_template.json (processor-style) only fills in a missing default;
  // chat_template.jinja overrides it, as transformers does.
  if (fs::exists(dir / "chat_template.json", ec) && m.chat_template("default") == nullptr) {
    auto j = read_json_file(dir / "chat_template.json");
    if (!j) return j.error();
    if (auto it = j->find("chat_template"); it != j->end() && it->is_string())
      set("default", it->get<std::string>());
  }
  if (fs::exists(dir / "chat_template.jinja", ec)) {
    auto text = read_text_file(dir / "chat_template.jinja");
    if (!text) return text.error();
    set("default", std::move(text).value());
  }
  const fs::path extra = dir / "additional_chat_templates";
  if (fs::is_directory(extra, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(extra, ec))
      if (e.path().extension() == ".jinja") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto text = read_text_file(f);
      if (!text) return text.error();
      set(f.stem().string(), std::move(text).value());
    }
  }
  // "default" first, as documented in model.h.
  std::stable_partition(m.chat_templates.begin(), m.chat_templates.end(),
                        [](const ChatTemplate& t) { return t.name == "default"; });
  return {};
}

}  // namespace

util::Status load_hf_extras(const fs::path& dir, ModelDescription& m) {
  std::error_code ec;
  if (fs::exists(dir / "tokenizer.json", ec)) {
    m.tokenizer.kind = TokenizerSource::Kind::kTokenizerJson;
    m.tokenizer.tokenizer_json = dir / "tokenizer.json";
  }
  std::vector<int64_t> gen_eos;
  if (auto st = read_generation_config(dir, m, gen_eos); !st) return st;

  json tok_config;
  const fs::path tc_path = dir / "tokenizer_config.json";
  const bool have_tc = fs::exists(tc_path, ec);
  if (have_tc) {
    auto j = read_json_file(tc_path);
    if (!j) return j.error();
    tok_config = std::move(j).value();
  }
  JsonReader tc(tok_config, tc_path.string());
  if (have_tc) {
    m.special.add_bos = tc.opt_bool("add_bos_token");
    m.special.add_eos = tc.opt_bool("add_eos_token");
    if (!tc.status()) return tc.status();
  }
  const json* added = have_tc ? tc.find("added_tokens_decoder") : nullptr;
  TokenIds ids(dir, added);
  const int64_t n_vocab = m.hparams.n_vocab;
  auto in_vocab = [&](std::optional<int64_t> id) -> std::optional<int32_t> {
    if (!id || *id < 0 || *id >= n_vocab) return std::nullopt;
    return static_cast<int32_t>(*id);
  };

  // Ids named by config.json, used when tokenizer_config.json names no text.
  auto config = read_json_file(dir / "config.json");
  if (!config) return config.error();
  JsonReader cfg(*config, (dir / "config.json").string());
  const auto cfg_eos = cfg.int_list("eos_token_id");
  auto resolve = [&](const char* key, const char* id_key, std::optional<int32_t> fallback_id,
                     std::optional<int32_t>& id, std::string& text) {
    if (auto t = have_tc ? token_text(tc, key) : std::nullopt) {
      text = *t;
      id = in_vocab(ids.id_of(*t));
      if (id) return;
    }
    id = fallback_id;
    if (!id) {
      const auto v = cfg.int_list(id_key);
      if (!v.empty()) id = in_vocab(v[0]);
    }
    if (id && text.empty()) text = ids.text_of(*id);
  };
  auto& sp = m.special;
  resolve("bos_token", "bos_token_id", sp.bos, sp.bos, sp.bos_text);
  resolve("eos_token", "eos_token_id", std::nullopt, sp.eos, sp.eos_text);
  resolve("pad_token", "pad_token_id", std::nullopt, sp.pad, sp.pad_text);
  std::string unk_text;
  resolve("unk_token", "unk_token_id", std::nullopt, sp.unk, unk_text);
  if (!cfg.status()) return cfg.status();

  auto add_eos = [&](std::optional<int32_t> v) {
    if (v && std::find(sp.eos_ids.begin(), sp.eos_ids.end(), *v) == sp.eos_ids.end())
      sp.eos_ids.push_back(*v);
  };
  for (auto id : gen_eos) add_eos(in_vocab(id));
  add_eos(sp.eos);
  for (auto id : cfg_eos) add_eos(in_vocab(id));
  if (auto st = read_templates(dir, have_tc ? &tok_config : nullptr, m); !st) return st;
  std::vector<std::pair<int64_t, std::string>> candidates;
  for (const auto& [id, text] : ids.added())
    for (auto t : kEndOfTurnTexts)
      if (text == t) candidates.emplace_back(id, text);
  guess_eot(candidates, m);
  add_eos(sp.eot);  // as for GGUF files: a chat turn's end also ends generation
  return {};
}

}  // namespace kiln::model::detail
