// Incremental detokenization for streaming: the engine keeps one
// StreamDecoder per sequence and pushes each generated id; push() returns the
// new text, always valid UTF-8 (possibly empty while a character is still
// incomplete). The concatenated deltas plus finish() equal decode() of all the
// pushed ids (after prime()'s context, whose text is not emitted).
//
// Rules: a byte-level character split over several tokens is emitted once
// complete; a run of SentencePiece <0xNN> byte-fallback tokens is emitted once
// the run ends (the reference decodes a run as a whole, so a later byte can
// still turn it into U+FFFD); SentencePiece's leading-space Strip applies only
// at the very start of the sequence (or not at all after prime()).
// Not thread-safe: one owner (the engine thread).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace kiln::tokenizer {

class StreamDecoder {
 public:
  struct Options {
    bool skip_special_tokens = true;
  };
  StreamDecoder(const Tokenizer& tokenizer, Options options);
  explicit StreamDecoder(const Tokenizer& tokenizer) : StreamDecoder(tokenizer, Options{}) {}

  // Ids that precede the stream (e.g. the prompt's last few tokens): they set
  // the context (leading-space rule) and are never emitted. Call before push().
  void prime(std::span<const TokenId> context);
  // Appends one id; returns the text that became final.
  std::string push(TokenId id);
  // Flushes whatever is held back (an unfinished character decodes as U+FFFD).
  std::string finish();

 private:
  bool held(const std::string& text) const;

  const Tokenizer* tokenizer_;
  Options options_;
  std::vector<TokenId> window_;  // context ids + pending ids
  size_t n_context_ = 0;         // window_[0, n_context_) is already emitted
  std::string context_text_;     // decode(window_[0, n_context_))
};

}  // namespace kiln::tokenizer
