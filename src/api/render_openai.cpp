// OpenAI responses: chat.completion and its chunk stream (§3.5, §6.3), and
// text_completion in both forms (§3.6). Stop strings were already removed by
// the engine (DEV-11); special tokens never reach `content`.
#include <variant>

#include "api/render_util.h"

namespace kiln::api {

namespace {

Json object_header(const char* object, const OpenAiIdentity& id) {
  Json o = Json::object();
  o["object"] = object;
  o["id"] = id.id;
  o["created"] = id.created;
  o["model"] = id.model;
  o["system_fingerprint"] = id.system_fingerprint;
  return o;
}

Json bytes_json(const std::string& text) {
  Json b = Json::array();
  for (unsigned char c : text) b.push_back(static_cast<int>(c));
  return b;
}

// One `logprobs.content` entry (§3.5).
Json logprob_entry(const engine::TokenEvent& t) {
  Json e = Json::object();
  e["token"] = t.text;
  e["logprob"] = json_float(t.logprob);
  e["bytes"] = bytes_json(t.text);
  Json top = Json::array();
  for (const auto& alt : t.top) {
    Json a = Json::object();
    a["token"] = alt.text;
    a["logprob"] = json_float(alt.logprob);
    a["bytes"] = bytes_json(alt.text);
    top.push_back(std::move(a));
  }
  e["top_logprobs"] = std::move(top);
  return e;
}

Json logprobs_json(Json content) {
  Json l = Json::object();
  l["content"] = std::move(content);
  l["refusal"] = nullptr;
  return l;
}

// Assembles streamed tool-call fragments into complete calls (non-streaming).
Json tool_calls_json(const std::vector<ToolCallFragment>& fragments) {
  Json calls = Json::array();
  std::vector<int32_t> order;
  for (const auto& f : fragments) {
    size_t pos = 0;
    while (pos < order.size() && order[pos] != f.index) ++pos;
    if (pos == order.size()) {
      order.push_back(f.index);
      Json call = Json::object();
      call["id"] = f.id;
      call["type"] = "function";
      Json fn = Json::object();
      fn["name"] = f.name;
      fn["arguments"] = "";
      call["function"] = std::move(fn);
      calls.push_back(std::move(call));
    }
    auto& args = calls[pos]["function"]["arguments"].get_ref<std::string&>();
    args += f.arguments;
  }
  return calls;
}

class ChatCollector final : public ResponseCollector {
 public:
  explicit ChatCollector(ChatRenderOptions options) : o_(std::move(options)) {}

  void on_event(size_t, const engine::Event& event) override {
    if (summary_.error || finished_) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (o_.logprobs) logprobs_.push_back(logprob_entry(*t));
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      finished_ = *f;
      add_finished(summary_, *f);
    } else {
      summary_.error = failure_error(std::get<engine::FailedEvent>(event));
    }
  }

  bool done() const override { return summary_.error || finished_; }

  ApiResult<std::string> body() override {
    if (summary_.error) return *summary_.error;
    if (!finished_) return ApiError::of(ErrorKind::kIncomplete);
    Json message = Json::object();
    message["role"] = "assistant";
    const char* reason = openai_finish_reason(finished_->reason);
    if (o_.tool_parser) {
      AssistantDelta d;
      o_.tool_parser->feed(finished_->text, d);
      if (auto e = o_.tool_parser->finish(d)) {
        summary_.error = *e;
        return *e;
      }
      if (d.tool_calls.empty()) {
        message["content"] = d.content;
      } else {
        // DEV-10: content is written, null when the model only called tools.
        message["content"] = d.content.empty() ? Json(nullptr) : Json(d.content);
        message["tool_calls"] = tool_calls_json(d.tool_calls);
        reason = "tool_calls";
      }
    } else {
      message["content"] = finished_->text;
    }
    Json choice = Json::object();
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = o_.logprobs ? logprobs_json(std::move(logprobs_)) : Json(nullptr);
    choice["finish_reason"] = reason;
    Json response = object_header("chat.completion", o_.identity);
    response["choices"] = Json::array({std::move(choice)});
    response["usage"] = usage_json(finished_->prompt_tokens, finished_->generated_tokens);
    return dump(response);
  }

 private:
  ChatRenderOptions o_;
  Json logprobs_ = Json::array();
  std::optional<engine::FinishedEvent> finished_;
};

class ChatStream final : public StreamRenderer {
 public:
  explicit ChatStream(ChatRenderOptions options) : o_(std::move(options)) {}

  void start(std::string& out) override {
    // With a tool parser the first delta may be a tool call, which carries
    // the role itself (§6.3); the role chunk then waits for the first content.
    if (!o_.tool_parser) send_role(out);
  }

  void on_event(size_t, const engine::Event& event, std::string& out) override {
    if (done_) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (t->last) {
        held_ = *t;
        return;
      }
      emit_piece(*t, out);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      add_finished(summary_, *f);
      finish(*f, out);
    } else {
      abort(failure_error(std::get<engine::FailedEvent>(event)), out);
    }
  }

  bool done() const override { return done_; }

  void abort(const ApiError& error, std::string& out) override {
    if (done_) return;
    summary_.error = error;
    append_sse(out, render_openai_stream_error(error));
    append_sse(out, "[DONE]");
    done_ = true;
  }

  bool close_after_error() const override { return false; }

 private:
  void send_chunk(Json delta, Json logprobs, Json finish_reason, std::string& out) {
    Json choice = Json::object();
    choice["index"] = 0;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = std::move(logprobs);
    choice["finish_reason"] = std::move(finish_reason);
    Json chunk = object_header("chat.completion.chunk", o_.identity);
    chunk["choices"] = Json::array({std::move(choice)});
    chunk["usage"] = nullptr;
    append_sse(out, dump(chunk));
  }

  void send_role(std::string& out) {
    if (role_sent_) return;
    role_sent_ = true;
    Json delta = Json::object();
    delta["role"] = "assistant";
    delta["content"] = "";
    send_chunk(std::move(delta), nullptr, nullptr, out);
  }

  Json token_logprobs(const engine::TokenEvent& t) const {
    return o_.logprobs ? logprobs_json(Json::array({logprob_entry(t)})) : Json(nullptr);
  }

  void emit_piece(const engine::TokenEvent& t, std::string& out) {
    const std::string& piece = content_piece(t);
    if (o_.tool_parser) {
      AssistantDelta d;
      o_.tool_parser->feed(piece, d);
      emit_delta(d, out);
      return;
    }
    if (piece.empty()) return;  // special token or held-back text: no empty chunks
    Json delta = Json::object();
    delta["content"] = piece;
    send_chunk(std::move(delta), token_logprobs(t), nullptr, out);
  }

  void emit_delta(const AssistantDelta& d, std::string& out) {
    if (!d.content.empty()) {
      send_role(out);
      Json delta = Json::object();
      delta["content"] = d.content;
      send_chunk(std::move(delta), nullptr, nullptr, out);
    }
    for (const auto& f : d.tool_calls) {
      Json call = Json::object();
      call["index"] = f.index;
      Json fn = Json::object();
      if (!f.id.empty()) {
        // Identity fields once per call (DEV-9).
        call["id"] = f.id;
        call["type"] = "function";
        fn["name"] = f.name;
      }
      fn["arguments"] = f.arguments;
      call["function"] = std::move(fn);
      Json delta = Json::object();
      if (!role_sent_) {
        role_sent_ = true;
        delta["role"] = "assistant";
        delta["content"] = nullptr;
      }
      delta["tool_calls"] = Json::array({std::move(call)});
      send_chunk(std::move(delta), nullptr, nullptr, out);
    }
  }

  void finish(const engine::FinishedEvent& f, std::string& out) {
    const char* reason = openai_finish_reason(f.reason);
    Json delta = Json::object();
    Json logprobs = nullptr;
    if (o_.tool_parser) {
      if (held_) emit_piece(*held_, out);
      AssistantDelta d;
      if (auto e = o_.tool_parser->finish(d)) {
        abort(*e, out);
        return;
      }
      emit_delta(d, out);
      if (o_.tool_parser->called_tools()) reason = "tool_calls";
      send_role(out);
    } else if (held_) {
      // The last token's text rides on the finish chunk (§3.5 example).
      const std::string& piece = content_piece(*held_);
      if (!piece.empty()) {
        delta["content"] = piece;
        logprobs = token_logprobs(*held_);
      }
    }
    send_chunk(std::move(delta), std::move(logprobs), reason, out);
    if (o_.include_usage) {
      Json chunk = object_header("chat.completion.chunk", o_.identity);
      chunk["choices"] = Json::array();
      chunk["usage"] = usage_json(f.prompt_tokens, f.generated_tokens);
      append_sse(out, dump(chunk));
    }
    append_sse(out, "[DONE]");
    done_ = true;
  }

  ChatRenderOptions o_;
  std::optional<engine::TokenEvent> held_;
  bool role_sent_ = false;
  bool done_ = false;
};

Json completion_choice(size_t index, const std::string& text, Json finish_reason) {
  Json c = Json::object();
  c["index"] = index;
  c["text"] = text;
  c["logprobs"] = nullptr;
  c["finish_reason"] = std::move(finish_reason);
  return c;
}

class CompletionCollector final : public ResponseCollector {
 public:
  CompletionCollector(OpenAiIdentity identity, size_t prompts)
      : identity_(std::move(identity)), finished_(prompts) {}

  void on_event(size_t source, const engine::Event& event) override {
    if (summary_.error || source >= finished_.size()) return;
    if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      if (finished_[source]) return;
      finished_[source] = *f;
      add_finished(summary_, *f);
      ++count_;
    } else if (const auto* e = std::get_if<engine::FailedEvent>(&event)) {
      summary_.error = failure_error(*e);
    }
  }

  bool done() const override { return summary_.error || count_ == finished_.size(); }

  ApiResult<std::string> body() override {
    if (summary_.error) return *summary_.error;
    if (!done()) return ApiError::of(ErrorKind::kIncomplete);
    Json choices = Json::array();
    for (size_t i = 0; i < finished_.size(); ++i) {
      const auto& f = *finished_[i];
      choices.push_back(completion_choice(i, f.text, openai_finish_reason(f.reason)));
    }
    Json response = object_header("text_completion", identity_);
    response["choices"] = std::move(choices);
    response["usage"] = usage_json(summary_.prompt_tokens, summary_.generated_tokens);
    return dump(response);
  }

 private:
  OpenAiIdentity identity_;
  std::vector<std::optional<engine::FinishedEvent>> finished_;
  size_t count_ = 0;
};

class CompletionStream final : public StreamRenderer {
 public:
  CompletionStream(OpenAiIdentity identity, size_t prompts)
      : identity_(std::move(identity)), held_(prompts), finished_(prompts, false) {}

  void start(std::string&) override {}

  void on_event(size_t source, const engine::Event& event, std::string& out) override {
    if (done_ || source >= finished_.size() || finished_[source]) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (t->last) {
        held_[source] = content_piece(*t);
        return;
      }
      if (content_piece(*t).empty()) return;
      send(completion_choice(source, content_piece(*t), nullptr), nullptr, out);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      add_finished(summary_, *f);
      finished_[source] = true;
      send(completion_choice(source, held_[source].value_or(""), openai_finish_reason(f->reason)),
           usage_json(f->prompt_tokens, f->generated_tokens), out);
      if (++count_ == finished_.size()) {
        append_sse(out, "[DONE]");
        done_ = true;
      }
    } else {
      abort(failure_error(std::get<engine::FailedEvent>(event)), out);
    }
  }

  bool done() const override { return done_; }

  void abort(const ApiError& error, std::string& out) override {
    if (done_) return;
    summary_.error = error;
    append_sse(out, render_openai_stream_error(error));
    append_sse(out, "[DONE]");
    done_ = true;
  }

  bool close_after_error() const override { return false; }

 private:
  void send(Json choice, Json usage, std::string& out) {
    Json chunk = object_header("text_completion", identity_);
    chunk["choices"] = Json::array({std::move(choice)});
    chunk["usage"] = std::move(usage);
    append_sse(out, dump(chunk));
  }

  OpenAiIdentity identity_;
  std::vector<std::optional<std::string>> held_;
  std::vector<bool> finished_;
  size_t count_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ResponseCollector> make_chat_collector(ChatRenderOptions options) {
  return std::make_unique<ChatCollector>(std::move(options));
}
std::unique_ptr<StreamRenderer> make_chat_stream(ChatRenderOptions options) {
  return std::make_unique<ChatStream>(std::move(options));
}
std::unique_ptr<ResponseCollector> make_completion_collector(OpenAiIdentity identity,
                                                             size_t prompts) {
  return std::make_unique<CompletionCollector>(std::move(identity), prompts);
}
std::unique_ptr<StreamRenderer> make_completion_stream(OpenAiIdentity identity, size_t prompts) {
  return std::make_unique<CompletionStream>(std::move(identity), prompts);
}

}  // namespace kiln::api
