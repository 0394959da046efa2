// Stopping: EOS ids, stop strings and the token cap, per sequence, on the
// engine thread.
//
// Stop strings are matched on the decoded text, bytes against bytes (no
// Unicode normalisation), across token boundaries. Text that could still
// become a stop string is held back and released once it cannot; a trailing
// incomplete UTF-8 character is held back too, so emitted text never splits a
// character. When several stop strings complete, the one that ends first in
// the text wins (ties: the longest), which is what a byte-by-byte feed would
// see, so any chunking of the same text, streamed or not, gives the same
// result. Text after a match is dropped; the match itself is kept only when
// StopParams::keep_stop_in_text (native TGI routes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/params.h"

namespace kiln::sampling {

// Maps to engine::FinishReason; the API layers map further (contract §3.8).
enum class StopReason { kNone, kLength, kEosToken, kStopSequence };

class StopMatcher {
 public:
  // Empty stop strings are ignored (they would match everywhere).
  StopMatcher(std::vector<std::string> stops, bool keep_stop_in_text);

  // Appends `delta` (UTF-8, possibly ending inside a character) and appends
  // to `emit` the text that is now safe to show. Returns true once a stop
  // string has completed; from then on input is ignored.
  bool feed(std::string_view delta, std::string& emit);

  // Generation ended for another reason: releases everything held back.
  void flush(std::string& emit);

  bool stopped() const { return matched_ >= 0; }
  int32_t matched() const { return matched_; }  // index into the stop list, -1 if none

 private:
  size_t held_suffix() const;

  std::vector<std::string> stops_;
  bool keep_stop_in_text_;
  std::string pending_;  // received, not yet emitted
  int32_t matched_ = -1;
};

// All stop criteria of one sequence. update() is called once per generated
// token with the text the detokenizer produced for it.
class StopChecker {
 public:
  StopChecker(const StopParams& params, std::span<const int32_t> eos_ids);

  // Counts the token, appends releasable text to `emit` and says whether the
  // sequence ends here. Precedence when one token triggers several: EOS, then
  // a stop string, then the cap (the model's own decision wins). An EOS
  // token's text is never shown. A max_new_tokens <= 0 means no cap.
  StopReason update(int32_t token, std::string_view delta, std::string& emit);

  // Releases held-back text when the sequence ends for another reason.
  void flush(std::string& emit) { matcher_.flush(emit); }

  int32_t generated() const { return generated_; }  // EOS included
  StopReason reason() const { return reason_; }
  int32_t matched_stop() const { return matcher_.matched(); }

 private:
  StopMatcher matcher_;
  std::vector<int32_t> eos_ids_;  // sorted
  int32_t max_new_tokens_;
  bool ignore_eos_;
  int32_t generated_ = 0;
  StopReason reason_ = StopReason::kNone;
};

}  // namespace kiln::sampling
