// The batch-invariance contract of matmul.h: a token's row of y depends only
// on W and that token, never on how many tokens share the call, where in the
// batch it sits, or how many threads run. Checked for every format, with
// n_tokens 1, 16 and 37 and pools of 1 and 2 threads: bit-identical rows.
#include <gtest/gtest.h>

#include <vector>

#include "backend/cpu/matmul.h"
#include "quant_test_util.h"

namespace kiln::backend {
namespace {

class MatmulInvariance : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulInvariance, RowsIndependentOfBatchAndThreads) {
  const DType t = GetParam();
  const int64_t rows = 80, cols = 512;
  const auto bytes = testing::random_weights(t, rows, cols, 31);
  const cpu::WeightMatrix plain = testing::weight_view(t, rows, cols, bytes);
  std::vector<uint8_t> packed_bytes(bytes.size());
  const cpu::WeightMatrix packed = cpu::pack_weights(plain, packed_bytes.data());
  const int64_t kMax = 37;
  const auto x = testing::random_acts(kMax, cols, 32);
  cpu::ThreadPool one(1), two(2);
  for (const auto* w : {&plain, &packed}) {
    // token t alone, one thread: the value every other way must reproduce
    std::vector<float> single(static_cast<size_t>(kMax * rows));
    for (int64_t tok = 0; tok < kMax; ++tok)
      cpu::matmul(*w, x.data() + tok * cols, cols, 1, single.data() + tok * rows, rows, one);
    for (int64_t n : {1, 16, 37}) {
      for (auto* pool : {&one, &two}) {
        // the batch is tokens [kMax - n, kMax): tokens change position
        std::vector<float> y(static_cast<size_t>(n * rows));
        const int64_t first = kMax - n;
        cpu::matmul(*w, x.data() + first * cols, cols, n, y.data(), rows, *pool);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_TRUE(testing::same_float(y[i * rows + r], single[(first + i) * rows + r]))
                << testing::type_name(t) << " n=" << n << " threads=" << pool->size() << " token "
                << first + i << " row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, MatmulInvariance, ::testing::ValuesIn(testing::matmul_types()),
                         [](const auto& info) { return testing::type_name(info.param); });

// matmul_many (one quantization per activation kind, one dispatch) gives
// every target exactly what matmul gives it alone: mixed formats and
// activation kinds (Q8_0, Q8_K, float), odd row counts, 1 and 2 threads.
TEST(MatmulMany, EqualsSeparateCalls) {
  const int64_t cols = 512;
  const std::vector<std::pair<DType, int64_t>> shapes = {{DType::kQ4_K, 48},
                                                         {DType::kQ6_K, 21},
                                                         {DType::kQ5_0, 64},
                                                         {DType::kF16, 5},
                                                         {DType::kQ8_0, 33}};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<cpu::WeightMatrix> ws;
  for (size_t i = 0; i < shapes.size(); ++i)
    bytes.push_back(testing::random_weights(shapes[i].first, shapes[i].second, cols,
                                            50 + static_cast<uint32_t>(i)));
  for (size_t i = 0; i < shapes.size(); ++i)
    ws.push_back(testing::weight_view(shapes[i].first, shapes[i].second, cols, bytes[i]));
  for (int threads : {1, 2}) {
    cpu::ThreadPool pool(threads);
    for (int64_t n : {1, 7}) {
      const auto x = testing::random_acts(n, cols, 60);
      std::vector<std::vector<float>> want, got;
      std::vector<cpu::MatmulTarget> targets;
      for (const auto& w : ws) {
        want.emplace_back(static_cast<size_t>(n * w.rows));
        got.emplace_back(static_cast<size_t>(n * w.rows), -1.0f);
        cpu::matmul(w, x.data(), cols, n, want.back().data(), w.rows, pool);
      }
      for (size_t i = 0; i < ws.size(); ++i) targets.push_back({&ws[i], got[i].data(), ws[i].rows});
      cpu::matmul_many(targets, x.data(), cols, n, pool);
      for (size_t i = 0; i < ws.size(); ++i)
        for (size_t j = 0; j < want[i].size(); ++j)
          ASSERT_TRUE(testing::same_float(got[i][j], want[i][j]))
              << testing::type_name(ws[i].dtype) << " n=" << n << " threads=" << threads
              << " element " << j;
    }
  }
}

// Strided x and y (ldx > cols, ldy > rows) leave the gaps untouched.
TEST(MatmulStrides, HonoursLdxAndLdy) {
  const int64_t rows = 20, cols = 256, n = 3, ldx = 300, ldy = 29;
  const auto bytes = testing::random_weights(DType::kQ4_K, rows, cols, 41);
  const cpu::WeightMatrix w = testing::weight_view(DType::kQ4_K, rows, cols, bytes);
  const auto dense = testing::random_acts(n, cols, 42);
  std::vector<float> x(static_cast<size_t>(n * ldx), 7.0f);
  for (int64_t t = 0; t < n; ++t)
    std::copy(dense.begin() + t * cols, dense.begin() + (t + 1) * cols, x.begin() + t * ldx);
  std::vector<float> want(static_cast<size_t>(n * rows)), y(static_cast<size_t>(n * ldy), -3.0f);
  cpu::matmul_reference(w, dense.data(), cols, n, want.data(), rows);
  cpu::ThreadPool pool(2);
  cpu::matmul(w, x.data(), ldx, n, y.data(), ldy, pool);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(y[t * ldy + r], want[t * rows + r]);
    for (int64_t r = rows; r < ldy && t * ldy + r < n * ldy; ++r) EXPECT_EQ(y[t * ldy + r], -3.0f);
  }
}

}  // namespace
}  // namespace kiln::backend
