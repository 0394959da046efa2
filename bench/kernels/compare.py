#!/usr/bin/env python3
"""Kernel benchmark, Kiln beside llama.cpp in one script.

For each (type, shape, tokens, threads) it times
  * Kiln: build-*/bench/kernels/kiln_matmul_bench (backend::cpu::matmul on
    packed weights), and
  * llama.cpp: ggml_mul_mat computed by libggml-cpu from the llama-cpp-python
    wheel (same machine, same thread count), called through ctypes,
and prints weight GB/s (decode: 1 token) or GFLOP/s (many tokens) and the
ratio Kiln / llama.cpp. With 1 thread the times are process CPU time (the
machine is shared; CPU time ignores preemption), with 2 threads wall time. Both sides run the same number of products per timed
pass (a graph of N mul_mat nodes for ggml, N calls for Kiln), cycling through
copies of the weights that fill --footprint-mb so decode reads DRAM as in a
real model; each side reports its best pass, and the two sides alternate
--rounds times so they share the machine's noise. Note: plain ggml_mul_mat
does not use llama.cpp's repacked Q4_0/Q4_K layouts (a model load does); the
model-level comparison (bench/README.md) includes them.

  .venv/bin/python bench/kernels/compare.py --bin build-quant/bench/kernels/kiln_matmul_bench
      [--threads 1 2] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# GGML type ids (gguf numbering) and the shapes we care about: the matrices of
# a 0.5B-class (896/4864) and a 1B-class (2048/8192) Llama, and Gemma 3 270M's
# 640-wide layers and its 262144 x 640 Q8_0 output embedding.
TYPES = {"F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10,
         "Q3_K": 11, "Q4_K": 12, "Q5_K": 13, "Q6_K": 14}
SHAPES = {
    "0.5B ffn_up": (4864, 896),
    "0.5B ffn_down": (896, 4864),
    "1B ffn_up": (8192, 2048),
    "1B ffn_down": (2048, 8192),
    "1B attn_q": (2048, 2048),
    "gemma3 ffn_up": (2048, 640),
    "gemma3 output": (262144, 640),
}


class GgmlInitParams(ctypes.Structure):
    _fields_ = [("mem_size", ctypes.c_size_t), ("mem_buffer", ctypes.c_void_p),
                ("no_alloc", ctypes.c_bool)]


class Ggml:
    def __init__(self):
        import llama_cpp  # noqa: F401  (locates the wheel's lib folder)
        libdir = Path(llama_cpp.__file__).parent / "lib"
        mode = ctypes.RTLD_GLOBAL
        self.base = ctypes.CDLL(str(libdir / "libggml-base.so"), mode=mode)
        self.cpu = ctypes.CDLL(str(libdir / "libggml-cpu.so"), mode=mode)
        b, c = self.base, self.cpu
        b.ggml_init.argtypes = [GgmlInitParams]
        b.ggml_init.restype = ctypes.c_void_p
        b.ggml_new_tensor_2d.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        b.ggml_new_tensor_2d.restype = ctypes.c_void_p
        b.ggml_get_data.argtypes = [ctypes.c_void_p]
        b.ggml_get_data.restype = ctypes.c_void_p
        b.ggml_nbytes.argtypes = [ctypes.c_void_p]
        b.ggml_nbytes.restype = ctypes.c_size_t
        b.ggml_mul_mat.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        b.ggml_mul_mat.restype = ctypes.c_void_p
        b.ggml_new_graph.argtypes = [ctypes.c_void_p]
        b.ggml_new_graph.restype = ctypes.c_void_p
        b.ggml_build_forward_expand.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        b.ggml_free.argtypes = [ctypes.c_void_p]
        c.ggml_graph_compute_with_ctx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        c.ggml_graph_compute_with_ctx.restype = ctypes.c_int
        c.ggml_cpu_init.argtypes = []
        c.ggml_cpu_init()

    def bench(self, type_id, rows, cols, tokens, threads, footprint_mb, passes, per_pass):
        rng = np.random.default_rng(1)
        row_bytes = None
        # enough copies of W to fill the footprint; at least one
        probe = self.base.ggml_init(GgmlInitParams(1 << 20, None, True))
        t = self.base.ggml_new_tensor_2d(probe, type_id, cols, rows)
        mat_bytes = self.base.ggml_nbytes(t)
        self.base.ggml_free(probe)
        copies = max(1, (footprint_mb << 20) // mat_bytes)
        calls = max(copies, per_pass)
        mem = copies * (mat_bytes + 4096) + calls * (rows * tokens * 4 + 4096) \
            + tokens * cols * 4 + (64 << 20)
        ctx = self.base.ggml_init(GgmlInitParams(mem, None, False))
        if not ctx:
            raise RuntimeError("ggml_init failed")
        try:
            x = self.base.ggml_new_tensor_2d(ctx, 0, cols, tokens)
            xs = np.ctypeslib.as_array((ctypes.c_float * (cols * tokens)).from_address(
                self.base.ggml_get_data(x)))
            xs[:] = rng.standard_normal(cols * tokens).astype(np.float32)
            weights = []
            raw = random_weight_bytes(type_id, mat_bytes, rng)
            for _ in range(copies):
                w = self.base.ggml_new_tensor_2d(ctx, type_id, cols, rows)
                ctypes.memmove(self.base.ggml_get_data(w), raw.ctypes.data, mat_bytes)
                weights.append(w)
            graph = self.base.ggml_new_graph(ctx)
            for i in range(calls):
                self.base.ggml_build_forward_expand(
                    graph, self.base.ggml_mul_mat(ctx, weights[i % copies], x))
            self.cpu.ggml_graph_compute_with_ctx(ctx, graph, threads)  # warm-up
            best = best_cpu = float("inf")
            for _ in range(passes):
                c0, t0 = time.process_time(), time.perf_counter()
                self.cpu.ggml_graph_compute_with_ctx(ctx, graph, threads)
                best = min(best, (time.perf_counter() - t0) / calls)
                best_cpu = min(best_cpu, (time.process_time() - c0) / calls / threads)
            return best, best_cpu, mat_bytes
        finally:
            self.base.ggml_free(ctx)


def random_weight_bytes(type_id, nbytes, rng):
    """Random quant bytes with small finite half scales (the contents do not
    change the speed, but NaN/denormal halves could)."""
    raw = rng.integers(0, 256, nbytes, dtype=np.uint8)
    if type_id == 1:  # F16
        return (rng.standard_normal(nbytes // 2) * 0.02).astype(np.float16).view(np.uint8)
    halves = {2: [0], 3: [0, 2], 6: [0], 7: [0, 2], 8: [0], 10: [80, 82], 11: [108],
              12: [0, 2], 13: [0, 2], 14: [208]}[type_id]
    import gguf
    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(type_id)][1]
    blocks = raw.reshape(-1, block)
    for off in halves:
        h = (rng.standard_normal(blocks.shape[0]) * 0.001).astype(np.float16)
        blocks[:, off:off + 2] = h.view(np.uint8).reshape(-1, 2)
    return blocks.reshape(-1)


def kiln_bench(binary, type_name, rows, cols, tokens, threads, footprint_mb, passes, per_pass):
    out = subprocess.run(
        [binary, "--type", type_name, "--rows", str(rows), "--cols", str(cols), "--tokens",
         str(tokens), "--threads", str(threads), "--footprint-mb", str(footprint_mb),
         "--passes", str(passes), "--per-pass", str(per_pass)],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="kiln_matmul_bench binary")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--types", nargs="+", default=["Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_0", "F16"])
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES))
    ap.add_argument("--tokens", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--footprint-mb", type=int, default=512,
                    help="decode (1 token): weight copies to cycle through")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()

    ggml = Ggml()
    rows_out = []
    print(f"{'shape':16} {'type':5} {'tok':>4} {'thr':>3} {'kiln':>9} {'llama.cpp':>9} "
          f"{'ratio':>6}  unit")
    for shape in a.shapes:
        rows, cols = SHAPES[shape]
        for type_name in a.types:
            if TYPES[type_name] >= 10 and cols % 256:
                continue  # K-quants need whole 256-blocks
            for tokens in a.tokens:
                if shape == "gemma3 output" and tokens > 1:
                    continue  # llama.cpp computes the output row of the last token only
                for threads in a.threads:
                    footprint = a.footprint_mb if tokens == 1 else 0
                    per_pass = 16 if tokens == 1 else 2
                    best_k = best_l = float("inf")
                    mat_bytes = 0
                    # one thread: CPU time (immune to preemption on a shared
                    # machine); more threads: wall time (CPU time would count
                    # both sides' spinning workers)
                    key = 1 if threads == 1 else 0
                    for _ in range(a.rounds):
                        k = kiln_bench(a.bin, type_name, rows, cols, tokens, threads, footprint,
                                       a.passes, per_pass)
                        best_k = min(best_k, k["best_cpu_s"] if key else k["best_s"])
                        t_wall, t_cpu, mat_bytes = ggml.bench(TYPES[type_name], rows, cols, tokens,
                                                              threads, footprint, a.passes, per_pass)
                        best_l = min(best_l, t_cpu if key else t_wall)
                    if tokens == 1:
                        unit, vk, vl = "GB/s", mat_bytes / best_k / 1e9, mat_bytes / best_l / 1e9
                    else:
                        flop = 2.0 * rows * cols * tokens
                        unit, vk, vl = "GFLOP/s", flop / best_k / 1e9, flop / best_l / 1e9
                    ratio = best_l / best_k
                    print(f"{shape:16} {type_name:5} {tokens:>4} {threads:>3} {vk:9.1f} {vl:9.1f} "
                          f"{ratio:6.2f}  {unit}", flush=True)
                    rows_out.append(dict(shape=shape, type=type_name, rows=rows, cols=cols,
                                         tokens=tokens, threads=threads, unit=unit, kiln=vk,
                                         llama_cpp=vl, ratio=ratio, kiln_s=best_k, llama_cpp_s=best_l))
    if a.json:
        Path(a.json).write_text(json.dumps(rows_out, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
