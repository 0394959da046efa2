// JSON helpers shared by parsing and rendering. Objects keep their insertion
// order (nlohmann::ordered_json) so responses match the contract's examples
// key for key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::api {

using Json = nlohmann::ordered_json;

// Compact serialization. Invalid UTF-8 (a token that ends mid-character) is
// replaced by U+FFFD instead of throwing.
std::string dump(const Json& value);

// A float as JSON the way the contract prints it: the shortest decimal that
// round-trips the float (-0.52, not -0.5199999809265137); NaN and infinities
// become null.
Json json_float(float value);

// `n` random lowercase hex digits (ids: chatcmpl-..., request ids).
std::string random_hex(size_t n);
// `n` random alphanumerics (tool call ids).
std::string random_alnum(size_t n);
// A random seed for requests that gave none.
uint64_t random_seed();

// One SSE event: "data: " + payload + "\n\n" (contract §3.3, DEV-1).
void append_sse(std::string& out, std::string_view payload);

}  // namespace kiln::api
