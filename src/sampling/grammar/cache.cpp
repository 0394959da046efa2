#include "sampling/grammar/cache.h"

#include <condition_variable>

namespace kiln::sampling::grammar {

// One cache slot; `done` turns true once `result` is set by the compiling
// thread, and other threads asking for the same key wait for it.
struct ConstraintCache::Entry {
  std::list<std::string>::iterator lru;
  bool done = false;
  std::condition_variable cv;
  Compiled result = util::make_error("not compiled yet");
};

ConstraintCache::ConstraintCache(std::shared_ptr<const Vocabulary> vocab, size_t capacity,
                                 CompileOptions options)
    : vocab_(std::move(vocab)),
      capacity_(std::max<size_t>(capacity, 1)),
      options_(std::move(options)) {}

ConstraintCache::Compiled ConstraintCache::json_schema(std::string_view schema) {
  return get('j', schema);
}
ConstraintCache::Compiled ConstraintCache::regex(std::string_view pattern) {
  return get('r', pattern);
}
ConstraintCache::Compiled ConstraintCache::json_object() { return get('o', ""); }

size_t ConstraintCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t ConstraintCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

ConstraintCache::Compiled ConstraintCache::get(char kind, std::string_view text) {
  std::string key;
  key.reserve(text.size() + 1);
  key.push_back(kind);
  key.append(text);
  std::shared_ptr<Entry> entry;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      entry = it->second;
      ++hits_;
      lru_.splice(lru_.begin(), lru_, entry->lru);
      entry->cv.wait(lock, [&] { return entry->done; });
      return entry->result;
    }
    entry = std::make_shared<Entry>();
    lru_.push_front(key);
    entry->lru = lru_.begin();
    entries_.emplace(key, entry);
    while (entries_.size() > capacity_) {  // evict the least recently used finished entry
      auto victim = std::prev(lru_.end());
      auto v = entries_.find(*victim);
      if (!v->second->done) break;
      entries_.erase(v);
      lru_.erase(victim);
    }
  }
  Compiled result = kind == 'j'   ? compile_json_schema(text, vocab_, options_)
                    : kind == 'r' ? compile_regex(text, vocab_, options_)
                                  : compile_json_object(vocab_, options_);
  {
    std::lock_guard lock(mu_);
    entry->result = result;
    entry->done = true;
  }
  entry->cv.notify_all();
  return result;
}

}  // namespace kiln::sampling::grammar
