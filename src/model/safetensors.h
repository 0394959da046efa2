// safetensors reader: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the tensor bytes (offsets relative to the end of the header). The file is
// memory-mapped; tensors point into it.
//
// Every dtype of the format is parsed and bounds-checked (including the ones
// Kiln cannot compute: those are refused when a model is loaded, not here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/cpu/dtype.h"
#include "model/mapped_file.h"
#include "util/result.h"

namespace kiln::model::safetensors {

struct TensorInfo {
  std::string name;
  std::string dtype;           // as written: "F32", "BF16", "F8_E4M3", ...
  std::vector<int64_t> shape;  // outermost first; {} for a scalar
  uint64_t begin = 0;          // data_offsets, relative to the data section
  uint64_t n_bytes = 0;
  const std::byte* data = nullptr;
};

// Bytes per element of a safetensors dtype name (nullopt: unknown name).
std::optional<int> dtype_size(std::string_view dtype);
// The backend type of a safetensors dtype, for the ones Kiln computes or can
// pass to the backend (F32, F16, BF16, F64, I8..I64); nullopt for the rest.
std::optional<backend::DType> to_backend_dtype(std::string_view dtype);

class SafetensorsFile {
 public:
  static util::Result<std::shared_ptr<const SafetensorsFile>> open(
      const std::filesystem::path& path);
  // Parses bytes the caller keeps alive (fuzzing, tests); `name` prefixes errors.
  static util::Result<std::shared_ptr<const SafetensorsFile>> parse(
      std::span<const std::byte> bytes, std::string name);

  const std::string& name() const { return name_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
  const TensorInfo* find_tensor(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::shared_ptr<const MappedFile>& mapping() const { return mapping_; }

 private:
  friend util::Status parse_into(std::span<const std::byte>, SafetensorsFile&);
  std::string name_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<const MappedFile> mapping_;
};

}  // namespace kiln::model::safetensors
