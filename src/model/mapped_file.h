// A read-only memory mapping of a whole file. Model weights are never copied:
// tensors point into a MappedFile, and whatever holds those pointers also holds
// a shared_ptr to the mapping so the bytes outlive every reader.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "util/result.h"

namespace kiln::model {

class MappedFile {
 public:
  // Maps `path` read-only (MAP_PRIVATE). An empty file gives an empty span.
  static util::Result<std::shared_ptr<const MappedFile>> open(const std::filesystem::path& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace kiln::model
