// jinja2's builtin tests (jinja2/tests.py): `x is defined`, `x is string`, ...
#include "chat/jinja/builtins.h"
#include "chat/jinja/interp.h"

namespace kiln::jinja {

namespace {

#define KILN_JINJA_NAME(e, n) n,
constexpr const char* kTestNames[] = {KILN_JINJA_TESTS(KILN_JINJA_NAME)};
#undef KILN_JINJA_NAME

}  // namespace

int find_test(std::string_view name) {
  for (size_t i = 0; i < std::size(kTestNames); ++i)
    if (name == kTestNames[i]) return static_cast<int>(i);
  return -1;
}

bool Interp::apply_test(int id, const Value& v, Args& a) {
  auto tid = static_cast<TestId>(id);
  auto one = [&]() -> const Value& {
    if (a.pos.size() != 1 || !a.kw.empty())
      fail(ErrorKind::kType,
           std::string("test '") + kTestNames[id] + "' takes exactly one argument");
    return a.pos[0];
  };
  switch (tid) {
    case TestId::kBoolean:
      return v.is_bool();
    case TestId::kCallable:
      return v.type() == Type::kCallable ||
             (v.type() == Type::kObject && kobj(v)->kind == ObjKind::kLoop);
    case TestId::kDefined:
      return !v.is_undefined();
    case TestId::kUndefined:
      return v.is_undefined();
    case TestId::kDivisibleby: {
      const Value& n = one();
      Value m = binary(BinOp::kMod, v, n);
      return py_equal(m, Value::integer(0));
    }
    case TestId::kEq:
    case TestId::kEqualto:
    case TestId::kEqSym:
      return py_equal(v, one());
    case TestId::kNe:
    case TestId::kNeSym:
      return !py_equal(v, one());
    case TestId::kLt:
    case TestId::kLessthan:
    case TestId::kLtSym:
      return compare(CmpOp::kLt, v, one());
    case TestId::kLe:
    case TestId::kLeSym:
      return compare(CmpOp::kLe, v, one());
    case TestId::kGt:
    case TestId::kGreaterthan:
    case TestId::kGtSym:
      return compare(CmpOp::kGt, v, one());
    case TestId::kGe:
    case TestId::kGeSym:
      return compare(CmpOp::kGe, v, one());
    case TestId::kEscaped:
      return v.is_string() && v.is_safe();
    case TestId::kEven:
    case TestId::kOdd: {
      Value m = binary(BinOp::kMod, v, Value::integer(2));
      bool odd = py_equal(m, Value::integer(1));
      return tid == TestId::kOdd ? odd : !odd && py_equal(m, Value::integer(0));
    }
    case TestId::kFalse:
      return v.is_bool() && !v.as_bool();
    case TestId::kTrue:
      return v.is_bool() && v.as_bool();
    case TestId::kFilter:
      return v.is_string() && find_filter(v.str()) >= 0;
    case TestId::kTest:
      return v.is_string() && find_test(v.str()) >= 0;
    case TestId::kFloat:
      return v.is_float();
    case TestId::kInteger:
      return v.is_int();
    case TestId::kNumber:
      return v.is_number();
    case TestId::kIn:
      return contains(one(), v);
    case TestId::kIterable:
      return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
    case TestId::kSequence:
      return v.is_string() || is_sequence_list(v) || v.is_dict() || v.is_undefined();
    case TestId::kMapping:
      return v.is_dict();
    case TestId::kLower:
    case TestId::kUpper: {
      Args none;
      bool found = false;
      Value r = call_method(Value::string(to_str(v)), tid == TestId::kLower ? "islower" : "isupper",
                            none, &found);
      return truthy(r);
    }
    case TestId::kNone:
      return v.is_none();
    case TestId::kString:
      return v.is_string();
    case TestId::kSameas: {
      const Value& o = one();
      if (v.type() != o.type()) return false;
      switch (v.type()) {
        case Type::kNone:
        case Type::kUndefined:
          return v.is_none() || v.obj() == o.obj();
        case Type::kBool:
          return v.as_bool() == o.as_bool();
        case Type::kInt:
          return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
        case Type::kString:
          return v.obj() != nullptr && v.obj() == o.obj();
        default:
          return v.obj() == o.obj();
      }
    }
  }
  return false;
}

}  // namespace kiln::jinja
