#!/usr/bin/env python3
"""Tokenizer encode throughput, Kiln beside Python `tokenizers`, one thread.

The corpus is tests/data/tokenizer/corpus/corpus.jsonl (4.8 MB in ~4600
documents: code, ~100 languages, emoji, generated Unicode stress). For each
reference tokenizer (.cache/tokenizers/<name>/tokenizer.json, see
scripts/fetch_tokenizers.sh) every document is encoded without special
tokens by
  * Python `tokenizers` (Tokenizer.encode, one call per document), and
  * Kiln: build-*/bench/tokenizer/kiln_tokenizer_bench (Tokenizer::encode).
Both time a whole pass in this thread's CPU time (the machine is shared) and
keep the best of --passes; both see the same documents and must produce the
same number of tokens. Prints MB/s and the ratio Kiln / reference.

  .venv/bin/python bench/tokenizer/compare.py --bin build-tok-bench/bench/tokenizer/kiln_tokenizer_bench
      [--passes 3] [--names llama3 qwen3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "data", "tokenizer", "corpus", "corpus.jsonl")
NAMES = ["llama2", "llama3", "qwen3", "gemma3", "deepseek_v3", "gptoss"]


def reference(name: str, docs: list[str], passes: int) -> tuple[float, int]:
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(ROOT, ".cache", "tokenizers", name, "tokenizer.json"))
    best, tokens = float("inf"), 0
    for _ in range(passes):
        t0 = time.thread_time()
        tokens = sum(len(tok.encode(d, add_special_tokens=False).ids) for d in docs)
        best = min(best, time.thread_time() - t0)
    return best, tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--names", nargs="*", default=NAMES)
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    docs = [json.loads(line)["text"] for line in open(CORPUS, encoding="utf-8")]
    size = sum(len(d.encode()) for d in docs)
    print(f"corpus: {len(docs)} documents, {size / 1e6:.2f} MB; best of {args.passes} passes, thread CPU time")
    print(f"| {'tokenizer':<12} | {'tokenizers (MB/s)':>17} | {'Kiln (MB/s)':>11} | {'ratio':>6} |")
    print(f"| {'-' * 12} | {'-' * 17:>17} | {'-' * 11:>11} | {'-' * 6:>6} |")
    for name in args.names:
        path = os.path.join(ROOT, ".cache", "tokenizers", name, "tokenizer.json")
        if not os.path.exists(path):
            print(f"{name}: {path} missing (scripts/fetch_tokenizers.sh)", file=sys.stderr)
            continue
        ref_s, ref_tokens = reference(name, docs, args.passes)
        out = subprocess.run([args.bin, "--tokenizer", path, "--corpus", CORPUS, "--passes", str(args.passes)],
                             check=True, capture_output=True, text=True).stdout
        kiln = json.loads(out)
        if kiln["tokens"] != ref_tokens:
            print(f"{name}: token counts differ: Kiln {kiln['tokens']}, reference {ref_tokens}", file=sys.stderr)
        ref_mbs = size / ref_s / 1e6
        print(f"| {name:<12} | {ref_mbs:>17.2f} | {kiln['mb_per_s']:>11.2f} | {kiln['mb_per_s'] / ref_mbs:>5.2f}x |")


if __name__ == "__main__":
    main()
