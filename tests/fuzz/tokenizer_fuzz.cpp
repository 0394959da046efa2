// Arbitrary bytes through the tokenizers (src/tokenizer): encode (with and
// without offsets), decode, decode of arbitrary ids, and the streaming
// decoder. Besides not crashing, checks invariants: offsets inside the
// (repaired) input, and streamed text == one-shot decode.
// Tokenizers: llama2 (SentencePiece BPE, byte fallback; committed) and a small
// byte-level one (llama3's pipeline + NFC + flagged added tokens; committed).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/stream.h"
#include "tokenizer/tokenizer.h"

namespace {

using kiln::tokenizer::StreamDecoder;
using kiln::tokenizer::TokenId;
using kiln::tokenizer::Tokenizer;

std::vector<std::unique_ptr<Tokenizer>> load() {
  std::vector<std::unique_ptr<Tokenizer>> out;
  for (const char* name : {"llama2.tokenizer.json", "tiny_bytelevel.tokenizer.json"}) {
    auto t = Tokenizer::load(std::string(KILN_TOKENIZER_DATA_DIR) + "/" + name);
    if (!t.ok()) __builtin_trap();  // the committed files must load
    out.push_back(std::make_unique<Tokenizer>(std::move(t.value())));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto tokenizers = load();
  if (size > 4096) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& tok : tokenizers) {
    const auto ids = tok->encode(text, true);
    const auto e = tok->encode_with_offsets(text, false);
    if (e.offsets.size() != e.ids.size() || e.tokens.size() != e.ids.size()) __builtin_trap();
    // Repair can turn one invalid byte into three (U+FFFD).
    for (const auto& o : e.offsets)
      if (o.start > o.stop || o.stop > 3 * size) __builtin_trap();
    for (bool skip : {false, true}) {
      const std::string once = tok->decode(ids, skip);
      StreamDecoder stream(*tok, {.skip_special_tokens = skip});
      std::string streamed;
      for (TokenId id : ids) streamed += stream.push(id);
      streamed += stream.finish();
      if (streamed != once) __builtin_trap();
    }
    // The bytes as ids (including out-of-range and negative ones).
    std::vector<TokenId> raw(size / 4);
    if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * 4);
    for (TokenId& id : raw) id %= TokenId(tok->vocab_size() + 8);
    const std::string once = tok->decode(raw, false);
    StreamDecoder stream(*tok, {.skip_special_tokens = false});
    std::string streamed;
    for (TokenId id : raw) streamed += stream.push(id);
    streamed += stream.finish();
    if (streamed != once) __builtin_trap();
  }
  return 0;
}
