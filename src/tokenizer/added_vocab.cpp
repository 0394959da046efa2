#include "tokenizer/added_vocab.h"

#include <algorithm>
#include <map>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

void AddedMatcher::build(const std::vector<const AddedToken*>& tokens,
                         const std::vector<std::string>& patterns) {
  tokens_ = tokens;
  // Build with ordered maps, then flatten into sorted edge arrays.
  std::vector<std::map<uint8_t, uint32_t>> children(1);
  std::vector<int32_t> terminal(1, -1);
  first_byte_.fill(false);
  for (size_t t = 0; t < patterns.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    first_byte_[static_cast<uint8_t>(p[0])] = true;
    uint32_t node = 0;
    for (unsigned char c : p) {
      auto it = children[node].find(c);
      if (it == children[node].end()) {
        const auto next = uint32_t(children.size());
        children[node].emplace(c, next);
        children.emplace_back();
        terminal.push_back(-1);
        node = next;
      } else {
        node = it->second;
      }
    }
    // Two tokens with the same text: the first one listed wins.
    if (terminal[node] < 0) terminal[node] = int32_t(t);
  }
  nodes_.assign(children.size(), Node{});
  edges_.clear();
  for (size_t n = 0; n < children.size(); ++n) {
    nodes_[n].edges_begin = uint32_t(edges_.size());
    for (const auto& [byte, child] : children[n]) edges_.push_back({byte, child});
    nodes_[n].edges_end = uint32_t(edges_.size());
    nodes_[n].token = terminal[n];
  }
}

int32_t AddedMatcher::child(uint32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  auto first = edges_.begin() + n.edges_begin, last = edges_.begin() + n.edges_end;
  auto it =
      std::lower_bound(first, last, byte, [](const Edge& e, uint8_t b) { return e.byte < b; });
  return it != last && it->byte == byte ? int32_t(it->child) : -1;
}

namespace {

// Last / first character of a string (valid UTF-8).
char32_t last_char(std::string_view s) {
  size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  char32_t cp;
  unicode::decode(s.data() + k, &cp);
  return cp;
}
char32_t first_char(std::string_view s) {
  char32_t cp;
  unicode::decode(s.data(), &cp);
  return cp;
}
bool is_word_char(char32_t c) { return c == '_' || unicode::is_alphanumeric(c); }

}  // namespace

void AddedMatcher::find(std::string_view text, std::vector<AddedMatch>& out) const {
  if (tokens_.empty()) return;
  size_t last_stop = 0;  // the reference's start_offset: end of the previous match
  size_t i = 0;
  while (i < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) {
      ++i;
      continue;
    }
    // Longest pattern starting at i.
    int32_t best = -1;
    size_t best_end = 0;
    uint32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      const int32_t c = child(node, static_cast<uint8_t>(text[j]));
      if (c < 0) break;
      node = uint32_t(c);
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = j + 1;
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const AddedToken& tok = *tokens_[size_t(best)];
    size_t start = i, stop = best_end;
    // The search resumes after the raw match whether or not it is kept.
    i = best_end;
    if (tok.single_word) {
      const bool start_ok = start == 0 || !is_word_char(last_char(text.substr(0, start)));
      const bool stop_ok = stop == text.size() || !is_word_char(first_char(text.substr(stop)));
      if (!start_ok || !stop_ok) continue;
    }
    if (tok.lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t k = s - 1;
        while (k > 0 && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
        char32_t cp;
        unicode::decode(text.data() + k, &cp);
        if (!unicode::is_whitespace(cp)) break;
        s = k;
      }
      start = std::max(s, last_stop);
    }
    if (tok.rstrip) {
      while (stop < text.size()) {
        char32_t cp;
        const int len = unicode::decode(text.data() + stop, &cp);
        if (!unicode::is_whitespace(cp)) break;
        stop += size_t(len);
      }
    }
    out.push_back({uint32_t(start), uint32_t(stop), tok.id});
    last_stop = stop;
    // rstrip may have consumed past the raw match; never overlap it.
    i = std::max(i, stop);
  }
}

}  // namespace kiln::tokenizer
