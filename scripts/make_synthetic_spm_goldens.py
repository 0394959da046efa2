#!/usr/bin/env python3
"""A SentencePiece GGUF vocabulary that lacks characters its pieces contain,
tokenized by llama.cpp: the goldens of Kiln's GGUF "llama" tokenizer path for
such vocabularies.

scripts/make_random_gguf.py's synthetic vocabulary has "▁hello"-style word
pieces but no "▁" token. llama.cpp still merges "▁" into those pieces (its
SentencePiece tokenizer merges text, whatever the characters are); a
tokenizer that first turns "▁" into byte tokens never reaches them (about
twice as many tokens). This script writes a tiny random model with that
vocabulary (3000 tokens, 1 layer, F16; only its vocabulary is used) and the
ids llama.cpp (through llama-cpp-python) gives a set of texts, with and
without BOS:

  tests/data/tokenizer/synthetic_spm.gguf
  tests/data/tokenizer/synthetic_spm.jsonl   {"text", "ids_with_bos", "ids_without_bos"}

  .venv/bin/python scripts/make_synthetic_spm_goldens.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "tokenizer"

TEXTS = [
    "hello world, the cat sat on the mat",
    "Hello World",  # capitals are not in the vocabulary: byte fallback
    "  two leading spaces and  double  spaces  ",
    "a",
    " ",
    "zzzz qqqq xyzzy",
    "numbers 123 and punctuation!?",
    "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \U0001f600",  # multi-byte characters: bytes
    "line one\nline two\n\ttabbed",
    "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz",
    "the quick brown fox jumps over the lazy dog",
    "\u2581already\u2581marked",
]


def main() -> int:
    import llama_cpp

    model = OUT / "synthetic_spm.gguf"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_random_gguf.py"), "--preset",
                    "tiny-llama", "--dtype", "f16", "--n-vocab", "3000", "--n-embd", "64",
                    "--n-layer", "1", "--n-head", "2", "--n-head-kv", "1", "--n-ff", "128",
                    "--name", "synthetic-spm-vocab", "--out", str(model)], check=True)
    llm = llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)
    with open(OUT / "synthetic_spm.jsonl", "w", encoding="utf-8") as f:
        for text in TEXTS:
            b = text.encode("utf-8")
            row = {"text": text,
                   "ids_with_bos": llm.tokenize(b, add_bos=True, special=False),
                   "ids_without_bos": llm.tokenize(b, add_bos=False, special=False)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {model.relative_to(ROOT)} ({model.stat().st_size} bytes) and "
          f"synthetic_spm.jsonl ({len(TEXTS)} texts), llama-cpp-python {llama_cpp.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
