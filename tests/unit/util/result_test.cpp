#include "util/result.h"

#include <gtest/gtest.h>

namespace kiln::util {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return make_error(std::string("not a digit: ") + c);
  return c - '0';
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = parse_digit('7');
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 7);
  auto bad = parse_digit('x');
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "not a digit: x");
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status e = make_error("boom");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.message(), "boom");
}

}  // namespace
}  // namespace kiln::util
