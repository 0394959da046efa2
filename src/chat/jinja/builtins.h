// Names of jinja2's builtin filters, tests and globals, in table order: the
// parser turns a name into an index, the interpreter switches on the enum.
#pragma once

namespace kiln::jinja {

// X(enum, "name"). Aliases (d, e, count, ...) are separate rows.
#define KILN_JINJA_FILTERS(X)                                                                      \
  X(kAbs, "abs")                                                                                   \
  X(kAttr, "attr")                                                                                 \
  X(kBatch, "batch")                                                                               \
  X(kCapitalize, "capitalize") X(kCenter, "center") X(kCount, "count") X(kD, "d") X(               \
      kDefault, "default") X(kDictsort, "dictsort") X(kE, "e") X(kEscape, "escape")                \
      X(kFilesizeformat, "filesizeformat") X(kFirst, "first") X(kFloat, "float") X(                \
          kForceescape, "forceescape") X(kFormat, "format") X(kGroupby, "groupby")                 \
          X(kIndent, "indent") X(kInt, "int") X(kItems, "items") X(kJoin, "join") X(kLast, "last") \
              X(kLength, "length") X(kList, "list") X(kLower, "lower") X(kMap, "map")              \
                  X(kMax, "max") X(kMin, "min") X(kPprint, "pprint") X(kRandom, "random")          \
                      X(kReject, "reject") X(kRejectattr, "rejectattr") X(kReplace, "replace")     \
                          X(kReverse, "reverse") X(kRound, "round") X(kSafe, "safe")               \
                              X(kSelect, "select") X(kSelectattr, "selectattr") X(kSlice, "slice") \
                                  X(kSort, "sort") X(kString, "string") X(kStriptags, "striptags") \
                                      X(kSum, "sum") X(kTitle, "title") X(kTojson, "tojson")       \
                                          X(kTrim, "trim") X(kTruncate, "truncate")                \
                                              X(kUnique, "unique") X(kUpper, "upper")              \
                                                  X(kUrlencode, "urlencode") X(kUrlize, "urlize")  \
                                                      X(kWordcount, "wordcount")                   \
                                                          X(kWordwrap, "wordwrap")                 \
                                                              X(kXmlattr, "xmlattr")

#define KILN_JINJA_TESTS(X)                                                                       \
  X(kBoolean, "boolean")                                                                          \
  X(kCallable, "callable")                                                                        \
  X(kDefined, "defined")                                                                          \
  X(kDivisibleby, "divisibleby") X(kEq, "eq") X(kEqualto, "equalto") X(kEqSym, "==")              \
      X(kEscaped, "escaped") X(kEven, "even") X(kFalse, "false") X(kFilter, "filter")             \
          X(kFloat, "float") X(kGe, "ge") X(kGeSym, ">=") X(kGt, "gt")                            \
              X(kGreaterthan, "greaterthan") X(kGtSym, ">") X(kIn, "in") X(kInteger, "integer")   \
                  X(kIterable, "iterable") X(kLe, "le") X(kLeSym, "<=") X(kLower, "lower")        \
                      X(kLt, "lt") X(kLessthan, "lessthan") X(kLtSym, "<") X(kMapping, "mapping") \
                          X(kNe, "ne") X(kNeSym, "!=") X(kNone, "none") X(kNumber, "number")      \
                              X(kOdd, "odd") X(kSameas, "sameas") X(kSequence, "sequence")        \
                                  X(kString, "string") X(kTest, "test") X(kTrue, "true")          \
                                      X(kUndefined, "undefined") X(kUpper, "upper")

#define KILN_JINJA_ENUM(e, n) e,
enum class FilterId : int { KILN_JINJA_FILTERS(KILN_JINJA_ENUM) };
enum class TestId : int { KILN_JINJA_TESTS(KILN_JINJA_ENUM) };
#undef KILN_JINJA_ENUM

}  // namespace kiln::jinja
