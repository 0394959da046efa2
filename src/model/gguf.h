// GGUF reader (format versions 2 and 3, little-endian): metadata key/values of
// every type, including nested arrays, and the tensor table with pointers into
// the memory-mapped file. Nothing is copied except small scalars; strings and
// tensor data are views into the mapping, which the GgufFile keeps alive.
//
// Every malformed input (truncation, bad magic/version, absurd counts or
// lengths, tensors past the end or overlapping, duplicate names, unknown type
// ids) gives a one-line error naming the file; the reader never allocates more
// than a small multiple of the file size.
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

#include "model/mapped_file.h"
#include "util/result.h"

namespace kiln::model::gguf {

// Value type ids as GGUF numbers them.
enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
std::string_view value_type_name(ValueType type);  // "u32", "string", "array", ...

// One metadata value. Accessors return nullopt when the value has another type.
class Value {
 public:
  ValueType type() const { return type_; }

  std::optional<int64_t> to_int() const;   // any integer type whose value fits int64
  std::optional<double> to_float() const;  // f32, f64, or any integer type
  std::optional<bool> to_bool() const;     // bool only
  std::optional<std::string_view> to_string() const;

  // Arrays (type() == kArray).
  ValueType element_type() const { return elem_type_; }
  size_t size() const { return count_; }                                // 0 for non-arrays
  Value at(size_t i) const;                                             // element i (i < size())
  std::optional<std::span<const std::string_view>> to_strings() const;  // string arrays
  std::optional<std::vector<float>> to_floats() const;                  // f32/f64/integer arrays
  std::optional<std::vector<int64_t>> to_ints() const;  // integer arrays (values fit int64)

 private:
  friend class Parser;
  ValueType type_ = ValueType::kU8;
  uint64_t bits_ = 0;     // scalars: the raw little-endian bits
  std::string_view str_;  // kString
  ValueType elem_type_ = ValueType::kU8;
  size_t count_ = 0;
  const std::byte* raw_ = nullptr;         // arrays of scalars: packed elements in the file
  std::vector<std::string_view> strings_;  // arrays of strings
  std::vector<Value> items_;               // arrays of arrays
};

// One entry of the tensor table.
struct TensorInfo {
  std::string name;
  uint32_t type = 0;        // GGML type id (backend::DType numbering)
  std::vector<int64_t> ne;  // GGUF order: ne[0] is the contiguous (row) dimension; 1..4 dims
  uint64_t offset = 0;      // from the start of the data section
  uint64_t n_bytes = 0;
  const std::byte* data = nullptr;  // into the mapping; aligned to general.alignment in the file

  int64_t n_elements() const;
};

class GgufFile {
 public:
  // Maps and parses a file. Errors start with the path.
  static util::Result<std::shared_ptr<const GgufFile>> open(const std::filesystem::path& path);
  // Parses bytes that the caller keeps alive (fuzzing, tests); `name` prefixes errors.
  static util::Result<std::shared_ptr<const GgufFile>> parse(std::span<const std::byte> bytes,
                                                             std::string name);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& name() const { return name_; }  // the path, for messages

  // Metadata in file order, and lookup by key (nullptr when absent).
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;

  // Typed getters. Error ("<file>: metadata key 'k' ...") when the key is absent
  // and no fallback was given, or when it holds another type.
  util::Result<std::string_view> get_string(std::string_view key) const;
  util::Result<std::string_view> get_string(std::string_view key, std::string_view fallback) const;
  util::Result<int64_t> get_int(std::string_view key) const;
  util::Result<int64_t> get_int(std::string_view key, int64_t fallback) const;
  util::Result<double> get_float(std::string_view key) const;
  util::Result<double> get_float(std::string_view key, double fallback) const;
  util::Result<bool> get_bool(std::string_view key) const;
  util::Result<bool> get_bool(std::string_view key, bool fallback) const;
  util::Result<std::span<const std::string_view>> get_strings(std::string_view key) const;
  util::Result<std::vector<float>> get_floats(std::string_view key) const;
  util::Result<std::vector<int64_t>> get_ints(std::string_view key) const;

  // Tensors in file order, and lookup by name (nullptr when absent).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

  // The mapping the tensor pointers point into (null for parse()).
  const std::shared_ptr<const MappedFile>& mapping() const { return mapping_; }

 private:
  friend class Parser;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
  std::shared_ptr<const MappedFile> mapping_;
};

}  // namespace kiln::model::gguf
