// The Jinja2 engine: templates compiled once, rendered many times, byte-exact
// with Python's jinja2 as Hugging Face transformers configures it for chat
// templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, {% generation %}, json.dumps-style tojson, raise_exception,
// strftime_now). It knows nothing about models, HTTP or JSON requests.
//
// Thread safety: a compiled Template is immutable; render() may run on many
// threads at once. A Context (and the Values in it) belongs to one render.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chat/jinja/value.h"

namespace kiln::jinja {

// What went wrong, named after the Python exception jinja2 would raise.
enum class ErrorKind {
  kSyntax,        // TemplateSyntaxError (compile time)
  kAssertion,     // TemplateAssertionError: unknown filter/test (compile time)
  kTemplate,      // TemplateError: raise_exception(message)
  kUndefined,     // UndefinedError
  kType,          // TypeError
  kValue,         // ValueError
  kSecurity,      // SecurityError: mutating method in the immutable sandbox
  kZeroDivision,  // ZeroDivisionError
  kOverflow,      // OverflowError (integers beyond 64 bits, huge ranges)
  kRuntime,       // TemplateRuntimeError
  kLimit,         // a Limits bound was exceeded (Kiln's own)
};

struct Error {
  ErrorKind kind = ErrorKind::kRuntime;
  std::string message;  // without the type prefix, e.g. the raise_exception text
  int line = 0;         // template line, 0 when unknown
  // "TypeError", "TemplateError", ... (what Python would print before ": ").
  std::string_view type_name() const;
  // "<type_name>: <message>", the form of the goldens' expected_error.
  std::string describe() const;
};

// A value or a jinja Error (util::Result keeps only a message; callers here
// need the kind to choose the HTTP error type).
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Bounds that keep a hostile template from hanging or exhausting the server.
// Each exceeded bound is an ErrorKind::kLimit error naming it.
struct Limits {
  // Rendered text, and any single string built while rendering.
  size_t max_output_bytes = 16u << 20;
  // for-loop iterations plus items produced or visited by filters, range(),
  // list/string repetition, over the whole render.
  uint64_t max_loop_iterations = 2'000'000;
  // Nested macro/caller calls and recursive loops; also the nesting of values
  // printed, compared or serialised.
  int max_recursion_depth = 200;
  // Compile time: nesting of blocks and expressions in the source.
  int max_nesting_depth = 200;
};

// The variables of one render. Globals (range, namespace, raise_exception,
// strftime_now, ...) are always defined and may be shadowed.
class Context {
 public:
  void set(std::string name, Value value) { vars_.emplace_back(std::move(name), std::move(value)); }
  // Frozen clock for strftime_now(), as naive local time (tm_year etc. as in
  // <ctime>; tm_wday/tm_yday are recomputed). Unset: the local time.
  void set_now(const std::tm& local_time) { now_ = local_time; }
  const std::vector<std::pair<std::string, Value>>& vars() const { return vars_; }
  const std::optional<std::tm>& now() const { return now_; }

 private:
  std::vector<std::pair<std::string, Value>> vars_;
  std::optional<std::tm> now_;
};

struct TemplateImpl;

class Template {
 public:
  // Parses `source` (a copy is kept). Errors: kSyntax, kAssertion, kLimit.
  static Expected<std::shared_ptr<const Template>> compile(std::string source,
                                                           const Limits& limits = {});

  // Renders with `context`. Safe to call from many threads at once.
  Expected<std::string> render(const Context& context) const;

  // Whether the template reads the variable `name` anywhere (e.g. "tools").
  bool uses_variable(std::string_view name) const;

  const Limits& limits() const;
  ~Template();

 private:
  Template() = default;
  std::unique_ptr<TemplateImpl> impl_;
};

}  // namespace kiln::jinja
