// Text <-> token ids, identical to Hugging Face `tokenizers` for the models
// Kiln serves. A Tokenizer is built from a tokenizer.json (Hugging Face model
// folder) or from the vocabulary in a GGUF file's metadata (tokenizer.ggml.*).
//
//   auto tok = kiln::tokenizer::Tokenizer::load("models/x/tokenizer.json");
//   std::vector<TokenId> ids = tok->encode("Hello", /*add_special_tokens=*/true);
//   std::string text = tok->decode(ids, /*skip_special_tokens=*/true);
//
// Thread safety: a loaded Tokenizer is immutable apart from an internal,
// locked word cache; every const method may be called from any number of
// threads at once. Streaming detokenization is in tokenizer/stream.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kiln::model::gguf {
class GgufFile;
}

namespace kiln::tokenizer {

using TokenId = int32_t;

namespace detail {
struct TokenizerImpl;
struct Builder;
}  // namespace detail
class StreamDecoder;

// Byte offsets [start, stop) into the encoded text. Tokens added by the
// post-processor (BOS) get 0/0; a token that holds part of a multi-byte
// character spans the whole character, as in the reference.
struct TokenOffset {
  uint32_t start = 0;
  uint32_t stop = 0;
};

struct Encoding {
  std::vector<TokenId> ids;
  std::vector<TokenOffset> offsets;  // one per id
  // The reference's Encoding.tokens: the vocabulary string of each id, except
  // that an added token shows the text it matched (with the whitespace an
  // lstrip/rstrip token swallowed, or the normalized text).
  std::vector<std::string> tokens;
};

struct SpecialTokenIds {
  std::optional<TokenId> bos, eos, eot, pad, unk;
  std::vector<TokenId> end_of_generation;  // eos, eot and the like (<|im_end|>, <end_of_turn>, ...)
};

class Tokenizer {
 public:
  // `path`: a tokenizer.json, a model folder holding one, or a .gguf file.
  // tokenizer_config.json next to a tokenizer.json supplies bos/eos/pad.
  static util::Result<Tokenizer> load(const std::filesystem::path& path);
  // From the text of a tokenizer.json (and optionally of tokenizer_config.json);
  // `source` names the input in error messages.
  static util::Result<Tokenizer> from_json(std::string_view tokenizer_json,
                                           std::string_view config_json = {},
                                           std::string_view source = "tokenizer.json");
  // From the tokenizer.ggml.* metadata of an open GGUF file.
  static util::Result<Tokenizer> from_gguf(const model::gguf::GgufFile& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Invalid UTF-8 in `text` is first replaced (one U+FFFD per maximal invalid
  // subpart); offsets then refer to that repaired text.
  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const;
  // ids, offsets and token strings (slower than encode()).
  Encoding encode_with_offsets(std::string_view text, bool add_special_tokens) const;
  // Ids outside the vocabulary are skipped, as the reference does.
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const;

  // The vocabulary string of `id` ("Ġhello", "▁hello", "<0x0A>", "<s>"); empty
  // when the id is unknown.
  std::string_view token(TokenId id) const;
  std::optional<TokenId> token_id(std::string_view token) const;
  // The raw bytes `id` stands for once decoded (byte-level, byte-fallback and
  // metaspace mappings undone; "▁hi" -> " hi", "<0xE2>" -> "\xE2"). Decoding
  // a whole sequence may still drop a leading space (SentencePiece's Strip).
  // For the grammar engine.
  std::string_view token_bytes(TokenId id) const;
  bool is_special(
      TokenId id) const;  // an added token marked special (skipped by skip_special_tokens)
  bool is_end_of_generation(TokenId id) const;
  // One past the largest id of the model vocabulary and the added tokens.
  size_t vocab_size() const;
  const SpecialTokenIds& special_ids() const;

  // Where the tokenizer came from (path), for messages.
  const std::string& source() const;

 private:
  friend struct detail::Builder;
  friend class StreamDecoder;
  explicit Tokenizer(std::unique_ptr<detail::TokenizerImpl> impl);
  std::unique_ptr<detail::TokenizerImpl> impl_;
};

}  // namespace kiln::tokenizer
