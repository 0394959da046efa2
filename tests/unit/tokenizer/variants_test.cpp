// Components the six reference files do not use (Metaspace, Whitespace,
// Digits, Punctuation, Split behaviours, more normalizers, added-token flags,
// RobertaProcessing, ...), each applied as a patch to the llama2 or llama3
// tokenizer.json, against Python `tokenizers` on the same patched file
// (tests/data/tokenizer/variants.jsonl, from scripts/tokenizer_goldens.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

using nlohmann::json;

std::vector<json> variants() {
  std::vector<json> v;
  std::ifstream in(::kiln::test::data_dir() / "tokenizer" / "variants.jsonl");
  std::string line;
  while (std::getline(in, line)) v.push_back(json::parse(line));
  return v;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Variants, MatchReference) {
  const auto all = variants();
  ASSERT_GE(all.size(), 10u);
  std::map<std::string, json> bases;
  int checked = 0;
  for (const auto& v : all) {
    const std::string name = v["name"], base = v["base"];
    const auto path = test::reference_json(base);
    if (!std::filesystem::exists(path)) {
      std::printf("skipping variant %s: %s is missing\n", name.c_str(), path.c_str());
      continue;
    }
    if (!bases.count(base)) bases[base] = json::parse(read(path));
    json d = bases[base];
    for (const auto& [key, value] : v["patch"].items()) {
      if (key == "added_tokens_extra") {
        int next = 0;
        for (const auto& [t, id] : d["model"]["vocab"].items())
          next = std::max(next, id.get<int>() + 1);
        for (const auto& a : d["added_tokens"]) next = std::max(next, a["id"].get<int>() + 1);
        for (auto a : value) {
          a["id"] = next++;
          d["added_tokens"].push_back(a);
        }
      } else {
        d[key] = value;
      }
    }
    auto tok = Tokenizer::from_json(d.dump(), {}, name);
    ASSERT_TRUE(tok.ok()) << tok.message();
    for (const auto& c : v["cases"]) {
      const std::string text = c["text"];
      const bool add = c["add_special_tokens"];
      const std::string label = name + " \"" + text + "\"" + (add ? " [+]" : " [-]");
      const auto e = tok->encode_with_offsets(text, add);
      EXPECT_EQ(e.ids, c["ids"].get<std::vector<TokenId>>()) << label;
      std::vector<std::pair<uint32_t, uint32_t>> offsets;
      for (const auto& o : e.offsets) offsets.emplace_back(o.start, o.stop);
      EXPECT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>()) << label;
      EXPECT_EQ(offsets, (c["offsets"].get<std::vector<std::pair<uint32_t, uint32_t>>>())) << label;
      const auto ids = c["ids"].get<std::vector<TokenId>>();
      EXPECT_EQ(tok->decode(ids, false), c["decoded"].get<std::string>()) << label;
      EXPECT_EQ(tok->decode(ids, true), c["decoded_skip"].get<std::string>()) << label;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no base tokenizer available: run scripts/fetch_tokenizers.sh";
}

}  // namespace
}  // namespace kiln::tokenizer
