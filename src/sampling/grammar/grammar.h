// Grammar: rules (byte DFAs with call edges) and the analyses the matcher
// relies on (internal to sampling/grammar).
//
// Invariants after finalize() succeeds:
//  - every state of every rule can reach a final state (no dead ends), so a
//    matcher that follows the automaton can always complete the value;
//  - the root rule is never called, so popping its frame means "end of text";
//  - no rule can call itself without consuming a byte first (no left
//    recursion), so pushing before a byte terminates;
//  - position(rule, state) numbers every (rule, state) pair densely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sampling/grammar/automaton.h"
#include "util/result.h"

namespace kiln::sampling::grammar {

struct Grammar {
  std::vector<Dfa> rules;
  std::vector<std::string> names;  // for messages and debugging
  int32_t root = 0;

  // Filled by finalize().
  std::vector<uint8_t> nullable;       // rule can match ""
  std::vector<int32_t> position_base;  // rule -> first position
  std::vector<uint8_t> can_continue;   // position -> has a byte or call edge
  int32_t num_positions = 0;

  int32_t add_rule(std::string name) {
    rules.emplace_back();
    names.push_back(std::move(name));
    return int32_t(rules.size() - 1);
  }
  int32_t position(int32_t rule, int32_t state) const { return position_base[rule] + state; }
};

// Groups positions whose behaviour over the next `horizon` bytes is the same
// (same bytes accepted, same final states, same calls along the way): their
// token masks are equal when no token is longer than `horizon` bytes, so they
// share one cached mask. This is what keeps long counted repetitions
// ("maxLength": 2000) cheap: all positions far from both bounds are alike.
// Returns the class of every position (dense ids); when a nullable rule is
// called anywhere, every position is its own class.
std::vector<int32_t> horizon_classes(const Grammar& g, int32_t horizon, int32_t* num_classes);

// Trims dead states and unproductive calls, checks the invariants above.
// `what` names the input in messages ("schema", "regex").
util::Status finalize(Grammar& g, const char* what);

}  // namespace kiln::sampling::grammar
