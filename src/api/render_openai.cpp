// OpenAI responses: chat.completion and its chunk stream (§3.5, §6.3), and
// text_completion in both forms (§3.6). Stop strings were already removed by
// the engine (DEV-11); special tokens never reach `content`.
#include <algorithm>
#include <utility>
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

// OpenAI `n`: choice k's events carry choice == k (one engine request with n
// sequences sharing the prompt's KV blocks). Usage counts the prompt once
// and the completion tokens of every choice.
void add_choice(GenerationSummary& summary, const engine::FinishedEvent& f) {
  engine::FinishedEvent counted = f;
  if (f.choice > 0) counted.prompt_tokens = 0;
  add_finished(summary, counted);
}

// One tool-call parser per choice: choice 0 takes options.tool_parser, the
// others options.more_tool_parsers (null entries: plain content).
std::vector<std::unique_ptr<ToolCallParser>> take_parsers(ChatRenderOptions& o, size_t n) {
  std::vector<std::unique_ptr<ToolCallParser>> parsers(n);
  parsers[0] = std::move(o.tool_parser);
  for (size_t k = 1; k < n && k - 1 < o.more_tool_parsers.size(); ++k)
    parsers[k] = std::move(o.more_tool_parsers[k - 1]);
  return parsers;
}

class ChatCollector final : public ResponseCollector {
 public:
  explicit ChatCollector(ChatRenderOptions options)
      : o_(std::move(options)),
        choices_(static_cast<size_t>(std::max(1, o_.n))),
        parsers_(take_parsers(o_, choices_.size())) {}

  void on_event(size_t, const engine::Event& event) override {
    if (summary_.error || done()) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (o_.logprobs && valid(t->choice))
        choices_[t->choice].logprobs.push_back(logprob_entry(*t));
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      if (!valid(f->choice) || choices_[f->choice].finished) return;
      choices_[f->choice].finished = *f;
      add_choice(summary_, *f);
      ++finished_count_;
    } else {
      summary_.error = failure_error(std::get<engine::FailedEvent>(event));
    }
  }

  bool done() const override { return summary_.error || finished_count_ == choices_.size(); }

  ApiResult<std::string> body() override {
    if (summary_.error) return *summary_.error;
    if (!done()) return ApiError::of(ErrorKind::kIncomplete);
    Json choices = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      auto choice = render_choice(i);
      if (!choice.ok()) return choice.error();
      choices.push_back(std::move(choice.value()));
    }
    Json response = object_header("chat.completion", o_.identity);
    response["choices"] = std::move(choices);
    response["usage"] = usage_json(summary_.prompt_tokens, summary_.generated_tokens);
    return dump(response);
  }

 private:
  struct Choice {
    Json logprobs = Json::array();
    std::optional<engine::FinishedEvent> finished;
  };

  bool valid(int32_t choice) const {
    return choice >= 0 && static_cast<size_t>(choice) < choices_.size();
  }

  ApiResult<Json> render_choice(size_t index) {
    Choice& c = choices_[index];
    Json message = Json::object();
    message["role"] = "assistant";
    const char* reason = openai_finish_reason(c.finished->reason);
    if (ToolCallParser* parser = parsers_[index].get()) {
      AssistantDelta d;
      parser->feed(c.finished->text, d);
      if (auto e = parser->finish(d)) {
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
      message["content"] = c.finished->text;
    }
    Json choice = Json::object();
    choice["index"] = index;
    choice["message"] = std::move(message);
    choice["logprobs"] = o_.logprobs ? logprobs_json(std::move(c.logprobs)) : Json(nullptr);
    choice["finish_reason"] = reason;
    return choice;
  }

  ChatRenderOptions o_;
  std::vector<Choice> choices_;
  std::vector<std::unique_ptr<ToolCallParser>> parsers_;  // per choice; null: plain content
  size_t finished_count_ = 0;
};

// What the two /v1 streams share: an in-band error chunk, then "[DONE]"
// (§4.1), and the connection stays open.
class OpenAiStream : public StreamRenderer {
 public:
  bool done() const override { return done_; }

  void abort(const ApiError& error, std::string& out) override {
    if (done_) return;
    summary_.error = error;
    append_sse(out, render_openai_stream_error(error));
    end(out);
  }

  bool close_after_error() const override { return false; }

 protected:
  void end(std::string& out) {
    append_sse(out, "[DONE]");
    done_ = true;
  }

  bool done_ = false;
};

class ChatStream final : public OpenAiStream {
 public:
  explicit ChatStream(ChatRenderOptions options)
      : o_(std::move(options)),
        choices_(static_cast<size_t>(std::max(1, o_.n))),
        parsers_(take_parsers(o_, choices_.size())) {}

  void start(std::string& out) override {
    // With a tool parser the first delta may be a tool call, which carries
    // the role itself (§6.3); the role chunk then waits for the first content.
    for (size_t i = 0; i < choices_.size(); ++i) {
      if (!parsers_[i].get()) send_role(i, out);
    }
  }

  void on_event(size_t, const engine::Event& event, std::string& out) override {
    if (done_) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (!valid(t->choice)) return;
      if (t->last) {
        choices_[t->choice].held = *t;
        return;
      }
      emit_piece(t->choice, *t, out);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      if (!valid(f->choice) || choices_[f->choice].finished) return;
      add_choice(summary_, *f);
      finish(f->choice, *f, out);
    } else {
      abort(failure_error(std::get<engine::FailedEvent>(event)), out);
    }
  }

 private:
  struct Choice {
    std::optional<engine::TokenEvent> held;
    Json pending_logprobs = Json::array();  // tokens whose text had no chunk yet
    bool role_sent = false;
    bool finished = false;
  };

  bool valid(int32_t choice) const {
    return choice >= 0 && static_cast<size_t>(choice) < choices_.size();
  }

  void send_chunk(size_t index, Json delta, Json logprobs, Json finish_reason, std::string& out) {
    Json choice = Json::object();
    choice["index"] = index;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = std::move(logprobs);
    choice["finish_reason"] = std::move(finish_reason);
    Json chunk = object_header("chat.completion.chunk", o_.identity);
    chunk["choices"] = Json::array({std::move(choice)});
    chunk["usage"] = nullptr;
    append_sse(out, dump(chunk));
  }

  void send_role(size_t index, std::string& out) {
    if (choices_[index].role_sent) return;
    choices_[index].role_sent = true;
    Json delta = Json::object();
    delta["role"] = "assistant";
    delta["content"] = "";
    send_chunk(index, std::move(delta), nullptr, nullptr, out);
  }

  // The logprobs of a chunk: the entries of the tokens that sent no chunk of
  // their own (held-back text), then t's, so the stream lists every token
  // once, as the non-streamed response does.
  Json take_logprobs(size_t index, const engine::TokenEvent* t) {
    if (!o_.logprobs) return nullptr;
    Json entries = std::exchange(choices_[index].pending_logprobs, Json::array());
    if (t != nullptr) entries.push_back(logprob_entry(*t));
    return entries.empty() ? Json(nullptr) : logprobs_json(std::move(entries));
  }

  void emit_piece(size_t index, const engine::TokenEvent& t, std::string& out) {
    const std::string& piece = content_piece(t);
    if (ToolCallParser* parser = parsers_[index].get()) {
      AssistantDelta d;
      parser->feed(piece, d);
      emit_delta(index, d, out);
      return;
    }
    if (piece.empty()) {  // special token or held-back text: no empty chunks
      if (o_.logprobs) choices_[index].pending_logprobs.push_back(logprob_entry(t));
      return;
    }
    Json delta = Json::object();
    delta["content"] = piece;
    send_chunk(index, std::move(delta), take_logprobs(index, &t), nullptr, out);
  }

  void emit_delta(size_t index, const AssistantDelta& d, std::string& out) {
    if (!d.content.empty()) {
      send_role(index, out);
      Json delta = Json::object();
      delta["content"] = d.content;
      send_chunk(index, std::move(delta), nullptr, nullptr, out);
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
      if (!choices_[index].role_sent) {
        choices_[index].role_sent = true;
        delta["role"] = "assistant";
        delta["content"] = nullptr;
      }
      delta["tool_calls"] = Json::array({std::move(call)});
      send_chunk(index, std::move(delta), nullptr, nullptr, out);
    }
  }

  void finish(size_t index, const engine::FinishedEvent& f, std::string& out) {
    Choice& c = choices_[index];
    c.finished = true;
    const char* reason = openai_finish_reason(f.reason);
    Json delta = Json::object();
    Json logprobs = nullptr;
    if (ToolCallParser* parser = parsers_[index].get()) {
      if (c.held) emit_piece(index, *c.held, out);
      AssistantDelta d;
      if (auto e = parser->finish(d)) {
        abort(*e, out);
        return;
      }
      emit_delta(index, d, out);
      if (parser->called_tools()) reason = "tool_calls";
      send_role(index, out);
    } else {
      // The last token's text rides on the finish chunk (§3.5 example).
      if (c.held && !content_piece(*c.held).empty()) delta["content"] = content_piece(*c.held);
      logprobs = take_logprobs(index, c.held ? &*c.held : nullptr);
    }
    send_chunk(index, std::move(delta), std::move(logprobs), reason, out);
    if (++finished_count_ < choices_.size()) return;
    if (o_.include_usage) {
      Json chunk = object_header("chat.completion.chunk", o_.identity);
      chunk["choices"] = Json::array();
      chunk["usage"] = usage_json(summary_.prompt_tokens, summary_.generated_tokens);
      append_sse(out, dump(chunk));
    }
    end(out);
  }

  ChatRenderOptions o_;
  std::vector<Choice> choices_;
  std::vector<std::unique_ptr<ToolCallParser>> parsers_;  // per choice; null: plain content
  size_t finished_count_ = 0;
};

Json completion_choice(size_t index, const std::string& text, Json logprobs, Json finish_reason) {
  Json c = Json::object();
  c["index"] = index;
  c["text"] = text;
  c["logprobs"] = std::move(logprobs);
  c["finish_reason"] = std::move(finish_reason);
  return c;
}

// Legacy completions logprobs: parallel arrays over the generated tokens;
// text_offset counts bytes from the start of the choice's `text`.
struct LegacyLogprobs {
  Json tokens = Json::array();
  Json token_logprobs = Json::array();
  Json top_logprobs = Json::array();
  Json text_offset = Json::array();
  size_t offset = 0;
  double sum = 0.0;
  size_t count = 0;

  void add(const engine::TokenEvent& t) {
    const std::string& piece = content_piece(t);
    tokens.push_back(piece);
    token_logprobs.push_back(json_float(t.logprob));
    Json top = Json::object();
    for (const auto& alt : t.top)
      top[alt.special ? std::string() : alt.text] = json_float(alt.logprob);
    top_logprobs.push_back(std::move(top));
    text_offset.push_back(offset);
    offset += piece.size();
    sum += t.logprob;
    ++count;
  }
  double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
  Json json() const {
    Json l = Json::object();
    l["tokens"] = tokens;
    l["token_logprobs"] = token_logprobs;
    l["top_logprobs"] = top_logprobs;
    l["text_offset"] = text_offset;
    return l;
  }
};

class CompletionCollector final : public ResponseCollector {
 public:
  explicit CompletionCollector(CompletionRenderOptions o)
      : o_(std::move(o)), choices_(o_.prompts.size() * static_cast<size_t>(o_.best_of)) {
    if (o_.echo) {
      for (size_t i = 0; i < choices_.size(); ++i)
        choices_[i].logprobs.offset = o_.prompts[i / o_.best_of].size();
    }
  }

  void on_event(size_t source, const engine::Event& event) override {
    if (summary_.error || source >= o_.prompts.size()) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (Choice* c = choice(source, t->choice)) c->logprobs.add(*t);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      Choice* c = choice(source, f->choice);
      if (!c || c->finished) return;
      c->finished = *f;
      add_choice(summary_, *f);
      ++count_;
    } else if (const auto* e = std::get_if<engine::FailedEvent>(&event)) {
      summary_.error = failure_error(*e);
    }
  }

  bool done() const override { return summary_.error || count_ == choices_.size(); }

  ApiResult<std::string> body() override {
    if (summary_.error) return *summary_.error;
    if (!done()) return ApiError::of(ErrorKind::kIncomplete);
    Json choices = Json::array();
    const size_t best_of = static_cast<size_t>(o_.best_of);
    for (size_t p = 0; p < o_.prompts.size(); ++p) {
      std::vector<size_t> order(best_of);
      for (size_t k = 0; k < best_of; ++k) order[k] = p * best_of + k;
      // best_of: the n choices with the highest mean token logprob, best first.
      if (best_of > static_cast<size_t>(o_.n)) {
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return choices_[a].logprobs.mean() > choices_[b].logprobs.mean();
        });
      }
      for (size_t rank = 0; rank < static_cast<size_t>(o_.n); ++rank) {
        const Choice& c = choices_[order[rank]];
        std::string text = o_.echo ? o_.prompts[p] + c.finished->text : c.finished->text;
        choices.push_back(completion_choice(p * o_.n + rank, text,
                                            o_.logprobs ? c.logprobs.json() : Json(nullptr),
                                            openai_finish_reason(c.finished->reason)));
      }
    }
    Json response = object_header("text_completion", o_.identity);
    response["choices"] = std::move(choices);
    response["usage"] = usage_json(summary_.prompt_tokens, summary_.generated_tokens);
    return dump(response);
  }

 private:
  struct Choice {
    LegacyLogprobs logprobs;
    std::optional<engine::FinishedEvent> finished;
  };

  Choice* choice(size_t source, int32_t k) {
    if (k < 0 || k >= o_.best_of) return nullptr;
    return &choices_[source * static_cast<size_t>(o_.best_of) + static_cast<size_t>(k)];
  }

  CompletionRenderOptions o_;
  std::vector<Choice> choices_;
  size_t count_ = 0;
};

// Streaming needs best_of == n (api/ refuses the rest): index = prompt * n + choice.
class CompletionStream final : public OpenAiStream {
 public:
  explicit CompletionStream(CompletionRenderOptions o)
      : o_(std::move(o)), choices_(o_.prompts.size() * static_cast<size_t>(o_.n)) {}

  void start(std::string& out) override {
    if (!o_.echo) return;
    for (size_t i = 0; i < choices_.size(); ++i) {
      const std::string& prompt = o_.prompts[i / o_.n];
      choices_[i].offset = prompt.size();
      if (!prompt.empty()) send(completion_choice(i, prompt, nullptr, nullptr), nullptr, out);
    }
  }

  void on_event(size_t source, const engine::Event& event, std::string& out) override {
    if (done_ || source >= o_.prompts.size()) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      const size_t index = source * o_.n + static_cast<size_t>(t->choice);
      if (t->choice < 0 || t->choice >= o_.n || choices_[index].finished) return;
      if (t->last) {
        choices_[index].held = *t;
        return;
      }
      if (content_piece(*t).empty() && !o_.logprobs) return;
      send(completion_choice(index, content_piece(*t), token_logprobs(index, *t), nullptr), nullptr,
           out);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      const size_t index = source * o_.n + static_cast<size_t>(f->choice);
      if (f->choice < 0 || f->choice >= o_.n || choices_[index].finished) return;
      Choice& c = choices_[index];
      add_choice(summary_, *f);
      c.finished = true;
      std::string text = c.held ? content_piece(*c.held) : std::string();
      Json logprobs = c.held ? token_logprobs(index, *c.held) : Json(nullptr);
      // Usage per choice: its prompt counted with its first choice only.
      send(completion_choice(index, text, std::move(logprobs), openai_finish_reason(f->reason)),
           usage_json(f->choice == 0 ? f->prompt_tokens : 0, f->generated_tokens), out);
      if (++count_ == choices_.size()) end(out);
    } else {
      abort(failure_error(std::get<engine::FailedEvent>(event)), out);
    }
  }

 private:
  struct Choice {
    std::optional<engine::TokenEvent> held;
    size_t offset = 0;
    bool finished = false;
  };

  Json token_logprobs(size_t index, const engine::TokenEvent& t) {
    if (!o_.logprobs) return nullptr;
    LegacyLogprobs l;
    l.offset = choices_[index].offset;
    l.add(t);
    choices_[index].offset = l.offset;
    return l.json();
  }

  void send(Json choice, Json usage, std::string& out) {
    Json chunk = object_header("text_completion", o_.identity);
    chunk["choices"] = Json::array({std::move(choice)});
    chunk["usage"] = std::move(usage);
    append_sse(out, dump(chunk));
  }

  CompletionRenderOptions o_;
  std::vector<Choice> choices_;
  size_t count_ = 0;
};

CompletionRenderOptions plain_completion(OpenAiIdentity identity, size_t prompts) {
  CompletionRenderOptions o;
  o.identity = std::move(identity);
  o.prompts.resize(prompts);
  return o;
}

}  // namespace

std::unique_ptr<ResponseCollector> make_chat_collector(ChatRenderOptions options) {
  return std::make_unique<ChatCollector>(std::move(options));
}
std::unique_ptr<StreamRenderer> make_chat_stream(ChatRenderOptions options) {
  return std::make_unique<ChatStream>(std::move(options));
}
std::unique_ptr<ResponseCollector> make_completion_collector(CompletionRenderOptions options) {
  return std::make_unique<CompletionCollector>(std::move(options));
}
std::unique_ptr<StreamRenderer> make_completion_stream(CompletionRenderOptions options) {
  return std::make_unique<CompletionStream>(std::move(options));
}
std::unique_ptr<ResponseCollector> make_completion_collector(OpenAiIdentity identity,
                                                             size_t prompts) {
  return make_completion_collector(plain_completion(std::move(identity), prompts));
}
std::unique_ptr<StreamRenderer> make_completion_stream(OpenAiIdentity identity, size_t prompts) {
  return make_completion_stream(plain_completion(std::move(identity), prompts));
}

}  // namespace kiln::api
