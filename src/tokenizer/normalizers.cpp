#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <utility>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

namespace {

Range char_range(const NormStr& s, size_t i, int len, bool track) {
  if (!track) return {};
  return {s.align[i].begin, s.align[i + len - 1].end};
}

void push(NormStr& out, std::string_view bytes, Range r, bool track) {
  out.text.append(bytes);
  if (track) out.align.insert(out.align.end(), bytes.size(), r);
}

// Rebuilds `s` char by char: fn(cp, bytes, out) appends the replacement of
// each character to out.text (nothing to delete it); the new bytes inherit the
// source character's input range.
template <typename Fn>
void map_chars(NormStr& s, NormStr& scratch, bool track, Fn&& fn) {
  scratch.clear();
  scratch.text.reserve(s.text.size());
  const std::string& t = s.text;
  for (size_t i = 0; i < t.size();) {
    char32_t cp;
    const int len = unicode::decode(t.data() + i, &cp);
    const size_t before = scratch.text.size();
    fn(cp, std::string_view(t.data() + i, len), scratch.text);
    if (track)
      scratch.align.insert(scratch.align.end(), scratch.text.size() - before,
                           char_range(s, i, len, track));
    i += len;
  }
  std::swap(s, scratch);
}

bool is_hangul(char32_t c) {
  return (c >= 0x1100 && c <= 0x11FF) || (c >= 0xAC00 && c <= 0xD7A3) ||
         (c >= 0xA960 && c <= 0xA97F) || (c >= 0xD7B0 && c <= 0xD7FF);
}

bool is_composition_second(const utf8proc_property_t* p) {
  return p->comb_index != UINT16_MAX && p->comb_index >= 0x8000;
}

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {
    options_ = UTF8PROC_STABLE;
    switch (form) {
      case UnicodeForm::kNfc:
        options_ |= UTF8PROC_COMPOSE;
        break;
      case UnicodeForm::kNfd:
        options_ |= UTF8PROC_DECOMPOSE;
        break;
      case UnicodeForm::kNfkc:
        options_ |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case UnicodeForm::kNfkd:
        options_ |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
  }

  // Normalization only ever rearranges text between "safe" boundaries: a
  // boundary sits before a character whose decomposition starts with a
  // starter that cannot compose with what precedes it. Chunks made only of
  // characters the form leaves alone are copied; the others go through
  // utf8proc, and their output is aligned to the whole chunk.
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    const std::string& t = s.text;
    size_t i = 0;
    while (i < t.size() && static_cast<unsigned char>(t[i]) < 0x80) ++i;
    if (i == t.size()) return;  // ASCII is invariant under every form
    scratch.clear();
    scratch.text.reserve(t.size() + 16);
    size_t chunk = 0;
    bool dirty = false;
    for (i = 0; i < t.size();) {
      char32_t cp;
      const int len = unicode::decode(t.data() + i, &cp);
      bool inert = true, boundary = true;
      if (cp >= 0x80) classify(cp, &inert, &boundary);
      if (boundary && i > chunk) {
        flush(s, chunk, i, dirty, scratch, track);
        chunk = i;
        dirty = false;
      }
      dirty |= !inert;
      i += len;
    }
    flush(s, chunk, t.size(), dirty, scratch, track);
    std::swap(s, scratch);
  }

 private:
  bool compat() const { return form_ == UnicodeForm::kNfkc || form_ == UnicodeForm::kNfkd; }

  void classify(char32_t cp, bool* inert, bool* boundary) const {
    const utf8proc_property_t* p = utf8proc_get_property(utf8proc_int32_t(cp));
    const bool has_decomposition = p->decomp_seqindex != UINT16_MAX;
    const bool starter = p->combining_class == 0 && !is_composition_second(p);
    *inert = starter && !has_decomposition && !is_hangul(cp) && !p->comp_exclusion;
    if (!starter) {
      *boundary = false;
    } else if (!has_decomposition) {
      *boundary = !(cp >= 0x1160 && cp <= 0x11FF);  // Hangul V/T jamo compose backwards
    } else {
      utf8proc_int32_t first[8];
      int last_boundclass = 0;
      const auto n = utf8proc_decompose_char(
          utf8proc_int32_t(cp), first, 8,
          utf8proc_option_t(UTF8PROC_DECOMPOSE | (compat() ? UTF8PROC_COMPAT : 0)),
          &last_boundclass);
      if (n <= 0) {
        *boundary = false;
      } else {
        const utf8proc_property_t* f = utf8proc_get_property(first[0]);
        *boundary = f->combining_class == 0 && !is_composition_second(f);
      }
    }
  }

  void flush(const NormStr& s, size_t begin, size_t end, bool dirty, NormStr& out,
             bool track) const {
    if (begin >= end) return;
    const std::string_view src(s.text.data() + begin, end - begin);
    if (!dirty) {
      out.text.append(src);
      if (track) out.align.insert(out.align.end(), s.align.begin() + begin, s.align.begin() + end);
      return;
    }
    thread_local std::vector<utf8proc_int32_t> buffer;
    if (buffer.size() < src.size() * 4 + 16) buffer.resize(src.size() * 4 + 16);
    auto n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(src.data()),
                                utf8proc_ssize_t(src.size()), buffer.data(),
                                utf8proc_ssize_t(buffer.size()), utf8proc_option_t(options_));
    if (n > utf8proc_ssize_t(buffer.size())) {
      buffer.resize(size_t(n));
      n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(src.data()),
                             utf8proc_ssize_t(src.size()), buffer.data(),
                             utf8proc_ssize_t(buffer.size()), utf8proc_option_t(options_));
    }
    if (n < 0) {  // cannot happen on valid UTF-8; keep the text as it was
      out.text.append(src);
      if (track) out.align.insert(out.align.end(), s.align.begin() + begin, s.align.begin() + end);
      return;
    }
    n = utf8proc_normalize_utf32(buffer.data(), n, utf8proc_option_t(options_));
    const Range r = track ? Range{s.align[begin].begin, s.align[end - 1].end} : Range{};
    const size_t before = out.text.size();
    for (utf8proc_ssize_t k = 0; k < n; ++k) unicode::append(out.text, char32_t(buffer[size_t(k)]));
    if (track) out.align.insert(out.align.end(), out.text.size() - before, r);
  }

  UnicodeForm form_;
  int options_;
};

void append_lowercase(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(char(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
  } else if (cp == 0x130) {  // the one unconditional multi-character lowercase
    out.append("i\xCC\x87");
  } else {
    unicode::append(out, char32_t(utf8proc_tolower(utf8proc_int32_t(cp))));
  }
}

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    map_chars(s, scratch, track,
              [](char32_t cp, std::string_view, std::string& out) { append_lowercase(cp, out); });
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormStr& s, NormStr&, bool track) const override {
    const std::string& t = s.text;
    size_t begin = 0, end = t.size();
    if (left_) {
      while (begin < end) {
        char32_t cp;
        const int len = unicode::decode(t.data() + begin, &cp);
        if (!unicode::is_whitespace(cp)) break;
        begin += len;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t k = end - 1;
        while (k > begin && (static_cast<unsigned char>(t[k]) & 0xC0) == 0x80) --k;
        char32_t cp;
        unicode::decode(t.data() + k, &cp);
        if (!unicode::is_whitespace(cp)) break;
        end = k;
      }
    }
    if (begin == 0 && end == t.size()) return;
    s.text = s.text.substr(begin, end - begin);
    if (track) s.align = std::vector<Range>(s.align.begin() + begin, s.align.begin() + end);
  }

 private:
  bool left_, right_;
};

class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    map_chars(s, scratch, track, [](char32_t cp, std::string_view bytes, std::string& out) {
      if (!unicode::is_mark(cp)) out.append(bytes);
    });
  }
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    if (s.text.empty()) return;
    scratch.clear();
    int first_len = unicode::sequence_length(static_cast<unsigned char>(s.text[0]));
    push(scratch, prefix_, char_range(s, 0, first_len, track), track);
    scratch.text.append(s.text);
    if (track) scratch.align.insert(scratch.align.end(), s.align.begin(), s.align.end());
    std::swap(s, scratch);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}

  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    const std::string& t = s.text;
    if (!regex_ && (literal_.empty() || t.find(literal_) == std::string::npos)) return;
    scratch.clear();
    scratch.text.reserve(t.size() + t.size() / 4);
    size_t copied = 0;
    auto on_match = [&](size_t b, size_t e) {
      scratch.text.append(t, copied, b - copied);
      if (track)
        scratch.align.insert(scratch.align.end(), s.align.begin() + copied, s.align.begin() + b);
      if (e > b) {
        push(scratch, content_, Range{track ? s.align[b].begin : 0, track ? s.align[e - 1].end : 0},
             track);
      } else {
        // An empty match inserts content aligned to the next character.
        const Range r = track && b < t.size() ? s.align[b] : Range{};
        push(scratch, content_, r, track);
      }
      copied = e;
    };
    if (regex_) {
      regex_->for_each_match(t, on_match);
    } else {
      for (size_t at = t.find(literal_); at != std::string::npos;
           at = t.find(literal_, at + literal_.size()))
        on_match(at, at + literal_.size());
    }
    scratch.text.append(t, copied, std::string::npos);
    if (track) scratch.align.insert(scratch.align.end(), s.align.begin() + copied, s.align.end());
    std::swap(s, scratch);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class BertNormalizer final : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions o) : o_(o), nfd_(UnicodeForm::kNfd) {}
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    if (o_.clean_text) {
      map_chars(s, scratch, track, [](char32_t cp, std::string_view bytes, std::string& out) {
        if (cp == 0 || cp == unicode::kReplacement || unicode::is_control(cp)) return;
        if (unicode::is_whitespace(cp)) {
          out.push_back(' ');
        } else {
          out.append(bytes);
        }
      });
    }
    if (o_.handle_chinese_chars) {
      map_chars(s, scratch, track, [](char32_t cp, std::string_view bytes, std::string& out) {
        const bool pad = unicode::is_chinese_char(cp);
        if (pad) out.push_back(' ');
        out.append(bytes);
        if (pad) out.push_back(' ');
      });
    }
    if (o_.strip_accents) {
      nfd_.normalize(s, scratch, track);
      map_chars(s, scratch, track, [](char32_t cp, std::string_view bytes, std::string& out) {
        if (!unicode::is_mark(cp)) out.append(bytes);
      });
    }
    if (o_.lowercase) {
      map_chars(s, scratch, track,
                [](char32_t cp, std::string_view, std::string& out) { append_lowercase(cp, out); });
    }
  }

 private:
  BertNormalizerOptions o_;
  UnicodeNormalizer nfd_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(NormStr& s, NormStr& scratch, bool track) const override {
    for (const auto& step : steps_) step->normalize(s, scratch, track);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form) {
  return std::make_unique<UnicodeNormalizer>(form);
}
std::unique_ptr<Normalizer> make_lowercase_normalizer() {
  return std::make_unique<LowercaseNormalizer>();
}
std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right) {
  return std::make_unique<StripNormalizer>(left, right);
}
std::unique_ptr<Normalizer> make_strip_accents_normalizer() {
  return std::make_unique<StripAccentsNormalizer>();
}
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix) {
  return std::make_unique<PrependNormalizer>(std::move(prefix));
}
std::unique_ptr<Normalizer> make_replace_normalizer(std::string literal,
                                                    std::unique_ptr<Regex> regex,
                                                    std::string content) {
  return std::make_unique<ReplaceNormalizer>(std::move(literal), std::move(regex),
                                             std::move(content));
}
std::unique_ptr<Normalizer> make_bert_normalizer(BertNormalizerOptions options) {
  return std::make_unique<BertNormalizer>(options);
}
std::unique_ptr<Normalizer> make_sequence_normalizer(
    std::vector<std::unique_ptr<Normalizer>> steps) {
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace kiln::tokenizer
