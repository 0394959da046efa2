"""Python jinja2 configured the way transformers compiles chat templates.

Mirrors transformers.utils.chat_template_utils._compile_jinja_template as the
shared goldens describe it (../shared/data/chat-templates/README.md):
ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks, loopcontrols,
{% generation %}), tojson = json.dumps(ensure_ascii=False, ...),
raise_exception, strftime_now with a frozen clock. Used by our golden
generator and by the chat-template benchmark.
"""
import datetime
import json

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

FROZEN_NOW = datetime.datetime(2025, 1, 5, 9, 7, 3)


class GenerationTag(Extension):
    """{% generation %}...{% endgeneration %} renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_passthrough"), [], [], body).set_lineno(lineno)

    def _passthrough(self, caller):
        return caller()


def make_env(now=FROZEN_NOW):
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols]
    )

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def strftime_now(fmt):
        return (now or datetime.datetime.now()).strftime(fmt)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render_case(env, template_src, case):
    """Renders like apply_chat_template(messages, tools=..., add_generation_prompt=..., **extra).

    Returns ("text", str) or ("error", "<Type>: <message>").
    """
    ctx = {}
    if case.get("bos_token") is not None:
        ctx["bos_token"] = case["bos_token"]
    if case.get("eos_token") is not None:
        ctx["eos_token"] = case["eos_token"]
    extra = dict(case.get("extra") or {})
    documents = extra.pop("documents", None)
    ctx.update(extra)
    ctx.update(messages=case["messages"], tools=case.get("tools"), documents=documents,
               add_generation_prompt=bool(case.get("add_generation_prompt", False)))
    try:
        return "text", env.from_string(template_src).render(**ctx)
    except Exception as e:  # the golden records the failure
        return "error", f"{type(e).__name__}: {e}"
