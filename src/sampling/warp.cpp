#include "sampling/warp.h"

#include <algorithm>
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

// Quickselect passes before falling back to sorting what is left: median of
// three never gets near this on logits; the bound only caps adversarial input.
constexpr int kMaxSelectPasses = 64;

// A token whose probability is below (1 - top_p) / n can never be in the
// nucleus (all such tokens together hold < 1 - top_p); half of that bound
// leaves room for rounding in the sums.
constexpr double kNucleusPrefilterMargin = 0.5;

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
  size_t lo = 0;
  size_t hi = keys.size();
  double below = 0.0;  // mass of keys known to be below the range [lo, hi)
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
  auto push = [&](size_t i) {
    c.ids[c.n] = static_cast<int32_t>(i);
    c.values[c.n] = row[i] * inv_t;
    ++c.n;
  };
  double nucleus_total = -1.0;  // full-row mass when top_p runs on a prefiltered row
  bool min_p_done = false;
  // Appends every i with row[i] * scale - offset >= threshold.
  auto push_at_least = [&](const float* x, float scale, float offset, float threshold) {
    for (size_t i = find_at_least(x, n, 0, scale, offset, threshold); i < n;
         i = find_at_least(x, n, i + 1, scale, offset, threshold)) {
      push(i);
    }
  };
  if (top_k) {
    const float kth = kth_largest(row, static_cast<size_t>(p.top_k), s.sel_keys);
    push_at_least(row.data(), 1.0f, 0.0f, kth);
  } else if (top_p) {
    nucleus_total = sum_exp(row.data(), n, row_max, inv_t, s.weights.data());
    const double floor = kNucleusPrefilterMargin * (1.0 - static_cast<double>(p.top_p)) /
                         static_cast<double>(n) * nucleus_total;
    // Rounded down so that the float comparison never drops a token the
    // double bound would keep.
    push_at_least(s.weights.data(), 1.0f, 0.0f, std::nextafter(static_cast<float>(floor), -kInf));
  } else if (min_p && !typical) {
    push_at_least(row.data(), inv_t, scaled_max, log_min_p(p.min_p));
    min_p_done = true;
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (row[i] == row[i]) push(i);
    }
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
