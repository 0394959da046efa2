// Added tokens (tokenizer.json "added_tokens", GGUF control and user-defined
// tokens): found in the text before the model runs, leftmost-longest, with the
// reference's single_word / lstrip / rstrip rules. Tokens with
// normalized=false are matched in the raw input; those with normalized=true in
// each normalized segment (their content normalized the same way).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::tokenizer {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct AddedMatch {
  uint32_t begin, end;  // in the searched text; end > begin
  int32_t id;
};

// A byte trie over the patterns; immutable after build, so concurrent reads
// are safe.
class AddedMatcher {
 public:
  // patterns[i] is the text to find for tokens[i] (the content, or its
  // normalized form).
  void build(const std::vector<const AddedToken*>& tokens,
             const std::vector<std::string>& patterns);
  bool empty() const { return tokens_.empty(); }
  // Appends the matches in `text`, left to right, after applying the flags.
  void find(std::string_view text, std::vector<AddedMatch>& out) const;

 private:
  struct Node {
    uint32_t edges_begin = 0, edges_end = 0;  // into edges_, sorted by byte
    int32_t token = -1;                       // index into tokens_ when a pattern ends here
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  int32_t child(uint32_t node, uint8_t byte) const;

  std::vector<const AddedToken*> tokens_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::array<bool, 256> first_byte_{};
};

}  // namespace kiln::tokenizer
