// The parts of a loaded tokenizer (internal to src/tokenizer). The loaders
// (tokenizer.json, GGUF) fill a TokenizerImpl; tokenizer.cpp runs it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer.h"

namespace kiln::model::gguf {
class GgufFile;
}

namespace kiln::tokenizer::detail {

// The post-processor, reduced to what Kiln uses: the template of a single
// sequence and the ByteLevel offset trimming.
struct PostProcessor {
  struct Item {
    bool is_sequence = false;
    std::vector<TokenId> ids;  // special token ids (not for the sequence)
  };
  std::vector<Item> single;  // empty: nothing is added
  bool trim_offsets = false;
  bool trim_add_prefix_space = false;
};

struct TokenizerImpl {
  std::string source;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<Decoder> decoder;
  PostProcessor post;
  bool decoder_byte_fallback = false;  // runs of <0xNN> decode as a whole

  std::vector<AddedToken> added;          // in file order
  std::vector<AddedToken> added_aliases;  // more texts matched as an added id (GGUF)
  std::vector<int32_t> added_index;       // id -> index into `added`, -1 if none
  AddedMatcher raw_matcher;               // normalized == false
  AddedMatcher normalized_matcher;        // normalized == true

  size_t vocab_size = 0;
  std::string token_bytes_arena;
  std::vector<uint32_t> token_bytes_offsets;  // vocab_size + 1 entries
  SpecialTokenIds special;
  std::vector<TokenId> end_of_generation_extra;  // besides eos/eot and the known names
  std::vector<bool> end_of_generation;

  const AddedToken* added_token(TokenId id) const {
    return id >= 0 && size_t(id) < added_index.size() && added_index[size_t(id)] >= 0
               ? &added[size_t(added_index[size_t(id)])]
               : nullptr;
  }
  // After the parts are set: indexes added tokens, builds both matchers, the
  // token byte table and the end-of-generation set. Fails on inconsistent
  // input (an added token with a negative id...).
  util::Status finish();
};

struct Builder {
  static Tokenizer make(std::unique_ptr<TokenizerImpl> impl) { return Tokenizer(std::move(impl)); }
};

// Loaders.
util::Result<std::unique_ptr<TokenizerImpl>> load_tokenizer_json(std::string_view json,
                                                                 std::string_view config_json,
                                                                 std::string_view source);
util::Result<std::unique_ptr<TokenizerImpl>> load_gguf_vocab(const model::gguf::GgufFile& file);

}  // namespace kiln::tokenizer::detail
