#include "sampling/stop.h"

#include <algorithm>

namespace kiln::sampling {
namespace {

// Bytes at the end of `s` that start a UTF-8 character still missing
// continuation bytes (0 if the text ends on a boundary or the tail is not a
// valid prefix, which is then passed through rather than held forever).
size_t incomplete_utf8_tail(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 4;
    }
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stops, bool keep_stop_in_text)
    : stops_(std::move(stops)), keep_stop_in_text_(keep_stop_in_text) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

size_t StopMatcher::held_suffix() const {
  // Longest suffix of pending_ that is a proper prefix of some stop string.
  const std::string_view p = pending_;
  size_t held = 0;
  for (const auto& stop : stops_) {
    for (size_t len = std::min(p.size(), stop.size() - 1); len > held; --len) {
      if (p.substr(p.size() - len) == std::string_view(stop).substr(0, len)) {
        held = len;
        break;
      }
    }
  }
  return std::max(held, incomplete_utf8_tail(p));
}

bool StopMatcher::feed(std::string_view delta, std::string& emit) {
  if (stopped()) return true;
  const size_t old_size = pending_.size();
  pending_.append(delta);
  const std::string_view p = pending_;
  // Matches ending at or before old_size were ruled out by earlier calls.
  for (size_t end = old_size + 1; end <= p.size(); ++end) {
    int32_t best = -1;
    for (size_t k = 0; k < stops_.size(); ++k) {
      const std::string& stop = stops_[k];
      if (stop.size() > end || p.substr(end - stop.size(), stop.size()) != stop) continue;
      if (best < 0 || stop.size() > stops_[static_cast<size_t>(best)].size()) {
        best = static_cast<int32_t>(k);
      }
    }
    if (best >= 0) {
      const size_t start = end - stops_[static_cast<size_t>(best)].size();
      emit.append(p.substr(0, keep_stop_in_text_ ? end : start));
      pending_.clear();
      matched_ = best;
      return true;
    }
  }
  const size_t release = p.size() - held_suffix();
  emit.append(p.substr(0, release));
  pending_.erase(0, release);
  return false;
}

void StopMatcher::flush(std::string& emit) {
  emit.append(pending_);
  pending_.clear();
}

StopChecker::StopChecker(const StopParams& params, std::span<const int32_t> eos_ids)
    : matcher_(params.stop, params.keep_stop_in_text),
      eos_ids_(eos_ids.begin(), eos_ids.end()),
      max_new_tokens_(params.max_new_tokens),
      ignore_eos_(params.ignore_eos) {
  std::sort(eos_ids_.begin(), eos_ids_.end());
}

StopReason StopChecker::update(int32_t token, std::string_view delta, std::string& emit) {
  if (reason_ != StopReason::kNone) return reason_;
  ++generated_;
  if (!ignore_eos_ && std::binary_search(eos_ids_.begin(), eos_ids_.end(), token)) {
    matcher_.flush(emit);
    return reason_ = StopReason::kEosToken;
  }
  if (matcher_.feed(delta, emit)) return reason_ = StopReason::kStopSequence;
  if (max_new_tokens_ > 0 && generated_ >= max_new_tokens_) {
    matcher_.flush(emit);
    return reason_ = StopReason::kLength;
  }
  return StopReason::kNone;
}

}  // namespace kiln::sampling
