// Decoders of tokenizer.json ("decoder"): they turn the list of token strings
// of an id sequence into text, as the reference's decode_chain does.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kiln::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
  // Rewrites one token string into the bytes it stands for, per token only
  // (no Fuse/Strip effects): "Ġhi" -> " hi", "▁hi" -> " hi", "<0x0A>" -> "\n".
  virtual void token_bytes(std::string& token) const { (void)token; }
};

std::unique_ptr<Decoder> make_byte_level_decoder();
std::unique_ptr<Decoder> make_byte_fallback_decoder();
std::unique_ptr<Decoder> make_fuse_decoder();
std::unique_ptr<Decoder> make_strip_decoder(char32_t content, size_t start, size_t stop);
std::unique_ptr<Decoder> make_replace_decoder(std::string pattern, std::string content);
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, bool strip_first);
std::unique_ptr<Decoder> make_wordpiece_decoder(std::string prefix, bool cleanup);
std::unique_ptr<Decoder> make_sequence_decoder(std::vector<std::unique_ptr<Decoder>> steps);

// "<0xNN>" (upper or lower hex) -> NN, else -1.
int parse_byte_token(std::string_view token);

}  // namespace kiln::tokenizer
