// Vocabulary: the bytes of every token id, prepared once per model for the
// constraint engine.
//
// Tokenizer-agnostic: the engine passes the decoded bytes of each token
// (byte-level BPE: the token's bytes; SentencePiece: the piece with U+2581
// turned into a space and <0xXX> byte tokens turned into that byte) and the
// EOS ids. Tokens with no bytes (special/control tokens) are never allowed by
// a constraint; EOS ids are allowed exactly when the constrained text is
// complete.
//
// The tokens are kept as a byte trie in preorder (a token's prefixes come
// before it, duplicates are adjacent), so one pass over an array visits every
// token and a subtree can be skipped by jumping to its end. Immutable after
// create(), shared by every compiled constraint of the model (thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace kiln::sampling::grammar {

struct TrieNode {
  uint32_t subtree_end;   // index of the first node after this node's subtree
  uint32_t tokens_begin;  // first index into trie_tokens() of tokens ending here
  uint16_t depth;         // bytes from the root (root: 0)
  uint8_t byte;           // the byte on the edge into this node
  uint8_t unused = 0;
};

class Vocabulary {
 public:
  // token_bytes[id] = decoded bytes of token id ("" for special tokens).
  // Fails on an EOS id out of range or a token longer than 65535 bytes.
  static util::Result<std::shared_ptr<const Vocabulary>> create(
      std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids);

  int32_t size() const { return int32_t(tokens_.size()); }
  const std::string& token(int32_t id) const { return tokens_[id]; }
  std::span<const int32_t> eos_ids() const { return eos_ids_; }
  // Bytes of the longest token.
  int32_t max_token_bytes() const { return max_token_bytes_; }
  // Every byte is a token by itself (byte-level BPE, byte fallback). Without
  // that, a constraint can reach a point that no token continues; the engine
  // should log a warning for such vocabularies.
  bool has_every_byte() const { return has_every_byte_; }

  // Trie in preorder: node 0 is the root; node i's tokens are
  // trie_tokens()[nodes[i].tokens_begin, nodes[i + 1].tokens_begin), and its
  // subtree's tokens run up to nodes[subtree_end].tokens_begin. A sentinel
  // node at the end makes both lookups valid for every real node.
  std::span<const TrieNode> trie() const { return {nodes_.data(), nodes_.size() - 1}; }
  const TrieNode& node(uint32_t i) const { return nodes_[i]; }
  std::span<const int32_t> trie_tokens() const { return trie_tokens_; }
  // Position of a token in trie_tokens() (-1 for tokens without bytes).
  int32_t trie_rank(int32_t id) const { return rank_[id]; }

 private:
  Vocabulary() = default;
  std::vector<std::string> tokens_;
  std::vector<int32_t> eos_ids_;
  std::vector<TrieNode> nodes_;
  std::vector<int32_t> trie_tokens_;
  std::vector<int32_t> rank_;
  int32_t max_token_bytes_ = 0;
  bool has_every_byte_ = false;
};

}  // namespace kiln::sampling::grammar
