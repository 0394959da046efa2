#!/usr/bin/env python3
"""Forward-pass benchmark, Kiln beside llama.cpp in one script.

For each model (F32, F16, BF16 copies of one random Llama-architecture GGUF)
and each thread count it runs
  * Kiln: bench/forward/kiln_forward_bench (model::Model::forward), and
  * llama.cpp: the same GGUF through llama-cpp-python (its bundled libllama),
    n_batch 512, F16 KV cache (llama.cpp's default), flash attention off,
and reports prefill tokens/s (a --prompt-token prompt in one call) and
decode tokens/s (--decode single-token steps), the best of --reps runs each,
with the ratio Kiln / llama.cpp, per wall-clock second and per CPU-second of
the process (steadier on a shared machine; with 2 threads it counts the
workers' spinning too). The two sides alternate per configuration so
they share the machine's noise.

The models are generated on first use into --models (not committed: about
1.4 GB together) with ../shared/tools/make_random_gguf.py, preset llama-0.5b
with 8 layers (n_embd 896, 14 heads, 2 KV heads, n_ff 4864, vocab 32000,
~180M parameters), F32 and F16; the BF16 copy is converted from F32 with
llama.cpp's quantizer (llama_model_quantize, type BF16).

  .venv/bin/python bench/forward/compare.py --bin build-fwd/bench/forward/kiln_forward_bench
      [--threads 1 2] [--reps 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKE_RANDOM = ROOT.parent / "shared" / "tools" / "make_random_gguf.py"
N_LAYER = 8


def ensure_models(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {t: folder / f"bench-llama-{N_LAYER}l-{t}.gguf" for t in ("f32", "f16", "bf16")}
    for t in ("f32", "f16"):
        if not paths[t].exists():
            if not MAKE_RANDOM.exists():
                sys.exit(f"need {MAKE_RANDOM} to generate the benchmark models")
            print(f"generating {paths[t]} ...", file=sys.stderr)
            subprocess.run([sys.executable, str(MAKE_RANDOM), "--preset", "llama-0.5b",
                            "--n-layer", str(N_LAYER), "--dtype", t, "--out", str(paths[t])],
                           check=True)
    if not paths["bf16"].exists():
        import llama_cpp
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_BF16
        rc = llama_cpp.llama_model_quantize(str(paths["f32"]).encode(),
                                            str(paths["bf16"]).encode(), params)
        if rc != 0:
            sys.exit("llama_model_quantize failed")
    return paths


def run_kiln(binary: str, model: Path, threads: int, prompt: int, decode: int, reps: int) -> dict:
    out = subprocess.run([binary, "--model", str(model), "--threads", str(threads),
                          "--prompt", str(prompt), "--decode", str(decode), "--reps", str(reps)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_llama_cpp(model: Path, threads: int, prompt: int, decode: int, reps: int) -> dict:
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=prompt + decode, n_batch=512,
                          n_ubatch=512, n_threads=threads, n_threads_batch=threads,
                          verbose=False)
    import random
    rnd = random.Random(1)
    ids = [rnd.randrange(llm.n_vocab()) for _ in range(prompt)]
    best = {"prefill_tok_s": 0.0, "decode_tok_s": 0.0, "prefill_tok_per_cpu_s": 0.0,
            "decode_tok_per_cpu_s": 0.0}
    for _ in range(reps):
        llm.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        llm.eval(ids)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best["prefill_tok_s"] = max(best["prefill_tok_s"], prompt / wall)
        best["prefill_tok_per_cpu_s"] = max(best["prefill_tok_per_cpu_s"], prompt / cpu)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(decode):
            llm.eval([rnd.randrange(llm.n_vocab())])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best["decode_tok_s"] = max(best["decode_tok_s"], decode / wall)
        best["decode_tok_per_cpu_s"] = max(best["decode_tok_per_cpu_s"], decode / cpu)
    del llm
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="kiln_forward_bench")
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/kiln-bench"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--types", nargs="+", default=["f32", "f16", "bf16"])
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()

    models = ensure_models(Path(a.models))
    rows = []
    print(f"{'type':5} {'thr':>3} | {'prefill tok/s (wall)':>24} | {'decode tok/s (wall)':>24}"
          f" | {'prefill tok/CPU-s':>24} | {'decode tok/CPU-s':>24}")
    print(f"{'':5} {'':>3}" + f" | {'kiln':>7} {'llama':>7} {'ratio':>7}" * 4)
    for t in a.types:
        for n in a.threads:
            k = run_kiln(a.bin, models[t], n, a.prompt, a.decode, a.reps)
            l = run_llama_cpp(models[t], n, a.prompt, a.decode, a.reps)
            row = {"type": t, "threads": n, "kiln": k, "llama_cpp": l}
            line = f"{t:5} {n:>3}"
            for key in ("prefill_tok_s", "decode_tok_s", "prefill_tok_per_cpu_s",
                        "decode_tok_per_cpu_s"):
                row[key + "_ratio"] = k[key] / l[key]
                line += f" | {k[key]:7.1f} {l[key]:7.1f} {row[key + '_ratio']:7.2f}"
            rows.append(row)
            print(line, flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
