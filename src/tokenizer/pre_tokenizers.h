// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): they cut each text piece
// of the Workspace into the words the model tokenizes independently (and a
// few rewrite them: Metaspace, ByteLevel's prefix space).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/workspace.h"

namespace kiln::tokenizer {

// What becomes of the delimiter matches when a piece is split.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Rewrites ws.pieces; pieces that are added tokens pass through untouched.
  virtual void pre_tokenize(Workspace& ws) const = 0;
};

// Split on a regex (`regex` set) or on a literal string.
std::unique_ptr<PreTokenizer> make_split(std::unique_ptr<Regex> regex, std::string literal,
                                         SplitBehavior behavior, bool invert);
// ByteLevel: optional prefix space, optional GPT-2 regex split. The byte to
// character mapping itself is not materialised: byte-level models take raw
// bytes (see BpeModel), so ByteLevel must be the last pre-tokenizer.
util::Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool add_prefix_space, bool use_regex);
enum class PrependScheme { kAlways, kFirst, kNever };
std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme,
                                             bool split);
std::unique_ptr<PreTokenizer> make_digits(bool individual_digits);
std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior behavior);
util::Result<std::unique_ptr<PreTokenizer>> make_whitespace();  // \w+|[^\w\s]+
std::unique_ptr<PreTokenizer> make_whitespace_split();
std::unique_ptr<PreTokenizer> make_char_delimiter_split(char32_t delimiter);
std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> steps);

}  // namespace kiln::tokenizer
