#!/usr/bin/env python3
"""Writes the fixtures of the backend quantization tests (tests/data/backend/).

1. quant/<type>.blocks + quant/<type>.f32: random blocks of every weight
   format (random bytes, finite half scales, plus edge blocks: zero, negative,
   subnormal and largest scales, all-zero and all-ones quant bytes) and their
   values as the `gguf` Python package's dequantize computes them.
2. kernels/: the llama.cpp kernel goldens of ../shared/data/goldens/kernels
   that the tests use (activations, y = W x, dequantized attn_k), plus the raw
   bytes of the two weight tensors they were computed from, read out of the
   random tiny-llama models with gguf's reader (those models are our own;
   ../shared/data/goldens/README.md allows copying them).

Run from the repository root:  .venv/bin/python scripts/make_quant_testdata.py
Deterministic (numpy default_rng(2024)); needs gguf and numpy.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as Q

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "backend"
GOLDENS = ROOT.parent / "shared" / "data" / "goldens"

# type -> byte offsets of its half-float fields inside a block
HALF_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}
EDGE_HALVES = [0.0, -0.0, 6.103515625e-05, 5.960464477539063e-08, 65504.0, -65504.0, 1.0, -0.5]
N_RANDOM_BLOCKS = 24  # per format, after the edge blocks


def random_halves(rng, n):
    return (rng.standard_normal(n) * 0.01).astype(np.float16)


def make_quant_blocks(rng, qtype):
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    blocks = []
    # edge blocks: each edge half in every half field, quant bytes random / 0x00 / 0xff
    for i, h in enumerate(EDGE_HALVES):
        b = rng.integers(0, 256, type_size, dtype=np.uint8)
        if i % 3 == 1:
            b[:] = 0
        elif i % 3 == 2:
            b[:] = 0xFF
        for off in HALF_FIELDS[qtype]:
            b[off:off + 2] = np.array([h], dtype=np.float16).view(np.uint8)
        blocks.append(b)
    for _ in range(N_RANDOM_BLOCKS):
        b = rng.integers(0, 256, type_size, dtype=np.uint8)
        for off in HALF_FIELDS[qtype]:
            b[off:off + 2] = random_halves(rng, 1).view(np.uint8)
        blocks.append(b)
    data = np.stack(blocks)
    # dequantize treats the array as rows of whole blocks
    values = gguf.quants.dequantize(data, qtype).astype(np.float32)
    assert values.shape == (len(blocks), block_size)
    return data, values


def make_float_values(rng, qtype):
    n = 512
    if qtype == Q.F16:
        h = np.concatenate([np.array(EDGE_HALVES, dtype=np.float16), random_halves(rng, n - 8)])
        raw = h.view(np.uint8).reshape(1, -1)
    else:  # BF16: random finite bit patterns (exponent != 0xff)
        bits = rng.integers(0, 1 << 16, n, dtype=np.uint32).astype(np.uint16)
        bits[(bits & 0x7F80) == 0x7F80] &= 0xBFFF
        bits[:4] = [0x0000, 0x8000, 0x0001, 0x7F7F]  # zeros, subnormal, largest
        raw = bits.view(np.uint8).reshape(1, -1)
    values = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(1, -1)
    return raw, values


def write_random_blocks(rng):
    d = OUT / "quant"
    d.mkdir(parents=True, exist_ok=True)
    index = {}
    for qtype in list(HALF_FIELDS) + [Q.F16, Q.BF16]:
        if qtype in HALF_FIELDS:
            raw, values = make_quant_blocks(rng, qtype)
        else:
            raw, values = make_float_values(rng, qtype)
        name = qtype.name
        raw.tofile(d / f"{name}.blocks")
        values.tofile(d / f"{name}.f32")
        index[name] = {"ggml_type": int(qtype), "bytes": int(raw.size), "values": int(values.size)}
    (d / "index.json").write_text(json.dumps(index, indent=1) + "\n")


KERNEL_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_K", "q5_K", "q6_K"]
TENSORS = {"attn_k": "blk.0.attn_k.weight", "ffn_down": "blk.0.ffn_down.weight"}


def copy_kernel_goldens():
    src = GOLDENS / "kernels"
    if not src.is_dir():
        sys.exit(f"{src} not found: the kernel goldens live in ../shared next to the checkout")
    d = OUT / "kernels"
    d.mkdir(parents=True, exist_ok=True)
    for f in ["x_k256_n1.bin", "x_k256_n16.bin", "x_k768_n1.bin", "x_k768_n16.bin"]:
        shutil.copyfile(src / f, d / f)
    manifest = json.loads((src / "manifest.json").read_text())
    index = {}
    for typ in KERNEL_TYPES:
        (d / typ).mkdir(exist_ok=True)
        reader = gguf.GGUFReader(GOLDENS / "models" / f"tiny-llama-{typ}.gguf")
        by_name = {t.name: t for t in reader.tensors}
        entry = {}
        for short, full in TENSORS.items():
            t = by_name[full]
            raw = np.ascontiguousarray(t.data).view(np.uint8)
            raw.tofile(d / typ / f"{short}.weight")
            rows, cols = int(t.shape[1]), int(t.shape[0])
            info = manifest["types"][typ]["tensors"][short]
            entry[short] = {
                "ggml_type": int(t.tensor_type), "rows": rows, "cols": cols,
                "max_abs_diff_llamacpp_vs_exact": {n: info[n]["max_abs_diff_llamacpp_vs_exact"]
                                                   for n in ("n1", "n16")},
            }
            for n in ("n1", "n16"):
                for f in (info[n]["y_llamacpp_file"], info[n]["y_exact_file"]):
                    shutil.copyfile(src / typ / f, d / typ / f)
        shutil.copyfile(src / typ / "attn_k_dequant.bin", d / typ / "attn_k_dequant.bin")
        index[typ] = entry
    (d / "index.json").write_text(json.dumps(index, indent=1) + "\n")


def main():
    rng = np.random.default_rng(2024)
    write_random_blocks(rng)
    copy_kernel_goldens()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
