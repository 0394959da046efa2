// The public Template API: compile once, render many times.
#include "chat/jinja/interp.h"
#include "chat/jinja/jinja.h"
#include "chat/jinja/parser.h"

namespace kiln::jinja {

struct TemplateImpl {
  std::string source;
  Limits limits;
  ParsedTemplate parsed;
};

std::string_view Error::type_name() const {
  switch (kind) {
    case ErrorKind::kSyntax:
      return "TemplateSyntaxError";
    case ErrorKind::kAssertion:
      return "TemplateAssertionError";
    case ErrorKind::kTemplate:
      return "TemplateError";
    case ErrorKind::kUndefined:
      return "UndefinedError";
    case ErrorKind::kType:
      return "TypeError";
    case ErrorKind::kValue:
      return "ValueError";
    case ErrorKind::kSecurity:
      return "SecurityError";
    case ErrorKind::kZeroDivision:
      return "ZeroDivisionError";
    case ErrorKind::kOverflow:
      return "OverflowError";
    case ErrorKind::kRuntime:
      return "TemplateRuntimeError";
    case ErrorKind::kLimit:
      return "LimitExceeded";
  }
  return "Error";
}

std::string Error::describe() const { return std::string(type_name()) + ": " + message; }

Template::~Template() = default;

Expected<std::shared_ptr<const Template>> Template::compile(std::string source,
                                                            const Limits& limits) {
  auto impl = std::make_unique<TemplateImpl>();
  impl->source = std::move(source);
  impl->limits = limits;
  try {
    impl->parsed = parse(impl->source, impl->limits);
  } catch (const JinjaError& e) {
    return e.error;
  }
  std::shared_ptr<Template> t(new Template());
  t->impl_ = std::move(impl);
  return std::shared_ptr<const Template>(std::move(t));
}

Expected<std::string> Template::render(const Context& context) const {
  std::string out;
  out.reserve(4096);  // typical prompts; avoids the first few regrowths
  try {
    Interp interp(impl_->parsed, impl_->limits, context, &out);
    interp.run();
  } catch (const JinjaError& e) {
    return e.error;
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::kLimit, "out of memory while rendering", 0};
  } catch (const std::length_error&) {
    return Error{ErrorKind::kLimit, "string too long while rendering", 0};
  }
  return out;
}

bool Template::uses_variable(std::string_view name) const {
  auto it = impl_->parsed.symbol_ids.find(std::string(name));
  return it != impl_->parsed.symbol_ids.end() &&
         impl_->parsed.symbol_loaded[static_cast<size_t>(it->second)];
}

const Limits& Template::limits() const { return impl_->limits; }

}  // namespace kiln::jinja
