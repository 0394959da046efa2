// The BPE model of tokenizer.json (byte-level GPT-2 style, and SentencePiece
// style with byte fallback), with the semantics of Hugging Face `tokenizers`:
// a word starts as its characters (unknown ones become <0xNN> byte tokens or
// <unk>), then the adjacent pair with the lowest merge rank is merged, the
// leftmost first, until no pair has a merge.
//
// Byte-level vocabularies are keyed by raw bytes: "Ġhello" is stored as
// " hello", so words are tokenized straight from the input bytes and no
// byte-to-character mapping is done per call.
//
// Thread safety: tokenize() is const and may run concurrently; the word cache
// is sharded behind mutexes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/hash_map.h"
#include "util/result.h"

namespace kiln::tokenizer {

struct TokenPiece {
  int32_t id;
  uint32_t len;  // bytes of the word this token covers
};

struct BpeOptions {
  std::optional<std::string> unk_token;
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool byte_level = false;  // words arrive as raw bytes (ByteLevel pre-tokenizer)
  // Characters that are not tokens but occur inside tokens, with ids past
  // the vocabulary (GGUF SentencePiece vocabularies, read the way llama.cpp
  // reads them: such a character still merges into the tokens that contain
  // it, and only one left unmerged falls back to bytes or <unk>).
  std::vector<std::pair<std::string, int32_t>> placeholders;
};

class BpeModel {
 public:
  // vocab: (token, id) pairs; merges: (left, right) pairs in rank order.
  // Fails, naming the merge, when a merge uses a token not in the vocabulary.
  static util::Result<std::unique_ptr<BpeModel>> create(
      std::vector<std::pair<std::string, int32_t>> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options);
  // Same, with merges given as ids: (left, right, merged) in rank order
  // (the GGUF SentencePiece path derives them from scores).
  struct MergeIds {
    int32_t left, right, merged;
  };
  static util::Result<std::unique_ptr<BpeModel>> create(
      std::vector<std::pair<std::string, int32_t>> vocab, const std::vector<MergeIds>& merges,
      BpeOptions options);
  ~BpeModel();

  // Appends the tokens of one word (non-empty text from the pre-tokenizer).
  void tokenize(std::string_view word, std::vector<TokenPiece>& out) const;

  // Vocabulary strings as written in the file ("Ġhello", "▁hi", "<0x0A>").
  std::string_view id_to_token(int32_t id) const {
    return id >= 0 && size_t(id) < id_to_token_.size() ? std::string_view(id_to_token_[id])
                                                       : std::string_view();
  }
  bool has_id(int32_t id) const { return id >= 0 && size_t(id) < present_.size() && present_[id]; }
  bool is_placeholder(int32_t id) const {
    return id >= 0 && size_t(id) >= present_.size() && id < placeholder_end_;
  }
  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  size_t max_id_plus_one() const { return id_to_token_.size(); }
  size_t vocab_count() const { return vocab_count_; }  // entries, as the reference counts them
  const BpeOptions& options() const { return options_; }

 private:
  struct Symbol {
    int32_t id;
    uint32_t len;
  };
  BpeModel() = default;
  // Vocabulary and byte tables; merges are added by the callers.
  static util::Result<std::unique_ptr<BpeModel>> create_vocab(
      std::vector<std::pair<std::string, int32_t>> vocab, BpeOptions options);
  // Vocabulary key of a token string: itself, or its raw bytes when
  // byte-level (false when a character is outside the byte alphabet).
  bool key_of(std::string_view token, std::string& key) const;
  void initial_symbols(std::string_view word, std::vector<Symbol>& syms) const;
  void merge_small(std::vector<Symbol>& syms) const;
  void merge_large(std::vector<Symbol>& syms) const;
  // Appends syms to out, a placeholder as its bytes' fallback tokens (or <unk>).
  void emit(std::string_view word, const std::vector<Symbol>& syms,
            std::vector<TokenPiece>& out) const;

  BpeOptions options_;
  StringIdMap vocab_;
  // Byte-level: tokens with characters outside the byte alphabet (added
  // tokens listed in the vocabulary): never produced by merges, but found by
  // token_to_id.
  StringIdMap other_tokens_;
  PairMap merges_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> present_;
  std::array<int32_t, 256> byte_id_{};      // byte-level: the token of each single byte
  std::array<int32_t, 256> fallback_id_{};  // <0xNN> tokens, -1 when missing
  bool full_byte_fallback_ = false;
  size_t vocab_count_ = 0;
  int32_t unk_id_ = -1;
  int32_t placeholder_end_ = 0;  // placeholders have ids in [max id + 1, this)

  // Word -> tokens cache (as the reference keeps one); words of 256 bytes or
  // more are not cached. A full shard is cleared, which bounds memory.
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

}  // namespace kiln::tokenizer
