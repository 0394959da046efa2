// Test doubles for the model side and the engine (tests only). The fake
// tokenizer splits on spaces (ids from a fixed vocabulary, unknown words get
// 1000 + length), the fake template concatenates "<|role|>content\n", and the
// fake engine plays a scripted list of events for each submitted request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/model_services.h"
#include "engine/engine.h"

namespace kiln::test {

class FakeModelServices : public api::ModelServices {
 public:
  bool has_template = true;
  bool grammar_supported = true;
  bool tool_parsing = false;  // ChatPrompt.parse_tool_calls when tools are offered
  api::ModelFacts model_facts;

  FakeModelServices() { model_facts.model_id = "fake/model"; }

  api::ModelFacts facts() const override { return model_facts; }

  static int32_t word_id(std::string_view w) {
    static const std::map<std::string, int32_t, std::less<>> kVocab = {
        {"Hello", 15043}, {"world", 3186}, {"the", 278}, {"a", 263}};
    auto it = kVocab.find(w);
    return it != kVocab.end() ? it->second : 1000 + static_cast<int32_t>(w.size());
  }

  util::Result<std::vector<api::TokenSpan>> tokenize(std::string_view text,
                                                     bool add_special_tokens) const override {
    std::vector<api::TokenSpan> out;
    if (add_special_tokens) out.push_back({1, 0, 0, true});
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      size_t start = i;
      while (i < text.size() && text[i] != ' ') ++i;
      if (i > start) {
        out.push_back({word_id(text.substr(start, i - start)), static_cast<uint32_t>(start),
                       static_cast<uint32_t>(i), false});
      }
    }
    return out;
  }

  api::ApiResult<api::ChatPrompt> apply_chat_template(const api::ChatRequest& r) const override {
    if (!has_template) return api::ApiError::template_error("template not found");
    api::ChatPrompt p;
    for (const auto& m : r.messages) {
      if (m.content == "RAISE") {
        return api::ApiError::template_error("Conversation roles must alternate");
      }
      p.text += "<|" + m.role + "|>" + m.content + "\n";
    }
    p.text += "<|assistant|>";
    p.parse_tool_calls =
        tool_parsing && !r.tools.empty() && r.tool_choice.mode != api::ToolChoice::Mode::kNone;
    return p;
  }

  api::ApiResult<std::shared_ptr<const sampling::Constraint>> compile_grammar(
      const api::GrammarSpec&) const override {
    if (!grammar_supported) return api::ApiError::validation("grammar is not supported");
    return std::shared_ptr<const sampling::Constraint>();
  }

  // Recognises "<tool_call>NAME ARGS</tool_call>" in the generated text.
  class ToolParser : public api::ToolCallParser {
   public:
    void feed(std::string_view text, api::AssistantDelta&) override { text_ += text; }
    std::optional<api::ApiError> finish(api::AssistantDelta& out) override {
      const std::string open = "<tool_call>", close = "</tool_call>";
      auto a = text_.find(open);
      if (a == std::string::npos) {
        out.content = text_;
        return std::nullopt;
      }
      auto b = text_.find(close, a);
      if (b == std::string::npos)
        return api::ApiError::tool("Failed to parse generated text: " + text_);
      std::string call = text_.substr(a + open.size(), b - a - open.size());
      auto space = call.find(' ');
      api::ToolCallFragment first{0, "call_test1", call.substr(0, space), ""};
      out.tool_calls.push_back(first);
      api::ToolCallFragment args{0, "", "", call.substr(space + 1)};
      out.tool_calls.push_back(args);
      called_ = true;
      return std::nullopt;
    }
    bool called_tools() const override { return called_; }

   private:
    std::string text_;
    bool called_ = false;
  };

  std::unique_ptr<api::ToolCallParser> tool_call_parser(const api::ChatRequest&,
                                                        const api::ChatPrompt&) const override {
    return std::make_unique<ToolParser>();
  }
};

// Event builders.
inline engine::TokenEvent tok(int32_t id, std::string text, float logprob, bool special = false,
                              bool last = false) {
  engine::TokenEvent t;
  t.id = id;
  t.text = std::move(text);
  t.logprob = logprob;
  t.special = special;
  t.last = last;
  return t;
}

inline engine::FinishedEvent fin(engine::FinishReason reason, int32_t prompt, int32_t generated,
                                 std::string text, uint64_t seed = 0) {
  engine::FinishedEvent f;
  f.reason = reason;
  f.prompt_tokens = prompt;
  f.generated_tokens = generated;
  f.text = std::move(text);
  f.seed = seed;
  return f;
}

// Plays a script for every submitted request on its own thread, like the
// engine thread would. A step with a delay waits before pushing; a script
// may end without a final event and then waits for cancel().
class FakeEngine : public engine::Engine {
 public:
  struct Step {
    Step(engine::Event e, std::chrono::milliseconds d = std::chrono::milliseconds(0))
        : event(std::move(e)), delay(d) {}
    engine::Event event;
    std::chrono::milliseconds delay;
  };
  using Script = std::function<std::vector<Step>(const engine::GenerationRequest&)>;

  explicit FakeEngine(Script script) : script_(std::move(script)) {}
  ~FakeEngine() override { shutdown(); }

  std::shared_ptr<engine::EventStream> submit(engine::GenerationRequest request) override {
    auto stream = std::make_shared<engine::EventStream>();
    auto steps = script_(request);
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    streams_.push_back(stream);
    threads_.emplace_back([this, stream, steps = std::move(steps)] {
      for (const auto& s : steps) {
        // Sleep in slices so a cancel() (which signals nothing) is seen soon.
        auto until = std::chrono::steady_clock::now() + s.delay;
        while (std::chrono::steady_clock::now() < until) {
          std::unique_lock lock(mu_);
          if (stopping_ || stream->cancelled()) break;
          cv_.wait_for(lock, std::chrono::milliseconds(5));
        }
        if (stream->cancelled() || stopping_) return;
        stream->push(s.event);
      }
    });
    return stream;
  }
  engine::EngineStats stats() const override { return {}; }
  bool healthy() override { return healthy_; }
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::vector<engine::GenerationRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::shared_ptr<engine::EventStream>> streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }
  std::atomic<bool> healthy_{true};

 private:
  Script script_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<engine::GenerationRequest> requests_;
  std::vector<std::shared_ptr<engine::EventStream>> streams_;
  std::vector<std::thread> threads_;
};

}  // namespace kiln::test
