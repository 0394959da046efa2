#include "api/limits.h"

#include <algorithm>
#include <string>

namespace kiln::api {

namespace {
std::string s(int64_t v) { return std::to_string(v); }
constexpr int64_t kMaxTokens = INT32_MAX;
}  // namespace

util::Result<ResolvedLimits> resolve_limits(const LauncherLimits& f) {
  if (f.max_input_tokens && f.max_input_length) {
    return util::make_error(
        "`max_input_tokens` and `max_input_length` are the same setting; give only one "
        "(got " +
        s(*f.max_input_tokens) + " and " + s(*f.max_input_length) + ")");
  }
  const auto input_flag = f.max_input_tokens ? f.max_input_tokens : f.max_input_length;
  int64_t total = 0;
  if (f.max_total_tokens) {
    total = *f.max_total_tokens;
  } else {
    total = f.max_position_embeddings > 0 ? f.max_position_embeddings : kDefaultMaxTotalTokens;
    if (input_flag) total = std::max(total, *input_flag + 1);
  }
  const int64_t input = input_flag ? *input_flag : total - 1;
  if (input <= 0 || total <= 0 || total > kMaxTokens) {
    return util::make_error(
        "token limits must be positive and fit in 32 bits (`max_input_tokens`=" + s(input) +
        ", `max_total_tokens`=" + s(total) + ")");
  }
  if (input >= total) {
    return util::make_error("`max_input_tokens`(" + s(input) + ") must be < `max_total_tokens`(" +
                            s(total) + ")");
  }
  int64_t prefill = f.max_batch_prefill_tokens.value_or(kDefaultMaxBatchPrefillTokens);
  if (!f.max_batch_prefill_tokens && f.max_batch_total_tokens) {
    prefill = std::min(prefill, *f.max_batch_total_tokens);
  }
  if (prefill <= 0 || prefill > kMaxTokens) {
    return util::make_error("`max_batch_prefill_tokens` must be positive. Given: " + s(prefill));
  }
  if (!f.chunked_prefill && prefill < input) {
    return util::make_error("`max_batch_prefill_tokens`(" + s(prefill) +
                            ") must be >= `max_input_tokens`(" + s(input) + ")");
  }
  if (f.max_batch_total_tokens) {
    const int64_t batch = *f.max_batch_total_tokens;
    if (total > batch) {
      return util::make_error("`max_total_tokens`(" + s(total) +
                              ") must be <= `max_batch_total_tokens`(" + s(batch) + ")");
    }
    if (prefill > batch) {
      return util::make_error("`max_batch_prefill_tokens`(" + s(prefill) +
                              ") must be <= `max_batch_total_tokens`(" + s(batch) + ")");
    }
  }
  ResolvedLimits r;
  r.max_input_tokens = static_cast<int32_t>(input);
  r.max_total_tokens = static_cast<int32_t>(total);
  r.max_batch_prefill_tokens = static_cast<int32_t>(prefill);
  r.max_batch_total_tokens = f.max_batch_total_tokens;
  return r;
}

}  // namespace kiln::api
