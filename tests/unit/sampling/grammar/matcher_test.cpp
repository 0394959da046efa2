// The per-sequence matcher: masks equal the token-by-token byte check along
// random walks, EOS exactly at completion, termination, rollback and copies.
#include <random>

#include <gtest/gtest.h>

#include "test_vocab.h"

namespace kiln::sampling::grammar::test {
namespace {

std::shared_ptr<const Constraint> schema(const char* text) {
  auto c = compile_json_schema(text, small_vocab());
  EXPECT_TRUE(c.ok()) << text << ": " << c.message();
  return *c;
}

std::vector<int32_t> allowed_ids(ConstraintMatcher& m) {
  std::vector<uint64_t> mask(mask_words(m.constraint().vocab_size()));
  m.fill_mask(mask);
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < m.constraint().vocab_size(); ++id)
    if (mask_bit(mask, id)) ids.push_back(id);
  return ids;
}

// Walks by sampling uniformly among allowed tokens (EOS with probability
// eos_bias when allowed), checking the mask at every step. Returns the
// number of tokens until EOS, or -1 when max_steps ran out.
int random_walk(const std::shared_ptr<const Constraint>& c, uint32_t seed, int max_steps,
                double eos_bias, bool check_every_step, std::string* text = nullptr) {
  std::mt19937 rng(seed);
  ConstraintMatcher m(c);
  for (int step = 0; step < max_steps; ++step) {
    if (check_every_step) expect_mask_is_exact(m, "step " + std::to_string(step));
    auto ids = allowed_ids(m);
    if (ids.empty()) {
      ADD_FAILURE() << "no token allowed at step " << step;
      return -1;
    }
    int32_t pick = ids[rng() % ids.size()];
    if (m.can_end() && std::uniform_real_distribution<>(0, 1)(rng) < eos_bias) pick = kEos;
    EXPECT_TRUE(m.advance(pick));
    if (pick == kEos) {
      EXPECT_TRUE(m.finished());
      return step;
    }
    if (text) *text += c->vocabulary().token(pick);
  }
  return -1;
}

const char* kNested = R"({"type": "object", "properties": {
    "id": {"type": "integer", "minimum": -5, "maximum": 300},
    "name": {"type": "string", "maxLength": 12},
    "tags": {"type": "array", "items": {"enum": ["a", "b\"q", "é"]}, "maxItems": 3},
    "score": {"type": "number"},
    "ok": {"type": "boolean"},
    "when": {"type": "string", "format": "date"},
    "kind": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": "^[a-c]{1,3}$"}]},
    "meta": {"type": "object", "additionalProperties": {"type": "integer"}}},
  "required": ["id", "name"], "additionalProperties": false})";

TEST(Matcher, MaskIsExactOnRandomWalks) {
  const char* schemas[] = {
      kNested,
      R"({"type": "array", "items": {"type": "string"}})",
      R"({"$defs": {"n": {"type": "object", "properties": {"v": {"type": "integer"},
          "kids": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "required": ["v"]}},
          "$ref": "#/$defs/n"})",
      R"({})",
      R"({"type": "string", "minLength": 2, "maxLength": 6})",
      R"({"type": "number", "minimum": -1.25, "exclusiveMaximum": 40})",
  };
  for (const char* s : schemas) {
    auto c = schema(s);
    for (uint32_t seed = 1; seed <= 6; ++seed) random_walk(c, seed, 120, 0.5, true);
  }
  auto r = compile_regex(R"((ab|a)*c[0-9]{2,4}|x+)", small_vocab());
  ASSERT_TRUE(r.ok());
  for (uint32_t seed = 1; seed <= 10; ++seed) random_walk(*r, seed, 60, 0.3, true);
}

// Bounded schemas have finitely many texts, so every walk ends — with EOS
// the only choice at the end — and every walk's text is accepted.
TEST(Matcher, WalksOnBoundedSchemasTerminate) {
  const char* schemas[] = {
      R"({"type": "object", "properties": {"a": {"type": "string", "maxLength": 5},
          "b": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 99},
          "maxItems": 4}, "c": {"enum": [true, null, "x"]}}, "additionalProperties": false})",
      R"({"type": "string", "format": "date-time", "maxLength": 25})",
      R"({"type": "array", "prefixItems": [{"type": "boolean"}, {"const": {"k": [1, 2]}}], "items": false})",
  };
  for (const char* s : schemas) {
    auto c = schema(s);
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      std::string text;
      int steps = random_walk(c, seed, 2000, 0.0, seed <= 3, &text);
      EXPECT_GE(steps, 0) << s << " seed " << seed << ": no end after 2000 tokens";
      EXPECT_TRUE(accepts(c, text)) << text;
    }
  }
}

TEST(Matcher, EosOnlyWhenCompleteAndSpecialTokensNever) {
  auto c = schema(R"({"type": "integer"})");
  ConstraintMatcher m(c);
  EXPECT_FALSE(m.can_end());
  EXPECT_FALSE(m.allows(kEos));
  EXPECT_FALSE(m.allows(0));  // byte-less special token
  EXPECT_FALSE(m.advance(kEos));
  EXPECT_TRUE(m.advance_bytes("12"));
  EXPECT_TRUE(m.can_end());
  EXPECT_FALSE(m.must_end());  // more digits may follow
  EXPECT_TRUE(m.allows(kEos));
  EXPECT_FALSE(m.allows(0));
  EXPECT_FALSE(m.advance(0));
  EXPECT_TRUE(m.advance(kEos));
  EXPECT_TRUE(m.finished());
  EXPECT_FALSE(m.advance_bytes("3"));
  auto ids = allowed_ids(m);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], kEos);
}

TEST(Matcher, MustEndWhenNothingCanFollow) {
  auto c =
      schema(R"({"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]})");
  ConstraintMatcher m(c);
  ASSERT_TRUE(m.advance_bytes(R"({"a": true})"));
  EXPECT_TRUE(m.must_end());
  auto ids = allowed_ids(m);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], kEos);
}

TEST(Matcher, RejectedTokenLeavesStateUnchanged) {
  auto c = schema(R"({"type": "array", "items": {"type": "integer"}})");
  ConstraintMatcher m(c);
  ASSERT_TRUE(m.advance_bytes("[1"));
  auto before = allowed_ids(m);
  EXPECT_FALSE(m.advance_bytes("x"));
  EXPECT_FALSE(m.advance_bytes(",]"));  // a valid first byte, then a bad one
  EXPECT_EQ(allowed_ids(m), before);
  EXPECT_EQ(m.num_steps(), 1);
}

TEST(Matcher, RollbackRestoresEarlierMasks) {
  auto c = schema(kNested);
  auto vocab = small_vocab();
  const std::string text = R"({"id": 12, "name": "x\"y", "tags": ["a", "é"], "ok": false})";
  auto tokens = greedy_tokens(*vocab, text);
  ConstraintMatcher m(c);
  std::vector<std::vector<int32_t>> masks;
  for (int32_t id : tokens) {
    masks.push_back(allowed_ids(m));
    ASSERT_TRUE(m.advance(id));
  }
  EXPECT_TRUE(m.can_end());
  for (int back = 1; back <= int(tokens.size()); back += 3) {
    ConstraintMatcher r(m);
    r.rollback(back);
    EXPECT_EQ(r.num_steps(), int(tokens.size()) - back);
    EXPECT_EQ(allowed_ids(r), masks[tokens.size() - back]);
  }
  m.rollback(1000);
  EXPECT_EQ(m.num_steps(), 0);
  EXPECT_EQ(allowed_ids(m), masks[0]);
  m.reset();
  EXPECT_EQ(allowed_ids(m), masks[0]);
}

TEST(Matcher, CopiesAreIndependent) {
  auto c = schema(R"({"enum": ["ab", "ac"]})");
  ConstraintMatcher a(c);
  ASSERT_TRUE(a.advance_bytes("\"a"));
  ConstraintMatcher b(a);
  ASSERT_TRUE(b.advance_bytes("b\""));
  EXPECT_TRUE(b.can_end());
  EXPECT_FALSE(a.can_end());
  EXPECT_TRUE(a.advance_bytes("c\""));
  ConstraintMatcher moved(std::move(a));
  EXPECT_TRUE(moved.can_end());
  b = moved;
  EXPECT_TRUE(b.allows(kEos));
}

TEST(Matcher, AmbiguousBranchesAreTrackedTogether) {
  // Both branches start with the same bytes; the choice is made late.
  auto c = schema(R"({"anyOf": [
      {"type": "object", "properties": {"k": {"const": 1}, "a": {"type": "string"}}, "required": ["k", "a"]},
      {"type": "object", "properties": {"k": {"const": 1}, "b": {"type": "integer"}}, "required": ["k", "b"]}]})");
  EXPECT_TRUE(accepts(c, R"({"k": 1, "a": "s"})"));
  EXPECT_TRUE(accepts(c, R"({"k": 1, "b": 2})"));
  EXPECT_FALSE(accepts(c, R"({"k": 1, "a": 2})"));
  ConstraintMatcher m(c);
  ASSERT_TRUE(m.advance_bytes(R"({"k": 1, )"));
  expect_mask_is_exact(m, "after shared prefix");
}

TEST(Matcher, WhitespaceIsBounded) {
  auto c = schema(R"({"type": "array"})");
  ConstraintMatcher m(c);
  ASSERT_TRUE(m.advance_bytes("["));
  int spaces = 0;
  while (m.advance_bytes(" ")) ++spaces;
  EXPECT_EQ(spaces, 20);
  EXPECT_TRUE(m.advance_bytes("]"));
}

}  // namespace
}  // namespace kiln::sampling::grammar::test
