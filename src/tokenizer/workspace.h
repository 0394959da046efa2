// Scratch state of one encode call. The text being tokenized lives in one
// append-only buffer; splitting only produces new (begin, end) pieces over it,
// and only transformations (normalizers, prefix spaces, the metaspace) append
// new text. When offsets are wanted, `align` keeps for every buffer byte the
// byte range of the input character it came from, which is what Hugging Face
// reports (a token holding part of a character gets the whole character).
// One Workspace per thread is reused between calls, so the hot path does not
// allocate once the vectors have grown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::tokenizer {

struct Range {
  uint32_t begin = 0, end = 0;
};

struct Piece {
  uint32_t begin = 0, end = 0;  // into Workspace::buf
  int32_t added_id = -1;        // >= 0: an added token, already final
  bool at_start = false;        // begins at input offset 0 (Metaspace "first")
};

// A string with the input range of each of its bytes (when tracked).
struct NormStr {
  std::string text;
  std::vector<Range> align;
  void clear() {
    text.clear();
    align.clear();
  }
};

// One split segment of a piece: [begin, end) relative to the piece.
struct Segment {
  uint32_t begin, end;
  bool is_match;
};

struct Workspace {
  bool track = false;
  std::string buf;
  std::vector<Range> align;
  std::vector<Piece> pieces, next;
  std::vector<Segment> segments, merged;
  NormStr norm_a, norm_b;

  void reset(bool track_offsets) {
    track = track_offsets;
    buf.clear();
    align.clear();
    pieces.clear();
    next.clear();
  }
  std::string_view text(const Piece& p) const { return {buf.data() + p.begin, p.end - p.begin}; }
  // Appends text + its alignment; returns the new piece's begin offset.
  uint32_t append(std::string_view s, const Range* a) {
    const auto at = static_cast<uint32_t>(buf.size());
    buf.append(s);
    if (track) align.insert(align.end(), a, a + s.size());
    return at;
  }
};

}  // namespace kiln::tokenizer
