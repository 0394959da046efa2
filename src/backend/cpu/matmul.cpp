// The matmul driver: quantizes the activations once per token, splits the
// weight rows over the pool in whole 16-row panels (so no two threads write
// the same 64-byte line of a y row, when y rows are 64-byte aligned), and
// runs the panel kernels of the active instruction set (quant/format.h).
#include "backend/cpu/matmul.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/cpu/quant/act.h"
#include "backend/cpu/quant/format.h"
#include "backend/cpu/quant/pack.h"

namespace kiln::backend::cpu {
namespace {

using quant::ActKind;
using quant::ActLayout;
using quant::Format;
using quant::kPanelRows;

// Grow-only 64-byte aligned scratch, one per thread that needs it.
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  uint8_t* get(int64_t bytes) {
    if (bytes > size_) {
      std::free(data_);
      size_ = (bytes + 63) & ~int64_t{63};
      data_ = static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>(size_)));
      if (data_ == nullptr) std::abort();  // out of memory
    }
    return data_;
  }

 private:
  uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

// One activation buffer per quantized kind (matmul_many may need both).
Scratch& act_scratch(ActKind kind) {
  thread_local Scratch s[3];
  return s[static_cast<int>(kind)];
}
Scratch& panel_scratch() {
  thread_local Scratch s;
  return s;
}

const Format& format_of(DType dtype) {
  const Format* f = quant::find_format(dtype);
  if (f == nullptr) std::abort();  // callers check matmul_supports() first
  return *f;
}

int64_t n_blocks(const Format& f, int64_t cols) { return cols / f.block_size; }

// Row r in the GGUF layout, whatever w's layout (buf: row_bytes scratch).
const uint8_t* row_bytes_of(const WeightMatrix& w, const Format& f, int64_t r, uint8_t* buf) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t nb = n_blocks(f, w.cols);
  if (w.layout == WeightLayout::kPanels) {
    const int64_t full = w.rows / kPanelRows;
    const int64_t pb = quant::panel_bytes(f, nb);
    if (r < full * kPanelRows) {
      quant::unpack_panel_row(f, base + r / kPanelRows * pb, static_cast<int>(r % kPanelRows), nb,
                              buf);
      return buf;
    }
    return base + full * pb + (r - full * kPanelRows) * nb * f.block_bytes;
  }
  return base + r * w.row_stride;
}

struct Acts {
  quant::ActTile tile;
  ActKind kind = ActKind::kF32;
};

// Quantizes x for f (in parallel for many tokens); float activations are used as given.
Acts prepare_acts(const Format& f, const float* x, int64_t ldx, int64_t n, int64_t cols,
                  quant::QuantizeActFn quantize, ThreadPool* pool) {
  Acts a;
  a.kind = f.act;
  a.tile.f = x;
  a.tile.ldf = ldx;
  if (f.act == ActKind::kF32) return a;
  a.tile.layout = quant::act_layout(f.act, cols);
  uint8_t* buf = act_scratch(f.act).get(n * a.tile.layout.stride);
  a.tile.base = buf;
  const ActLayout l = a.tile.layout;
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize(f.act, x + t * ldx, cols, buf + t * l.stride, l);
  };
  if (pool != nullptr && n >= 8 && pool->size() > 1) {
    pool->parallel_for(n, run);
  } else {
    run(0, n);
  }
  return a;
}

quant::ActRow act_row(const Acts& a, int64_t t) {
  if (a.kind == ActKind::kF32) {
    quant::ActRow r;
    r.f = a.tile.f + t * a.tile.ldf;
    return r;
  }
  return quant::act_row(a.kind, a.tile.base + t * a.tile.layout.stride, a.tile.layout);
}

// Rows [r0, r1) with the scalar dot products.
void scalar_rows(const WeightMatrix& w, const Format& f, const Acts& a, int64_t n, float* y,
                 int64_t ldy, int64_t r0, int64_t r1) {
  uint8_t* buf = panel_scratch().get(n_blocks(f, w.cols) * f.block_bytes);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = row_bytes_of(w, f, r, buf);
    for (int64_t t = 0; t < n; ++t) y[t * ldy + r] = f.dot(row, act_row(a, t), w.cols);
  }
}

// Panels [p0, p1) with the SIMD kernels.
void simd_panels(const WeightMatrix& w, const Format& f, const quant::SimdKernels& k, const Acts& a,
                 int64_t n, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t nb = n_blocks(f, w.cols);
  const int64_t pb = quant::panel_bytes(f, nb);
  const int64_t full = w.rows / kPanelRows;
  const int tail = static_cast<int>(w.rows % kPanelRows);
  const quant::PanelKernel kernel = n == 1 ? k.gemv : k.gemm;
  const int nt = static_cast<int>(n);
  const auto* base = static_cast<const uint8_t*>(w.data);
  if (w.layout == WeightLayout::kPanels) {
    const int64_t end = std::min(p1, full);
    if (p0 < end)
      kernel(base + p0 * pb, pb, static_cast<int>(end - p0), nb, a.tile, nt, y + kPanelRows * p0,
             ldy, kPanelRows);
    if (p1 > full) {  // the tail rows, stored row-major after the panels
      uint8_t* scratch = panel_scratch().get(pb);
      quant::pack_panel(f, base + full * pb, nb * f.block_bytes, tail, nb, scratch);
      kernel(scratch, pb, 1, nb, a.tile, nt, y + kPanelRows * full, ldy, tail);
    }
    return;
  }
  // Row-major weights: repack a few panels at a time into scratch (L2-sized).
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(4, (256 << 10) / pb));
  uint8_t* scratch = panel_scratch().get(chunk * pb);
  for (int64_t p = p0; p < p1; p += chunk) {
    const int64_t c = std::min(chunk, p1 - p);
    int valid = kPanelRows;
    for (int64_t i = 0; i < c; ++i) {
      const int64_t r = (p + i) * kPanelRows;
      valid = static_cast<int>(std::min<int64_t>(kPanelRows, w.rows - r));
      quant::pack_panel(f, base + r * w.row_stride, w.row_stride, valid, nb, scratch + i * pb);
    }
    kernel(scratch, pb, static_cast<int>(c), nb, a.tile, nt, y + kPanelRows * p, ldy, valid);
  }
}

// After a copying pack the source rows are dead weight in the resident set:
// GGUF weights are a file mapping, so a loaded model would hold every matrix
// twice (the mapped pages and the packed copy: 235 MiB extra for Gemma 3
// 270M). MADV_PAGEOUT reclaims the whole pages inside [p, p + bytes); it is
// only a hint and never loses data (clean file pages are re-read on the next
// touch, e.g. a tied embedding's looked-up rows; anonymous pages without swap
// simply stay), so it is safe whatever owns the source.
void page_out(const void* p, int64_t bytes) {
#ifdef MADV_PAGEOUT
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(bytes)) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace

bool matmul_supports(DType dtype) { return quant::find_format(dtype) != nullptr; }

int64_t packed_weight_bytes(const WeightMatrix& w) { return w.rows * row_bytes(w.dtype, w.cols); }

WeightMatrix pack_weights(const WeightMatrix& w, void* dst, ThreadPool* pool) {
  const Format& f = format_of(w.dtype);
  const int64_t nb = n_blocks(f, w.cols);
  const int64_t rb = nb * f.block_bytes;
  const int64_t pb = quant::panel_bytes(f, nb);
  const int64_t full = w.rows / kPanelRows;
  const auto* src = static_cast<const uint8_t*>(w.data);
  auto* out = static_cast<uint8_t*>(dst);
  const bool in_place = src == out;
  auto pack_range = [&](int64_t p0, int64_t p1) {
    uint8_t* tmp = in_place ? panel_scratch().get(pb) : nullptr;
    for (int64_t p = p0; p < p1; ++p) {
      uint8_t* target = out + p * pb;
      quant::pack_panel(f, src + p * kPanelRows * w.row_stride, w.row_stride, kPanelRows, nb,
                        in_place ? tmp : target);
      if (in_place) std::memcpy(target, tmp, static_cast<size_t>(pb));
    }
  };
  if (pool != nullptr) {
    pool->parallel_for(full, pack_range);
  } else {
    pack_range(0, full);
  }
  // Tail rows stay row-major (tightly packed) after the panels.
  for (int64_t r = full * kPanelRows; r < w.rows; ++r)
    std::memmove(out + full * pb + (r - full * kPanelRows) * rb, src + r * w.row_stride,
                 static_cast<size_t>(rb));
  if (!in_place) page_out(src, w.rows * w.row_stride);
  WeightMatrix packed = w;
  packed.data = dst;
  packed.row_stride = rb;
  packed.layout = WeightLayout::kPanels;
  return packed;
}

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const Format& f = format_of(w.dtype);
  std::vector<uint8_t> buf(static_cast<size_t>(n_blocks(f, w.cols) * f.block_bytes));
  f.dequantize(row_bytes_of(w, f, r, buf.data()), out, w.cols);
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens,
                      float* y, int64_t ldy) {
  const Format& f = format_of(w.dtype);
  const Acts a = prepare_acts(f, x, ldx, n_tokens, w.cols, &quant::quantize_act_ref, nullptr);
  scalar_rows(w, f, a, n_tokens, y, ldy, 0, w.rows);
}

void matmul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool) {
  const MatmulTarget target{&w, y, ldy};
  matmul_many({&target, 1}, x, ldx, n_tokens, pool);
}

void matmul_many(std::span<const MatmulTarget> targets, const float* x, int64_t ldx,
                 int64_t n_tokens, ThreadPool& pool) {
  if (n_tokens <= 0 || targets.empty()) return;
  const int64_t cols = targets[0].w->cols;
  const quant::KernelIsa isa = quant::active_kernel_isa();
  // Quantize x once per activation kind.
  Acts acts[3];
  bool ready[3] = {false, false, false};
  for (const auto& t : targets) {
    if (t.w->cols != cols) std::abort();  // callers pass products of the same x
    const Format& f = format_of(t.w->dtype);
    const int k = static_cast<int>(f.act);
    if (!ready[k]) {
      acts[k] = prepare_acts(f, x, ldx, n_tokens, cols, quant::act_quantizer(isa), &pool);
      ready[k] = true;
    }
  }
  auto acts_of = [&](const Format& f) -> const Acts& { return acts[static_cast<int>(f.act)]; };

  // Work units: 16-row panels grouped as the kernels prefer (scalar: rows),
  // weighted by their bytes; each thread takes a contiguous run of the
  // concatenated units with an equal share of the bytes. The split depends
  // only on the shapes and the pool size.
  struct Piece {
    int64_t target, units, unit_rows, unit_cost;
  };
  std::vector<Piece> pieces;
  int64_t total = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const WeightMatrix& w = *targets[i].w;
    if (w.rows <= 0) continue;
    const quant::SimdKernels* k = quant::simd_kernels(w.dtype, isa);
    const int64_t unit_rows = k == nullptr ? 1 : kPanelRows * k->gemm_panels;
    const int64_t units = (w.rows + unit_rows - 1) / unit_rows;
    const int64_t cost = unit_rows * row_bytes(w.dtype, w.cols);
    pieces.push_back({static_cast<int64_t>(i), units, unit_rows, cost});
    total += units * cost;
  }
  pool.run([&](int index, int count) {
    const int64_t lo = total * index / count, hi = total * (index + 1) / count;
    int64_t at = 0;  // cost before the current piece
    for (const Piece& pc : pieces) {
      const int64_t end = at + pc.units * pc.unit_cost;
      // units whose first byte falls in [lo, hi)
      const int64_t u0 =
          std::clamp<int64_t>((lo - at + pc.unit_cost - 1) / pc.unit_cost, 0, pc.units);
      const int64_t u1 =
          std::clamp<int64_t>((hi - at + pc.unit_cost - 1) / pc.unit_cost, 0, pc.units);
      at = end;
      if (u0 >= u1) continue;
      const MatmulTarget& t = targets[static_cast<size_t>(pc.target)];
      const WeightMatrix& w = *t.w;
      const Format& f = format_of(w.dtype);
      const int64_t r0 = u0 * pc.unit_rows, r1 = std::min(w.rows, u1 * pc.unit_rows);
      const quant::SimdKernels* k = quant::simd_kernels(w.dtype, isa);
      if (k == nullptr) {
        scalar_rows(w, f, acts_of(f), n_tokens, t.y, t.ldy, r0, r1);
      } else {
        simd_panels(w, f, *k, acts_of(f), n_tokens, t.y, t.ldy, r0 / kPanelRows,
                    (r1 + kPanelRows - 1) / kPanelRows);
      }
    }
  });
}

}  // namespace kiln::backend::cpu
