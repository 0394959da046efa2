// The panel layout the SIMD kernels read. Rows are grouped by 16 ("panel");
// inside a panel, block b of all 16 rows is stored together, and each
// segment of the block (format.h: scales, quants, ...) is interleaved across
// the rows in units of `unit` bytes:
//
//   panel block b = for each segment s, for each unit u of s, for row r < 16:
//                   bytes [s.offset + u * s.unit, +s.unit) of row r's block b
//
// so a segment at byte o of the GGUF block starts at 16 * o in the panel
// block, a unit-4 quant segment gives one 64-byte vector per 4 bytes (lane r
// = row r), and a unit-2 half segment 32 bytes of 16 halves. A panel has
// exactly the bytes of its 16 rows, so packing can happen in place.
#pragma once

#include <cstdint>

#include "backend/cpu/quant/format.h"

namespace kiln::backend::quant {

// Bytes of one panel of rows with n_blocks blocks each.
inline int64_t panel_bytes(const Format& f, int64_t n_blocks) {
  return kPanelRows * n_blocks * f.block_bytes;
}

// Packs n_rows (<= 16) row-major rows (row_stride bytes apart) into one panel
// at dst; rows n_rows..15 are filled with zero bytes. dst must not overlap src.
void pack_panel(const Format& f, const uint8_t* src, int64_t row_stride, int n_rows,
                int64_t n_blocks, uint8_t* dst);

// Writes row r of a panel back in the GGUF layout (n_blocks blocks) to dst.
void unpack_panel_row(const Format& f, const uint8_t* panel, int r, int64_t n_blocks, uint8_t* dst);

}  // namespace kiln::backend::quant
