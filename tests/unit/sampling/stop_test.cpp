// Stop strings across token boundaries, hold-back, UTF-8 safety, and the
// per-sequence stop criteria.
#include "sampling/stop.h"

#include <gtest/gtest.h>

#include <random>

namespace kiln::sampling {
namespace {

// Whole-text reference for one stop decision: the match that ends first
// (ties: the longest), written as directly as possible.
struct Expected {
  std::string text;
  int32_t matched = -1;
};
Expected reference(const std::string& text, const std::vector<std::string>& stops, bool keep) {
  for (size_t end = 1; end <= text.size(); ++end) {
    int32_t best = -1;
    for (size_t k = 0; k < stops.size(); ++k) {
      const auto& s = stops[k];
      if (s.empty() || s.size() > end || text.compare(end - s.size(), s.size(), s) != 0) continue;
      if (best < 0 || s.size() > stops[size_t(best)].size()) best = int32_t(k);
    }
    if (best >= 0) {
      return {text.substr(0, keep ? end : end - stops[size_t(best)].size()), best};
    }
  }
  return {text, -1};
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t j = 1; j < len; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Feeds `chunks`, checking after each that the emitted text is valid UTF-8;
// flushes at the end when no stop matched.
Expected feed_all(const std::vector<std::string>& chunks, const std::vector<std::string>& stops,
                  bool keep) {
  StopMatcher m(stops, keep);
  std::string emitted;
  for (const auto& c : chunks) {
    const bool stopped = m.feed(c, emitted);
    EXPECT_TRUE(valid_utf8(emitted)) << emitted;
    if (stopped) break;
  }
  if (!m.stopped()) m.flush(emitted);
  return {emitted, m.matched()};
}

TEST(SamplingStopTest, StopSplitAcrossTwoTokens) {
  const std::vector<std::string> stops = {"END"};
  StopMatcher m(stops, /*keep_stop_in_text=*/false);
  std::string out;
  EXPECT_FALSE(m.feed("hello E", out));
  EXPECT_EQ(out, "hello ");  // "E" is held back: it may start "END"
  EXPECT_TRUE(m.feed("ND and more", out));
  EXPECT_EQ(out, "hello ");
  EXPECT_EQ(m.matched(), 0);

  EXPECT_EQ(feed_all({"hello E", "ND and more"}, stops, true).text, "hello END");
}

TEST(SamplingStopTest, HeldTextIsReleasedWhenItCannotBecomeAStop) {
  StopMatcher m({"END"}, false);
  std::string out;
  EXPECT_FALSE(m.feed("a E", out));
  EXPECT_EQ(out, "a ");
  EXPECT_FALSE(m.feed("N", out));
  EXPECT_EQ(out, "a ");
  EXPECT_FALSE(m.feed("X", out));
  EXPECT_EQ(out, "a ENX");
  EXPECT_FALSE(m.feed("EN", out));
  m.flush(out);  // generation ended for another reason
  EXPECT_EQ(out, "a ENXEN");
}

TEST(SamplingStopTest, StopAtTheVeryStart) {
  EXPECT_EQ(feed_all({"STOP", "more"}, {"STOP"}, false).text, "");
  EXPECT_EQ(feed_all({"ST", "OP"}, {"STOP"}, false).text, "");
  EXPECT_EQ(feed_all({"STOP"}, {"STOP"}, true).text, "STOP");
}

TEST(SamplingStopTest, OverlappingStopsTheOneEndingFirstWins) {
  // "bc" ends at byte 4 of "xabcd", "abcd" at byte 5.
  auto r = feed_all({"xabcd"}, {"abcd", "bc"}, false);
  EXPECT_EQ(r.text, "xa");
  EXPECT_EQ(r.matched, 1);
  // Both end at the same byte: the longer one wins.
  r = feed_all({"xab"}, {"b", "ab"}, false);
  EXPECT_EQ(r.text, "x");
  EXPECT_EQ(r.matched, 1);
  // A stop overlapping itself.
  EXPECT_EQ(feed_all({"ba", "a", "a"}, {"aa"}, false).text, "b");
  // A held prefix of one stop that turns out to be another.
  r = feed_all({"12", "3", "4"}, {"12345", "234"}, false);
  EXPECT_EQ(r.text, "1");
  EXPECT_EQ(r.matched, 1);
}

TEST(SamplingStopTest, UnicodeStop) {
  const std::vector<std::string> stops = {"日本"};
  EXPECT_EQ(feed_all({"これは", "日", "本語です"}, stops, false).text, "これは");
  EXPECT_EQ(feed_all({"これは", "日", "本語です"}, stops, true).text, "これは日本");
  EXPECT_EQ(feed_all({"日曜日", "です"}, stops, false).text, "日曜日です");
}

TEST(SamplingStopTest, StopInsideAMultiByteCharacterSplitAcrossTokens) {
  // Byte-fallback tokens deliver "☕" (E2 98 95) one byte at a time.
  const std::string text = "café ☕ done";
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(feed_all(bytes, {"☕"}, false).text, "café ");
  EXPECT_EQ(feed_all(bytes, {"☕"}, true).text, "café ☕");
  // No stop: every byte comes out, but never half a character at a time.
  EXPECT_EQ(feed_all(bytes, {"zzz"}, false).text, text);
  StopMatcher m({"zzz"}, false);
  std::string out;
  m.feed("caf\xC3", out);
  EXPECT_EQ(out, "caf");
  m.feed("\xA9", out);
  EXPECT_EQ(out, "café");
}

TEST(SamplingStopTest, IncompleteCharacterAtTheEndIsFlushed) {
  StopMatcher m({}, false);
  std::string out;
  m.feed("ab\xE2\x98", out);
  EXPECT_EQ(out, "ab");
  m.flush(out);
  EXPECT_EQ(out, "ab\xE2\x98");
}

TEST(SamplingStopTest, EmptyStopStringsAreIgnored) {
  EXPECT_EQ(feed_all({"abc"}, {""}, false).text, "abc");
  EXPECT_EQ(feed_all({"abc"}, {"", "b"}, false).text, "a");
}

TEST(SamplingStopTest, EveryChunkingGivesTheSameTextAsTheWholeText) {
  // Streaming (many small deltas) and non-streaming (one delta) must agree,
  // and both must agree with the whole-text reference.
  const std::vector<std::string> alphabet = {"a", "b", "c", "é", "日", "☕", " "};
  std::mt19937 gen(2024);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen); };
  for (int rep = 0; rep < 2000; ++rep) {
    std::string text;
    for (size_t i = 0, n = 1 + pick(30); i < n; ++i) text += alphabet[pick(alphabet.size())];
    std::vector<std::string> stops;
    for (size_t s = 0, n = pick(4); s < n; ++s) {
      std::string stop;
      for (size_t i = 0, len = 1 + pick(3); i < len; ++i) stop += alphabet[pick(alphabet.size())];
      stops.push_back(stop);
    }
    const bool keep = rep % 2 == 0;
    const Expected want = reference(text, stops, keep);
    std::vector<std::string> chunks;
    for (size_t i = 0; i < text.size();) {
      const size_t len = 1 + pick(5);  // byte-level: may split characters
      chunks.push_back(text.substr(i, len));
      i += len;
    }
    const Expected streamed = feed_all(chunks, stops, keep);
    const Expected whole = feed_all({text}, stops, keep);
    ASSERT_EQ(streamed.text, want.text) << text;
    ASSERT_EQ(streamed.matched, want.matched) << text;
    ASSERT_EQ(whole.text, want.text) << text;
    ASSERT_EQ(whole.matched, want.matched) << text;
  }
}

TEST(SamplingStopTest, CheckerStopsOnAnyEosIdAndHidesItsText) {
  StopParams p;
  p.max_new_tokens = 10;
  p.stop = {"END"};
  const std::vector<int32_t> eos = {106, 1};
  StopChecker c(p, eos);
  std::string out;
  EXPECT_EQ(c.update(5, "Hi E", out), StopReason::kNone);
  EXPECT_EQ(out, "Hi ");
  EXPECT_EQ(c.update(106, "<end_of_turn>", out), StopReason::kEosToken);
  EXPECT_EQ(out, "Hi E");  // held text released, EOS text never shown
  EXPECT_EQ(c.generated(), 2);
  EXPECT_EQ(c.update(7, "x", out), StopReason::kEosToken);  // finished: input ignored
  EXPECT_EQ(c.generated(), 2);

  StopChecker other(p, eos);
  EXPECT_EQ(other.update(1, "", out), StopReason::kEosToken);
}

TEST(SamplingStopTest, CheckerCapsTokensAndPrefersEosAndStopsAtTheCap) {
  StopParams p;
  p.max_new_tokens = 3;
  p.stop = {"xy"};
  p.keep_stop_in_text = false;
  const std::vector<int32_t> eos = {2};
  {
    StopChecker c(p, eos);
    std::string out;
    EXPECT_EQ(c.update(9, "a", out), StopReason::kNone);
    EXPECT_EQ(c.update(9, "b", out), StopReason::kNone);
    EXPECT_EQ(c.update(9, "x", out), StopReason::kLength);
    EXPECT_EQ(out, "abx");
    EXPECT_EQ(c.generated(), 3);
  }
  {
    StopChecker c(p, eos);
    std::string out;
    c.update(9, "a", out);
    c.update(9, "b", out);
    EXPECT_EQ(c.update(2, "", out), StopReason::kEosToken);  // EOS as the last allowed token
  }
  {
    StopChecker c(p, eos);
    std::string out;
    c.update(9, "a", out);
    c.update(9, "x", out);
    EXPECT_EQ(c.update(9, "y", out), StopReason::kStopSequence);  // stop at the cap
    EXPECT_EQ(out, "a");
  }
}

TEST(SamplingStopTest, CheckerIgnoresEosWhenAskedAndHasNoCapAtZero) {
  StopParams p;
  p.ignore_eos = true;
  p.max_new_tokens = 0;
  const std::vector<int32_t> eos = {2};
  StopChecker c(p, eos);
  std::string out;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(c.update(2, "z", out), StopReason::kNone);
  EXPECT_EQ(out.size(), 1000u);
}

}  // namespace
}  // namespace kiln::sampling
