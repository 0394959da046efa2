#include "sampling/penalties.h"

#include <algorithm>
#include <bit>

namespace kiln::sampling::detail {
namespace {

// Fibonacci hashing: token ids are small dense integers, so multiply by
// 2^64 / phi and keep the top bits to spread neighbours across the table.
size_t slot_of(int32_t token, size_t mask) {
  const uint64_t h = static_cast<uint64_t>(static_cast<uint32_t>(token)) * 0x9e3779b97f4a7c15ULL;
  return static_cast<size_t>(h >> 32) & mask;
}

bool in_row(int32_t token, size_t n) { return token >= 0 && static_cast<size_t>(token) < n; }

}  // namespace

void TokenHistory::rehash(size_t capacity) {
  slots_.assign(capacity, -1);
  const size_t mask = capacity - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t s = slot_of(entries_[i].token, mask);
    while (slots_[s] >= 0) s = (s + 1) & mask;
    slots_[s] = static_cast<int32_t>(i);
  }
}

TokenHistory::Entry& TokenHistory::find_or_insert(int32_t token) {
  // Load factor stays at or below 1/2, so probes are short and a free slot exists.
  if (slots_.empty() || (entries_.size() + 1) * 2 > slots_.size()) {
    rehash(std::max<size_t>(64, std::bit_ceil((entries_.size() + 1) * 2)));
  }
  const size_t mask = slots_.size() - 1;
  size_t s = slot_of(token, mask);
  while (slots_[s] >= 0) {
    Entry& e = entries_[static_cast<size_t>(slots_[s])];
    if (e.token == token) return e;
    s = (s + 1) & mask;
  }
  slots_[s] = static_cast<int32_t>(entries_.size());
  entries_.push_back(Entry{.token = token});
  return entries_.back();
}

void TokenHistory::add_prompt(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) ++find_or_insert(t).prompt_count;
  prompt_length_ += static_cast<int64_t>(tokens.size());
}

void TokenHistory::add_generated(int32_t token) {
  ++find_or_insert(token).generated_count;
  ++generated_length_;
}

bool needs_history(const SamplingParams& p) {
  return p.repetition_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f;
}

void apply_penalties(const SamplingParams& p, const TokenHistory& history, std::span<float> row) {
  const size_t n = row.size();
  if (p.repetition_penalty != 1.0f && p.repetition_penalty > 0.0f) {
    const float penalty = p.repetition_penalty;
    for (const auto& e : history.entries()) {
      if (!in_row(e.token, n)) continue;
      float& l = row[static_cast<size_t>(e.token)];
      l = l < 0.0f ? l * penalty : l / penalty;
    }
  }
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    // Float arithmetic in TGI's order (count / length first), so kTgi matches
    // its float32 tensors; kOpenAI follows OpenAI's published formula.
    const bool tgi = p.frequency_penalty_mode == FrequencyPenaltyMode::kTgi;
    const float length = static_cast<float>(history.length());
    for (const auto& e : history.entries()) {
      if (!in_row(e.token, n)) continue;
      float& l = row[static_cast<size_t>(e.token)];
      if (tgi) {
        const float freq = static_cast<float>(e.prompt_count + e.generated_count) / length;
        l -= freq * p.frequency_penalty;
      } else if (e.generated_count > 0) {
        l -= static_cast<float>(e.generated_count) * p.frequency_penalty;
      }
      if (e.generated_count > 0) l -= p.presence_penalty;
    }
  }
  for (const auto& [token, bias] : p.logit_bias) {
    if (in_row(token, n)) row[static_cast<size_t>(token)] += bias;
  }
}

}  // namespace kiln::sampling::detail
