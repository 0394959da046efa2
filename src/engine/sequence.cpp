#include "engine/sequence.h"

#include "sampling/rng.h"

namespace kiln::engine {

namespace {

// Choice k samples with its own seed, the one its FinishedEvent reports.
sampling::SamplingParams choice_sampling(sampling::SamplingParams p, int32_t choice) {
  p.seed = sampling::choice_seed(p.seed, static_cast<uint32_t>(choice));
  return p;
}

}  // namespace

Sequence::Sequence(ActiveRequest& request, int32_t choice, const tokenizer::Tokenizer& tokenizer,
                   std::span<const int32_t> eos_ids)
    : request_(&request),
      choice_(choice),
      // 16 bits of choice index: api/ caps n far below 65536 and the engine
      // refuses more (engine_impl.cpp, check_request).
      order_(request.id << 16 | static_cast<uint64_t>(choice)),
      tokens_(request.request.prompt),
      sampling_({.sampling = choice_sampling(request.request.sampling, choice),
                 .logprobs = request.request.logprobs,
                 .prompt = request.request.prompt}),
      stop_(request.request.stop, eos_ids),
      decoder_(tokenizer) {
  // The prompt's last token gives the decoder its context, so the first
  // generated piece keeps its leading space (TGI decodes it with one prompt
  // token in front, too).
  const auto& prompt = request.request.prompt;
  if (!prompt.empty()) decoder_.prime(std::span<const int32_t>(prompt).last(1));
  if (request.request.constraint) matcher_.emplace(request.request.constraint);
}

int64_t Sequence::n_prompt() const { return static_cast<int64_t>(request_->request.prompt.size()); }

sampling::StopReason Sequence::append(int32_t token, std::string& emit) {
  tokens_.push_back(token);
  const std::string delta = decoder_.push(token);
  const sampling::StopReason reason = stop_.update(token, delta, emit);
  if (reason != sampling::StopReason::kNone && reason != sampling::StopReason::kStopSequence) {
    stop_.flush(emit);
    emit += decoder_.finish();
  }
  text_ += emit;
  return reason;
}

}  // namespace kiln::engine
