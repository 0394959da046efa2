// Resolving the token limits from the launcher flags and the model, with the
// startup checks of contract §9 (each message names both values).
#pragma once

#include <cstdint>
#include <optional>

#include "util/result.h"

namespace kiln::api {

struct LauncherLimits {
  std::optional<int64_t> max_input_tokens;
  std::optional<int64_t> max_input_length;  // legacy alias of max_input_tokens
  std::optional<int64_t> max_total_tokens;
  std::optional<int64_t> max_batch_prefill_tokens;
  std::optional<int64_t> max_batch_total_tokens;
  int64_t max_position_embeddings = 0;  // from the model; 0: unknown
  bool chunked_prefill = true;          // the scheduler splits long prefills
};

struct ResolvedLimits {
  int32_t max_input_tokens = 0;
  int32_t max_total_tokens = 0;
  int32_t max_batch_prefill_tokens = 0;
  std::optional<int64_t> max_batch_total_tokens;
};

// Context when neither the flags nor the model say (TGI's fallback).
inline constexpr int64_t kDefaultMaxTotalTokens = 4096;
inline constexpr int64_t kDefaultMaxBatchPrefillTokens = 4096;

util::Result<ResolvedLimits> resolve_limits(const LauncherLimits& flags);

}  // namespace kiln::api
