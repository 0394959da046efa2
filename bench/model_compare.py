#!/usr/bin/env python3
"""Model-level speed, Kiln beside llama.cpp in one script (llama-bench style).

For each GGUF and thread count:
  * prefill: tokens/s of one p-token prompt (random ids) in one batch;
  * decode:  tokens/s of n single-token steps on a fresh context;
llama.cpp through llama-cpp-python (its own CPU build, weights repacked as a
normal model load does), Kiln through `kiln bench --json` with the same
arguments. Each side runs --reps times; the sides alternate so they share the
machine's noise, and we report the best and the median of each; the ratio is
of the medians (Kiln / llama.cpp), the best-of ratio beside it.

--bandwidth first measures the machine's read bandwidth (numpy max over a
1 GiB float32 array, 1 and 2 threads, per CPU-second, best of 5) and prints, per model, the bytes a
decode step must read (every weight matrix once; the token embedding only
when it doubles as the output matrix) and the decode limit they imply.

With 1 thread the times are process CPU time (this machine is shared by
several engineers compiling; CPU time ignores preemption); with more threads
wall time, or CPU time / threads with --cpu-time (which charges busy-waiting
at barriers as work). Use --wall to force wall time everywhere.

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


def read_bandwidth(threads, size=1 << 30, reps=5):
    """Bytes per second that `threads` threads read (numpy max over float32, SIMD, the GIL
    released), per CPU-second of the process divided by threads: on a shared machine wall
    time counts the other users' time slices."""
    import threading

    import numpy as np

    arr = np.ones(size // 4, dtype=np.float32)
    parts = np.array_split(arr, threads)
    best = 0.0
    for _ in range(reps):
        ts = [threading.Thread(target=np.max, args=(p,)) for p in parts]
        t0 = time.process_time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        best = max(best, size / ((time.process_time() - t0) / threads))
    return best


def decode_bytes(model):
    """Bytes one decode step reads: every 2-D weight once, the token embedding only when tied."""
    from gguf import GGUFReader

    r = GGUFReader(str(model))
    names = {t.name for t in r.tensors}
    total = 0
    for t in r.tensors:
        if t.name == "token_embd.weight" and "output.weight" in names:
            continue
        if len(t.shape) >= 2:
            total += int(t.n_bytes)
    return total


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
    ap.add_argument("--cpu-time", action="store_true",
                    help="CPU time for every thread count (process CPU-seconds / threads)")
    ap.add_argument("--bandwidth", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()

    results = []
    bw = {}
    if a.bandwidth:
        for threads in a.t:
            bw[threads] = read_bandwidth(threads)
            print(f"read bandwidth, {threads} thread(s): {bw[threads] / 1e9:.1f} GB/s")
        for model in a.models:
            model = Path(os.path.expanduser(model))
            nb = decode_bytes(model)
            limits = ", ".join(f"{t} thr {bw[t] / nb:.1f} tok/s" for t in a.t)
            print(f"{model.name}: {nb / 1e6:.1f} MB per decode step; decode limit {limits}")
            results.append({"model": model.name, "decode_bytes": nb,
                            "read_bandwidth": {str(t): bw[t] for t in a.t}})
    print(f"{'model':28} {'thr':>3} {'test':8} {'kiln best/med':>16} {'llama.cpp best/med':>20} {'ratio (med)':>6}")
    for model in a.models:
        model = Path(os.path.expanduser(model))
        for threads in a.t:
            cpu = (threads == 1 or a.cpu_time) and not a.wall
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
                ratio = (row["kiln"]["median_tps"] / row["llama.cpp"]["median_tps"]) if "kiln" in row else None
                row["ratio"] = ratio
                if "kiln" in row:
                    row["ratio_best"] = row["kiln"]["best_tps"] / row["llama.cpp"]["best_tps"]
                k = f"{row['kiln']['best_tps']:7.1f}/{row['kiln']['median_tps']:7.1f}" if "kiln" in row else "-"
                l = f"{row['llama.cpp']['best_tps']:7.1f}/{row['llama.cpp']['median_tps']:7.1f}"
                print(f"{model.name:28} {threads:>3} {test:8} {k:>16} {l:>20} "
                      f"{(f'{ratio:6.2f}' if ratio else '-'):>6}", flush=True)
                results.append(row)
                if a.json:  # after every row: a long run that is cut short keeps what it measured
                    Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
