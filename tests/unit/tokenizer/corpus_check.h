// The corpus check shared by the tokenizer.json and GGUF tests: per document
// FNV-1a-64 hashes of ids, byte offsets and decode(ids), made from Python
// `tokenizers` by scripts/tokenizer_goldens.py.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kiln::tokenizer::test {

inline std::string fnv1a64(const void* data, size_t n) {
  uint64_t h = 0xCBF29CE484222325ULL;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Ids as little-endian uint32 (the platform is little-endian, as the script assumes).
inline std::string ids_hash(const std::vector<TokenId>& ids) {
  return fnv1a64(ids.data(), ids.size() * sizeof(TokenId));
}

inline std::string offsets_hash(const std::vector<TokenOffset>& offsets) {
  std::vector<uint32_t> flat;
  for (const auto& o : offsets) {
    flat.push_back(o.start);
    flat.push_back(o.stop);
  }
  return fnv1a64(flat.data(), flat.size() * sizeof(uint32_t));
}

inline const std::vector<std::string>& corpus() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> d;
    std::ifstream in(::kiln::test::data_dir() / "tokenizer" / "corpus" / "corpus.jsonl");
    std::string line;
    while (std::getline(in, line))
      d.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
    return d;
  }();
  return docs;
}

inline nlohmann::json goldens(const std::string& name) {
  std::ifstream in(::kiln::test::data_dir() / "tokenizer" / "corpus" / (name + ".goldens.json"));
  return nlohmann::json::parse(in);
}

// Compares `tok` with the goldens of `name` on every document.
inline void check_corpus(const Tokenizer& tok, const std::string& name,
                         bool check_offsets_and_decode) {
  const auto& docs = corpus();
  const auto g = goldens(name);
  ASSERT_EQ(docs.size(), g["documents"].get<size_t>());
  ASSERT_GT(docs.size(), 1000u);
  size_t bad_ids = 0, bad_offsets = 0, bad_decode = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    const bool add_special = i % 2 == 0;
    Encoding e;
    if (check_offsets_and_decode) {
      e = tok.encode_with_offsets(docs[i], add_special);
    } else {
      e.ids = tok.encode(docs[i], add_special);
    }
    if (ids_hash(e.ids) != g["ids_fnv"][i].get<std::string>()) {
      if (++bad_ids <= 5)
        ADD_FAILURE() << name << " doc " << i << ": ids differ (" << e.ids.size()
                      << " tokens, reference " << g["n_tokens"][i]
                      << "); see: scripts/tokenizer_goldens.py show " << name << " " << i;
      continue;
    }
    if (!check_offsets_and_decode) continue;
    if (offsets_hash(e.offsets) != g["offsets_fnv"][i].get<std::string>() && ++bad_offsets <= 5)
      ADD_FAILURE() << name << " doc " << i << ": offsets differ";
    const std::string text = tok.decode(e.ids, false);
    if (fnv1a64(text.data(), text.size()) != g["decode_fnv"][i].get<std::string>() &&
        ++bad_decode <= 5)
      ADD_FAILURE() << name << " doc " << i << ": decode differs";
  }
  EXPECT_EQ(bad_ids, 0u) << name << ": documents with wrong ids, of " << docs.size();
  EXPECT_EQ(bad_offsets, 0u) << name << ": documents with wrong offsets";
  EXPECT_EQ(bad_decode, 0u) << name << ": documents with a wrong decode";
  for (const auto& [doc, want] : g["samples"].items()) {
    const size_t i = std::stoul(doc);
    const auto ids = tok.encode(docs[i], i % 2 == 0);
    const auto ref = want.get<std::vector<TokenId>>();
    size_t k = 0;
    while (k < ids.size() && k < ref.size() && ids[k] == ref[k]) ++k;
    EXPECT_TRUE(k == ids.size() && k == ref.size())
        << name << " doc " << i << ": first difference at token " << k << " of " << ref.size();
  }
}

}  // namespace kiln::tokenizer::test
