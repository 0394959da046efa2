#include "sampling/grammar/vocabulary.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

namespace kiln::sampling::grammar {

util::Result<std::shared_ptr<const Vocabulary>> Vocabulary::create(
    std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids) {
  constexpr size_t kMaxTokenBytes = 65535;  // TrieNode::depth is 16 bits
  const int32_t n = int32_t(token_bytes.size());
  for (int32_t id : eos_ids)
    if (id < 0 || id >= n)
      return util::make_error(fmt::format("eos id {} is outside the vocabulary of {}", id, n));
  for (int32_t id = 0; id < n; ++id)
    if (token_bytes[id].size() > kMaxTokenBytes)
      return util::make_error(fmt::format("token {} is longer than {} bytes", id, kMaxTokenBytes));

  std::shared_ptr<Vocabulary> v(new Vocabulary());
  v->tokens_ = std::move(token_bytes);
  std::sort(eos_ids.begin(), eos_ids.end());
  eos_ids.erase(std::unique(eos_ids.begin(), eos_ids.end()), eos_ids.end());
  v->eos_ids_ = std::move(eos_ids);

  // EOS and byte-less tokens never take part in the trie.
  std::vector<int32_t> ids;
  ids.reserve(n);
  for (int32_t id = 0; id < n; ++id)
    if (!v->tokens_[id].empty() && !std::binary_search(v->eos_ids_.begin(), v->eos_ids_.end(), id))
      ids.push_back(id);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t a, int32_t b) { return v->tokens_[a] < v->tokens_[b]; });

  // Preorder construction: sorted strings visit each prefix before its
  // extensions, so nodes are created in preorder and each token lands on
  // the node created last for its final byte.
  auto& nodes = v->nodes_;
  nodes.push_back({0, 0, 0, 0});
  std::vector<uint32_t> path{0};  // path[d] = node at depth d on the current branch
  const std::string* prev = nullptr;
  for (int32_t id : ids) {
    const std::string& t = v->tokens_[id];
    size_t common = 0;
    if (prev) {
      size_t limit = std::min(prev->size(), t.size());
      while (common < limit && (*prev)[common] == t[common]) ++common;
    }
    while (path.size() > common + 1) {
      nodes[path.back()].subtree_end = uint32_t(nodes.size());
      path.pop_back();
    }
    for (size_t d = common; d < t.size(); ++d) {
      nodes.push_back({0, uint32_t(v->trie_tokens_.size()), uint16_t(d + 1), uint8_t(t[d])});
      path.push_back(uint32_t(nodes.size() - 1));
    }
    v->trie_tokens_.push_back(id);
    prev = &t;
  }
  while (!path.empty()) {
    nodes[path.back()].subtree_end = uint32_t(nodes.size());
    path.pop_back();
  }
  nodes.push_back({uint32_t(nodes.size() + 1), uint32_t(v->trie_tokens_.size()), 0, 0});

  for (const auto& t : v->tokens_)
    v->max_token_bytes_ = std::max(v->max_token_bytes_, int32_t(t.size()));
  int32_t single_bytes = 0;  // children of the root where a token ends
  for (uint32_t i = 1; i < nodes[0].subtree_end; i = nodes[i].subtree_end)
    single_bytes += nodes[i + 1].tokens_begin > nodes[i].tokens_begin;
  v->has_every_byte_ = single_bytes == 256;
  v->rank_.assign(n, -1);
  for (size_t i = 0; i < v->trie_tokens_.size(); ++i) v->rank_[v->trie_tokens_[i]] = int32_t(i);
  return std::shared_ptr<const Vocabulary>(std::move(v));
}

}  // namespace kiln::sampling::grammar
