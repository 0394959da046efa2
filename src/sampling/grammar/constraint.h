// Constraint: a compiled grammar (JSON Schema or regex) bound to a model's
// vocabulary, and ConstraintMatcher: one sequence's position in it.
//
// Build a Constraint with sampling/grammar/compile.h (or fetch it from
// ConstraintCache); it is immutable and thread-safe, so one instance serves
// every request with the same schema. Each sequence owns a ConstraintMatcher
// (engine thread only). Per step:
//
//   matcher.fill_mask(words);   // bit i of words = token i allowed now
//   ... sample among allowed tokens ...
//   matcher.advance(token);     // false if the token was not allowed
//
// EOS ids are allowed exactly when the text so far is a complete value
// (can_end()); tokens without bytes (special tokens) are never allowed. The
// allowed set is never empty before the value is complete: every state of
// the automaton can still reach the end, whitespace between JSON tokens is
// bounded, and the vocabulary is assumed to contain every single byte (true
// for byte-level BPE and for SentencePiece with byte fallback).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::sampling {

namespace grammar {
class Vocabulary;
struct ConstraintData;
struct MatcherState;
}  // namespace grammar

// 64-bit words needed for a mask over `vocab_size` tokens.
inline size_t mask_words(int32_t vocab_size) { return (size_t(vocab_size) + 63) / 64; }

// Sets logits[i] to -infinity for every token whose bit in `words` is clear
// (the usual way to apply a mask before sampling).
void mask_logits(std::span<float> logits, std::span<const uint64_t> words);

class Constraint {
 public:
  explicit Constraint(std::unique_ptr<grammar::ConstraintData> data);
  ~Constraint();
  Constraint(const Constraint&) = delete;
  Constraint& operator=(const Constraint&) = delete;

  int32_t vocab_size() const;
  const grammar::Vocabulary& vocabulary() const;
  // "json_schema", "regex" or "json": for logs.
  const std::string& kind() const;
  // Automaton positions, distinct token masks among them, and the bytes of
  // the masks cached so far.
  int32_t num_positions() const;
  int32_t num_masks() const;
  size_t cached_mask_bytes() const;

  const grammar::ConstraintData& data() const { return *data_; }

 private:
  std::unique_ptr<grammar::ConstraintData> data_;
};

class ConstraintMatcher {
 public:
  explicit ConstraintMatcher(std::shared_ptr<const Constraint> constraint);
  ~ConstraintMatcher();
  ConstraintMatcher(const ConstraintMatcher& other);  // an independent copy (e.g. for n > 1)
  ConstraintMatcher& operator=(const ConstraintMatcher& other);
  ConstraintMatcher(ConstraintMatcher&&) noexcept;
  ConstraintMatcher& operator=(ConstraintMatcher&&) noexcept;

  // Writes the allowed set: bit (id % 64) of words[id / 64]. `words` must
  // hold at least mask_words(vocab_size) words; bits past the vocabulary are
  // cleared. After EOS was accepted only EOS stays allowed.
  void fill_mask(std::span<uint64_t> words);
  // Whether one token is allowed now (cheaper than a mask for a single id).
  bool allows(int32_t token) const;
  // Consumes a token. Returns false, leaving the state unchanged, when the
  // token is not allowed. An allowed EOS finishes the matcher.
  bool advance(int32_t token);
  // Consumes raw bytes (tests, tools, forced prefixes). False and unchanged
  // on bytes the grammar rejects.
  bool advance_bytes(std::string_view bytes);

  // The text so far is a complete value: EOS is allowed.
  bool can_end() const;
  // Complete, and no byte can follow: only EOS is allowed.
  bool must_end() const;
  // EOS was accepted.
  bool finished() const;

  // Undoes the last n successful advance()/advance_bytes() calls (n is
  // clamped to the number made). Cheap: states are kept per step.
  void rollback(int32_t n);
  int32_t num_steps() const;
  void reset();

  const Constraint& constraint() const { return *constraint_; }

 private:
  std::shared_ptr<const Constraint> constraint_;
  std::unique_ptr<grammar::MatcherState> state_;
};

}  // namespace kiln::sampling
