// Helpers shared by the renderers (internal to api/).
#pragma once

#include <string>

#include "api/json_util.h"
#include "api/render.h"

namespace kiln::api {

// TGI `Token`: {"id","text","logprob","special"}.
Json token_json(int32_t id, const std::string& text, float logprob, bool special);
Json top_tokens_json(const std::vector<engine::TopToken>& top);
// Adds a finished choice's counts and timings to a summary.
void add_finished(GenerationSummary& summary, const engine::FinishedEvent& finished);
// Text a token contributes to OpenAI content. The engine's decoder skips the
// own text of special tokens, so a special token (EOS) carries only text
// released when generation ends: bytes of an unfinished character, or text
// held back because it could have started a stop sequence.
inline const std::string& content_piece(const engine::TokenEvent& t) { return t.text; }
// {"prompt_tokens","completion_tokens","total_tokens"}
Json usage_json(int32_t prompt_tokens, int32_t completion_tokens);

}  // namespace kiln::api
