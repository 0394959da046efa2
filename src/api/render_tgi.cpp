// Native TGI responses: /generate, POST / (§3.1, §3.2) and /generate_stream
// (§3.4), including in-band errors (§4.1).
#include <algorithm>
#include <cmath>
#include <variant>

#include "api/render_util.h"

namespace kiln::api {

namespace {

// What rendering needs from the validated request, copied: the engine request
// itself moves into the engine at submit.
struct RenderFacts {
  explicit RenderFacts(const ValidRequest& v)
      : inputs(v.return_full_text ? v.inputs : std::string()),
        return_full_text(v.return_full_text),
        details(v.details),
        decoder_input_details(v.decoder_input_details),
        sampled(v.sampled),
        top_n_tokens(v.top_n_tokens),
        best_of(v.best_of) {}
  std::string inputs;
  bool return_full_text;
  bool details;
  bool decoder_input_details;
  bool sampled;
  int32_t top_n_tokens;
  int32_t best_of;
};

struct Choice {
  std::vector<engine::TokenEvent> tokens;
  std::optional<engine::FinishedEvent> finished;
};

double mean_logprob(const Choice& c) {
  if (c.tokens.empty()) return -INFINITY;
  double sum = 0;
  for (const auto& t : c.tokens) sum += t.logprob;
  return sum / static_cast<double>(c.tokens.size());
}

class GenerateCollector final : public ResponseCollector {
 public:
  GenerateCollector(const ValidRequest& request, bool compat_array)
      : request_(request), compat_array_(compat_array), choices_(std::max(1, request.best_of)) {}

  void on_event(size_t, const engine::Event& event) override {
    if (summary_.error) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      if (auto* c = choice(t->choice)) c->tokens.push_back(*t);
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      if (auto* c = choice(f->choice); c && !c->finished) {
        c->finished = *f;
        add_finished(summary_, *f);
        ++finished_;
      }
    } else {
      summary_.error = failure_error(std::get<engine::FailedEvent>(event));
    }
  }

  bool done() const override {
    return summary_.error || finished_ == static_cast<int>(choices_.size());
  }

  ApiResult<std::string> body() override {
    if (summary_.error) return *summary_.error;
    if (!done()) return ApiError::of(ErrorKind::kIncomplete);
    // best_of: the winner has the highest mean token logprob (§3.1).
    size_t best = 0;
    for (size_t i = 1; i < choices_.size(); ++i) {
      if (mean_logprob(choices_[i]) > mean_logprob(choices_[best])) best = i;
    }
    Json response = Json::object();
    response["generated_text"] = full_text(choices_[best]);
    if (request_.details || request_.decoder_input_details) {
      Json details = sequence_json(choices_[best], /*nested=*/false);
      if (choices_.size() > 1) {
        Json others = Json::array();
        for (size_t i = 0; i < choices_.size(); ++i) {
          if (i != best) others.push_back(sequence_json(choices_[i], /*nested=*/true));
        }
        details["best_of_sequences"] = std::move(others);
      }
      response["details"] = std::move(details);
    }
    if (!compat_array_) return dump(response);
    Json array = Json::array();
    array.push_back(std::move(response));
    return dump(array);
  }

 private:
  Choice* choice(int32_t index) {
    if (index < 0 || static_cast<size_t>(index) >= choices_.size()) return nullptr;
    return &choices_[index];
  }

  std::string full_text(const Choice& c) const {
    return request_.return_full_text ? request_.inputs + c.finished->text : c.finished->text;
  }

  // `details` (nested=false) or one `best_of_sequences` entry (nested=true).
  Json sequence_json(const Choice& c, bool nested) const {
    const auto& f = *c.finished;
    Json d = Json::object();
    if (nested) d["generated_text"] = full_text(c);
    d["finish_reason"] = native_finish_reason(f.reason);
    d["generated_tokens"] = f.generated_tokens;
    d["seed"] = request_.sampled ? Json(f.seed) : Json(nullptr);
    Json prefill = Json::array();
    for (const auto& p : f.prefill) {
      Json t = Json::object();
      t["id"] = p.id;
      t["text"] = p.text;
      t["logprob"] = json_float(p.logprob);
      prefill.push_back(std::move(t));
    }
    d["prefill"] = std::move(prefill);
    Json tokens = Json::array();
    for (const auto& t : c.tokens)
      tokens.push_back(token_json(t.id, t.text + t.special_text, t.logprob, t.special));
    d["tokens"] = std::move(tokens);
    if (request_.top_n_tokens > 0) {
      Json top = Json::array();
      for (const auto& t : c.tokens) top.push_back(top_tokens_json(t.top));
      d["top_tokens"] = std::move(top);
    }
    return d;
  }

  const RenderFacts request_;
  bool compat_array_;
  std::vector<Choice> choices_;
  int finished_ = 0;
};

class GenerateStream final : public StreamRenderer {
 public:
  explicit GenerateStream(const ValidRequest& request) : request_(request) {}

  void start(std::string&) override {}

  void on_event(size_t, const engine::Event& event, std::string& out) override {
    if (done_) return;
    if (const auto* t = std::get_if<engine::TokenEvent>(&event)) {
      ++index_;
      if (t->last) {
        held_ = *t;  // rendered with the final details
        return;
      }
      append_sse(out, dump(stream_json(*t, nullptr, nullptr)));
    } else if (const auto* f = std::get_if<engine::FinishedEvent>(&event)) {
      add_finished(summary_, *f);
      if (!held_) {
        abort(ApiError::of(ErrorKind::kIncompleteStream), out);
        return;
      }
      Json text = request_.return_full_text ? request_.inputs + f->text : f->text;
      Json details = nullptr;
      if (request_.details) {
        details = Json::object();
        details["finish_reason"] = native_finish_reason(f->reason);
        details["generated_tokens"] = f->generated_tokens;
        details["seed"] = request_.sampled ? Json(f->seed) : Json(nullptr);
        details["input_length"] = f->prompt_tokens;
      }
      append_sse(out, dump(stream_json(*held_, std::move(text), std::move(details))));
      done_ = true;
    } else {
      abort(failure_error(std::get<engine::FailedEvent>(event)), out);
    }
  }

  bool done() const override { return done_; }

  void abort(const ApiError& error, std::string& out) override {
    if (done_) return;
    summary_.error = error;
    append_sse(out, render_tgi_error(error));
    done_ = true;
  }

  bool close_after_error() const override { return true; }

 private:
  Json stream_json(const engine::TokenEvent& t, Json generated_text, Json details) const {
    Json e = Json::object();
    e["index"] = index_;
    // As TGI: a special token shows its own text after any text it released.
    e["token"] = token_json(t.id, t.text + t.special_text, t.logprob, t.special);
    if (!t.top.empty()) e["top_tokens"] = top_tokens_json(t.top);
    e["generated_text"] = std::move(generated_text);
    e["details"] = std::move(details);
    return e;
  }

  const RenderFacts request_;
  int32_t index_ = 0;  // 1-based position of the current token
  std::optional<engine::TokenEvent> held_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ResponseCollector> make_generate_collector(const ValidRequest& request,
                                                           bool compat_array) {
  return std::make_unique<GenerateCollector>(request, compat_array);
}

std::unique_ptr<StreamRenderer> make_generate_stream(const ValidRequest& request) {
  return std::make_unique<GenerateStream>(request);
}

}  // namespace kiln::api
