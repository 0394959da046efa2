#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/unicode.h"

namespace kiln::tokenizer {

namespace {

// Oniguruma's \s for Unicode text: the White_Space property.
constexpr std::string_view kSpaceSet =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";
// Oniguruma's \w: Alphabetic, marks, decimal digits, connector punctuation.
constexpr std::string_view kWordSet = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
constexpr std::string_view kHexSet = "0-9a-fA-F";

// Per-thread matching state: PCRE2 match data (one ovector pair is enough,
// we only read the whole match) and a JIT stack larger than the 32 KiB
// default so that long runs (1000 spaces against \s+(?!\S)) never fail.
struct ThreadState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    if (context && stack) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~ThreadState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

}  // namespace

namespace {

// General categories (and "Any"): every other \p{Name} of a tokenizer regex
// is a script, which Oniguruma matches by the Script property, while PCRE2's
// \p{Name} uses Script_Extensions (U+3002 "。" is then Han too); \p{sc:Name}
// is PCRE2's Script-only form.
bool is_category_name(std::string_view n) {
  static constexpr std::string_view kNames[] = {
      "L",  "Lu", "Ll", "Lt", "Lm", "Lo", "L&", "M",  "Mn",  "Mc",  "Me",  "N",   "Nd",  "Nl", "No",
      "P",  "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S",   "Sm",  "Sc",  "Sk",  "So",  "Z",  "Zs",
      "Zl", "Zp", "C",  "Cc", "Cf", "Cs", "Co", "Cn", "Any", "Xan", "Xps", "Xsp", "Xwd", "Xuc"};
  for (std::string_view k : kNames)
    if (n == k) return true;
  return n.find_first_of("=:") != std::string_view::npos;
}

}  // namespace

std::string rewrite_oniguruma_pattern(std::string_view p, bool scripts_by_sc) {
  std::string out;
  out.reserve(p.size() + 64);
  int class_depth = 0;  // inside [...] (nested classes are Oniguruma syntax)
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      std::string_view set;
      bool negate = false;
      switch (e) {
        case 's':
          set = kSpaceSet;
          break;
        case 'S':
          set = kSpaceSet;
          negate = true;
          break;
        case 'w':
          set = kWordSet;
          break;
        case 'W':
          set = kWordSet;
          negate = true;
          break;
        case 'h':
          set = kHexSet;
          break;
        case 'H':
          set = kHexSet;
          negate = true;
          break;
        default:
          break;
      }
      if ((e == 'p' || e == 'P') && scripts_by_sc && i + 2 < p.size() && p[i + 2] == '{') {
        const size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          std::string_view name = p.substr(i + 3, close - i - 3);
          const bool caret = !name.empty() && name[0] == '^';
          if (caret) name.remove_prefix(1);
          out += '\\';
          out += e;
          out += caret ? "{^" : "{";
          if (!name.empty() && !is_category_name(name)) out += "sc:";
          out += name;
          out += '}';
          i = close;
          continue;
        }
      }
      if (!set.empty() && (class_depth == 0 || !negate)) {
        if (class_depth == 0) out += negate ? "[^" : "[";
        out += set;
        if (class_depth == 0) out += "]";
        ++i;
        continue;
      }
      out += c;
      out += e;
      ++i;
      continue;
    }
    if (c == '[') {
      // "[" opens a class; inside one, only "[:" (POSIX) or a nested "[" does.
      if (class_depth == 0 || (i + 1 < p.size() && p[i + 1] != ':')) {
        ++class_depth;
        out += c;
        // A "]" right after "[" or "[^" is a literal.
        if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
        if (i + 1 < p.size() && p[i + 1] == ']') {
          out += "\\]";
          ++i;
        }
        continue;
      }
      // POSIX bracket [:name:] inside a class: copy through to ":]".
      const size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(p.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

util::Result<std::unique_ptr<Regex>> Regex::compile(std::string_view pattern) {
  std::unique_ptr<Regex> re(new Regex());
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = nullptr;
  // First with scripts as \p{sc:Name}; a name PCRE2 does not know that way
  // (a long category name such as \p{Letter}) compiles as written.
  for (bool scripts_by_sc : {true, false}) {
    re->pattern_ = rewrite_oniguruma_pattern(pattern, scripts_by_sc);
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re->pattern_.data()), re->pattern_.size(),
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK, &error,
                         &offset, nullptr);
    if (code) break;
  }
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return util::make_error("regex /" + std::string(pattern) + "/ does not compile at offset " +
                            std::to_string(offset) + ": " + reinterpret_cast<const char*>(message));
  }
  re->code_ = code;
  re->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return re;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

size_t Regex::next_char_len(std::string_view s, size_t i) {
  return static_cast<size_t>(unicode::sequence_length(static_cast<unsigned char>(s[i])));
}

bool Regex::find(std::string_view subject, size_t start, size_t* match_start,
                 size_t* match_end) const {
  if (start > subject.size()) return false;
  ThreadState& ts = thread_state();
  auto* code = static_cast<pcre2_code*>(code_);
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc;
  if (jit_) {
    rc = pcre2_jit_match(code, text, subject.size(), start, 0, ts.data, ts.context);
  } else {
    rc = pcre2_match(code, text, subject.size(), start, PCRE2_NO_UTF_CHECK, ts.data, ts.context);
  }
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ts.data);
  *match_start = ov[0];
  *match_end = ov[1];
  // \K or look-behind tricks can report an end before the start; treat that
  // as no match rather than walking backwards.
  return *match_end >= *match_start;
}

}  // namespace kiln::tokenizer
