#!/usr/bin/env python3
"""Reference verdicts for the constraint engine's tests (src/sampling/grammar).

Writes tests/data/grammar/json_schema_cases.json and regex_cases.json:
  - JSON Schema: for each schema, candidate texts (json.dumps of Python values in
    compact, spaced and indented styles, plus malformed texts) with the verdict
    of Python `jsonschema` (Draft 2020-12, format assertions on; formats
    date-time/time need `rfc3339-validator`). Where Kiln deliberately generates
    a stricter subset (properties in schema order, canonical number forms, no
    extra keys unless allowed, bounded whitespace), the case carries a `note`
    and `expect` differs from `jsonschema`; otherwise expect == jsonschema.
  - Regex: candidate strings with Python `re.fullmatch(pattern, s, re.ASCII)`,
    and patterns Kiln refuses with the word its error must contain.

Usage: .venv/bin/python scripts/make_grammar_goldens.py
"""
import importlib.metadata
import json
import pathlib
import re

import jsonschema

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "grammar"
VALIDATOR = jsonschema.Draft202012Validator
FORMATS = VALIDATOR.FORMAT_CHECKER
assert "date-time" in FORMATS.checkers, "pip install rfc3339-validator (requirements/dev.txt)"


def texts(value):
    """A value written the ways a model might: compact, spaced, indented."""
    out = [
        json.dumps(value, ensure_ascii=False, separators=(",", ":")),
        json.dumps(value, ensure_ascii=False),
        json.dumps(value, ensure_ascii=False, indent=2),
    ]
    return list(dict.fromkeys(out))


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")  # Python's json accepts NaN/Infinity


def verdict(schema, text):
    try:
        value = json.loads(text, parse_constant=reject_constant)
    except ValueError:
        return False
    return VALIDATOR(schema, format_checker=FORMATS).is_valid(value)


SCHEMAS = []


def case(name, schema, values=(), raw=(), stricter=()):
    """values: Python values; raw: literal texts; stricter: (text, note) that
    jsonschema accepts and Kiln rejects by design."""
    VALIDATOR.check_schema(schema)
    cases = []
    for v in values:
        for t in texts(v):
            ok = verdict(schema, t)
            cases.append({"text": t, "jsonschema": ok, "expect": ok})
    for t in raw:
        ok = verdict(schema, t)
        cases.append({"text": t, "jsonschema": ok, "expect": ok})
    for t, note in stricter:
        ok = verdict(schema, t)
        assert ok, (name, t)
        cases.append({"text": t, "jsonschema": True, "expect": False, "note": note})
    SCHEMAS.append({"name": name, "schema": schema, "cases": cases})


# --- type ------------------------------------------------------------------
case("type_string", {"type": "string"},
     ["", "hello", "quote \" and backslash \\", "tab\tnewline\n", "ünïcødé ✓ 😀", "\u0001", 3, None],
     raw=['"\\u00e9\\ud83d\\ude00"', '"\\/"', '"a\\x"', '"unterminated', '"raw\ncontrol"', "'single'",
          '"\\uD7FF\\uE000"', '"\\u12"'],
     stricter=[('"\\ud83d"', "lone-surrogate"), ('"\\ude00\\ud83d"', "lone-surrogate")])
case("type_integer", {"type": "integer"},
     [0, 7, -12, 12345678901234567890, 3.5, "1", True],
     raw=["-0", "01", "+1", "- 1", "1.5e0"],
     stricter=[("1.0", "number-form"), ("1e2", "number-form"), ("1e3", "number-form")])
case("type_number", {"type": "number"},
     [0, -1.5, 3.25, 1e20, 2.5e-8, 10, "x", None],
     raw=["1.", ".5", "1e", "1E+5", "-0.0", "0.50", "1.5e-3", "NaN", "Infinity", "00.1"])
case("type_boolean", {"type": "boolean"}, [True, False, 0, "true", None])
case("type_null", {"type": "null"}, [None, 0, "", False])
case("type_list", {"type": ["string", "null"]}, ["a", None, 1, False])
case("type_array", {"type": "array"}, [[], [1, "a", None, [2, {"k": []}]], {}, "[]"])
case("type_object", {"type": "object"},
     [{}, {"a": 1, "b": [True, None], "c": {"d": "e"}}, [], "{}"],
     raw=['{"a":1,}', '{"a" 1}', '{a:1}'])
case("empty_schema", {}, [None, 1, "s", [1, [2]], {"x": {"y": [3.5]}}], raw=["", "nul", "[1,]"])

# --- object keywords ---------------------------------------------------------
PERSON = {"type": "object",
          "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                         "email": {"type": "string"}},
          "required": ["name", "age"], "additionalProperties": False}
case("properties_required", PERSON,
     [{"name": "Ann", "age": 3}, {"name": "Ann", "age": 3, "email": "a@b"},
      {"name": "Ann"}, {"age": 3}, {"name": "Ann", "age": "3"}, {"name": "Ann", "age": 3, "x": 1}, {}],
     stricter=[('{"age":3,"name":"Ann"}', "order"),
               ('{"name":"Ann","age":3,"name":"Bob"}', "duplicate-key")])
case("properties_all_optional",
     {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"},
                                        "c": {"type": "null"}}, "additionalProperties": False},
     [{}, {"a": 1}, {"b": True}, {"c": None}, {"a": 1, "c": None}, {"a": 1, "b": False, "c": None},
      {"a": "1"}, {"d": 1}],
     stricter=[('{"c":null,"a":1}', "order")])
case("properties_middle_required",
     {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"},
                                        "c": {"type": "integer"}},
      "required": ["b"], "additionalProperties": False},
     [{"b": 1}, {"a": 1, "b": 2}, {"b": 2, "c": 3}, {"a": 1, "b": 2, "c": 3}, {"a": 1}, {"a": 1, "c": 3}, {}])
case("additional_properties_absent",
     {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
     [{"a": 1}, {"a": "x"}, {}],
     stricter=[('{"a":1,"b":2}', "extra-property")])
case("additional_properties_schema",
     {"type": "object", "properties": {"id": {"type": "integer"}},
      "additionalProperties": {"type": "string"}},
     [{}, {"id": 1}, {"id": 1, "x": "y"}, {"x": "y", "z": "w"}, {"id": 1, "x": 2}, {"x": 2}],
     stricter=[('{"x":"y","id":1}', "order")])
case("additional_properties_only", {"type": "object", "additionalProperties": {"type": "integer"}},
     [{}, {"a": 1, "b": 2}, {"a": "1"}, {"a": 1, "b": None}])
case("additional_properties_false_empty", {"type": "object", "additionalProperties": False},
     [{}, {"a": 1}])
case("required_undeclared", {"type": "object", "required": ["id"]},
     [{"id": 5}, {"id": {"x": [1]}}, {}],
     stricter=[('{"other":1,"id":5}', "order")])
case("property_name_escapes",
     {"type": "object", "properties": {"quote\"key": {"type": "integer"}, "ключ": {"type": "integer"}},
      "required": ["quote\"key", "ключ"], "additionalProperties": False},
     [{"quote\"key": 1, "ключ": 2}, {"ключ": 2}])

# --- enum / const -------------------------------------------------------------
case("enum_mixed", {"enum": ["red", "green", 3, None, True, [1, 2], {"k": "v"}]},
     ["red", "green", "blue", 3, 4, None, True, False, [1, 2], [2, 1], {"k": "v"}, {"k": "w"}])
case("enum_typed", {"type": "string", "enum": ["a", "b", 1]}, ["a", "b", 1, "c"])
case("const_object", {"const": {"a": [1, "x"], "b": None}},
     [{"a": [1, "x"], "b": None}, {"a": [1, "x"]}, {"a": [1, "x"], "b": 0}],
     stricter=[('{"b":null,"a":[1,"x"]}', "order")])
case("const_string", {"const": "fixed \"value\""}, ["fixed \"value\"", "fixed"])

# --- combinators ---------------------------------------------------------------
case("any_of", {"anyOf": [{"type": "integer", "minimum": 10}, {"type": "string", "maxLength": 2},
                          {"type": "null"}]},
     [10, 100, 9, "ab", "abc", None, True, []])
case("one_of_disjoint", {"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"},
                                                                     "x": {"type": "integer"}},
                                    "required": ["kind", "x"], "additionalProperties": False},
                                   {"type": "object", "properties": {"kind": {"const": "b"},
                                                                     "y": {"type": "string"}},
                                    "required": ["kind", "y"], "additionalProperties": False}]},
     [{"kind": "a", "x": 1}, {"kind": "b", "y": "s"}, {"kind": "a", "y": "s"}, {"kind": "c", "x": 1}])
case("all_of_merge", {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}},
                                 "required": ["a"]},
                                {"properties": {"a": {"minimum": 5}, "b": {"type": "string"}},
                                 "required": ["b"]}]},
     [{"a": 5, "b": "x"}, {"a": 4, "b": "x"}, {"a": 5}, {"b": "x"}, {"a": 6, "b": 1}],
     stricter=[('{"a":5,"b":"x","c":1}', "extra-property")])
# additionalProperties of one branch applies to the other branch's properties.
case("all_of_additional", {"allOf": [{"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
                                     {"properties": {"b": {"type": "string"}}}]},
     [{}, {"a": 1}, {"a": 1, "b": "x"}, {"b": "x"}, {"a": "1"}])
case("any_of_with_siblings", {"type": "object", "properties": {"n": {"type": "integer"}},
                              "required": ["n"], "additionalProperties": False,
                              "anyOf": [{"properties": {"n": {"maximum": 0}}},
                                        {"properties": {"n": {"minimum": 100}}}]},
     [{"n": -5}, {"n": 0}, {"n": 100}, {"n": 50}, {}])

# --- arrays ----------------------------------------------------------------------
case("items", {"type": "array", "items": {"type": "integer"}},
     [[], [1], [1, 2, 3], [1, "2"], ["a"]], raw=["[1,]", "[,1]", "[1 2]"])
case("min_max_items", {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
     [[], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]])
case("prefix_items", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                      "items": {"type": "boolean"}},
     [[], ["a"], ["a", 1], ["a", 1, True, False], [1, "a"], ["a", 1, 2]])
case("prefix_items_closed", {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "null"}],
                             "items": False, "minItems": 1},
     [[], [1], [1, None], [1, None, None], [None]])
case("array_of_objects", {"type": "array", "maxItems": 2,
                          "items": {"type": "object", "properties": {"id": {"type": "integer"}},
                                    "required": ["id"], "additionalProperties": False}},
     [[], [{"id": 1}], [{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}, {"id": 3}], [{}]])

# --- strings -------------------------------------------------------------------
case("min_max_length", {"type": "string", "minLength": 2, "maxLength": 4},
     ["", "a", "ab", "abcd", "abcde", "éé", "😀😀😀😀", "😀😀😀😀😀", "\n\t", "a\"b\\", "\u0007x"])
case("pattern_anchored", {"type": "string", "pattern": "^[a-z]+-[0-9]{2,3}$"},
     ["abc-12", "a-123", "abc-1", "abc-1234", "ABC-12", "-12"],
     # Python's `$` also matches before a final newline; ECMA-262's (JSON Schema's) does not.
     stricter=[(json.dumps("abc-12\n"), "ecma-dollar")])
case("pattern_search", {"type": "string", "pattern": "ab+c"},
     ["abc", "xxabbbcyy", "ac", "", "ab\"c", "zzabc"])
case("pattern_quote", {"type": "string", "pattern": "^\"[^\"]*\"$"}, ["\"q\"", "\"q", "q", "\"\""])
case("pattern_and_length", {"type": "string", "pattern": "^[0-9]+$", "minLength": 3, "maxLength": 5},
     ["12", "123", "12345", "123456", "12a"])

# --- numbers ---------------------------------------------------------------------
case("integer_range", {"type": "integer", "minimum": -15, "maximum": 27},
     [-16, -15, -9, -1, 0, 9, 10, 19, 20, 27, 28, 99, -100], raw=["-0"])
case("integer_negative_range", {"type": "integer", "minimum": -300, "maximum": -7},
     [-301, -300, -299, -100, -99, -10, -7, -6, 0, 7], raw=["-0", "-007"])
case("integer_exclusive", {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
     [0, 1, 50, 99, 100, -1])
case("integer_min_only", {"type": "integer", "minimum": 120}, [119, 120, 121, 199, 200, 1000, 99, -120])
case("integer_max_only", {"type": "integer", "maximum": -120}, [-119, -120, -121, -1000, 0, 5])
case("integer_fractional_bounds", {"type": "integer", "minimum": 1.5, "maximum": 4.5},
     [1, 2, 3, 4, 5])
case("number_range", {"type": "number", "minimum": -2.5, "maximum": 3.25},
     [-2.5, -2.6, -2.49, -1, 0, 0.5, 3.25, 3.2, 3.26, 3.3, 4, 2.999],
     raw=["3.250", "-2.50000", "3.2500001", "-0.0"],
     stricter=[("1e0", "number-form")])
case("number_exclusive", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
     [0, 0.0001, 0.5, 0.999, 1, 1.0001, -0.5], raw=["0.0", "1.000", "0.9999999"])
case("number_min_decimal", {"type": "number", "minimum": 0.05}, [0.05, 0.049, 0.051, 1, 0, 10.5])

# --- $ref / $defs ------------------------------------------------------------------
TREE = {"$defs": {"node": {"type": "object",
                           "properties": {"value": {"type": "integer"},
                                          "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                           "required": ["value"], "additionalProperties": False}},
        "$ref": "#/$defs/node"}
case("ref_recursive", TREE,
     [{"value": 1}, {"value": 1, "children": []},
      {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}, {"value": 4}]},
      {"value": 1, "children": [{"children": []}]}, {"children": []}])
case("ref_definitions", {"definitions": {"pos": {"type": "integer", "minimum": 1}},
                         "type": "object",
                         "properties": {"x": {"$ref": "#/definitions/pos"},
                                        "y": {"$ref": "#/definitions/pos"}},
                         "required": ["x"], "additionalProperties": False},
     [{"x": 1}, {"x": 1, "y": 2}, {"x": 0}, {"x": 1, "y": 0}])
case("ref_root_recursion", {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"$ref": "#"}]},
                            "maxItems": 3},
     [[], [1, [2, [3]]], [[[[]]]], [1, "a"], [1, 2, 3, 4]])

# --- formats -----------------------------------------------------------------------
case("format_date", {"type": "string", "format": "date"},
     ["2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "2024-04-31", "2024-12-31", "2024-13-01",
      "0000-01-01", "0001-01-01", "2024-1-1", "24-01-01"])
case("format_time", {"type": "string", "format": "time"},
     ["12:34:56Z", "23:59:59.123+02:00", "24:00:00Z", "12:34:56", "12:60:00Z", "01:02:03-23:59",
      "12:34:56z"])
case("format_date_time", {"type": "string", "format": "date-time"},
     ["2024-01-31T12:34:56Z", "2024-02-30T00:00:00Z", "2024-01-31 12:34:56Z", "2024-01-31t12:34:56.5-01:00",
      "2024-01-31T12:34:56"])
case("format_email", {"type": "string", "format": "email"},
     ["a@b.co", "first.last+tag@sub.example.org", "no-at-sign"],
     stricter=[('"plainaddress@"', "format-subset"), ('"a b@c.d"', "format-subset"),
               ('"x@y"', "format-subset")])
case("format_uuid", {"type": "string", "format": "uuid"},
     ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
      "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400", "g23e4567-e89b-12d3-a456-426614174000"])
case("format_ipv4", {"type": "string", "format": "ipv4"},
     ["192.168.0.1", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "0.0.0.0", "1.2.3.4.5"])
case("format_ipv6", {"type": "string", "format": "ipv6"},
     ["::", "::1", "1::", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
      "1:2:3:4:5:6:7:8:9", "12345::", "1::2::3", "g::1"],
     stricter=[('"::ffff:1.2.3.4"', "format-subset")])

# --- whitespace bound (Kiln allows at most 20 whitespace bytes per gap) --------------
case("whitespace", {"type": "object", "properties": {"a": {"type": "array"}}, "additionalProperties": False},
     raw=['{ "a" : [ 1 , 2 ] }', '{\n  "a": [\n    1\n  ]\n}', '{' + ' ' * 20 + '}', '{"a" :[]}'],
     stricter=[('{' + ' ' * 21 + '}', "whitespace-bound"), ('{"a":' + '\n' * 25 + '[]}', "whitespace-bound"),
               (" {}", "whitespace-edges"), ("{} ", "whitespace-edges"), ('{"a":[]}\n', "whitespace-edges")])


# --- regex (TGI grammar type "regex": whole-text match) ------------------------------
REGEXES = [
    (r"abc", ["abc", "ab", "abcd", ""]),
    (r"a|bc|", ["a", "bc", "", "b", "abc"]),
    (r"(ab)+c?", ["ab", "abab", "ababc", "c", "aba"]),
    (r"(?:x|y)*z", ["z", "xyxyz", "xy", "zz"]),
    (r"(?P<name>a)(?:b)", ["ab", "a"]),
    (r"[a-c0-2_]+", ["abc012_", "d", "", "a-b"]),
    (r"[^a-z\n]{2}", ["AB", "1!", "ab", "A\n", "ÄÖ"]),
    (r"[-a]", ["-", "a", "b"]),
    (r"[a-]", ["-", "a", "b"]),
    (r"[]a]", ["]", "a", "b"]),
    (r"[\]\\]", ["]", "\\", "a"]),
    (r"\d{3}-\d{2,}", ["123-45", "123-4567", "12-45", "123-4", "١٢٣-45"]),
    (r"\w+\s\W", ["ab_9 !", "ab \t", "é !"]),
    (r"\D\S", ["a!", "1!", "a "]),
    (r".", ["a", "\n", "é", "😀", ""]),
    (r"a.c", ["abc", "a\nc", "a😀c"]),
    (r"x{2}", ["xx", "x", "xxx"]),
    (r"x{2,}", ["x", "xx", "xxxxx"]),
    (r"x{,2}", ["", "x", "xx", "xxx"]),
    (r"x{1,3}?y", ["xy", "xxxy", "xxxxy"]),
    (r"x{", ["x{", "x"]),
    (r"a{2", ["a{2", "aa"]),
    (r"\x41\u00e9\n\t\.", ["Aé\n\t.", "Aé\n\tx"]),
    (r"é+ü?", ["é", "ééü", "ü"]),
    (r"[α-ω]+", ["αβγ", "ω", "a"]),
    (r"[😀-😂]", ["😀", "😁", "😂", "😃"]),
    (r"^start$", ["start", "^start$"]),
    (r"^a|b$", ["a", "b", "ab"]),
    (r"(a+)+$", ["aaaa", "aaaa!"]),
    (r"(a|aa)*b", ["aaaab", "b", "aaaa"]),
    (r"\{\}\[\]\(\)\*\+\?\|\^\$", ["{}[]()*+?|^$"]),
    (r"[\d.]+", ["1.2", ".", "a"]),
    (r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", ["0", "-12.5", "01", "1."]),
]
REFUSED = [
    (r"(a)\1", "backreference"),
    (r"a(?=b)", "lookaround"),
    (r"(?<=a)b", "lookaround"),
    (r"a(?!b)", "lookaround"),
    (r"\bword\b", "word boundar"),
    (r"(?i)abc", "inline flags"),
    (r"\p{L}", "property"),
    (r"a**", "multiple repeat"),
    (r"a{5,2}", "n < m"),
    (r"x{100001}", "limit"),
    (r"(abc", "missing ')'"),
    (r"abc)", "unbalanced"),
    (r"[abc", "missing ']'"),
    (r"[z-a]", "out of order"),
    (r"*a", "nothing to repeat"),
    (r"a^b", "'^'"),
    (r"a$b", "'$'"),
    (r"a*+", "possessive"),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "json_schema_cases.json").write_text(
        json.dumps({"generator": "scripts/make_grammar_goldens.py",
                    "reference": f"jsonschema {importlib.metadata.version('jsonschema')}",
                    "schemas": SCHEMAS}, ensure_ascii=False, indent=1) + "\n")
    regexes = []
    for pattern, strings in REGEXES:
        compiled = re.compile(pattern, re.ASCII)
        regexes.append({"pattern": pattern,
                        "cases": [{"text": s, "python": compiled.fullmatch(s) is not None} for s in strings]})
    for pattern, _ in REFUSED:
        try:
            re.compile(pattern, re.ASCII)
        except (re.error, OverflowError):
            pass  # also an error for Python: fine
    (OUT / "regex_cases.json").write_text(
        json.dumps({"generator": "scripts/make_grammar_goldens.py", "reference": "python re, ASCII mode",
                    "regexes": regexes, "refused": [{"pattern": p, "error": e} for p, e in REFUSED]},
                   ensure_ascii=False, indent=1) + "\n")
    n = sum(len(s["cases"]) for s in SCHEMAS)
    print(f"{len(SCHEMAS)} schemas, {n} JSON cases; {len(regexes)} regexes")


if __name__ == "__main__":
    main()
