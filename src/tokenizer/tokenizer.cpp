#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "model/gguf.h"
#include "tokenizer/impl.h"
#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

namespace detail {

namespace {

// Token strings that end a generation turn in the model families Kiln serves,
// besides the configured eos (the same names llama.cpp treats as EOG).
constexpr std::string_view kEndOfGenerationNames[] = {
    "<|eot_id|>",    "<|im_end|>",      "<|end|>",
    "<end_of_turn>", "<|endoftext|>",   "<|eom_id|>",
    "<EOT>",         "<|end_of_text|>", "<｜end▁of▁sentence｜>",
    "<|return|>",    "<|call|>",        "</s>",
    "<eos>"};

}  // namespace

util::Status TokenizerImpl::finish() {
  size_t n = model ? model->max_id_plus_one() : 0;
  for (const AddedToken& t : added) {
    if (t.id < 0)
      return util::make_error(source + ": added token '" + t.content + "' has a negative id");
    n = std::max(n, size_t(t.id) + 1);
  }
  vocab_size = n;
  added_index.assign(n, -1);
  std::vector<const AddedToken*> raw, norm;
  std::vector<std::string> raw_patterns, norm_patterns;
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& t = added[i];
    added_index[size_t(t.id)] = int32_t(i);
    if (t.content.empty()) continue;
    if (t.normalized && normalizer) {
      NormStr s, scratch;
      s.text = t.content;
      normalizer->normalize(s, scratch, false);
      norm.push_back(&t);
      norm_patterns.push_back(std::move(s.text));
    } else if (t.normalized) {
      norm.push_back(&t);
      norm_patterns.push_back(t.content);
    } else {
      raw.push_back(&t);
      raw_patterns.push_back(t.content);
    }
  }
  for (const AddedToken& t : added_aliases) {
    raw.push_back(&t);
    raw_patterns.push_back(t.content);
  }
  raw_matcher.build(raw, raw_patterns);
  normalized_matcher.build(norm, norm_patterns);

  token_bytes_arena.clear();
  token_bytes_offsets.assign(1, 0);
  for (size_t id = 0; id < n; ++id) {
    std::string t;
    if (const AddedToken* a = added_token(TokenId(id))) {
      t = a->content;
    } else if (model && model->has_id(TokenId(id))) {
      t = std::string(model->id_to_token(TokenId(id)));
      if (decoder) decoder->token_bytes(t);
    }
    token_bytes_arena += t;
    token_bytes_offsets.push_back(uint32_t(token_bytes_arena.size()));
  }

  end_of_generation.assign(n, false);
  special.end_of_generation.clear();
  auto mark = [&](TokenId id) {
    if (id >= 0 && size_t(id) < n && !end_of_generation[size_t(id)]) {
      end_of_generation[size_t(id)] = true;
      special.end_of_generation.push_back(id);
    }
  };
  if (special.eos) mark(*special.eos);
  for (TokenId id : end_of_generation_extra) mark(id);
  if (special.eot) mark(*special.eot);
  for (std::string_view name : kEndOfGenerationNames) {
    for (const AddedToken& t : added) {
      if (t.content == name) {
        mark(t.id);
        if (!special.eot && name != "</s>" && name != "<eos>" && name != "<|endoftext|>" &&
            name != "<|end_of_text|>" && name != "<｜end▁of▁sentence｜>")
          special.eot = t.id;
      }
    }
  }
  return util::Status::Ok();
}

namespace {

// Adds the template's special tokens; trims byte-level offsets. `tokens` is
// null when only ids are wanted.
void post_process(const TokenizerImpl& impl, bool add_special_tokens, bool with_offsets,
                  std::vector<TokenId>& ids, std::vector<TokenOffset>& offsets,
                  std::vector<std::string>* tokens) {
  if (with_offsets && impl.post.trim_offsets) {
    for (size_t i = 0; i < ids.size(); ++i) {
      // Leading / trailing spaces of a byte-level token are not part of its span.
      const std::string_view t = impl.model ? impl.model->id_to_token(ids[i]) : std::string_view();
      auto is_space = [](char32_t c) { return c == 0x120 || unicode::is_whitespace(c); };
      size_t lead = 0, trail = 0;
      std::vector<char32_t> cps;
      for (size_t k = 0; k < t.size();) {
        char32_t cp;
        k += size_t(unicode::decode(t.data() + k, &cp));
        cps.push_back(cp);
      }
      while (lead < cps.size() && is_space(cps[lead])) ++lead;
      while (trail < cps.size() && is_space(cps[cps.size() - 1 - trail])) ++trail;
      TokenOffset& o = offsets[i];
      if (lead > 0) {
        if ((i == 0 || o.start == 0) && impl.post.trim_add_prefix_space && lead == 1) lead = 0;
        o.start = std::min<uint32_t>(o.start + uint32_t(lead), o.stop);
      }
      if (trail > 0 && o.stop >= trail)
        o.stop = std::max<uint32_t>(o.stop - uint32_t(trail), o.start);
    }
  }
  if (!add_special_tokens || impl.post.single.empty()) return;
  std::vector<TokenId> out_ids;
  std::vector<TokenOffset> out_offsets;
  std::vector<std::string> out_tokens;
  for (const PostProcessor::Item& item : impl.post.single) {
    if (item.is_sequence) {
      out_ids.insert(out_ids.end(), ids.begin(), ids.end());
      if (with_offsets) out_offsets.insert(out_offsets.end(), offsets.begin(), offsets.end());
      if (tokens) out_tokens.insert(out_tokens.end(), tokens->begin(), tokens->end());
    } else {
      out_ids.insert(out_ids.end(), item.ids.begin(), item.ids.end());
      if (with_offsets) out_offsets.insert(out_offsets.end(), item.ids.size(), TokenOffset{});
      if (tokens) {
        for (TokenId id : item.ids) {
          const AddedToken* a = impl.added_token(id);
          out_tokens.emplace_back(a ? std::string_view(a->content) : impl.model->id_to_token(id));
        }
      }
    }
  }
  ids = std::move(out_ids);
  offsets = std::move(out_offsets);
  if (tokens) *tokens = std::move(out_tokens);
}

// Splits the text pieces of ws by the matches of `matcher`.
void split_added(const AddedMatcher& matcher, Workspace& ws) {
  thread_local std::vector<AddedMatch> matches;
  ws.next.clear();
  for (const Piece& p : ws.pieces) {
    if (p.added_id >= 0) {
      ws.next.push_back(p);
      continue;
    }
    matches.clear();
    matcher.find(ws.text(p), matches);
    uint32_t prev = 0;
    const uint32_t len = p.end - p.begin;
    for (const AddedMatch& m : matches) {
      if (m.begin > prev)
        ws.next.push_back(Piece{p.begin + prev, p.begin + m.begin, -1, p.at_start && prev == 0});
      ws.next.push_back(Piece{p.begin + m.begin, p.begin + m.end, m.id, false});
      prev = std::max(prev, m.end);
    }
    if (prev < len) ws.next.push_back(Piece{p.begin + prev, p.end, -1, p.at_start && prev == 0});
  }
  std::swap(ws.pieces, ws.next);
}

// ids only (full == nullptr), or ids, offsets and token strings into *full.
void encode_impl(const TokenizerImpl& impl, std::string_view input, bool add_special_tokens,
                 std::vector<TokenId>& ids, Encoding* full) {
  const bool with_offsets = full != nullptr;
  thread_local std::vector<TokenOffset> no_offsets;
  std::vector<TokenOffset>& offsets = full ? full->offsets : no_offsets;
  std::vector<std::string>* tokens = full ? &full->tokens : nullptr;
  thread_local Workspace ws;
  thread_local std::string repaired;
  thread_local std::vector<TokenPiece> pieces;
  if (!unicode::is_valid(input)) {
    repaired.clear();
    unicode::append_lossy(repaired, input);
    input = repaired;
  }
  ws.reset(with_offsets);
  ws.buf.assign(input);
  if (with_offsets) {
    ws.align.resize(input.size());
    for (size_t i = 0; i < input.size();) {
      const auto len = size_t(unicode::sequence_length(static_cast<unsigned char>(input[i])));
      for (size_t k = 0; k < len; ++k) ws.align[i + k] = Range{uint32_t(i), uint32_t(i + len)};
      i += len;
    }
  }
  if (!input.empty()) ws.pieces.push_back(Piece{0, uint32_t(input.size()), -1, true});

  if (!impl.raw_matcher.empty()) split_added(impl.raw_matcher, ws);
  if (impl.normalizer) {
    for (Piece& p : ws.pieces) {
      if (p.added_id >= 0) continue;
      NormStr& s = ws.norm_a;
      s.text.assign(ws.text(p));
      if (with_offsets) s.align.assign(ws.align.begin() + p.begin, ws.align.begin() + p.end);
      impl.normalizer->normalize(s, ws.norm_b, with_offsets);
      // The normalized text moves out of norm_a before append() reuses it.
      std::string text = std::move(s.text);
      std::vector<Range> align = std::move(s.align);
      const uint32_t at = ws.append(text, align.data());
      p.begin = at;
      p.end = at + uint32_t(text.size());
      s.text = std::move(text);
      s.align = std::move(align);
    }
    std::erase_if(ws.pieces, [](const Piece& p) { return p.added_id < 0 && p.end == p.begin; });
  }
  if (!impl.normalized_matcher.empty()) split_added(impl.normalized_matcher, ws);
  if (impl.pre_tokenizer) impl.pre_tokenizer->pre_tokenize(ws);

  ids.clear();
  offsets.clear();
  if (tokens) tokens->clear();
  for (const Piece& p : ws.pieces) {
    if (p.end == p.begin) continue;
    if (p.added_id >= 0) {
      ids.push_back(p.added_id);
      if (with_offsets) offsets.push_back({ws.align[p.begin].begin, ws.align[p.end - 1].end});
      if (tokens) tokens->emplace_back(ws.text(p));  // the matched text, as the reference shows it
      continue;
    }
    pieces.clear();
    impl.model->tokenize(ws.text(p), pieces);
    uint32_t at = p.begin;
    for (const TokenPiece& t : pieces) {
      ids.push_back(t.id);
      if (tokens) tokens->emplace_back(impl.model->id_to_token(t.id));
      if (with_offsets) {
        offsets.push_back(t.len > 0 ? TokenOffset{ws.align[at].begin, ws.align[at + t.len - 1].end}
                                    : TokenOffset{ws.align[at].begin, ws.align[at].begin});
      }
      at += t.len;
    }
  }
  post_process(impl, add_special_tokens, with_offsets, ids, offsets, tokens);
}

}  // namespace
}  // namespace detail

Tokenizer::Tokenizer(std::unique_ptr<detail::TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<TokenId> ids;
  detail::encode_impl(*impl_, text, add_special_tokens, ids, nullptr);
  return ids;
}

Encoding Tokenizer::encode_with_offsets(std::string_view text, bool add_special_tokens) const {
  Encoding e;
  detail::encode_impl(*impl_, text, add_special_tokens, e.ids, &e);
  return e;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  const detail::TokenizerImpl& impl = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    if (const AddedToken* a = impl.added_token(id)) {
      if (skip_special_tokens && a->special) continue;
      tokens.push_back(a->content);
    } else if (impl.model && impl.model->has_id(id)) {
      tokens.emplace_back(impl.model->id_to_token(id));
    }
  }
  if (!impl.decoder) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  impl.decoder->decode_chain(tokens);
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string_view Tokenizer::token(TokenId id) const {
  if (const AddedToken* a = impl_->added_token(id)) return a->content;
  return impl_->model ? impl_->model->id_to_token(id) : std::string_view();
}

std::optional<TokenId> Tokenizer::token_id(std::string_view token) const {
  for (const AddedToken& a : impl_->added)
    if (a.content == token) return a.id;
  if (impl_->model) {
    const int32_t id = impl_->model->token_to_id(token);
    if (id >= 0) return id;
  }
  return std::nullopt;
}

std::string_view Tokenizer::token_bytes(TokenId id) const {
  if (id < 0 || size_t(id) >= impl_->vocab_size) return {};
  const uint32_t b = impl_->token_bytes_offsets[size_t(id)],
                 e = impl_->token_bytes_offsets[size_t(id) + 1];
  return std::string_view(impl_->token_bytes_arena).substr(b, e - b);
}

bool Tokenizer::is_special(TokenId id) const {
  const AddedToken* a = impl_->added_token(id);
  return a && a->special;
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return id >= 0 && size_t(id) < impl_->end_of_generation.size() &&
         impl_->end_of_generation[size_t(id)];
}

size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
const SpecialTokenIds& Tokenizer::special_ids() const { return impl_->special; }
const std::string& Tokenizer::source() const { return impl_->source; }

namespace {

util::Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return util::make_error(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return util::make_error(path.string() + ": read error");
  return ss.str();
}

bool has_gguf_magic(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  return f.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

}  // namespace

util::Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json,
                                             std::string_view config_json,
                                             std::string_view source) {
  auto impl = detail::load_tokenizer_json(tokenizer_json, config_json, source);
  if (!impl.ok()) return impl.error();
  return Tokenizer(std::move(impl.value()));
}

util::Result<Tokenizer> Tokenizer::from_gguf(const model::gguf::GgufFile& file) {
  auto impl = detail::load_gguf_vocab(file);
  if (!impl.ok()) return impl.error();
  return Tokenizer(std::move(impl.value()));
}

util::Result<Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path json_path = path;
  if (std::filesystem::is_directory(path, ec)) {
    json_path = path / "tokenizer.json";
    if (!std::filesystem::exists(json_path, ec))
      return util::make_error(path.string() + ": no tokenizer.json in this folder");
  } else if (!std::filesystem::exists(path, ec)) {
    return util::make_error(path.string() + ": no such file");
  } else if (has_gguf_magic(path)) {
    auto file = model::gguf::GgufFile::open(path);
    if (!file.ok()) return file.error();
    return from_gguf(*file.value());
  }
  auto json = read_file(json_path);
  if (!json.ok()) return json.error();
  std::string config;
  const auto config_path = json_path.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path, ec)) {
    auto c = read_file(config_path);
    if (!c.ok()) return c.error();
    config = std::move(c.value());
  }
  return from_json(json.value(), config, json_path.string());
}

}  // namespace kiln::tokenizer
