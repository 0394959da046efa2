// backend::dtype_traits against the `gguf` Python package's GGML_QUANT_SIZES
// (tests/data/models/ggml_quant_sizes.json, scripts/make_model_expectations.py):
// the GGUF reader sizes and bounds-checks every tensor with this table.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "backend/cpu/dtype.h"
#include "test_paths.h"

namespace kiln::backend {
namespace {

TEST(DtypeTable, MatchesGgufPyQuantSizes) {
  std::ifstream in(test::data_dir() / "models/ggml_quant_sizes.json");
  const auto j = nlohmann::json::parse(in);
  int compared = 0;
  for (const auto& [id_text, want] : j["sizes"].items()) {
    const auto id = static_cast<uint32_t>(std::stoul(id_text));
    const auto have = dtype_traits(id);
    if (!have) continue;  // ids newer than our table (reported, parse fails clearly)
    SCOPED_TRACE(want["name"].get<std::string>());
    EXPECT_EQ(have->name, want["name"].get<std::string>());
    EXPECT_EQ(have->block_size, want["block_size"].get<int64_t>());
    // Q8_1 is ggml's activation format for Q4_1/Q5_1 dot products and is never
    // stored in files. ggml's block_q8_1 is {half d, half s, int8 qs[32]} = 36
    // bytes; gguf-py still lists 40 (the old float d, float s layout). Kiln
    // follows ggml.
    if (id == static_cast<uint32_t>(DType::kQ8_1)) {
      EXPECT_EQ(want["type_size"].get<int64_t>(), 40);
      EXPECT_EQ(have->type_size, 36);
    } else {
      EXPECT_EQ(have->type_size, want["type_size"].get<int64_t>());
    }
    ++compared;
  }
  EXPECT_GE(compared, 32);  // every id of the table as committed
}

TEST(DtypeTable, UnknownIdsAreNullopt) {
  EXPECT_FALSE(dtype_traits(4));  // Q4_2, removed from ggml
  EXPECT_FALSE(dtype_traits(1000));
}

}  // namespace
}  // namespace kiln::backend
