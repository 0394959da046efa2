// Dequantization of every format against independent references: the `gguf`
// Python package's dequantize on random blocks with edge values
// (scripts/make_quant_testdata.py -> tests/data/backend/quant/), and ggml's
// own to_float of the tiny-llama attn_k tensors (llama.cpp kernel goldens,
// copied to tests/data/backend/kernels/). Both must match bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "backend/cpu/matmul.h"
#include "backend/cpu/quant/blocks.h"
#include "backend/cpu/quant/format.h"
#include "backend/cpu/quant/pack.h"
#include "quant_test_util.h"
#include "test_paths.h"

namespace kiln::backend {
namespace {

std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << p;
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<float> read_floats(const std::filesystem::path& p) {
  const auto bytes = read_bytes(p);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

class DequantVsGguf : public ::testing::TestWithParam<DType> {};

TEST_P(DequantVsGguf, MatchesGgufPackageBitForBit) {
  const DType t = GetParam();
  const auto dir = test::data_dir() / "backend" / "quant";
  const auto name = testing::type_name(t);
  const auto blocks = read_bytes(dir / (name + ".blocks"));
  const auto expect = read_floats(dir / (name + ".f32"));
  ASSERT_FALSE(expect.empty());
  const quant::Format& f = *quant::find_format(t);
  const int64_t n = static_cast<int64_t>(expect.size());
  ASSERT_EQ(static_cast<int64_t>(blocks.size()), n / f.block_size * f.block_bytes);
  std::vector<float> got(expect.size());
  f.dequantize(blocks.data(), got.data(), n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_TRUE(testing::same_float(got[i], expect[i]))
        << name << " element " << i << ": " << got[i] << " vs gguf " << expect[i];
}

INSTANTIATE_TEST_SUITE_P(Formats, DequantVsGguf,
                         ::testing::Values(DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                                           DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ2_K,
                                           DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K),
                         [](const auto& info) { return testing::type_name(info.param); });

struct GoldenType {
  const char* dir;
  DType dtype;
};

class DequantVsGgml : public ::testing::TestWithParam<GoldenType> {};

// Through the public dequantize_row, in both weight layouts.
TEST_P(DequantVsGgml, AttnKMatchesGgmlToFloat) {
  const auto dir = test::data_dir() / "backend" / "kernels" / GetParam().dir;
  const auto bytes = read_bytes(dir / "attn_k.weight");
  const auto expect = read_floats(dir / "attn_k_dequant.bin");
  ASSERT_EQ(expect.size(), 64u * 256u);
  const cpu::WeightMatrix w = testing::weight_view(GetParam().dtype, 64, 256, bytes);
  ASSERT_EQ(static_cast<int64_t>(bytes.size()), cpu::packed_weight_bytes(w));
  std::vector<uint8_t> packed_bytes(bytes.size());
  const cpu::WeightMatrix packed = cpu::pack_weights(w, packed_bytes.data());
  std::vector<float> row(256);
  for (const auto& m : {w, packed}) {
    for (int64_t r = 0; r < 64; ++r) {
      cpu::dequantize_row(m, r, row.data());
      for (int k = 0; k < 256; ++k)
        ASSERT_TRUE(testing::same_float(row[static_cast<size_t>(k)], expect[r * 256 + k]))
            << GetParam().dir << " row " << r << " col " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Goldens, DequantVsGgml,
    ::testing::Values(GoldenType{"f32", DType::kF32}, GoldenType{"f16", DType::kF16},
                      GoldenType{"bf16", DType::kBF16}, GoldenType{"q8_0", DType::kQ8_0},
                      GoldenType{"q4_0", DType::kQ4_0}, GoldenType{"q4_K", DType::kQ4_K},
                      GoldenType{"q5_K", DType::kQ5_K}, GoldenType{"q6_K", DType::kQ6_K}),
    [](const auto& info) { return std::string(info.param.dir); });

TEST(QuantFormatTable, AgreesWithDtypeTraits) {
  for (DType t : testing::matmul_types()) {
    const quant::Format* f = quant::find_format(t);
    ASSERT_NE(f, nullptr) << testing::type_name(t);
    EXPECT_EQ(f->block_size, traits(t).block_size) << testing::type_name(t);
    EXPECT_EQ(f->block_bytes, traits(t).type_size) << testing::type_name(t);
    // segments are in order and cover the block
    int at = 0;
    for (int s = 0; s < f->n_segments; ++s) {
      EXPECT_EQ(f->segments[s].offset, at) << testing::type_name(t);
      EXPECT_EQ(f->segments[s].bytes % f->segments[s].unit, 0) << testing::type_name(t);
      at += f->segments[s].bytes;
    }
    EXPECT_EQ(at, f->block_bytes) << testing::type_name(t);
    EXPECT_TRUE(cpu::matmul_supports(t));
  }
  EXPECT_EQ(quant::find_format(DType::kIQ2_XXS), nullptr);
  EXPECT_FALSE(cpu::matmul_supports(DType::kQ8_K));
  EXPECT_EQ(quant::find_dequant_format(DType::kQ8_K)->block_bytes,
            static_cast<int>(sizeof(quant::BlockQ8_K)));
}

TEST(QuantPack, PanelRoundTripsEveryRow) {
  for (DType t : testing::matmul_types()) {
    const quant::Format& f = *quant::find_format(t);
    const int64_t cols = 512, nb = cols / f.block_size, rb = nb * f.block_bytes;
    for (int rows : {16, 5}) {
      const auto w = testing::random_weights(t, rows, cols, 7);
      std::vector<uint8_t> panel(static_cast<size_t>(quant::panel_bytes(f, nb)));
      quant::pack_panel(f, w.data(), rb, rows, nb, panel.data());
      std::vector<uint8_t> row(static_cast<size_t>(rb));
      for (int r = 0; r < 16; ++r) {
        quant::unpack_panel_row(f, panel.data(), r, nb, row.data());
        if (r < rows) {
          EXPECT_EQ(0, std::memcmp(row.data(), w.data() + r * rb, static_cast<size_t>(rb)))
              << testing::type_name(t) << " row " << r;
        } else {
          for (uint8_t b : row) ASSERT_EQ(b, 0) << testing::type_name(t) << " padding row " << r;
        }
      }
    }
  }
}

TEST(QuantPack, InPlaceEqualsOutOfPlace) {
  for (DType t : {DType::kQ4_K, DType::kQ8_0, DType::kF16}) {
    const int64_t rows = 40, cols = 256;
    auto w = testing::random_weights(t, rows, cols, 11);
    const cpu::WeightMatrix view = testing::weight_view(t, rows, cols, w);
    std::vector<uint8_t> out(w.size());
    cpu::pack_weights(view, out.data());
    cpu::ThreadPool pool(2);
    const cpu::WeightMatrix in_place = cpu::pack_weights(view, w.data(), &pool);
    EXPECT_EQ(in_place.layout, cpu::WeightLayout::kPanels);
    EXPECT_EQ(w, out) << testing::type_name(t);
  }
}

}  // namespace
}  // namespace kiln::backend
