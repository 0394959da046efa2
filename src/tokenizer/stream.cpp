#include "tokenizer/stream.h"

#include "tokenizer/impl.h"

namespace kiln::tokenizer {

namespace {
constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, Options options)
    : tokenizer_(&tokenizer), options_(options) {}

void StreamDecoder::prime(std::span<const TokenId> context) {
  window_.insert(window_.end(), context.begin(), context.end());
  n_context_ = window_.size();
  context_text_ = tokenizer_->decode(window_, options_.skip_special_tokens);
}

// Text is held back while it may still change: it ends in U+FFFD (an
// unfinished byte-level character), or the last token that survives skipping
// is a <0xNN> byte-fallback token (the run may go on, and the reference
// decodes a run as a whole).
bool StreamDecoder::held(const std::string& text) const {
  if (text.size() >= 3 && std::string_view(text).substr(text.size() - 3) == kReplacementUtf8)
    return true;
  const detail::TokenizerImpl& impl = *tokenizer_->impl_;
  if (!impl.decoder_byte_fallback) return false;
  for (size_t i = window_.size(); i-- > n_context_;) {
    const TokenId id = window_[i];
    if (const AddedToken* a = impl.added_token(id)) {
      if (options_.skip_special_tokens && a->special) continue;
      return false;
    }
    if (!impl.model || !impl.model->has_id(id)) continue;  // dropped by decode
    return parse_byte_token(impl.model->id_to_token(id)) >= 0;
  }
  return false;
}

std::string StreamDecoder::push(TokenId id) {
  window_.push_back(id);
  std::string text = tokenizer_->decode(window_, options_.skip_special_tokens);
  if (held(text)) return {};
  std::string delta;
  if (text.compare(0, context_text_.size(), context_text_) == 0) {
    delta = text.substr(context_text_.size());
  } else {
    // Not expected for the decoders Kiln knows; emit what differs.
    size_t common = 0;
    while (common < text.size() && common < context_text_.size() &&
           text[common] == context_text_[common])
      ++common;
    delta = text.substr(common);
  }
  // The new context: the shortest tail of the window whose text is not
  // empty, so that decoders acting on the start of the text (Strip, the
  // metaspace of the first token) see the same start as in one decode.
  size_t keep = window_.size();
  std::string keep_text = std::move(text);
  for (size_t k = 1; k < window_.size(); ++k) {
    std::string tail =
        tokenizer_->decode(std::span<const TokenId>(window_).subspan(window_.size() - k),
                           options_.skip_special_tokens);
    if (!tail.empty()) {
      keep = k;
      keep_text = std::move(tail);
      break;
    }
  }
  window_.erase(window_.begin(), window_.end() - std::ptrdiff_t(keep));
  n_context_ = window_.size();
  context_text_ = std::move(keep_text);
  return delta;
}

std::string StreamDecoder::finish() {
  if (window_.size() == n_context_) return {};
  std::string text = tokenizer_->decode(window_, options_.skip_special_tokens);
  std::string delta = text.compare(0, context_text_.size(), context_text_) == 0
                          ? text.substr(context_text_.size())
                          : text;
  n_context_ = window_.size();
  context_text_ = std::move(text);
  return delta;
}

}  // namespace kiln::tokenizer
