// Split patterns of tokenizer.json compiled with PCRE2 (JIT). Hugging Face
// `tokenizers` runs them with Oniguruma (Ruby syntax), so the pattern is
// rewritten first where the two engines disagree:
//   \s \S  -> the White_Space set (Oniguruma's \s includes U+0085; PCRE2's
//             Unicode \s also takes U+180E)
//   \w \W  -> Alphabetic + Mark + Nd + Pc (Oniguruma's word class)
//   \h \H  -> hex digits (Ruby), not PCRE2's horizontal space
//   \p{Han} -> \p{sc:Han}: scripts by the Script property, as Oniguruma does
//             (PCRE2's plain form uses Script_Extensions)
// and it is compiled with ^/$ matching at line ends, as in Ruby.
// A compiled Regex is immutable; matching is safe from any number of threads
// (match data and the JIT stack are per thread).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace kiln::tokenizer {

class Regex {
 public:
  static util::Result<std::unique_ptr<Regex>> compile(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Next match at or after `start` in `subject` (valid UTF-8). False when
  // there is none (or the match failed for resource limits).
  bool find(std::string_view subject, size_t start, size_t* match_start, size_t* match_end) const;

  // Calls fn(start, end) for each non-overlapping match, left to right. An
  // empty match right where the previous one ended is skipped (as in Rust's
  // regex iterators), so the scan always advances.
  template <typename Fn>
  void for_each_match(std::string_view subject, Fn&& fn) const {
    size_t pos = 0, last_end = std::string_view::npos;
    while (pos <= subject.size()) {
      size_t s, e;
      if (!find(subject, pos, &s, &e)) break;
      if (s == e && e == last_end) {
        if (e >= subject.size()) break;
        pos = e + next_char_len(subject, e);
        continue;
      }
      fn(s, e);
      last_end = e;
      pos = e;
    }
  }

  // The PCRE2 pattern after the Oniguruma rewrite (for tests and messages).
  const std::string& pcre_pattern() const { return pattern_; }

 private:
  Regex() = default;
  static size_t next_char_len(std::string_view s, size_t i);
  void* code_ = nullptr;  // pcre2_code_8
  bool jit_ = false;
  std::string pattern_;
};

// Oniguruma -> PCRE2 rewrite described above (exposed for tests).
std::string rewrite_oniguruma_pattern(std::string_view pattern, bool scripts_by_sc = true);

}  // namespace kiln::tokenizer
