// libFuzzer target: raw bytes -> the request parser (JSON -> typed request ->
// validation) of every route family, with the test double of the model side.
// Bad input must come back as an ApiError, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/fakes.h"
#include "api/parse.h"
#include "api/validate.h"

namespace {

using namespace kiln;

void validate(const api::Validator& v, const api::GenerationRequest& g) {
  if (v.check_before_admission(g)) return;
  auto r = v.validate(g, {});
  if (!r.ok()) (void)api::render_tgi_error(r.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const api::ApiConfig config = [] {
    api::ApiConfig c;
    c.max_total_tokens = 64;
    c.max_input_tokens = 32;
    return c;
  }();
  static const test::FakeModelServices model;
  static const api::Validator validator(config, &model);

  auto json = api::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.ok()) return 0;
  for (auto route : {api::NativeRoute::kGenerate, api::NativeRoute::kGenerateStream,
                     api::NativeRoute::kCompat}) {
    auto g = api::parse_generate(json.value(), route, config);
    if (g.ok()) validate(validator, g.value());
  }
  if (auto chat = api::parse_chat(json.value(), config); chat.ok()) {
    auto prompt = model.apply_chat_template(chat.value());
    if (prompt.ok()) validate(validator, api::chat_to_generation(chat.value(), prompt->text));
  }
  if (auto c = api::parse_completion(json.value(), config); c.ok()) {
    for (size_t i = 0; i < c->prompts.size(); ++i) {
      validate(validator, api::completion_to_generation(c.value(), i));
    }
  }
  return 0;
}
