// Where unit tests find their data. tests/data/ travels with the repository;
// ../shared (next to the checkout) holds goldens that must not be committed:
// tests that need it skip, saying why, when it is absent.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::test {

inline std::filesystem::path data_dir() { return KILN_TEST_DATA_DIR; }
inline std::filesystem::path shared_dir() { return KILN_SHARED_DIR; }
inline bool have_shared() { return std::filesystem::exists(shared_dir() / "data"); }

}  // namespace kiln::test

// Skips the current test when ../shared is missing, naming what is needed.
#define KILN_REQUIRE_SHARED(path)                                                   \
  do {                                                                              \
    if (!std::filesystem::exists(::kiln::test::shared_dir() / (path)))              \
      GTEST_SKIP() << "needs ../shared/" << (path)                                  \
                   << " (public-repository data that is never committed)";          \
  } while (0)
