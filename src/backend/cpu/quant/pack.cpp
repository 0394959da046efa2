#include "backend/cpu/quant/pack.h"

#include <cstring>

namespace kiln::backend::quant {
namespace {

// Copies `unit` bytes; the switch lets the compiler emit single moves.
inline void copy_unit(uint8_t* dst, const uint8_t* src, int unit) {
  switch (unit) {
    case 1:
      *dst = *src;
      return;
    case 2:
      std::memcpy(dst, src, 2);
      return;
    case 4:
      std::memcpy(dst, src, 4);
      return;
    default:
      std::memcpy(dst, src, static_cast<size_t>(unit));
  }
}

}  // namespace

void pack_panel(const Format& f, const uint8_t* src, int64_t row_stride, int n_rows,
                int64_t n_blocks, uint8_t* dst) {
  const int64_t bb = f.block_bytes;
  if (n_rows < kPanelRows) std::memset(dst, 0, static_cast<size_t>(panel_bytes(f, n_blocks)));
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* out = dst + b * kPanelRows * bb;
    for (int s = 0; s < f.n_segments; ++s) {
      const Segment& seg = f.segments[s];
      uint8_t* seg_out = out + kPanelRows * seg.offset;
      for (int r = 0; r < n_rows; ++r) {
        const uint8_t* in = src + r * row_stride + b * bb + seg.offset;
        for (int u = 0; u < seg.bytes / seg.unit; ++u)
          copy_unit(seg_out + (u * kPanelRows + r) * seg.unit, in + u * seg.unit, seg.unit);
      }
    }
  }
}

void unpack_panel_row(const Format& f, const uint8_t* panel, int r, int64_t n_blocks,
                      uint8_t* dst) {
  const int64_t bb = f.block_bytes;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* in = panel + b * kPanelRows * bb;
    for (int s = 0; s < f.n_segments; ++s) {
      const Segment& seg = f.segments[s];
      for (int u = 0; u < seg.bytes / seg.unit; ++u)
        copy_unit(dst + b * bb + seg.offset + u * seg.unit,
                  in + kPanelRows * seg.offset + (u * kPanelRows + r) * seg.unit, seg.unit);
    }
  }
}

}  // namespace kiln::backend::quant
