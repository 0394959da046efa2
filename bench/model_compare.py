#!/usr/bin/env python3
"""Model-level speed, Kiln beside llama.cpp in one script (llama-bench style).

For each GGUF and thread count:
  * prefill: tokens/s of one p-token prompt (random ids) in one batch;
  * decode:  tokens/s of n single-token steps on a fresh context;
llama.cpp through llama-cpp-python (its own CPU build, weights repacked as a
normal model load does), Kiln through `kiln bench --json` with the same
arguments. Each side runs --reps times; the sides alternate so they share the
machine's noise, and we report the best and the median of each.

With 1 thread the times are process CPU time (this machine is shared by
several engineers compiling; CPU time ignores preemption); with more threads
wall time. Use --wall to force wall time everywhere.

  .venv/bin/python bench/model_compare.py --kiln build-quant/kiln \\
      --models ~/.cache/kiln-bench/llama-0.5b-q4_0.gguf -p 512 -n 128 -t 1 2 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def llama_cpp_run(model, p, n, threads, use_cpu_time):
    import llama_cpp
    import numpy as np

    llm = llama_cpp.Llama(model_path=str(model), n_ctx=p + n + 16, n_batch=p, n_ubatch=p,
                          n_threads=threads, n_threads_batch=threads, verbose=False,
                          use_mmap=True, logits_all=False)
    vocab = llm.n_vocab()
    rng = np.random.default_rng(0)
    prompt = [int(t) for t in rng.integers(3, vocab, p)]
    clock = time.process_time if use_cpu_time else time.perf_counter
    scale = 1.0 / threads if use_cpu_time else 1.0

    def prefill():
        llm.reset()  # eval() drops the KV cells past n_tokens (0)
        t0 = clock()
        llm.eval(prompt)
        return (clock() - t0) * scale

    def decode():
        llm.reset()  # eval() drops the KV cells past n_tokens (0)
        tok = 1
        t0 = clock()
        for _ in range(n):
            llm.eval([tok])
            tok = int(rng.integers(3, vocab))
        return (clock() - t0) * scale

    prefill()  # warm-up: page in the weights, repack
    result = {"prefill_s": prefill(), "decode_s": decode()}
    del llm
    return result


def kiln_run(kiln, model, p, n, threads, use_cpu_time):
    cmd = [kiln, "bench", "--model", str(model), "-p", str(p), "-n", str(n), "-t", str(threads),
           "-r", "1", "--json"]
    if use_cpu_time:
        cmd.append("--cpu-time")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    pre = [r for r in rows if r.get("test") == "prefill"][0]
    dec = [r for r in rows if r.get("test") == "decode"][0]
    return {"prefill_s": p / pre["tokens_per_s"], "decode_s": n / dec["tokens_per_s"]}


def summarize(times, count):
    rates = sorted(count / t for t in times)
    return max(rates), statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--kiln", help="kiln binary (omit to measure llama.cpp only)")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()

    results = []
    print(f"{'model':28} {'thr':>3} {'test':8} {'kiln best/med':>16} {'llama.cpp best/med':>20} {'ratio':>6}")
    for model in a.models:
        model = Path(os.path.expanduser(model))
        for threads in a.t:
            cpu = threads == 1 and not a.wall
            runs = {"kiln": [], "llama.cpp": []}
            for _ in range(a.reps):
                if a.kiln:
                    runs["kiln"].append(kiln_run(a.kiln, model, a.p, a.n, threads, cpu))
                runs["llama.cpp"].append(llama_cpp_run(model, a.p, a.n, threads, cpu))
            for test, count in (("prefill", a.p), ("decode", a.n)):
                row = {"model": model.name, "threads": threads, "test": test, "tokens": count,
                       "clock": "cpu" if cpu else "wall"}
                for side, rs in runs.items():
                    if rs:
                        best, med = summarize([r[f"{test}_s"] for r in rs], count)
                        row[side] = {"best_tps": best, "median_tps": med}
                ratio = (row["kiln"]["best_tps"] / row["llama.cpp"]["best_tps"]) if "kiln" in row else None
                row["ratio"] = ratio
                k = f"{row['kiln']['best_tps']:7.1f}/{row['kiln']['median_tps']:7.1f}" if "kiln" in row else "-"
                l = f"{row['llama.cpp']['best_tps']:7.1f}/{row['llama.cpp']['median_tps']:7.1f}"
                print(f"{model.name:28} {threads:>3} {test:8} {k:>16} {l:>20} "
                      f"{(f'{ratio:6.2f}' if ratio else '-'):>6}", flush=True)
                results.append(row)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
