// Normalizers of tokenizer.json ("normalizer"), applied to each text segment
// between added tokens before pre-tokenization. Each rewrites a NormStr and
// keeps its byte alignment to the input when `track` is set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/workspace.h"

namespace kiln::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `s`; `scratch` is free space of the same type (swapped in).
  virtual void normalize(NormStr& s, NormStr& scratch, bool track) const = 0;
};

enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form);
std::unique_ptr<Normalizer> make_lowercase_normalizer();
std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right);
std::unique_ptr<Normalizer> make_strip_accents_normalizer();
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix);
// Replaces every match of a literal (`regex` null) or of `regex` by `content`.
std::unique_ptr<Normalizer> make_replace_normalizer(std::string literal,
                                                    std::unique_ptr<Regex> regex,
                                                    std::string content);
struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};
std::unique_ptr<Normalizer> make_bert_normalizer(BertNormalizerOptions options);
std::unique_ptr<Normalizer> make_sequence_normalizer(
    std::vector<std::unique_ptr<Normalizer>> steps);

}  // namespace kiln::tokenizer
