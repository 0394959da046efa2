// A typed n-dimensional array: a view over memory that someone else keeps
// alive (a memory-mapped model file) or a buffer it owns. Shape is listed
// outermost first (row-major, as numpy and safetensors write it; GGUF lists
// ne[0] first, the reverse). Rows are the innermost dimension; strides are in
// bytes so views can skip padding between rows.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "backend/cpu/dtype.h"
#include "backend/cpu/matmul.h"

namespace kiln::backend::cpu {

class Tensor {
 public:
  static constexpr int kMaxDims = 4;

  Tensor() = default;
  // A contiguous view of data (not owned; keep_alive, when given, is held
  // for as long as the view lives, e.g. the file mapping).
  static Tensor view(DType dtype, std::initializer_list<int64_t> shape, const void* data,
                     std::shared_ptr<const void> keep_alive = {});
  static Tensor view(DType dtype, const int64_t* shape, int ndim, const void* data,
                     std::shared_ptr<const void> keep_alive = {});
  // A zero-filled owned buffer. The innermost dimension must be a whole
  // number of blocks of dtype.
  static Tensor owned(DType dtype, std::initializer_list<int64_t> shape);

  bool empty() const { return data_ == nullptr; }
  DType dtype() const { return dtype_; }
  int ndim() const { return ndim_; }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t n_elements() const;
  // Bytes between consecutive indices of dim i (innermost: bytes per block).
  int64_t stride(int i) const { return strides_[i]; }
  int64_t n_bytes() const;  // of the data, for contiguous tensors
  const void* data() const { return data_; }
  void* mutable_data() const { return owned_ ? const_cast<void*>(data_) : nullptr; }
  const float* f32() const {
    return dtype_ == DType::kF32 ? static_cast<const float*>(data_) : nullptr;
  }

  // The tensor as a matrix of rows of the innermost dimension (outer
  // dimensions flattened into rows); requires ndim() >= 1.
  WeightMatrix matrix() const;
  // Rows [begin, begin + n) of matrix(), e.g. one part of a fused QKV weight.
  WeightMatrix rows(int64_t begin, int64_t n) const;

  std::string shape_string() const;  // e.g. "[512, 256]"

 private:
  DType dtype_ = DType::kF32;
  int ndim_ = 0;
  std::array<int64_t, kMaxDims> shape_{};
  std::array<int64_t, kMaxDims> strides_{};
  const void* data_ = nullptr;
  bool owned_ = false;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace kiln::backend::cpu
