// Shared by the constraint-engine fuzz targets: a small vocabulary (every
// byte plus some multi-byte tokens), tight budgets so each input stays fast,
// and a short walk that checks the engine's promise: until the value is
// complete the allowed set is never empty, and every allowed token advances.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sampling/grammar/compile.h"
#include "sampling/grammar/constraint.h"
#include "sampling/grammar/vocabulary.h"

namespace kiln::fuzz {

inline std::shared_ptr<const sampling::grammar::Vocabulary> fuzz_vocab() {
  static const auto v = [] {
    std::vector<std::string> t{"", ""};  // a special token, EOS
    for (int b = 0; b < 256; ++b) t.push_back(std::string(1, char(b)));
    for (const char* s : {"{\"", "\":", "\",", "\"}", " \"", "true", "null", "12", ".5", "\\u00", "é", "\xc3",
                          "\n  ", "],", "[{", "ab", "abc", "-1", "e+"})
      t.push_back(s);
    return *sampling::grammar::Vocabulary::create(t, {1});
  }();
  return v;
}

inline sampling::grammar::CompileOptions fuzz_options() {
  sampling::grammar::CompileOptions o;
  o.budget.max_nfa_states = 20000;
  o.budget.max_dfa_states = 5000;
  o.budget.max_subset_work = 200000;
  o.json.max_schema_bytes = 4096;
  o.json.max_rules = 200;
  o.json.max_total_states = 20000;
  return o;
}

// Walks a few steps, taking the allowed token picked by the input's bytes.
inline void walk(const std::shared_ptr<const sampling::Constraint>& c, const uint8_t* data, size_t size) {
  sampling::ConstraintMatcher m(c);
  std::vector<uint64_t> mask(sampling::mask_words(c->vocab_size()));
  for (size_t step = 0; step < 16; ++step) {
    m.fill_mask(mask);
    std::vector<int32_t> allowed;
    for (int32_t id = 0; id < c->vocab_size(); ++id)
      if (mask[id >> 6] >> (id & 63) & 1) allowed.push_back(id);
    if (allowed.empty()) std::abort();  // the allowed set must never be empty
    int32_t pick = allowed[(size ? data[step % size] : 0) % allowed.size()];
    if (!m.advance(pick)) std::abort();  // an allowed token must be accepted
    if (m.finished()) return;
  }
}

}  // namespace kiln::fuzz
