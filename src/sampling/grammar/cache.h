// ConstraintCache: compiled constraints by (kind, text), least recently used
// first out. Thread-safe: api/ calls it from any I/O thread. Two requests
// with the same schema at once compile it once; failures are cached too (the
// same bad schema is refused without recompiling).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sampling/grammar/compile.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

class ConstraintCache {
 public:
  using Compiled = util::Result<std::shared_ptr<const Constraint>>;

  ConstraintCache(std::shared_ptr<const Vocabulary> vocab, size_t capacity = 64,
                  CompileOptions options = {});

  Compiled json_schema(std::string_view schema);
  Compiled regex(std::string_view pattern);
  Compiled json_object();

  size_t size() const;
  size_t hits() const;

 private:
  struct Entry;
  Compiled get(char kind, std::string_view text);

  std::shared_ptr<const Vocabulary> vocab_;
  size_t capacity_;
  CompileOptions options_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  size_t hits_ = 0;
};

}  // namespace kiln::sampling::grammar
