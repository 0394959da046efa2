#include "tokenizer/bpe.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

namespace {

constexpr size_t kMaxCachedWord = 256;
constexpr size_t kCacheShards = 32;
constexpr size_t kCacheShardCapacity = 4096;
// Words of up to this many symbols merge by rescanning a small array; longer
// ones (a whole SentencePiece paragraph is one word) use a heap.
constexpr size_t kSmallWord = 64;
constexpr uint32_t kNoRank = std::numeric_limits<uint32_t>::max();

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
};

}  // namespace

struct BpeModel::Cache {
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<TokenPiece>, StringViewHash, std::equal_to<>> map;
  };
  std::array<Shard, kCacheShards> shards;
  Shard& shard_for(std::string_view word) {
    return shards[XXH3_64bits(word.data(), word.size()) % kCacheShards];
  }
};

BpeModel::~BpeModel() = default;

bool BpeModel::key_of(std::string_view token, std::string& raw) const {
  raw.clear();
  if (!options_.byte_level) {
    raw.assign(token);
    return true;
  }
  for (size_t i = 0; i < token.size();) {
    char32_t cp;
    const int len = unicode::valid_sequence_length(token, i);
    if (len == 0) return false;
    unicode::decode(token.data() + i, &cp);
    const int b = unicode::char_to_byte(cp);
    if (b < 0) return false;
    raw.push_back(char(b));
    i += size_t(len);
  }
  return true;
}

int32_t BpeModel::token_to_id(std::string_view token) const {
  if (!options_.byte_level) {
    const int32_t id = vocab_.find(token);
    return is_placeholder(id) ? -1 : id;
  }
  thread_local std::string key;
  return key_of(token, key) ? vocab_.find(key) : other_tokens_.find(token);
}

util::Result<std::unique_ptr<BpeModel>> BpeModel::create_vocab(
    std::vector<std::pair<std::string, int32_t>> vocab, BpeOptions options) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->options_ = std::move(options);
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    if (id < 0)
      return util::make_error("vocabulary token '" + token + "' has negative id " +
                              std::to_string(id));
    max_id = std::max(max_id, id);
  }
  // Ids index dense arrays: refuse absurd ids instead of allocating for them.
  if (size_t(max_id) > vocab.size() * 4 + 1024)
    return util::make_error("vocabulary ids are too sparse: max id " + std::to_string(max_id) +
                            " for " + std::to_string(vocab.size()) + " tokens");
  m->vocab_count_ = vocab.size();
  m->id_to_token_.resize(size_t(max_id + 1));
  m->present_.assign(size_t(max_id + 1), false);
  m->vocab_.reserve(vocab.size());
  std::string key;
  for (auto& [token, id] : vocab) {
    if (m->key_of(token, key)) {
      m->vocab_.insert_or_assign(key, id);
    } else {
      m->other_tokens_.insert_or_assign(token, id);
    }
    m->present_[size_t(id)] = true;
    m->id_to_token_[size_t(id)] = std::move(token);
  }
  m->byte_id_.fill(-1);
  m->fallback_id_.fill(-1);
  if (m->options_.byte_level) {
    for (int b = 0; b < 256; ++b)
      m->byte_id_[size_t(b)] =
          m->vocab_.find(std::string_view(reinterpret_cast<const char*>(&b), 1));
  }
  if (m->options_.byte_fallback) {
    m->full_byte_fallback_ = true;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      m->fallback_id_[size_t(b)] = m->vocab_.find(name);
      if (m->fallback_id_[size_t(b)] < 0) m->full_byte_fallback_ = false;
    }
  }
  if (m->options_.unk_token) m->unk_id_ = m->token_to_id(*m->options_.unk_token);
  m->placeholder_end_ = int32_t(m->present_.size());
  for (const auto& [text, id] : m->options_.placeholders) {
    if (id < m->placeholder_end_ || m->vocab_.find(text) >= 0)
      return util::make_error("placeholder '" + text + "' clashes with the vocabulary");
    m->vocab_.insert_or_assign(text, id);
    m->placeholder_end_ = id + 1;
  }

  m->cache_ = std::make_unique<Cache>();
  return m;
}

util::Result<std::unique_ptr<BpeModel>> BpeModel::create(
    std::vector<std::pair<std::string, int32_t>> vocab,
    const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options) {
  auto created = create_vocab(std::move(vocab), std::move(options));
  if (!created.ok()) return created.error();
  std::unique_ptr<BpeModel> m = std::move(created.value());
  const size_t prefix_len = m->options_.continuing_subword_prefix.size();
  m->merges_.reserve(merges.size());
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& a = merges[rank].first;
    const std::string& b = merges[rank].second;
    const int32_t ida = m->token_to_id(a);
    const int32_t idb = m->token_to_id(b);
    auto merge_error = [&](const std::string& token) {
      return util::make_error("merge #" + std::to_string(rank) + " '" + a + " " + b +
                              "' uses token '" + token + "' that is not in the vocabulary");
    };
    if (ida < 0) return merge_error(a);
    if (idb < 0) return merge_error(b);
    merged.assign(a);
    merged.append(b.size() >= prefix_len &&
                          b.compare(0, prefix_len, m->options_.continuing_subword_prefix) == 0
                      ? std::string_view(b).substr(prefix_len)
                      : std::string_view(b));
    const int32_t idm = m->token_to_id(merged);
    if (idm < 0) return merge_error(merged);
    m->merges_.insert_or_assign(ida, idb, PairMap::Merge{uint32_t(rank), idm});
  }
  return m;
}

util::Result<std::unique_ptr<BpeModel>> BpeModel::create(
    std::vector<std::pair<std::string, int32_t>> vocab, const std::vector<MergeIds>& merges,
    BpeOptions options) {
  auto created = create_vocab(std::move(vocab), std::move(options));
  if (!created.ok()) return created.error();
  std::unique_ptr<BpeModel> m = std::move(created.value());
  m->merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const MergeIds& g = merges[rank];
    auto known = [&](int32_t id) { return m->has_id(id) || m->is_placeholder(id); };
    if (!known(g.left) || !known(g.right) || !m->has_id(g.merged))
      return util::make_error("merge #" + std::to_string(rank) +
                              " uses an id that is not in the vocabulary");
    m->merges_.insert_or_assign(g.left, g.right, PairMap::Merge{uint32_t(rank), g.merged});
  }
  return m;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& syms) const {
  syms.clear();
  // A pending <unk> (fused runs of unknown characters when fuse_unk).
  int32_t unk_len = -1;
  auto flush_unk = [&] {
    if (unk_len >= 0) syms.push_back({unk_id_, uint32_t(unk_len)});
    unk_len = -1;
  };
  auto unknown = [&](std::string_view bytes, uint32_t len) {
    if (options_.byte_fallback && full_byte_fallback_) {
      // As the reference does, byte tokens do not flush a pending <unk>.
      for (unsigned char c : bytes) syms.push_back({fallback_id_[c], 1});
      return;
    }
    if (unk_id_ < 0) return;  // no <unk>: the character is dropped
    if (unk_len >= 0 && options_.fuse_unk) {
      unk_len += int32_t(len);
    } else {
      flush_unk();
      unk_len = int32_t(len);
    }
  };
  if (options_.byte_level) {
    for (unsigned char c : word) {
      const int32_t id = byte_id_[c];
      if (id >= 0) {
        flush_unk();
        syms.push_back({id, 1});
      } else {
        unknown(std::string_view(reinterpret_cast<const char*>(&c), 1), 1);
      }
    }
    flush_unk();
    return;
  }
  const bool affixes =
      !options_.continuing_subword_prefix.empty() || !options_.end_of_word_suffix.empty();
  std::string scratch;
  for (size_t i = 0; i < word.size();) {
    const int len = unicode::sequence_length(static_cast<unsigned char>(word[i]));
    const std::string_view ch = word.substr(i, size_t(len));
    int32_t id;
    if (!affixes) {
      id = vocab_.find(ch);
    } else {
      scratch.clear();
      if (i > 0) scratch += options_.continuing_subword_prefix;
      scratch += ch;
      if (i + size_t(len) >= word.size()) scratch += options_.end_of_word_suffix;
      id = vocab_.find(scratch);
    }
    if (id >= 0) {
      flush_unk();
      syms.push_back({id, uint32_t(len)});
    } else {
      unknown(ch, uint32_t(len));
    }
    i += size_t(len);
  }
  flush_unk();
}

void BpeModel::merge_small(std::vector<Symbol>& syms) const {
  thread_local std::vector<PairMap::Merge> pair;
  if (syms.size() < 2) return;
  pair.resize(syms.size() - 1);
  auto lookup = [&](size_t i) {
    const PairMap::Merge* m = merges_.find(syms[i].id, syms[i + 1].id);
    pair[i] = m ? *m : PairMap::Merge{kNoRank, -1};
  };
  for (size_t i = 0; i + 1 < syms.size(); ++i) lookup(i);
  while (syms.size() > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < syms.size(); ++i)
      if (pair[i].rank < pair[best].rank) best = i;
    if (pair[best].rank == kNoRank) break;
    syms[best] = {pair[best].id, syms[best].len + syms[best + 1].len};
    syms.erase(syms.begin() + std::ptrdiff_t(best) + 1);
    pair.erase(pair.begin() + std::ptrdiff_t(best));
    if (best + 1 < syms.size()) lookup(best);
    if (best > 0) lookup(best - 1);
  }
}

void BpeModel::merge_large(std::vector<Symbol>& syms) const {
  struct Node {
    int32_t id;
    uint32_t len;
    int32_t prev, next;
  };
  struct Entry {
    uint32_t rank;
    uint32_t pos;
    int32_t new_id;
  };
  // Min-heap on (rank, position): the lowest rank, leftmost first.
  auto later = [](const Entry& a, const Entry& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  thread_local std::vector<Node> nodes;
  thread_local std::vector<Entry> heap;
  const size_t n = syms.size();
  nodes.resize(n);
  for (size_t i = 0; i < n; ++i)
    nodes[i] = {syms[i].id, syms[i].len, int32_t(i) - 1, i + 1 < n ? int32_t(i + 1) : -1};
  heap.clear();
  auto push = [&](int32_t pos) {
    const Node& l = nodes[size_t(pos)];
    if (l.next < 0) return;
    if (const PairMap::Merge* m = merges_.find(l.id, nodes[size_t(l.next)].id)) {
      heap.push_back({m->rank, uint32_t(pos), m->id});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) push(int32_t(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Entry top = heap.back();
    heap.pop_back();
    Node& left = nodes[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    Node& right = nodes[size_t(left.next)];
    const PairMap::Merge* m = merges_.find(left.id, right.id);
    if (!m || m->id != top.new_id) continue;  // stale entry
    left.id = top.new_id;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) nodes[size_t(left.next)].prev = int32_t(top.pos);
    if (left.prev >= 0) push(left.prev);
    push(int32_t(top.pos));
  }
  syms.clear();
  for (int32_t i = 0; i >= 0; i = nodes[size_t(i)].next)
    syms.push_back({nodes[size_t(i)].id, nodes[size_t(i)].len});
}

void BpeModel::emit(std::string_view word, const std::vector<Symbol>& syms,
                    std::vector<TokenPiece>& out) const {
  const size_t start = out.size();
  size_t offset = 0;
  for (const Symbol& s : syms) {
    if (!is_placeholder(s.id)) {
      out.push_back({s.id, s.len});
    } else if (options_.byte_fallback && full_byte_fallback_) {
      for (size_t i = offset; i < offset + s.len; ++i)
        out.push_back({fallback_id_[static_cast<unsigned char>(word[i])], 1});
    } else if (unk_id_ >= 0) {
      if (options_.fuse_unk && out.size() > start && out.back().id == unk_id_) {
        out.back().len += s.len;
      } else {
        out.push_back({unk_id_, s.len});
      }
    }
    offset += s.len;
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<TokenPiece>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const int32_t id = vocab_.find(word);
    if (id >= 0 && !is_placeholder(id)) {
      out.push_back({id, uint32_t(word.size())});
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWord;
  if (cacheable) {
    Cache::Shard& shard = cache_->shard_for(word);
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.map.find(word);
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  thread_local std::vector<Symbol> syms;
  initial_symbols(word, syms);
  if (syms.size() <= kSmallWord) {
    merge_small(syms);
  } else {
    merge_large(syms);
  }
  const size_t first = out.size();
  emit(word, syms, out);
  if (cacheable) {
    Cache::Shard& shard = cache_->shard_for(word);
    std::lock_guard<std::mutex> lock(shard.mutex);
    if (shard.map.size() >= kCacheShardCapacity) shard.map.clear();
    shard.map.emplace(std::string(word),
                      std::vector<TokenPiece>(out.begin() + std::ptrdiff_t(first), out.end()));
  }
}

}  // namespace kiln::tokenizer
