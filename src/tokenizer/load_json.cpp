// tokenizer.json (+ tokenizer_config.json) -> TokenizerImpl.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "tokenizer/impl.h"
#include "tokenizer/unicode.h"

namespace kiln::tokenizer::detail {

namespace {

using nlohmann::json;

// Errors carry "<source>: <json path>: what"; helpers below build them.
struct Ctx {
  std::string source;
  util::Error error(const std::string& where, const std::string& what) const {
    return util::make_error(source + ": " + where + ": " + what);
  }
};

// tokenizer.json is mostly model.vocab and model.merges (gemma3: 262k + 515k
// entries); reading those two straight into vectors instead of into a DOM
// (a std::map per object) makes loading several times faster. Everything else
// becomes an ordinary DOM.
class TokenizerJsonSax : public nlohmann::json_sax<json> {
 public:
  json root;
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool has_vocab = false, has_merges = false;
  std::string error;

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == Mode::kVocab) return vocab_entry(int64_t(v));
    return put(json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == Mode::kVocab)
      return vocab_entry(v > number_unsigned_t(INT64_MAX) ? -1 : int64_t(v));
    return put(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return put(json(v)); }
  bool string(string_t& v) override {
    if (mode_ == Mode::kMerges) {
      const size_t sp = v.find(' ');
      if (sp == std::string::npos || v.find(' ', sp + 1) != std::string::npos)
        return fail("model.merges[" + std::to_string(merges.size()) + "]: '" + v +
                    "' is not two tokens separated by a space");
      merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      pair_.push_back(std::move(v));
      return true;
    }
    return put(json(std::move(v)));
  }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override {
    if (mode_ == Mode::kNone && at_model_member("vocab")) {
      mode_ = Mode::kVocab;
      has_vocab = true;
      return true;
    }
    if (mode_ != Mode::kNone) return fail(where() + ": unexpected object");
    return open(json::object());
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kNone;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (mode_ == Mode::kNone && at_model_member("merges")) {
      mode_ = Mode::kMerges;
      has_merges = true;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kNone) return fail(where() + ": unexpected list");
    return open(json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return fail(where() + ": must be [\"a\", \"b\"]");
      merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kNone;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    return fail("not valid JSON at byte " + std::to_string(position) + ": " + e.what());
  }

 private:
  enum class Mode { kNone, kVocab, kMerges, kMergePair };
  struct Open {
    json* value;
    std::string key;  // key of this container in its parent object
  };

  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
  std::string where() const {
    if (mode_ == Mode::kVocab) return "model.vocab";
    if (mode_ == Mode::kMerges || mode_ == Mode::kMergePair)
      return "model.merges[" + std::to_string(merges.size()) + "]";
    return "(json)";
  }
  bool at_model_member(const char* name) const {
    return stack_.size() == 2 && stack_[1].key == "model" && stack_[1].value->is_object() &&
           key_ == name;
  }
  bool vocab_entry(int64_t id) {
    if (id < 0 || id > INT32_MAX) return fail("model.vocab: id of '" + key_ + "' is out of range");
    vocab.emplace_back(std::move(key_), int32_t(id));
    return true;
  }
  json* insert(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back().value;
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }
  bool put(json&& v) {
    if (mode_ == Mode::kVocab) return fail("model.vocab: id of '" + key_ + "' is not an integer");
    if (mode_ != Mode::kNone) return fail(where() + ": must be \"a b\" or [\"a\", \"b\"]");
    insert(std::move(v));
    return true;
  }
  bool open(json&& v) {
    std::string k = stack_.empty() || stack_.back().value->is_array() ? std::string() : key_;
    json* p = insert(std::move(v));
    stack_.push_back({p, std::move(k)});
    return true;
  }

  Mode mode_ = Mode::kNone;
  std::vector<Open> stack_;
  std::string key_;
  std::vector<std::string> pair_;
};

bool get_bool(const json& j, const char* key, bool def) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

std::string get_string(const json& j, const char* key, const std::string& def = {}) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}

std::string type_of(const json& j) { return j.is_object() ? get_string(j, "type") : std::string(); }

// {"String": "..."} or {"Regex": "..."}.
struct Pattern {
  std::string literal;
  std::unique_ptr<Regex> regex;
};

util::Result<Pattern> parse_pattern(const Ctx& ctx, const json& j, const std::string& where) {
  if (!j.is_object())
    return ctx.error(where, "pattern must be an object {\"String\"|\"Regex\": ...}");
  Pattern p;
  if (auto it = j.find("String"); it != j.end() && it->is_string()) {
    p.literal = it->get<std::string>();
    return p;
  }
  if (auto it = j.find("Regex"); it != j.end() && it->is_string()) {
    auto re = Regex::compile(it->get<std::string>());
    if (!re.ok()) return ctx.error(where, re.message());
    p.regex = std::move(re.value());
    return p;
  }
  return ctx.error(where, "pattern must have a \"String\" or \"Regex\" field");
}

util::Result<SplitBehavior> parse_behavior(const Ctx& ctx, const json& j, const std::string& where,
                                           SplitBehavior def) {
  if (j.is_null()) return def;
  const std::string b = j.is_string() ? j.get<std::string>() : std::string();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return ctx.error(where, "unknown split behavior '" + b + "'");
}

PrependScheme parse_prepend_scheme(const json& j) {
  const std::string s = get_string(j, "prepend_scheme");
  if (s == "first") return PrependScheme::kFirst;
  if (s == "never") return PrependScheme::kNever;
  if (s == "always") return PrependScheme::kAlways;
  return get_bool(j, "add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
}

util::Result<std::unique_ptr<Normalizer>> parse_normalizer(const Ctx& ctx, const json& j,
                                                           const std::string& where) {
  const std::string type = type_of(j);
  using R = std::unique_ptr<Normalizer>;
  if (type == "NFC") return R(make_unicode_normalizer(UnicodeForm::kNfc));
  if (type == "NFD") return R(make_unicode_normalizer(UnicodeForm::kNfd));
  if (type == "NFKC") return R(make_unicode_normalizer(UnicodeForm::kNfkc));
  if (type == "NFKD") return R(make_unicode_normalizer(UnicodeForm::kNfkd));
  if (type == "Lowercase") return R(make_lowercase_normalizer());
  if (type == "StripAccents") return R(make_strip_accents_normalizer());
  if (type == "Strip")
    return R(
        make_strip_normalizer(get_bool(j, "strip_left", true), get_bool(j, "strip_right", true)));
  if (type == "Prepend") return R(make_prepend_normalizer(get_string(j, "prepend")));
  if (type == "Replace") {
    auto p = parse_pattern(ctx, j.value("pattern", json()), where + ".pattern");
    if (!p.ok()) return p.error();
    return R(make_replace_normalizer(std::move(p->literal), std::move(p->regex),
                                     get_string(j, "content")));
  }
  if (type == "BertNormalizer") {
    BertNormalizerOptions o;
    o.clean_text = get_bool(j, "clean_text", true);
    o.handle_chinese_chars = get_bool(j, "handle_chinese_chars", true);
    o.lowercase = get_bool(j, "lowercase", true);
    o.strip_accents = get_bool(j, "strip_accents", o.lowercase);
    return R(make_bert_normalizer(o));
  }
  if (type == "Sequence") {
    const json& list = j.value("normalizers", json::array());
    if (!list.is_array()) return ctx.error(where + ".normalizers", "must be a list");
    std::vector<R> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      auto n = parse_normalizer(ctx, list[i], where + ".normalizers[" + std::to_string(i) + "]");
      if (!n.ok()) return n.error();
      if (n.value()) steps.push_back(std::move(n.value()));
    }
    return R(make_sequence_normalizer(std::move(steps)));
  }
  return ctx.error(where, "normalizer type '" + type + "' is not supported");
}

// Flattens nested Sequences so that ByteLevel's position can be checked.
util::Status parse_pre_tokenizers(const Ctx& ctx, const json& j, const std::string& where,
                                  std::vector<std::unique_ptr<PreTokenizer>>& out,
                                  bool* byte_level) {
  const std::string type = type_of(j);
  if (*byte_level) return ctx.error(where, "a pre-tokenizer after ByteLevel is not supported");
  if (type == "Sequence") {
    const json& list = j.value("pretokenizers", json::array());
    if (!list.is_array()) return ctx.error(where + ".pretokenizers", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      auto s = parse_pre_tokenizers(
          ctx, list[i], where + ".pretokenizers[" + std::to_string(i) + "]", out, byte_level);
      if (!s.ok()) return s;
    }
    return util::Status::Ok();
  }
  if (type == "ByteLevel") {
    auto p = make_byte_level(get_bool(j, "add_prefix_space", true), get_bool(j, "use_regex", true));
    if (!p.ok()) return ctx.error(where, p.message());
    out.push_back(std::move(p.value()));
    *byte_level = true;
    return util::Status::Ok();
  }
  if (type == "Split") {
    auto p = parse_pattern(ctx, j.value("pattern", json()), where + ".pattern");
    if (!p.ok()) return p.error();
    auto b = parse_behavior(ctx, j.value("behavior", json()), where + ".behavior",
                            SplitBehavior::kIsolated);
    if (!b.ok()) return b.error();
    out.push_back(make_split(std::move(p->regex), std::move(p->literal), b.value(),
                             get_bool(j, "invert", false)));
    return util::Status::Ok();
  }
  if (type == "Metaspace") {
    std::string rep = get_string(j, "replacement", "\xE2\x96\x81");
    if (rep.empty() || !unicode::is_valid(rep))
      return ctx.error(where + ".replacement", "must be one character");
    out.push_back(
        make_metaspace(std::move(rep), parse_prepend_scheme(j), get_bool(j, "split", true)));
    return util::Status::Ok();
  }
  if (type == "Digits") {
    out.push_back(make_digits(get_bool(j, "individual_digits", false)));
    return util::Status::Ok();
  }
  if (type == "Punctuation") {
    auto b = parse_behavior(ctx, j.value("behavior", json()), where + ".behavior",
                            SplitBehavior::kIsolated);
    if (!b.ok()) return b.error();
    out.push_back(make_punctuation(b.value()));
    return util::Status::Ok();
  }
  if (type == "Whitespace") {
    auto p = make_whitespace();
    if (!p.ok()) return ctx.error(where, p.message());
    out.push_back(std::move(p.value()));
    return util::Status::Ok();
  }
  if (type == "WhitespaceSplit") {
    out.push_back(make_whitespace_split());
    return util::Status::Ok();
  }
  if (type == "BertPreTokenizer") {
    out.push_back(make_bert_pre_tokenizer());
    return util::Status::Ok();
  }
  if (type == "CharDelimiterSplit") {
    const std::string d = get_string(j, "delimiter");
    if (d.empty() || !unicode::is_valid(d))
      return ctx.error(where + ".delimiter", "must be one character");
    char32_t cp;
    unicode::decode(d.data(), &cp);
    out.push_back(make_char_delimiter_split(cp));
    return util::Status::Ok();
  }
  return ctx.error(where, "pre-tokenizer type '" + type + "' is not supported");
}

util::Status parse_decoders(const Ctx& ctx, const json& j, const std::string& where,
                            std::vector<std::unique_ptr<Decoder>>& out, bool* byte_fallback) {
  const std::string type = type_of(j);
  if (type == "Sequence") {
    const json& list = j.value("decoders", json::array());
    if (!list.is_array()) return ctx.error(where + ".decoders", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      auto s = parse_decoders(ctx, list[i], where + ".decoders[" + std::to_string(i) + "]", out,
                              byte_fallback);
      if (!s.ok()) return s;
    }
    return util::Status::Ok();
  }
  if (type == "ByteLevel") {
    out.push_back(make_byte_level_decoder());
  } else if (type == "ByteFallback") {
    out.push_back(make_byte_fallback_decoder());
    *byte_fallback = true;
  } else if (type == "Fuse") {
    out.push_back(make_fuse_decoder());
  } else if (type == "Strip") {
    const std::string c = get_string(j, "content", " ");
    if (c.empty() || !unicode::is_valid(c))
      return ctx.error(where + ".content", "must be one character");
    char32_t cp;
    unicode::decode(c.data(), &cp);
    out.push_back(make_strip_decoder(cp, j.value("start", size_t{0}), j.value("stop", size_t{0})));
  } else if (type == "Replace") {
    const json& p = j.value("pattern", json());
    if (!p.is_object() || !p.contains("String") || !p["String"].is_string())
      return ctx.error(where + ".pattern",
                       "only {\"String\": ...} patterns are supported in decoders");
    out.push_back(make_replace_decoder(p["String"].get<std::string>(), get_string(j, "content")));
  } else if (type == "Metaspace") {
    out.push_back(make_metaspace_decoder(get_string(j, "replacement", "\xE2\x96\x81"),
                                         parse_prepend_scheme(j) != PrependScheme::kNever));
  } else if (type == "WordPiece") {
    out.push_back(
        make_wordpiece_decoder(get_string(j, "prefix", "##"), get_bool(j, "cleanup", true)));
  } else {
    return ctx.error(where, "decoder type '" + type + "' is not supported");
  }
  return util::Status::Ok();
}

// Resolves a token name of the post-processor to its id.
util::Status parse_post_processor(const Ctx& ctx, const json& j, const std::string& where,
                                  PostProcessor& post,
                                  const std::function<int32_t(const std::string&)>& id_of) {
  const std::string type = type_of(j);
  if (type == "Sequence") {
    const json& list = j.value("processors", json::array());
    if (!list.is_array()) return ctx.error(where + ".processors", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      auto s = parse_post_processor(ctx, list[i], where + ".processors[" + std::to_string(i) + "]",
                                    post, id_of);
      if (!s.ok()) return s;
    }
    return util::Status::Ok();
  }
  if (type == "ByteLevel") {
    post.trim_offsets = get_bool(j, "trim_offsets", true);
    post.trim_add_prefix_space = get_bool(j, "add_prefix_space", true);
    return util::Status::Ok();
  }
  if (type == "TemplateProcessing") {
    const json& single = j.value("single", json::array());
    const json& specials = j.value("special_tokens", json::object());
    if (!single.is_array()) return ctx.error(where + ".single", "must be a list");
    post.single.clear();
    for (size_t i = 0; i < single.size(); ++i) {
      const json& item = single[i];
      const std::string w = where + ".single[" + std::to_string(i) + "]";
      if (item.contains("Sequence")) {
        post.single.push_back({true, {}});
      } else if (item.contains("SpecialToken")) {
        const std::string name = get_string(item["SpecialToken"], "id");
        PostProcessor::Item it;
        if (specials.is_object() && specials.contains(name)) {
          const json& ids = specials[name].value("ids", json::array());
          for (const json& id : ids) {
            if (!id.is_number_integer())
              return ctx.error(w, "special token '" + name + "' has a non-integer id");
            it.ids.push_back(id.get<int32_t>());
          }
        } else {
          const int32_t id = id_of(name);
          if (id < 0) return ctx.error(w, "special token '" + name + "' is not in the vocabulary");
          it.ids.push_back(id);
        }
        post.single.push_back(std::move(it));
      } else {
        return ctx.error(w, "expected a Sequence or SpecialToken item");
      }
    }
    return util::Status::Ok();
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    const json& cls = j.value("cls", json());
    const json& sep = j.value("sep", json());
    if (!cls.is_array() || cls.size() != 2 || !cls[1].is_number_integer() || !sep.is_array() ||
        sep.size() != 2 || !sep[1].is_number_integer())
      return ctx.error(where, "cls and sep must be [token, id] pairs");
    post.single = {{false, {cls[1].get<int32_t>()}}, {true, {}}, {false, {sep[1].get<int32_t>()}}};
    if (type == "RobertaProcessing") {
      post.trim_offsets = get_bool(j, "trim_offsets", true);
      post.trim_add_prefix_space = get_bool(j, "add_prefix_space", true);
    }
    return util::Status::Ok();
  }
  return ctx.error(where, "post-processor type '" + type + "' is not supported");
}

util::Status parse_model(const Ctx& ctx, const json& m, TokenizerJsonSax& sax, bool byte_level,
                         TokenizerImpl& impl) {
  if (!m.is_object()) return ctx.error("model", "missing or not an object");
  std::string type = get_string(m, "type");
  if (type.empty() && sax.has_merges) type = "BPE";
  if (type != "BPE")
    return ctx.error("model.type", "model type '" + type + "' is not supported (only BPE)");
  if (!sax.has_vocab) return ctx.error("model.vocab", "missing (must be an object {token: id})");
  BpeOptions o;
  if (auto it = m.find("unk_token"); it != m.end() && it->is_string())
    o.unk_token = it->get<std::string>();
  o.byte_fallback = get_bool(m, "byte_fallback", false);
  o.fuse_unk = get_bool(m, "fuse_unk", false);
  o.ignore_merges = get_bool(m, "ignore_merges", false);
  o.continuing_subword_prefix = get_string(m, "continuing_subword_prefix");
  o.end_of_word_suffix = get_string(m, "end_of_word_suffix");
  o.byte_level = byte_level;
  auto model = BpeModel::create(std::move(sax.vocab), sax.merges, std::move(o));
  sax.merges.clear();
  if (!model.ok()) return ctx.error("model", model.message());
  impl.model = std::move(model.value());
  return util::Status::Ok();
}

// "eos_token": "</s>" or {"content": "</s>", ...}.
std::optional<std::string> config_token(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

util::Result<std::unique_ptr<TokenizerImpl>> load_tokenizer_json(std::string_view text,
                                                                 std::string_view config_text,
                                                                 std::string_view source) {
  Ctx ctx{std::string(source)};
  auto impl = std::make_unique<TokenizerImpl>();
  impl->source = std::string(source);
  try {
    TokenizerJsonSax sax;
    if (!json::sax_parse(text.begin(), text.end(), &sax)) return ctx.error("(json)", sax.error);
    const json& j = sax.root;
    if (!j.is_object()) return ctx.error("(top level)", "not a JSON object");

    if (const json& n = j.value("normalizer", json()); !n.is_null()) {
      auto r = parse_normalizer(ctx, n, "normalizer");
      if (!r.ok()) return r.error();
      impl->normalizer = std::move(r.value());
    }
    bool byte_level = false;
    if (const json& p = j.value("pre_tokenizer", json()); !p.is_null()) {
      std::vector<std::unique_ptr<PreTokenizer>> steps;
      auto s = parse_pre_tokenizers(ctx, p, "pre_tokenizer", steps, &byte_level);
      if (!s.ok()) return util::make_error(s.message());
      if (steps.size() == 1) {
        impl->pre_tokenizer = std::move(steps[0]);
      } else if (!steps.empty()) {
        impl->pre_tokenizer = make_sequence_pre_tokenizer(std::move(steps));
      }
    }
    if (auto s = parse_model(ctx, j.value("model", json()), sax, byte_level, *impl); !s.ok())
      return util::make_error(s.message());
    if (const json& d = j.value("decoder", json()); !d.is_null()) {
      std::vector<std::unique_ptr<Decoder>> steps;
      auto s = parse_decoders(ctx, d, "decoder", steps, &impl->decoder_byte_fallback);
      if (!s.ok()) return util::make_error(s.message());
      impl->decoder =
          steps.size() == 1 ? std::move(steps[0]) : make_sequence_decoder(std::move(steps));
    }

    const json& added = j.value("added_tokens", json::array());
    if (!added.is_array()) return ctx.error("added_tokens", "must be a list");
    std::vector<AddedToken> parsed;
    for (size_t i = 0; i < added.size(); ++i) {
      const json& a = added[i];
      const std::string w = "added_tokens[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string())
        return ctx.error(w, "needs an integer \"id\" and a string \"content\"");
      AddedToken t;
      const auto id = a["id"].get<int64_t>();
      if (id < 0 || id > INT32_MAX) return ctx.error(w, "id out of range");
      t.id = int32_t(id);
      if (size_t(t.id) > (impl->model->max_id_plus_one() + added.size()) * 4 + 1024)
        return ctx.error(w, "id " + std::to_string(t.id) + " is far beyond the vocabulary");
      t.content = a["content"].get<std::string>();
      t.special = get_bool(a, "special", false);
      t.single_word = get_bool(a, "single_word", false);
      t.lstrip = get_bool(a, "lstrip", false);
      t.rstrip = get_bool(a, "rstrip", false);
      t.normalized = get_bool(a, "normalized", !t.special);
      parsed.push_back(std::move(t));
    }
    // Ids as the reference assigns them when it loads a file (its
    // AddedVocabulary::add_tokens): a content already known (an earlier added
    // token, or a model token) takes that id; a new one the next id after the
    // model vocabulary and the ids given so far. Files the library saved carry
    // exactly these ids; the id written in the file is otherwise ignored, as
    // the reference ignores it (with a warning).
    std::map<std::string, int32_t, std::less<>> by_content;
    std::map<int32_t, AddedToken> by_id;
    const auto model_size = int64_t(impl->model->vocab_count());
    std::optional<int64_t> max_id;
    auto same = [](const AddedToken& a, const AddedToken& b) {
      return a.content == b.content && a.special == b.special && a.single_word == b.single_word &&
             a.lstrip == b.lstrip && a.rstrip == b.rstrip && a.normalized == b.normalized;
    };
    for (AddedToken& t : parsed) {
      if (t.content.empty()) continue;
      if (std::any_of(by_id.begin(), by_id.end(), [&](const auto& e) { return same(e.second, t); }))
        continue;
      int64_t id;
      if (auto it = by_content.find(t.content); it != by_content.end()) {
        id = it->second;
      } else if (const int32_t m = impl->model->token_to_id(t.content); m >= 0) {
        id = m;
      } else if (!max_id) {
        id = model_size;
      } else {
        id = (*max_id >= model_size || model_size == 0) ? *max_id + 1 : model_size;
      }
      if (id > INT32_MAX) return ctx.error("added_tokens", "too many added tokens");
      by_content[t.content] = int32_t(id);
      max_id = max_id ? std::max(*max_id, id) : id;
      t.id = int32_t(id);
      by_id[t.id] = t;
    }
    for (auto& [id, t] : by_id) impl->added.push_back(std::move(t));

    auto id_of = [&](const std::string& name) -> int32_t {
      for (const AddedToken& t : impl->added)
        if (t.content == name) return t.id;
      return impl->model->token_to_id(name);
    };
    if (const json& p = j.value("post_processor", json()); !p.is_null()) {
      auto s = parse_post_processor(ctx, p, "post_processor", impl->post, id_of);
      if (!s.ok()) return util::make_error(s.message());
    }

    // Special ids: tokenizer_config.json names them; without it, the template's
    // leading special token is taken as BOS.
    if (!config_text.empty()) {
      const json c =
          json::parse(config_text.begin(), config_text.end(), nullptr, /*allow_exceptions=*/false);
      if (c.is_object()) {
        auto set = [&](const char* key, std::optional<TokenId>& slot) {
          if (auto name = config_token(c, key)) {
            const int32_t id = id_of(*name);
            if (id >= 0) slot = id;
          }
        };
        set("bos_token", impl->special.bos);
        set("eos_token", impl->special.eos);
        set("pad_token", impl->special.pad);
        set("unk_token", impl->special.unk);
      }
    }
    if (!impl->special.bos && !impl->post.single.empty() && !impl->post.single[0].is_sequence &&
        !impl->post.single[0].ids.empty())
      impl->special.bos = impl->post.single[0].ids[0];
    if (!impl->special.unk && impl->model->options().unk_token) {
      const int32_t id = id_of(*impl->model->options().unk_token);
      if (id >= 0) impl->special.unk = id;
    }
  } catch (const json::exception& e) {
    return ctx.error("(json)", e.what());
  }
  if (auto s = impl->finish(); !s.ok()) return util::make_error(s.message());
  return impl;
}

}  // namespace kiln::tokenizer::detail
