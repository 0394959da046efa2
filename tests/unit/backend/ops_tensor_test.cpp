#include "backend/cpu/tensor.h"

#include <gtest/gtest.h>

#include <vector>

#include "backend/cpu/half.h"

namespace kiln::backend::cpu {
namespace {

TEST(TensorTest, ViewOfMappedDataIsAMatrixOfInnermostRows) {
  std::vector<uint16_t> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = f32_to_f16(static_cast<float>(i));
  auto owner = std::make_shared<int>(7);
  const Tensor t = Tensor::view(DType::kF16, {2, 3, 4}, data.data(), owner);
  EXPECT_EQ(owner.use_count(), 2);  // the view keeps its owner alive
  EXPECT_EQ(t.ndim(), 3);
  EXPECT_EQ(t.n_elements(), 24);
  EXPECT_EQ(t.n_bytes(), 48);
  EXPECT_EQ(t.stride(0), 24);
  EXPECT_EQ(t.stride(1), 8);
  EXPECT_EQ(t.shape_string(), "[2, 3, 4]");
  EXPECT_EQ(t.mutable_data(), nullptr);  // views are read-only
  EXPECT_EQ(t.f32(), nullptr);
  const WeightMatrix m = t.matrix();
  EXPECT_EQ(m.rows, 6);
  EXPECT_EQ(m.cols, 4);
  EXPECT_EQ(m.row_stride, 8);
  std::vector<float> row(4);
  dequantize_row(m, 5, row.data());
  EXPECT_EQ(row, (std::vector<float>{20, 21, 22, 23}));
  const WeightMatrix part = t.rows(2, 3);
  EXPECT_EQ(part.rows, 3);
  dequantize_row(part, 0, row.data());
  EXPECT_EQ(row[0], 8.0f);
}

TEST(TensorTest, OwnedBuffersAreZeroedAndWritable) {
  const Tensor t = Tensor::owned(DType::kF32, {3, 5});
  ASSERT_NE(t.mutable_data(), nullptr);
  EXPECT_EQ(t.n_bytes(), 60);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(t.f32()[i], 0.0f);
  static_cast<float*>(t.mutable_data())[14] = 2.5f;
  const Tensor copy = t;  // shares the buffer
  EXPECT_EQ(copy.f32()[14], 2.5f);
  // Quantized rows are whole blocks: Q8_0 is 34 bytes per 32 values.
  const Tensor q = Tensor::owned(DType::kQ8_0, {2, 64});
  EXPECT_EQ(q.n_bytes(), 2 * 2 * 34);
  EXPECT_EQ(q.matrix().row_stride, 68);
}

}  // namespace
}  // namespace kiln::backend::cpu
