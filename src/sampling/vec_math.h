// Row operations over logits, written with GCC/Clang vector extensions in
// blocks of kLanes floats, with kernels for SSE2, AVX2 and AVX-512. Every reduction keeps kLanes
// independent lanes and combines them in a fixed order, and every element goes through the same
// vector code (tails are padded), so results depend only on the input, never
// on the ISA the compiler targets: the same seed gives the same token on
// every machine. Internal to kiln_sampling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::sampling::detail {

inline constexpr size_t kLanes = 16;

// Instruction sets with their own kernels; the best one the CPU supports is
// picked at start-up. Results are identical on all of them (tests check).
enum class Isa { kBaseline, kAvx2, kAvx512 };
bool isa_supported(Isa isa);
// Pins the kernels to `isa` (or the best supported one if it is not
// supported). For tests and benchmarks; not thread-safe.
void set_isa(Isa isa);

// e^x for x <= 0 (what softmax needs after subtracting the max), within 2 ulp
// of the exact value; x < -87.3 (including -inf) gives 0, x > 0 gives 1, and
// NaN gives NaN here but counts as 0 inside sum_exp, so that one bad logit
// cannot poison a row.
float exp_nonpositive(float x);

// Largest value; -inf for n == 0 or an all-NaN row.
float max_value(const float* x, size_t n);

// Index of the first element equal to `value`, n if none.
size_t find_first(const float* x, size_t n, float value);

// Index of the first i >= from with x_i * scale - offset >= threshold, n if
// none (NaN never qualifies). Scans whole blocks with one test each, so
// sparse hits in a long row cost about one vector compare per kLanes values.
size_t find_at_least(const float* x, size_t n, size_t from, float scale, float offset,
                     float threshold);

// Writes every i with x_i * scale - offset >= threshold to `ids` (ascending;
// room for n) and returns how many.
size_t collect_at_least(const float* x, size_t n, float scale, float offset, float threshold,
                        int32_t* ids);

// sum_i exp((x_i - offset) * scale), in double; with `out` it also stores each
// term there (float).
double sum_exp(const float* x, size_t n, float offset, float scale, float* out = nullptr);

// First index j with w_0 + ... + w_j > target (the sum taken block by block in
// a fixed order); n if the total never exceeds target.
size_t find_cumulative(const float* w, size_t n, double target);

}  // namespace kiln::sampling::detail
