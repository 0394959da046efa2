// The shared goldens: Python jinja2 in transformers' environment over 46 real
// chat templates (cases.jsonl) and 130 single-feature templates
// (features.jsonl). Every case must match byte for byte; expected errors must
// fail, raise_exception ones with exactly Python's message.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "test_paths.h"

namespace kiln::chat::test {
namespace {

constexpr const char* kTemplates = "data/chat-templates/templates";

TEST(ChatGolden, SharedCasesMatchByteForByte) {
  KILN_REQUIRE_SHARED(kTemplates);
  auto cases = read_jsonl(kiln::test::data_dir() / "chat" / "cases.jsonl");
  ASSERT_EQ(cases.size(), 1986u);
  std::map<std::string, std::string> sources;
  int passed = 0, shown = 0;
  for (const Json& c : cases) {
    std::string name = c["template"].get<std::string>();
    if (!sources.count(name))
      sources[name] = read_file(kiln::test::shared_dir() / kTemplates / name);
    CaseResult r = run_case(c, sources[name]);
    if (r.ok) {
      ++passed;
    } else if (shown++ < 15) {
      ADD_FAILURE() << c["id"].get<std::string>() << "\n--- want ---\n"
                    << (c.contains("expected") ? c["expected"].get<std::string>()
                                               : c["expected_error"].get<std::string>())
                    << "\n--- got ---\n"
                    << r.got;
    }
  }
  EXPECT_EQ(passed, static_cast<int>(cases.size()));
}

TEST(ChatGolden, SharedFeaturesMatchByteForByte) {
  auto features = read_jsonl(kiln::test::data_dir() / "chat" / "features.jsonl");
  ASSERT_EQ(features.size(), 130u);
  int passed = 0;
  for (const Json& f : features) {
    std::string got;
    bool errored = false;
    auto tmpl = jinja::Template::compile(f["template"].get<std::string>());
    if (!tmpl) {
      errored = true;
      got = tmpl.error().describe();
    } else {
      jinja::Context ctx;
      for (auto it = f["context"].begin(); it != f["context"].end(); ++it)
        ctx.set(it.key(), to_value(it.value()));
      ctx.set_now(golden_now());
      auto out = tmpl.value()->render(ctx);
      errored = !out;
      got = out ? out.value() : out.error().describe();
    }
    bool ok;
    if (f.contains("expected")) {
      ok = !errored && got == f["expected"].get<std::string>();
    } else {
      std::string want = f["expected_error"].get<std::string>();
      ok = errored && (want.rfind("TemplateError: ", 0) != 0 || got == want);
    }
    if (ok)
      ++passed;
    else
      ADD_FAILURE() << f["id"].get<std::string>() << "\n--- want ---\n"
                    << (f.contains("expected") ? f["expected"].get<std::string>()
                                               : f["expected_error"].get<std::string>())
                    << "\n--- got ---\n"
                    << got;
  }
  EXPECT_EQ(passed, static_cast<int>(features.size()));
}

}  // namespace
}  // namespace kiln::chat::test
