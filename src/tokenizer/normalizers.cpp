#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>
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

// Code points whose normalization the reference does not know (its tables
// are older than utf8proc's): they stay as they are, as starters.
struct CodeRange {
  char32_t lo, hi;
};
constexpr CodeRange kReferenceUnknown[] = {
#include "tokenizer/unicode_hf_exceptions.inc"
};

bool reference_unknown(char32_t cp) {
  const auto* end = std::end(kReferenceUnknown);
  const auto* it = std::upper_bound(std::begin(kReferenceUnknown), end, cp,
                                    [](char32_t c, const CodeRange& r) { return c < r.lo; });
  return it != std::begin(kReferenceUnknown) && cp <= (it - 1)->hi;
}

uint8_t combining_class(char32_t cp) {
  if (cp < 0x300 || reference_unknown(cp)) return 0;
  return uint8_t(utf8proc_get_property(utf8proc_int32_t(cp))->combining_class);
}

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form)
      : compat_(form == UnicodeForm::kNfkc || form == UnicodeForm::kNfkd),
        compose_(form == UnicodeForm::kNfc || form == UnicodeForm::kNfkc) {}

  // Normalization only rearranges text between "safe" boundaries: a boundary
  // sits before a character whose decomposition starts with a starter that
  // cannot compose with what precedes it. Chunks made only of characters the
  // form leaves alone are copied; the others are decomposed, reordered and
  // (NFC/NFKC) recomposed character by character, so that every output
  // character keeps the input range of the character it came from, as the
  // reference aligns them: decomposed parts share their source's range, a
  // composed character takes its starter's range, and the characters
  // absorbed into it vanish from the alignment.
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
      i += size_t(len);
    }
    flush(s, chunk, t.size(), dirty, scratch, track);
    std::swap(s, scratch);
  }

 private:
  struct Unit {
    char32_t cp;
    int32_t change;
    uint8_t ccc;
  };

  utf8proc_option_t decompose_options() const {
    return utf8proc_option_t(UTF8PROC_DECOMPOSE | (compat_ ? UTF8PROC_COMPAT : 0));
  }

  void classify(char32_t cp, bool* inert, bool* boundary) const {
    const utf8proc_property_t* p = utf8proc_get_property(utf8proc_int32_t(cp));
    const bool has_decomposition = p->decomp_seqindex != UINT16_MAX;
    const bool starter = p->combining_class == 0 && !is_composition_second(p);
    *inert = starter && !has_decomposition && !is_hangul(cp) && !p->comp_exclusion;
    if (!*inert && reference_unknown(cp)) {
      *inert = *boundary = true;
      return;
    }
    if (!starter) {
      *boundary = false;
    } else if (!has_decomposition) {
      *boundary = !(cp >= 0x1160 && cp <= 0x11FF);  // Hangul V/T jamo compose backwards
    } else {
      utf8proc_int32_t first[32];
      int last_boundclass = 0;
      const auto n = utf8proc_decompose_char(utf8proc_int32_t(cp), first, 32, decompose_options(),
                                             &last_boundclass);
      if (n <= 0) {
        *boundary = false;
      } else {
        const utf8proc_property_t* f = utf8proc_get_property(first[0]);
        *boundary = f->combining_class == 0 && !is_composition_second(f);
      }
    }
  }

  static char32_t compose_pair(char32_t a, char32_t b) {
    utf8proc_int32_t buf[2] = {utf8proc_int32_t(a), utf8proc_int32_t(b)};
    const auto n =
        utf8proc_normalize_utf32(buf, 2, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    return n == 1 ? char32_t(buf[0]) : 0;
  }

  void flush(const NormStr& s, size_t begin, size_t end, bool dirty, NormStr& out,
             bool track) const {
    if (begin >= end) return;
    if (!dirty) {
      out.text.append(s.text, begin, end - begin);
      if (track) out.align.insert(out.align.end(), s.align.begin() + begin, s.align.begin() + end);
      return;
    }
    // Each unit records, like the reference's normalization iterator, how it
    // consumes the input characters: change 0 takes the next input character,
    // +1 is inserted (a later part of a decomposition), -n also swallows the
    // n following input characters (composition).
    thread_local std::vector<Unit> units;
    thread_local std::vector<Range> inputs;
    units.clear();
    inputs.clear();
    for (size_t i = begin; i < end;) {
      char32_t cp;
      const int len = unicode::decode(s.text.data() + i, &cp);
      inputs.push_back(char_range(s, i, len, track));
      i += size_t(len);
      if (cp < 0x80 || reference_unknown(cp)) {
        units.push_back({cp, 0, 0});
        continue;
      }
      utf8proc_int32_t d[32];
      int last_boundclass = 0;
      const auto n = utf8proc_decompose_char(utf8proc_int32_t(cp), d, 32, decompose_options(),
                                             &last_boundclass);
      if (n <= 0 || n > 32) {
        units.push_back({cp, 0, combining_class(cp)});
        continue;
      }
      for (utf8proc_ssize_t k = 0; k < n; ++k)
        units.push_back({char32_t(d[k]), k == 0 ? 0 : 1, combining_class(char32_t(d[k]))});
    }
    // Canonical ordering: a stable sort of each run of non-starters by class.
    for (size_t i = 1; i < units.size(); ++i) {
      for (size_t j = i; j > 0 && units[j].ccc != 0 && units[j - 1].ccc > units[j].ccc; --j)
        std::swap(units[j - 1], units[j]);
    }
    size_t n = units.size();
    if (compose_) {
      // Canonical composition: a character joins the last starter unless an
      // intervening kept character blocks it (class 0 or >= its own class).
      size_t w = 0;
      std::ptrdiff_t starter = -1;
      for (size_t r = 0; r < n; ++r) {
        const Unit u = units[r];
        if (starter >= 0) {
          Unit& st = units[size_t(starter)];
          const bool adjacent = std::ptrdiff_t(w) - 1 == starter;
          const uint8_t last = units[w - 1].ccc;
          const bool blocked = !adjacent && (last == 0 || last >= u.ccc);
          if (!blocked && !reference_unknown(u.cp) && !reference_unknown(st.cp)) {
            if (const char32_t c = compose_pair(st.cp, u.cp)) {
              st.cp = c;
              st.change += u.change - 1;
              continue;
            }
          }
        }
        if (u.ccc == 0) starter = std::ptrdiff_t(w);
        units[w++] = u;
      }
      n = w;
    }
    size_t cursor = 0;
    const Range before_chunk = track && begin > 0 ? s.align[begin - 1] : Range{};
    for (size_t k = 0; k < n; ++k) {
      const Unit& u = units[k];
      Range r{};
      if (track) {
        if (u.change > 0) {
          r = cursor > 0 ? inputs[cursor - 1] : before_chunk;
        } else if (cursor < inputs.size()) {
          r = inputs[cursor];
        }
      }
      if (u.change <= 0) cursor += size_t(1 - u.change);
      const size_t at = out.text.size();
      unicode::append(out.text, u.cp);
      if (track) out.align.insert(out.align.end(), out.text.size() - at, r);
    }
  }

  bool compat_;
  bool compose_;
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
      // The reference aligns the replacement with the last replaced character
      // (an empty match: with the character before it).
      Range r{};
      if (track && e > b) {
        r = s.align[e - 1];
      } else if (track && b > 0) {
        r = s.align[b - 1];
      }
      push(scratch, content_, r, track);
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
