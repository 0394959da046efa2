// GGUF vocabulary (tokenizer.ggml.*) -> TokenizerImpl, built so that it
// tokenizes like the model's own tokenizer.json:
//   "llama" (SentencePiece BPE with scores): merges are derived from the
//     scores the way Hugging Face's converter does (every split of a normal
//     token into two vocabulary tokens, ranked by the token's score); spaces
//     become "▁" with an optional prefix space (add_space_prefix), unknown
//     characters fall back to <0xNN> byte tokens.
//   "gpt2" (byte-level BPE with merges): the pre-tokenizer regexes come from
//     tokenizer.ggml.pre (Llama 3, Qwen2, DeepSeek V3, GPT-4o style, GPT-2).
// Control, user-defined and unknown tokens are added tokens, matched in the
// raw text first; control and unknown ones are special.
#include <algorithm>
#include <set>

#include "model/gguf.h"
#include "tokenizer/impl.h"
#include "tokenizer/unicode.h"

namespace kiln::tokenizer::detail {

namespace {

// llama.cpp's token types.
enum TokenType : int64_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt4oPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kDeepseekV3Patterns[] = {
    R"(\p{N}{1,3})",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./"
    ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
};

struct PreSpec {
  std::vector<std::string_view> patterns;  // Split (Isolated) regexes; empty: GPT-2 ByteLevel regex
  bool ignore_merges = false;
  bool nfc = false;
  bool add_bos = false;  // default when tokenizer.ggml.add_bos_token is absent
};

std::optional<PreSpec> pre_spec(std::string_view pre) {
  static const std::set<std::string_view> llama3 = {"llama3",  "llama-v3", "llama-bpe", "falcon3",
                                                    "pixtral", "dbrx",     "smaug-bpe"};
  static const std::set<std::string_view> qwen2 = {"qwen2", "deepseek-r1-qwen"};
  if (llama3.count(pre)) return PreSpec{{kLlama3Pattern}, true, false, true};
  if (qwen2.count(pre)) return PreSpec{{kQwen2Pattern}, false, true, false};
  if (pre == "gpt-4o") return PreSpec{{kGpt4oPattern}, true, false, false};
  if (pre == "deepseek-v3")
    return PreSpec{{kDeepseekV3Patterns[0], kDeepseekV3Patterns[1], kDeepseekV3Patterns[2]},
                   false,
                   false,
                   false};
  if (pre == "gpt2" || pre == "gpt-2" || pre == "default") return PreSpec{{}, false, false, false};
  return std::nullopt;
}

// An id metadata key: absent, negative or out of range (llama.cpp writes
// 4294967295 for "none") -> nullopt.
std::optional<TokenId> optional_id(const model::gguf::GgufFile& f, std::string_view key, size_t n) {
  const auto* v = f.find(key);
  if (!v) return std::nullopt;
  const auto x = v->to_int();
  if (!x || *x < 0 || uint64_t(*x) >= n) return std::nullopt;
  return TokenId(*x);
}

util::Result<std::unique_ptr<Normalizer>> spm_normalizer(bool add_space_prefix) {
  std::vector<std::unique_ptr<Normalizer>> steps;
  if (add_space_prefix) steps.push_back(make_prepend_normalizer("\xE2\x96\x81"));
  steps.push_back(make_replace_normalizer(" ", nullptr, "\xE2\x96\x81"));
  return make_sequence_normalizer(std::move(steps));
}

std::unique_ptr<Decoder> spm_decoder(bool add_space_prefix) {
  std::vector<std::unique_ptr<Decoder>> steps;
  steps.push_back(make_replace_decoder("\xE2\x96\x81", " "));
  steps.push_back(make_byte_fallback_decoder());
  steps.push_back(make_fuse_decoder());
  if (add_space_prefix) steps.push_back(make_strip_decoder(' ', 1, 0));
  return make_sequence_decoder(std::move(steps));
}

// Hugging Face's SentencePiece converter: every split of a token into two
// vocabulary tokens is a merge; merges are ranked by the score of the merged
// token (highest first), ties by merged id then by the pieces' ids.
std::vector<BpeModel::MergeIds> merges_from_scores(const std::vector<std::string>& tokens,
                                                   const std::vector<int64_t>& types,
                                                   const std::vector<float>& scores,
                                                   const StringIdMap& vocab) {
  struct Candidate {
    int group;  // 0: user-defined pieces, merged first (SentencePiece scores them 0)
    float score;
    int32_t merged, left, right;
  };
  std::vector<Candidate> candidates;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] != kNormal && types[id] != kUserDefined) continue;
    const int group = types[id] == kUserDefined ? 0 : 1;
    const std::string_view t = tokens[id];
    if (t.empty()) continue;
    for (size_t k = unicode::sequence_length(static_cast<unsigned char>(t[0])); k < t.size();
         k += size_t(unicode::sequence_length(static_cast<unsigned char>(t[k])))) {
      const int32_t l = vocab.find(t.substr(0, k));
      if (l < 0) continue;
      const int32_t r = vocab.find(t.substr(k));
      if (r < 0) continue;
      candidates.push_back({group, group == 0 ? 0.0f : scores[id], int32_t(id), l, r});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.group != b.group) return a.group < b.group;
    if (a.score != b.score) return a.score > b.score;
    if (a.merged != b.merged) return a.merged < b.merged;
    if (a.left != b.left) return a.left < b.left;
    return a.right < b.right;
  });
  std::vector<BpeModel::MergeIds> merges;
  merges.reserve(candidates.size());
  for (const Candidate& c : candidates) merges.push_back({c.left, c.right, c.merged});
  return merges;
}

// llama.cpp's SentencePiece tokenizer starts from the characters of a word
// and merges any adjacent pair whose text is a token, whether or not each
// character is a token itself; only what stays unmerged falls back to bytes.
// Real vocabularies hold every character of their pieces; for one that does
// not (e.g. "▁hello" without "▁"), each missing character of a normal piece
// gets a placeholder id past the vocabulary (also added to `vocab`, so that
// merges_from_scores splits through it).
std::vector<std::pair<std::string, int32_t>> placeholder_chars(
    const std::vector<std::string>& pieces, const std::vector<int64_t>& types, StringIdMap& vocab) {
  std::vector<std::pair<std::string, int32_t>> out;
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (types[id] != kNormal) continue;
    const std::string_view t = pieces[id];
    for (size_t k = 0; k < t.size();) {
      const size_t len = size_t(unicode::sequence_length(static_cast<unsigned char>(t[k])));
      const std::string_view ch = t.substr(k, len);
      if (vocab.find(ch) < 0) {
        out.emplace_back(std::string(ch), int32_t(pieces.size() + out.size()));
        vocab.insert_or_assign(out.back().first, out.back().second);
      }
      k += len;
    }
  }
  return out;
}

}  // namespace

util::Result<std::unique_ptr<TokenizerImpl>> load_gguf_vocab(const model::gguf::GgufFile& f) {
  const std::string& name = f.name();
  auto err = [&](const std::string& what) { return util::make_error(name + ": " + what); };
  auto model_type = f.get_string("tokenizer.ggml.model");
  if (!model_type.ok()) return model_type.error();
  auto tokens_r = f.get_strings("tokenizer.ggml.tokens");
  if (!tokens_r.ok()) return tokens_r.error();
  const std::vector<std::string_view> tokens(tokens_r->begin(), tokens_r->end());
  const size_t n = tokens.size();
  if (n == 0) return err("tokenizer.ggml.tokens is empty");
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i].empty() || !unicode::is_valid(tokens[i]))
      return err("tokenizer.ggml.tokens[" + std::to_string(i) + "] is empty or not valid UTF-8");
  }
  std::vector<int64_t> types(n, kNormal);
  if (f.find("tokenizer.ggml.token_type")) {
    auto t = f.get_ints("tokenizer.ggml.token_type");
    if (!t.ok()) return t.error();
    if (t->size() != n)
      return err("tokenizer.ggml.token_type has " + std::to_string(t->size()) + " entries for " +
                 std::to_string(n) + " tokens");
    types = std::move(t.value());
  }

  auto impl = std::make_unique<TokenizerImpl>();
  impl->source = name;
  impl->special.bos = optional_id(f, "tokenizer.ggml.bos_token_id", n);
  impl->special.eos = optional_id(f, "tokenizer.ggml.eos_token_id", n);
  impl->special.unk = optional_id(f, "tokenizer.ggml.unknown_token_id", n);
  impl->special.pad = optional_id(f, "tokenizer.ggml.padding_token_id", n);
  impl->special.eot = optional_id(f, "tokenizer.ggml.eot_token_id", n);

  // Model vocabulary: everything but the added tokens (SentencePiece: but
  // the user-defined pieces, which its merges also produce).
  const bool spm = *model_type == "llama";
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(n);
  StringIdMap vocab_map;
  vocab_map.reserve(n);
  std::vector<std::string> pieces(n);  // the model's text of each token
  bool has_byte_tokens = false;
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = types[i];
    if (t == kControl || t == kUserDefined || t == kUnknown) {
      AddedToken a;
      a.content = std::string(tokens[i]);
      a.id = TokenId(i);
      a.special = t != kUserDefined;
      if (t == kUserDefined && a.content.find(' ') != std::string::npos) {
        // llama.cpp's converter stores user-defined "▁▁▁" as "   ". The
        // tokenizer.json matches "▁▁▁" in the text (and reaches the same id
        // for spaces through its merges): match both, show the "▁" form.
        impl->added_aliases.push_back(a);
        std::string meta;
        for (char c : a.content) {
          if (c == ' ') {
            meta += "\xE2\x96\x81";
          } else {
            meta += c;
          }
        }
        a.content = std::move(meta);
      }
      if (spm && t == kUserDefined) pieces[i] = a.content;
      impl->added.push_back(std::move(a));
    }
    if (t == kControl || (t == kUserDefined && !spm)) continue;
    if (t != kUserDefined) pieces[i] = std::string(tokens[i]);
    has_byte_tokens |= t == kByte;
    vocab.emplace_back(pieces[i], int32_t(i));
    if (vocab_map.find(pieces[i]) < 0) vocab_map.insert_or_assign(pieces[i], int32_t(i));
  }

  bool add_bos = spm;
  if (spm) {
    if (!f.find("tokenizer.ggml.scores"))
      return err("tokenizer.ggml.scores is missing (SentencePiece vocabulary)");
    auto scores = f.get_floats("tokenizer.ggml.scores");
    if (!scores.ok()) return scores.error();
    if (scores->size() != n)
      return err("tokenizer.ggml.scores has " + std::to_string(scores->size()) + " entries for " +
                 std::to_string(n) + " tokens");
    auto add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix", true);
    if (!add_space_prefix.ok()) return add_space_prefix.error();
    BpeOptions o;
    o.placeholders = placeholder_chars(pieces, types, vocab_map);
    const auto merges = merges_from_scores(pieces, types, scores.value(), vocab_map);
    o.byte_fallback = has_byte_tokens;
    o.fuse_unk = true;
    if (impl->special.unk) o.unk_token = std::string(tokens[size_t(*impl->special.unk)]);
    auto bpe = BpeModel::create(std::move(vocab), merges, std::move(o));
    if (!bpe.ok()) return err(bpe.message());
    impl->model = std::move(bpe.value());
    auto normalizer = spm_normalizer(*add_space_prefix);
    impl->normalizer = std::move(normalizer.value());
    impl->decoder = spm_decoder(*add_space_prefix);
    impl->decoder_byte_fallback = true;
  } else if (*model_type == "gpt2") {
    auto pre_name = f.get_string("tokenizer.ggml.pre", "default");
    if (!pre_name.ok()) return pre_name.error();
    const auto spec = pre_spec(*pre_name);
    if (!spec)
      return err("tokenizer.ggml.pre '" + std::string(*pre_name) +
                 "' is not supported (known: llama-bpe/llama3, qwen2, deepseek-v3, gpt-4o, gpt2)");
    add_bos = spec->add_bos;
    auto merges_r = f.get_strings("tokenizer.ggml.merges");
    if (!merges_r.ok()) return merges_r.error();
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(merges_r->size());
    for (size_t i = 0; i < merges_r->size(); ++i) {
      const std::string_view m = (*merges_r)[i];
      const size_t sp = m.find(' ');
      if (sp == std::string_view::npos || m.find(' ', sp + 1) != std::string_view::npos)
        return err("tokenizer.ggml.merges[" + std::to_string(i) + "] '" + std::string(m) +
                   "' is not two tokens separated by a space");
      merges.emplace_back(std::string(m.substr(0, sp)), std::string(m.substr(sp + 1)));
    }
    BpeOptions o;
    o.byte_level = true;
    o.ignore_merges = spec->ignore_merges;
    auto bpe = BpeModel::create(std::move(vocab), merges, std::move(o));
    if (!bpe.ok()) return err(bpe.message());
    impl->model = std::move(bpe.value());
    if (spec->nfc) impl->normalizer = make_unicode_normalizer(UnicodeForm::kNfc);
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::string_view p : spec->patterns) {
      auto re = Regex::compile(p);
      if (!re.ok()) return err(re.message());
      steps.push_back(make_split(std::move(re.value()), {}, SplitBehavior::kIsolated, false));
    }
    auto byte_level = make_byte_level(false, spec->patterns.empty());
    if (!byte_level.ok()) return err(byte_level.message());
    steps.push_back(std::move(byte_level.value()));
    impl->pre_tokenizer = make_sequence_pre_tokenizer(std::move(steps));
    impl->decoder = make_byte_level_decoder();
  } else {
    return err("tokenizer.ggml.model '" + std::string(*model_type) +
               "' is not supported (llama, gpt2)");
  }

  auto add_bos_key = f.get_bool("tokenizer.ggml.add_bos_token", add_bos);
  if (!add_bos_key.ok()) return add_bos_key.error();
  auto add_eos_key = f.get_bool("tokenizer.ggml.add_eos_token", false);
  if (!add_eos_key.ok()) return add_eos_key.error();
  if (*add_bos_key && impl->special.bos) impl->post.single.push_back({false, {*impl->special.bos}});
  if (*add_bos_key || *add_eos_key) impl->post.single.push_back({true, {}});
  if (*add_eos_key && impl->special.eos) impl->post.single.push_back({false, {*impl->special.eos}});
  if (const auto eom = optional_id(f, "tokenizer.ggml.eom_token_id", n))
    impl->end_of_generation_extra.push_back(*eom);

  if (auto s = impl->finish(); !s.ok()) return util::make_error(s.message());
  return impl;
}

}  // namespace kiln::tokenizer::detail
