#include "sampling/grammar/compile.h"

#include <fmt/format.h>

#include "sampling/grammar/constraint_data.h"
#include "sampling/grammar/json_schema.h"
#include "sampling/grammar/regex.h"

namespace kiln::sampling::grammar {
namespace {

util::Result<std::shared_ptr<const Constraint>> bind(util::Result<Grammar> g,
                                                     std::shared_ptr<const Vocabulary> vocab,
                                                     std::string kind,
                                                     const CompileOptions& options) {
  if (!g.ok()) return g.error();
  if (!vocab) return util::make_error("no vocabulary");
  auto data = std::make_unique<ConstraintData>(std::move(vocab), std::move(*g), std::move(kind));
  data->precompute(options.precompute_masks);
  return std::shared_ptr<const Constraint>(std::make_shared<Constraint>(std::move(data)));
}

}  // namespace

util::Result<std::shared_ptr<const Constraint>> compile_json_schema(
    std::string_view schema, std::shared_ptr<const Vocabulary> vocab,
    const CompileOptions& options) {
  return bind(json_schema_grammar(schema, options.json, options.budget), std::move(vocab),
              "json_schema", options);
}

util::Result<std::shared_ptr<const Constraint>> compile_json_object(
    std::shared_ptr<const Vocabulary> vocab, const CompileOptions& options) {
  return bind(json_object_grammar(options.json, options.budget), std::move(vocab), "json", options);
}

util::Result<std::shared_ptr<const Constraint>> compile_regex(
    std::string_view pattern, std::shared_ptr<const Vocabulary> vocab,
    const CompileOptions& options) {
  constexpr size_t kMaxPatternBytes = 64 * 1024;
  if (pattern.size() > kMaxPatternBytes)
    return util::make_error(fmt::format("regex is longer than {} bytes", kMaxPatternBytes));
  auto expr = parse_regex(pattern, CharEncoding::kUtf8, RegexAnchoring::kFullMatch);
  if (!expr.ok()) return util::make_error("regex: " + expr.message());
  auto dfa = compile_expr(**expr, options.budget);
  if (!dfa.ok()) return util::make_error("regex is too complex: " + dfa.message());
  Grammar g;
  g.root = g.add_rule("regex");
  g.rules[0] = std::move(*dfa);
  auto st = finalize(g, "regex");
  if (!st.ok()) return util::make_error(st.message());
  return bind(std::move(g), std::move(vocab), "regex", options);
}

}  // namespace kiln::sampling::grammar
