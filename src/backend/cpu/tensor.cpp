#include "backend/cpu/tensor.h"

#include <cstdlib>

namespace kiln::backend::cpu {

Tensor Tensor::view(DType dtype, std::initializer_list<int64_t> shape, const void* data,
                    std::shared_ptr<const void> keep_alive) {
  return view(dtype, shape.begin(), static_cast<int>(shape.size()), data, std::move(keep_alive));
}

Tensor Tensor::view(DType dtype, const int64_t* shape, int ndim, const void* data,
                    std::shared_ptr<const void> keep_alive) {
  if (ndim < 1 || ndim > kMaxDims) std::abort();  // callers pass shapes they validated
  Tensor t;
  t.dtype_ = dtype;
  t.ndim_ = ndim;
  for (int i = 0; i < ndim; ++i) t.shape_[i] = shape[i];
  t.strides_[ndim - 1] = traits(dtype).type_size;  // per block; see matrix()
  int64_t stride = row_bytes(dtype, shape[ndim - 1]);
  for (int i = ndim - 2; i >= 0; --i) {
    t.strides_[i] = stride;
    stride *= shape[i];
  }
  t.data_ = data;
  t.keep_alive_ = std::move(keep_alive);
  return t;
}

Tensor Tensor::owned(DType dtype, std::initializer_list<int64_t> shape) {
  int64_t bytes = row_bytes(dtype, *(shape.end() - 1));
  for (auto it = shape.begin(); it + 1 != shape.end(); ++it) bytes *= *it;
  auto buffer = std::shared_ptr<uint8_t[]>(new uint8_t[static_cast<size_t>(bytes)]());
  Tensor t = view(dtype, shape, buffer.get(), buffer);
  t.owned_ = true;
  return t;
}

int64_t Tensor::n_elements() const {
  int64_t n = ndim_ > 0 ? 1 : 0;
  for (int i = 0; i < ndim_; ++i) n *= shape_[i];
  return n;
}

int64_t Tensor::n_bytes() const {
  if (ndim_ == 0) return 0;
  return row_bytes(dtype_, shape_[ndim_ - 1]) * (n_elements() / shape_[ndim_ - 1]);
}

WeightMatrix Tensor::matrix() const {
  WeightMatrix w;
  w.dtype = dtype_;
  w.cols = shape_[ndim_ - 1];
  w.rows = ndim_ == 1 ? 1 : n_elements() / w.cols;
  w.data = data_;
  w.row_stride = ndim_ == 1 ? row_bytes(dtype_, w.cols) : strides_[ndim_ - 2];
  return w;
}

WeightMatrix Tensor::rows(int64_t begin, int64_t n) const {
  WeightMatrix w = matrix();
  w.data = static_cast<const uint8_t*>(w.data) + begin * w.row_stride;
  w.rows = n;
  return w;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < ndim_; ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

}  // namespace kiln::backend::cpu
