// The larger corpus (tests/data/tokenizer/corpus/, ~4.8 MB across languages,
// code and emoji) against Python `tokenizers`: per document, FNV-1a-64 hashes
// of the ids, of the byte offsets and of decode(ids) made by
// scripts/tokenizer_goldens.py. A single wrong id changes the hash of its
// document; the full ids of a sample of documents locate the first difference.
#include <gtest/gtest.h>

#include "corpus_check.h"
#include "tokenizer_fixtures.h"

namespace kiln::tokenizer {
namespace {

class CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, MatchesReference) {
  const std::string name = GetParam();
  KILN_REFERENCE_TOKENIZER(tok, name);
  test::check_corpus(*tok, name, /*check_offsets_and_decode=*/true);
}

INSTANTIATE_TEST_SUITE_P(Reference, CorpusTest, ::testing::ValuesIn(test::kReferenceNames),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kiln::tokenizer
