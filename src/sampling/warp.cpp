#include "sampling/warp.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "sampling/vec_math.h"

namespace kiln::sampling::detail {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// A streaming top-k keeps at most this many values before pruning back to k,
// so most of a 262k-entry row is rejected by one comparison.
constexpr size_t kMinSelectBuffer = 4096;

// Above this many keys weighted_boundary() first narrows the range with a
// histogram of this many bins (two cheap passes instead of many swaps).
constexpr size_t kHistogramMin = 2048;
constexpr size_t kHistogramBins = 1024;

// Quickselect passes before falling back to sorting what is left: median of
// three never gets near this on logits; the bound only caps adversarial input.
constexpr int kMaxSelectPasses = 64;

// top_p on a whole row first finds a floor with a histogram of each token's
// distance below the maximum (scaled logits), in bins of 1/kNucleusBinsPerUnit:
// 2048 bins span the 87.3 units over which exp() is non-zero.
constexpr size_t kNucleusBins = 2048;
constexpr float kNucleusBinsPerUnit = 23.0f;

// The survivors of the stages so far, ascending ids, in the scratch buffers.
struct Candidates {
  int32_t* ids;
  float* values;
  size_t n;
};

template <typename Keep>
void compact(Candidates& c, Keep keep) {
  size_t w = 0;
  for (size_t j = 0; j < c.n; ++j) {
    if (!keep(j)) continue;
    c.ids[w] = c.ids[j];
    c.values[w] = c.values[j];
    ++w;
  }
  c.n = w;
}

// Keeps every candidate whose strictly larger candidates hold < p of `total`
// (total < 0: the candidates' own mass).
void top_p_stage(Candidates& c, float p, double total, WarpScratch& s) {
  const float m = max_value(c.values, c.n);
  const double own = sum_exp(c.values, c.n, m, 1.0f, s.weights.data());
  if (total < 0.0) total = own;
  for (size_t j = 0; j < c.n; ++j) {
    s.sel_keys[j] = -c.values[j];
    s.sel_weights[j] = s.weights[j];
  }
  const float b =
      weighted_boundary(std::span(s.sel_keys.data(), c.n), std::span(s.sel_weights.data(), c.n),
                        static_cast<double>(p) * total);
  const float threshold = -b;
  compact(c, [&](size_t j) { return c.values[j] >= threshold; });
}

// Locally typical sampling (Meister et al. 2022): keep the tokens whose
// surprisal is closest to the entropy H until they hold `mass`.
void typical_stage(Candidates& c, float mass, WarpScratch& s) {
  const float m = max_value(c.values, c.n);
  const double total = sum_exp(c.values, c.n, m, 1.0f, s.weights.data());
  const double log_total = std::log(total);
  double entropy = 0.0;
  for (size_t j = 0; j < c.n; ++j) {
    if (s.weights[j] == 0.0f) continue;  // p log p -> 0
    const double log_p = static_cast<double>(c.values[j] - m) - log_total;
    entropy -= (s.weights[j] / total) * log_p;
  }
  for (size_t j = 0; j < c.n; ++j) {
    const double surprisal = log_total - static_cast<double>(c.values[j] - m);
    s.keys[j] = static_cast<float>(std::fabs(surprisal - entropy));  // -inf value: +inf
    s.sel_keys[j] = s.keys[j];
    s.sel_weights[j] = s.weights[j];
  }
  const float b =
      weighted_boundary(std::span(s.sel_keys.data(), c.n), std::span(s.sel_weights.data(), c.n),
                        static_cast<double>(mass) * total);
  compact(c, [&](size_t j) { return s.keys[j] <= b; });
}

// p / p_max >= min_p, compared in log space; the most likely token always
// stays (min_p > 1 would otherwise remove everything).
float log_min_p(float min_p) { return std::min(0.0f, static_cast<float>(std::log(min_p))); }

void min_p_stage(Candidates& c, float min_p) {
  const float m = max_value(c.values, c.n);
  const float floor = log_min_p(min_p);
  compact(c, [&](size_t j) { return c.values[j] - m >= floor; });
}

// A floor f <= 0 such that every token top_p can keep has
// row * inv_t - scaled_max >= f, from a histogram of the `ids` tokens'
// distances below the maximum: walking it from the top, the first bins whose
// mass reaches `target` hold larger values than every later bin, so nothing
// beyond them is kept. One bin of margin absorbs the rounding between this
// walk and the exact stage that follows.
float nucleus_floor(std::span<const float> row, float row_max, float inv_t, const float* weights,
                    std::span<const int32_t> ids, double target) {
  std::array<double, kNucleusBins> mass{};
  for (int32_t id : ids) {
    const auto i = static_cast<size_t>(id);
    const float distance = (row_max - row[i]) * inv_t;  // weights[i] > 0: finite, >= 0
    mass[std::min(kNucleusBins - 1, static_cast<size_t>(distance * kNucleusBinsPerUnit))] +=
        weights[i];
  }
  double cumulative = 0.0;
  for (size_t b = 0; b < kNucleusBins; ++b) {
    cumulative += mass[b];
    if (cumulative >= target) return -static_cast<float>(b + 2) / kNucleusBinsPerUnit;
  }
  return -kInf;
}

}  // namespace

void WarpScratch::reserve(size_t n) {
  for (auto* v : {&values, &weights, &keys, &sel_keys, &sel_weights}) {
    if (v->size() < n) v->resize(n);
  }
  if (ids.size() < n) ids.resize(n);
}

float kth_largest(std::span<const float> x, size_t k, std::vector<float>& buf) {
  k = std::max<size_t>(k, 1);
  const size_t n = x.size();
  const size_t cap = std::min(n, std::max(2 * k, kMinSelectBuffer));
  if (buf.size() < cap) buf.resize(cap);
  size_t len = 0;
  // Once pruned, only values above the current k-th largest can change it;
  // `at_least` is the smallest float above it.
  float at_least = -std::numeric_limits<float>::max();
  bool pruned = false;
  for (size_t i = 0; i < n; ++i) {
    if (pruned) {
      i = find_at_least(x.data(), n, i, 1.0f, 0.0f, at_least);
      if (i == n) break;
    }
    const float v = x[i];
    if (v != v) continue;
    buf[len++] = v;
    if (len == cap && cap > k) {
      std::nth_element(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k - 1),
                       buf.begin() + static_cast<ptrdiff_t>(len), std::greater<float>());
      at_least = std::nextafter(buf[k - 1], kInf);
      len = k;
      pruned = true;
    }
  }
  if (len == 0) return -kInf;
  if (len < k) return *std::min_element(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(len));
  std::nth_element(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k - 1),
                   buf.begin() + static_cast<ptrdiff_t>(len), std::greater<float>());
  return buf[k - 1];
}

float weighted_boundary(std::span<float> keys, std::span<float> weights, double target) {
  size_t n = keys.size();
  double below = 0.0;  // mass of keys known to be below every key still in play
  // Large inputs: bucket the keys into equal-width bins between the smallest
  // and largest finite key (+inf keys in one extra bin), find the bin where
  // the running mass reaches the target, and keep only that bin's keys. Bin
  // numbers grow with the key, so every key in an earlier bin is strictly
  // smaller than every key in the chosen one: the answer is inside it.
  std::array<double, kHistogramBins + 1> mass;
  while (n > kHistogramMin) {
    float lo = kInf, hi = -kInf;
    for (size_t i = 0; i < n; ++i) {
      if (std::isinf(keys[i])) continue;
      lo = std::min(lo, keys[i]);
      hi = std::max(hi, keys[i]);
    }
    if (!(lo < hi) || !std::isfinite(hi - lo)) break;
    const float scale = static_cast<float>(kHistogramBins) / (hi - lo);
    auto bin_of = [&](float key) {
      if (std::isinf(key)) return kHistogramBins;
      return std::min(kHistogramBins - 1, static_cast<size_t>((key - lo) * scale));
    };
    mass.fill(0.0);
    for (size_t i = 0; i < n; ++i) mass[bin_of(keys[i])] += weights[i];
    size_t chosen = mass.size();
    for (size_t b = 0; b < mass.size(); ++b) {
      if (below + mass[b] >= target) {
        chosen = b;
        break;
      }
      below += mass[b];
    }
    if (chosen == mass.size()) return kInf;
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      if (bin_of(keys[i]) != chosen) continue;
      keys[m] = keys[i];
      weights[m] = weights[i];
      ++m;
    }
    n = m;  // lo and hi fall in different bins, so n shrinks every round
  }

  // Small inputs: weighted quickselect with a three-way partition.
  size_t lo = 0;
  size_t hi = n;
  for (int pass = 0; lo < hi; ++pass) {
    if (pass == kMaxSelectPasses) {
      std::vector<size_t> order(hi - lo);
      std::iota(order.begin(), order.end(), lo);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      for (size_t i = 0; i < order.size();) {
        const float key = keys[order[i]];
        for (; i < order.size() && keys[order[i]] == key; ++i) below += weights[order[i]];
        if (below >= target) return key;
      }
      return kInf;
    }
    const float a = keys[lo], b = keys[lo + (hi - lo) / 2], c = keys[hi - 1];
    const float pivot = std::max(std::min(a, b), std::min(std::max(a, b), c));
    // Three-way partition: [lo, lt) < pivot, [lt, gt) == pivot, [gt, hi) > pivot.
    size_t lt = lo, i = lo, gt = hi;
    double mass_less = 0.0, mass_equal = 0.0;
    while (i < gt) {
      if (keys[i] < pivot) {
        mass_less += weights[i];
        std::swap(keys[i], keys[lt]);
        std::swap(weights[i], weights[lt]);
        ++lt;
        ++i;
      } else if (keys[i] > pivot) {
        --gt;
        std::swap(keys[i], keys[gt]);
        std::swap(weights[i], weights[gt]);
      } else {
        mass_equal += weights[i];
        ++i;
      }
    }
    if (lt > lo && below + mass_less >= target) {
      hi = lt;
    } else if (below + mass_less + mass_equal >= target) {
      return pivot;
    } else {
      below += mass_less + mass_equal;
      lo = gt;
    }
  }
  return kInf;
}

Warped warp(const SamplingParams& p, std::span<const float> row, float row_max, WarpScratch& s) {
  const size_t n = row.size();
  Warped out;
  out.inv_temperature = p.temperature > 0.0f ? 1.0f / p.temperature : 1.0f;
  const bool top_k = p.top_k > 0 && static_cast<size_t>(p.top_k) < n;
  const bool top_p = p.top_p < 1.0f;
  const bool typical = p.typical_p < 1.0f;
  const bool min_p = p.min_p > 0.0f;
  if (!top_k && !top_p && !typical && !min_p) return out;

  s.reserve(n);
  const float inv_t = out.inv_temperature;
  const float scaled_max = row_max * inv_t;
  Candidates c{s.ids.data(), s.values.data(), 0};
  double nucleus_total = -1.0;  // full-row mass when top_p runs on a prefiltered row
  bool min_p_done = false;
  // Every i with row[i] * scale - offset >= threshold becomes a candidate.
  auto collect = [&](const float* x, float scale, float offset, float threshold) {
    c.n = collect_at_least(x, n, scale, offset, threshold, c.ids);
    for (size_t j = 0; j < c.n; ++j) c.values[j] = row[static_cast<size_t>(c.ids[j])] * inv_t;
  };
  if (top_k) {
    const float kth = kth_largest(row, static_cast<size_t>(p.top_k), s.sel_keys);
    collect(row.data(), 1.0f, 0.0f, kth);
  } else if (top_p) {
    // Tokens below (1 - p) / (2n) of the mass can never be in the nucleus
    // (together they hold under (1 - p) / 2); the histogram then bounds the
    // nucleus among the rest, and only tokens above that floor go on.
    nucleus_total = sum_exp(row.data(), n, row_max, inv_t, s.weights.data());
    const double negligible =
        0.5 * (1.0 - static_cast<double>(p.top_p)) / static_cast<double>(n) * nucleus_total;
    const size_t m = collect_at_least(s.weights.data(), n, 1.0f, 0.0f,
                                      std::nextafter(static_cast<float>(negligible), -kInf), c.ids);
    const float floor = nucleus_floor(row, row_max, inv_t, s.weights.data(), std::span(c.ids, m),
                                      static_cast<double>(p.top_p) * nucleus_total);
    for (size_t j = 0; j < m; ++j) {
      const float v = row[static_cast<size_t>(c.ids[j])] * inv_t;
      if (v - scaled_max < floor) continue;
      c.ids[c.n] = c.ids[j];
      c.values[c.n] = v;
      ++c.n;
    }
  } else if (min_p && !typical) {
    collect(row.data(), inv_t, scaled_max, log_min_p(p.min_p));
    min_p_done = true;
  } else {
    collect(row.data(), 1.0f, 0.0f, -kInf);  // everything but NaN
  }
  if (top_p) top_p_stage(c, p.top_p, nucleus_total, s);
  if (typical) typical_stage(c, p.typical_p, s);
  if (min_p && !min_p_done) min_p_stage(c, p.min_p);

  out.dense = false;
  out.ids = std::span<const int32_t>(c.ids, c.n);
  out.values = std::span<const float>(c.values, c.n);
  return out;
}

int32_t draw(const Warped& w, std::span<const float> row, float row_max, double u, WarpScratch& s,
             double* dense_total) {
  const float* values = w.dense ? row.data() : w.values.data();
  const size_t n = w.dense ? row.size() : w.values.size();
  if (s.weights.size() < n) s.weights.resize(n);
  double total;
  if (w.dense) {
    total = sum_exp(values, n, row_max, w.inv_temperature, s.weights.data());
    if (dense_total) *dense_total = total;
  } else {
    total = sum_exp(values, n, max_value(values, n), 1.0f, s.weights.data());
  }
  size_t j = find_cumulative(s.weights.data(), n, u * total);
  if (j == n) {
    // Rounding left the walk a hair under u * total: the last token with
    // weight takes the remainder.
    while (j > 0 && s.weights[j - 1] == 0.0f) --j;
    if (j == 0) return -1;
    --j;
  }
  return w.dense ? static_cast<int32_t>(j) : w.ids[j];
}

}  // namespace kiln::sampling::detail
