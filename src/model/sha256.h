// SHA-256 (FIPS 180-4), for checking downloaded files against the Hub's LFS
// etags, which are the hex SHA-256 of the content.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::model {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> finish();
  static std::string hex(const std::array<uint8_t, 32>& digest);

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Hex SHA-256 of a file's contents (nullopt when it cannot be read).
std::optional<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace kiln::model
