"""`kiln template render` end to end: every shared chat-template golden case, fed as
JSON Lines per template, must come back byte for byte ({"text"} or {"error"})."""
import collections
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "..", "shared", "data", "chat-templates", "templates")
CASES = os.path.join(ROOT, "tests", "data", "chat", "cases.jsonl")
FIELDS = ("messages", "tools", "add_generation_prompt", "bos_token", "eos_token", "extra")


def load_cases():
    with open(CASES, "rb") as f:
        return [json.loads(line) for line in f.read().split(b"\n") if line]


@pytest.mark.skipif(not os.path.isdir(TEMPLATES), reason="needs ../shared/data/chat-templates (never committed)")
def test_template_render_matches_goldens():
    kiln = os.environ.get("KILN_BIN", os.path.join(ROOT, "build", "kiln"))
    by_template = collections.defaultdict(list)
    for case in load_cases():
        by_template[case["template"]].append(case)
    failures = []
    for name, cases in sorted(by_template.items()):
        lines = "".join(json.dumps({k: c[k] for k in FIELDS}, ensure_ascii=False) + "\n" for c in cases)
        out = subprocess.run([kiln, "template", "render", "--template", os.path.join(TEMPLATES, name),
                              "--now", "2025-01-05T09:07:03"],
                             input=lines.encode(), capture_output=True, check=True, timeout=120).stdout
        results = [json.loads(line) for line in out.decode().split("\n") if line]
        assert len(results) == len(cases), name
        for case, got in zip(cases, results):
            if "expected" in case:
                ok = got.get("text") == case["expected"]
            else:
                want = case["expected_error"]
                ok = "error" in got and (not want.startswith("TemplateError: ") or got["error"] == want)
            if not ok:
                failures.append(case["id"])
    assert failures == []


def test_template_render_reports_bad_lines():
    kiln = os.environ.get("KILN_BIN", os.path.join(ROOT, "build", "kiln"))
    tmpl = os.path.join(ROOT, "tests", "data", "chat", "cli_template.jinja")
    lines = ('{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true}\n'
             "not json\n"
             '{"messages": [{"role": "user", "content": "x"}], "bos_token": null, "extra": {"stop": 1}}\n')
    out = subprocess.run([kiln, "template", "render", "--template", tmpl], input=lines.encode(),
                         capture_output=True, check=True, timeout=60).stdout.decode().splitlines()
    assert [json.loads(line) for line in out] == [
        {"text": "<s>user:hi|gen"},
        {"error": "invalid input line: expected a JSON object"},
        {"error": "TemplateError: stop requested"},
    ]
