// UTF-8 and Unicode helpers for the tokenizer: decoding, lossy repair with the
// same rule as Rust's String::from_utf8_lossy (one U+FFFD per maximal invalid
// subpart), the character classes Hugging Face `tokenizers` takes from Rust's
// `char` methods, and GPT-2's byte-to-character alphabet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::tokenizer::unicode {

inline constexpr char32_t kReplacement = 0xFFFD;

// Length of the UTF-8 sequence that starts with `lead` (1..4); 1 for bytes
// that cannot start one, so that scans over invalid text still advance.
inline int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Decodes one code point from VALID UTF-8 at `p`; returns its byte length.
inline int decode(const char* p, char32_t* cp) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (u[0] < 0x80) {
    *cp = u[0];
    return 1;
  }
  if (u[0] < 0xE0) {
    *cp = (char32_t(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    return 2;
  }
  if (u[0] < 0xF0) {
    *cp = (char32_t(u[0] & 0x0F) << 12) | (char32_t(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    return 3;
  }
  *cp = (char32_t(u[0] & 0x07) << 18) | (char32_t(u[1] & 0x3F) << 12) |
        (char32_t(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
  return 4;
}

void append(std::string& out, char32_t cp);
std::string encode(char32_t cp);

// Length of the valid sequence at s[i], or 0 when the bytes there are not one.
int valid_sequence_length(std::string_view s, size_t i);
bool is_valid(std::string_view s);
// Appends `bytes` to `out`, each maximal invalid subpart replaced by U+FFFD.
void append_lossy(std::string& out, std::string_view bytes);
// Number of trailing bytes of `s` that start a valid sequence but stop before
// its end (0..3): the bytes a streaming decoder must hold back.
size_t incomplete_tail(std::string_view s);

// Rust's char::is_whitespace (the White_Space property).
bool is_whitespace(char32_t c);
// Rust's char::is_numeric: general categories Nd, Nl, No.
bool is_numeric(char32_t c);
// Rust's char::is_alphanumeric: Alphabetic or numeric (letters, Nl, and the
// combining marks that are Other_Alphabetic are approximated by L* and Mc).
bool is_alphanumeric(char32_t c);
// ASCII punctuation or any P* category (tokenizers' is_punc).
bool is_punctuation(char32_t c);
// General category M* (unicode_normalization's is_combining_mark).
bool is_mark(char32_t c);
// Control characters BertNormalizer removes (Cc/Cf except \t \n \r).
bool is_control(char32_t c);
// CJK ideographs as BertNormalizer pads them.
bool is_chinese_char(char32_t c);

// GPT-2's reversible byte alphabet: every byte maps to a printable character
// (space -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A); all of them are below U+0144.
char32_t byte_to_char(uint8_t b);
// The byte for an alphabet character, or -1.
int char_to_byte(char32_t c);

}  // namespace kiln::tokenizer::unicode
