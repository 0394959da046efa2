#include "tokenizer/decoders.h"

#include <utility>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = t[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      d = (c | 0x20) - 'a' + 10;
    } else if (c == '+' && i == 3) {  // Rust's from_str_radix accepts a sign
      continue;
    } else {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

namespace {

// Bytes of every token (characters of the byte alphabet mapped back; a token
// with any other character contributes its UTF-8 as is), then one lossy UTF-8
// conversion of the whole.
class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      bool mapped = true;
      for (size_t i = 0; i < t.size();) {
        char32_t cp;
        const int len = unicode::decode(t.data() + i, &cp);
        const int b = unicode::char_to_byte(cp);
        if (b < 0) {
          mapped = false;
          break;
        }
        bytes.push_back(char(b));
        i += size_t(len);
      }
      if (!mapped) {
        bytes.resize(mark);
        bytes += t;
      }
    }
    std::string text;
    text.reserve(bytes.size());
    unicode::append_lossy(text, bytes);
    tokens.assign(1, std::move(text));
  }
  void token_bytes(std::string& t) const override {
    std::string bytes;
    for (size_t i = 0; i < t.size();) {
      char32_t cp;
      const int len = unicode::decode(t.data() + i, &cp);
      const int b = unicode::char_to_byte(cp);
      if (b < 0) return;  // not a byte-alphabet token: its text is its bytes
      bytes.push_back(char(b));
      i += size_t(len);
    }
    t = std::move(bytes);
  }
};

// Runs of <0xNN> tokens become their bytes when the run is valid UTF-8 as a
// whole, else one U+FFFD per byte token.
class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&] {
      if (run_tokens == 0) return;
      if (unicode::is_valid(run)) {
        out.push_back(run);
      } else {
        for (size_t k = 0; k < run_tokens; ++k)
          out.push_back(unicode::encode(unicode::kReplacement));
      }
      run.clear();
      run_tokens = 0;
    };
    for (std::string& t : tokens) {
      const int b = parse_byte_token(t);
      if (b >= 0) {
        run.push_back(char(b));
        ++run_tokens;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
  void token_bytes(std::string& t) const override {
    const int b = parse_byte_token(t);
    if (b >= 0) t.assign(1, char(b));
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters of
// every token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      size_t begin = 0;
      for (size_t n = 0; n < start_ && begin < t.size(); ++n) {
        char32_t cp;
        const int len = unicode::decode(t.data() + begin, &cp);
        if (cp != content_) break;
        begin += size_t(len);
      }
      size_t end = t.size();
      for (size_t n = 0; n < stop_ && end > begin; ++n) {
        size_t k = end - 1;
        while (k > begin && (static_cast<unsigned char>(t[k]) & 0xC0) == 0x80) --k;
        char32_t cp;
        unicode::decode(t.data() + k, &cp);
        if (cp != content_) break;
        end = k;
      }
      t = t.substr(begin, end - begin);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    if (pattern_.empty()) return;
    for (std::string& t : tokens) {
      size_t at = t.find(pattern_);
      if (at == std::string::npos) continue;
      std::string r;
      size_t copied = 0;
      for (; at != std::string::npos; at = t.find(pattern_, at + pattern_.size())) {
        r.append(t, copied, at - copied);
        r += content_;
        copied = at + pattern_.size();
      }
      r.append(t, copied, std::string::npos);
      t = std::move(r);
    }
  }
  void token_bytes(std::string& t) const override {
    std::vector<std::string> one{std::move(t)};
    decode_chain(one);
    t = std::move(one[0]);
  }

 private:
  std::string pattern_, content_;
};

// Replacement characters become spaces; in the first token they are dropped
// when the pre-tokenizer prepends one (prepend_scheme other than "never").
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (replacement_.empty() || t.find(replacement_) == std::string::npos) continue;
      std::string r;
      size_t copied = 0;
      for (size_t at = t.find(replacement_); at != std::string::npos;
           at = t.find(replacement_, at + replacement_.size())) {
        r.append(t, copied, at - copied);
        if (!(i == 0 && strip_first_)) r.push_back(' ');
        copied = at + replacement_.size();
      }
      r.append(t, copied, std::string::npos);
      t = std::move(r);
    }
  }
  void token_bytes(std::string& t) const override {
    std::vector<std::string> one{std::string(), std::move(t)};  // not the first token
    decode_chain(one);
    t = std::move(one[1]);
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) {
          t = t.substr(prefix_.size());
        } else {
          t = " " + t;
        }
      }
      if (cleanup_) {
        for (const auto& [from, to] : kCleanup) {
          for (size_t at = t.find(from); at != std::string::npos; at = t.find(from, at + to.size()))
            t.replace(at, from.size(), to);
        }
      }
    }
  }

 private:
  static constexpr std::pair<std::string_view, std::string_view> kCleanup[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  std::string prefix_;
  bool cleanup_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& s : steps_) s->decode_chain(tokens);
  }
  void token_bytes(std::string& t) const override {
    for (const auto& s : steps_) s->token_bytes(t);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> make_byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }
std::unique_ptr<Decoder> make_byte_fallback_decoder() {
  return std::make_unique<ByteFallbackDecoder>();
}
std::unique_ptr<Decoder> make_fuse_decoder() { return std::make_unique<FuseDecoder>(); }
std::unique_ptr<Decoder> make_strip_decoder(char32_t content, size_t start, size_t stop) {
  return std::make_unique<StripDecoder>(content, start, stop);
}
std::unique_ptr<Decoder> make_replace_decoder(std::string pattern, std::string content) {
  return std::make_unique<ReplaceDecoder>(std::move(pattern), std::move(content));
}
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, bool strip_first) {
  return std::make_unique<MetaspaceDecoder>(std::move(replacement), strip_first);
}
std::unique_ptr<Decoder> make_wordpiece_decoder(std::string prefix, bool cleanup) {
  return std::make_unique<WordPieceDecoder>(std::move(prefix), cleanup);
}
std::unique_ptr<Decoder> make_sequence_decoder(std::vector<std::unique_ptr<Decoder>> steps) {
  return std::make_unique<SequenceDecoder>(std::move(steps));
}

}  // namespace kiln::tokenizer
