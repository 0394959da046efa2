#include "tokenizer/pre_tokenizers.h"

#include <utility>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

namespace {

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Turns the alternating match / gap segments of one piece into the ranges
// kept by `behavior` (rules of tokenizers' NormalizedString::split).
void apply_behavior(const std::vector<Segment>& segs, SplitBehavior behavior,
                    std::vector<Segment>& out) {
  out.clear();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      out = segs;
      break;
    case SplitBehavior::kRemoved:
      for (const Segment& s : segs)
        if (!s.is_match) out.push_back(s);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Segment& s : segs) {
        if (s.is_match && !previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t k = segs.size(); k-- > 0;) {
        const Segment& s = segs[k];
        if (s.is_match && !previous_match && !out.empty()) {
          out.back().begin = s.begin;
        } else {
          out.push_back(s);
        }
        previous_match = s.is_match;
      }
      for (size_t a = 0, b = out.size(); a + 1 < b; ++a, --b) std::swap(out[a], out[b - 1]);
      break;
    case SplitBehavior::kContiguous:
      for (const Segment& s : segs) {
        if (s.is_match == previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
  }
}

// Splits every text piece: find(text, segments) lists its segments.
template <typename Find>
void split_pieces(Workspace& ws, SplitBehavior behavior, bool invert, Find&& find) {
  ws.next.clear();
  for (const Piece& p : ws.pieces) {
    if (p.added_id >= 0) {
      ws.next.push_back(p);
      continue;
    }
    ws.segments.clear();
    find(ws.text(p), ws.segments);
    if (invert)
      for (Segment& s : ws.segments) s.is_match = !s.is_match;
    apply_behavior(ws.segments, behavior, ws.merged);
    for (const Segment& s : ws.merged) {
      if (s.end <= s.begin) continue;
      ws.next.push_back(Piece{p.begin + s.begin, p.begin + s.end, -1, p.at_start && s.begin == 0});
    }
  }
  std::swap(ws.pieces, ws.next);
}

void regex_segments(const Regex& re, std::string_view text, std::vector<Segment>& out) {
  uint32_t prev = 0;
  re.for_each_match(text, [&](size_t b, size_t e) {
    if (prev != b) out.push_back({prev, uint32_t(b), false});
    out.push_back({uint32_t(b), uint32_t(e), true});
    prev = uint32_t(e);
  });
  if (prev != text.size()) out.push_back({prev, uint32_t(text.size()), false});
}

template <typename Pred>
void char_segments(std::string_view text, std::vector<Segment>& out, Pred&& pred) {
  uint32_t prev = 0;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const int len = unicode::decode(text.data() + i, &cp);
    if (pred(cp)) {
      if (prev < i) out.push_back({prev, uint32_t(i), false});
      out.push_back({uint32_t(i), uint32_t(i + len), true});
      prev = uint32_t(i + len);
    }
    i += len;
  }
  if (prev < text.size()) out.push_back({prev, uint32_t(text.size()), false});
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Regex> regex, std::string literal, SplitBehavior behavior,
                    bool invert)
      : regex_(std::move(regex)),
        literal_(std::move(literal)),
        behavior_(behavior),
        invert_(invert) {}

  void pre_tokenize(Workspace& ws) const override {
    split_pieces(ws, behavior_, invert_, [this](std::string_view text, std::vector<Segment>& out) {
      if (regex_) {
        regex_segments(*regex_, text, out);
        return;
      }
      uint32_t prev = 0;
      if (!literal_.empty()) {
        for (size_t at = text.find(literal_); at != std::string_view::npos;
             at = text.find(literal_, at + literal_.size())) {
          if (prev != at) out.push_back({prev, uint32_t(at), false});
          out.push_back({uint32_t(at), uint32_t(at + literal_.size()), true});
          prev = uint32_t(at + literal_.size());
        }
      }
      if (prev != text.size()) out.push_back({prev, uint32_t(text.size()), false});
    });
  }

 private:
  std::unique_ptr<Regex> regex_;
  std::string literal_;
  SplitBehavior behavior_;
  bool invert_;
};

template <typename Pred>
class CharSplitPreTokenizer final : public PreTokenizer {
 public:
  CharSplitPreTokenizer(Pred pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void pre_tokenize(Workspace& ws) const override {
    split_pieces(ws, behavior_, false, [this](std::string_view text, std::vector<Segment>& out) {
      char_segments(text, out, pred_);
    });
  }

 private:
  Pred pred_;
  SplitBehavior behavior_;
};

template <typename Pred>
std::unique_ptr<PreTokenizer> make_char_split(Pred pred, SplitBehavior behavior) {
  return std::make_unique<CharSplitPreTokenizer<Pred>>(std::move(pred), behavior);
}

// Rewrites one piece into new buffer text: fn(text, out) fills `out` (a
// NormStr whose alignment is already the piece's own when tracking).
template <typename Fn>
Piece rewrite_piece(Workspace& ws, const Piece& p, Fn&& fn) {
  NormStr& in = ws.norm_a;
  NormStr& out = ws.norm_b;
  in.clear();
  out.clear();
  in.text.assign(ws.text(p));
  if (ws.track) in.align.assign(ws.align.begin() + p.begin, ws.align.begin() + p.end);
  fn(in, out);
  const uint32_t at = ws.append(out.text, out.align.data());
  return Piece{at, at + uint32_t(out.text.size()), -1, p.at_start};
}

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}

  void pre_tokenize(Workspace& ws) const override {
    if (add_prefix_space_) {
      for (Piece& p : ws.pieces) {
        if (p.added_id >= 0 || (p.end > p.begin && ws.buf[p.begin] == ' ')) continue;
        p = rewrite_piece(ws, p, [&](const NormStr& in, NormStr& out) {
          out.text.push_back(' ');
          out.text.append(in.text);
          if (ws.track) {
            out.align.push_back(in.align.empty() ? Range{} : in.align[0]);
            out.align.insert(out.align.end(), in.align.begin(), in.align.end());
          }
        });
      }
    }
    if (regex_) {
      split_pieces(ws, SplitBehavior::kIsolated, false,
                   [this](std::string_view text, std::vector<Segment>& out) {
                     regex_segments(*regex_, text, out);
                   });
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    unicode::decode(replacement_.data(), &replacement_cp_);
  }

  void pre_tokenize(Workspace& ws) const override {
    for (Piece& p : ws.pieces) {
      if (p.added_id >= 0) continue;
      p = rewrite_piece(ws, p, [&](const NormStr& in, NormStr& out) {
        const bool starts_with_rep = in.text.compare(0, replacement_.size(), replacement_) == 0 ||
                                     (!in.text.empty() && in.text[0] == ' ');
        const bool prepend = !starts_with_rep && (scheme_ == PrependScheme::kAlways ||
                                                  (scheme_ == PrependScheme::kFirst && p.at_start));
        if (prepend) {
          out.text.append(replacement_);
          if (ws.track)
            out.align.insert(out.align.end(), replacement_.size(),
                             in.align.empty() ? Range{} : in.align[0]);
        }
        for (size_t i = 0; i < in.text.size(); ++i) {
          if (in.text[i] == ' ') {
            out.text.append(replacement_);
            if (ws.track) out.align.insert(out.align.end(), replacement_.size(), in.align[i]);
          } else {
            out.text.push_back(in.text[i]);
            if (ws.track) out.align.push_back(in.align[i]);
          }
        }
      });
    }
    if (split_) {
      const char32_t rep = replacement_cp_;
      split_pieces(ws, SplitBehavior::kMergedWithNext, false,
                   [rep](std::string_view text, std::vector<Segment>& out) {
                     char_segments(text, out, [rep](char32_t c) { return c == rep; });
                   });
    }
  }

 private:
  std::string replacement_;
  char32_t replacement_cp_ = 0x2581;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(Workspace& ws) const override {
    for (const auto& step : steps_) step->pre_tokenize(ws);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_split(std::unique_ptr<Regex> regex, std::string literal,
                                         SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitPreTokenizer>(std::move(regex), std::move(literal), behavior,
                                             invert);
}

util::Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool add_prefix_space, bool use_regex) {
  std::unique_ptr<Regex> regex;
  if (use_regex) {
    auto compiled = Regex::compile(kGpt2Pattern);
    if (!compiled.ok()) return compiled.error();
    regex = std::move(compiled.value());
  }
  return std::unique_ptr<PreTokenizer>(
      std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, std::move(regex)));
}

std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme,
                                             bool split) {
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}

std::unique_ptr<PreTokenizer> make_digits(bool individual_digits) {
  return make_char_split([](char32_t c) { return unicode::is_numeric(c); },
                         individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
}

std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior behavior) {
  return make_char_split([](char32_t c) { return unicode::is_punctuation(c); }, behavior);
}

util::Result<std::unique_ptr<PreTokenizer>> make_whitespace() {
  auto regex = Regex::compile(R"(\w+|[^\w\s]+)");
  if (!regex.ok()) return regex.error();
  return make_split(std::move(regex.value()), {}, SplitBehavior::kRemoved, /*invert=*/true);
}

std::unique_ptr<PreTokenizer> make_whitespace_split() {
  return make_char_split([](char32_t c) { return unicode::is_whitespace(c); },
                         SplitBehavior::kRemoved);
}

std::unique_ptr<PreTokenizer> make_char_delimiter_split(char32_t delimiter) {
  return make_char_split([delimiter](char32_t c) { return c == delimiter; },
                         SplitBehavior::kRemoved);
}

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(make_whitespace_split());
  steps.push_back(make_punctuation(SplitBehavior::kIsolated));
  return make_sequence_pre_tokenizer(std::move(steps));
}

std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(
    std::vector<std::unique_ptr<PreTokenizer>> steps) {
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

}  // namespace kiln::tokenizer
