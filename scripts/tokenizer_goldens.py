#!/usr/bin/env python3
"""Corpus and goldens for the tokenizer tests, from material on this machine
and Python `tokenizers` (the reference).

  corpus   write tests/data/tokenizer/corpus/corpus.jsonl: ~4 MB in ~2000
           documents. Sources, all offline: Python standard library sources
           (code, docstrings), gettext translation catalogs under
           /usr/share/locale (real sentences in ~100 languages), package
           METADATA files (Markdown), and generated text (emoji sequences,
           Unicode stress, numbers, whitespace runs, markup, special-token
           look-alikes). Deterministic for a given machine; the output is
           committed, so tests never depend on this machine's files.
  goldens  encode every document with each reference tokenizer.json
           (.cache/tokenizers/<name>/, see scripts/fetch_tokenizers.sh) and
           write tests/data/tokenizer/corpus/<name>.goldens.json: per document
           the token count and FNV-1a-64 hashes of the ids, of the byte
           offsets and of decode(ids); plus the full ids of a sample of
           documents. Even documents are encoded with add_special_tokens=True,
           odd ones with False. One wrong id changes its document's hash.
  show     print the reference ids of one document (to debug a mismatch):
           tokenizer_goldens.py show gemma3 123
  gguf     write .cache/tokenizers/<name>/vocab.gguf for llama2 (SentencePiece,
           scores), llama3, qwen3, deepseek_v3 and gptoss (byte-level BPE with
           tokenizer.ggml.pre llama-bpe, qwen2, deepseek-v3, gpt-4o): the
           tokenizer.ggml.* metadata that llama.cpp's convert_hf_to_gguf.py
           writes for these tokenizer.json files (no tensors). The tests check
           that these GGUF vocabularies tokenize the corpus like the JSON ones.
           Idempotent; scripts/fetch_tokenizers.sh runs it.
  variants write tests/data/tokenizer/variants.jsonl: component variants that the
           six real files do not use (Metaspace, Whitespace, Digits,
           Punctuation, Split behaviours, Lowercase/NFKC/NFD/StripAccents/Strip,
           BertNormalizer, added-token lstrip/rstrip/single_word/normalized,
           RobertaProcessing, Metaspace/Strip/Replace decoders), each applied
           as a patch to the llama2 or llama3 tokenizer.json, with the
           reference's output on a fixed list of texts.
  tiny     write tests/data/tokenizer/tiny_bytelevel.tokenizer.json (~100 KB):
           llama3's pipeline with NFC and a few flagged added tokens, cut to the
           256 byte tokens and the first 3000 merges; the fuzz target's
           byte-level tokenizer (no goldens).
  unicode-table
           write src/tokenizer/unicode_hf_exceptions.inc: the code points
           that utf8proc (Kiln's normalization data) knows but the reference's
           NFC/NFD/NFKC/NFKD do not (it uses older Unicode tables, through the
           unicode-normalization-alignments crate): the reference leaves them
           alone (no decomposition, combining class 0, no composition), so
           Kiln must too. Found by probing both on every candidate code point.

Run with the repository's .venv (tokenizers is in requirements/test.txt).
"""
import argparse
import gettext
import glob
import json
import os
import random
import struct
import sys
import sysconfig
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "data", "tokenizer", "corpus")
CORPUS = os.path.join(OUT_DIR, "corpus.jsonl")
CACHE = os.path.join(ROOT, ".cache", "tokenizers")
NAMES = ["llama2", "llama3", "qwen3", "gemma3", "deepseek_v3", "gptoss"]
SAMPLE_DOCS = 24  # documents whose full ids are stored, per tokenizer


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def u32s(values) -> bytes:
    return struct.pack("<%dI" % len(values), *values)


# ---------------------------------------------------------------- corpus ----

def chunk_lines(text, rng, lo=1200, hi=3500):
    """Cuts text into pieces of lo..hi characters at line ends."""
    out, cur = [], []
    size, target = 0, rng.randint(lo, hi)
    for line in text.splitlines(keepends=True):
        cur.append(line)
        size += len(line)
        if size >= target:
            out.append("".join(cur))
            cur, size, target = [], 0, rng.randint(lo, hi)
    if cur and size > lo // 4:
        out.append("".join(cur))
    return out


def stdlib_docs(rng, budget):
    base = sysconfig.get_paths()["stdlib"]
    files = sorted(glob.glob(os.path.join(base, "*.py")) + glob.glob(os.path.join(base, "*", "*.py")))
    files = [f for f in files if "/test" not in f and "site-packages" not in f]
    rng.shuffle(files)
    docs, total = [], 0
    for f in files:
        try:
            text = open(f, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        pieces = chunk_lines(text, rng)
        for p in pieces[: rng.randint(1, 3)]:
            docs.append(p)
            total += len(p)
        if total >= budget:
            break
    return docs


def catalog_docs(rng, budget):
    """Translated messages: one document = ~2 KB of one language."""
    by_lang = {}
    for path in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        lang = path.split("/")[4]
        by_lang.setdefault(lang, []).append(path)
    langs = sorted(by_lang)
    rng.shuffle(langs)
    docs, total = [], 0
    # Round-robin over languages so that every script gets its share.
    while total < budget and langs:
        for lang in list(langs):
            paths = by_lang[lang]
            path = paths[rng.randrange(len(paths))]
            try:
                with open(path, "rb") as fh:
                    cat = gettext.GNUTranslations(fh)._catalog  # noqa: SLF001
            except Exception:  # noqa: BLE001 (broken catalogs are skipped)
                langs.remove(lang)
                continue
            msgs = [v for k, v in cat.items() if isinstance(v, str) and k and len(v) > 3]
            if len(msgs) < 5:
                continue
            msgs.sort()
            start = rng.randrange(len(msgs))
            picked = msgs[start : start + rng.randint(10, 40)]
            sep = rng.choice(["\n", "\n\n", " ", "\n- "])
            doc = sep.join(picked)[:4000]
            docs.append(doc)
            total += len(doc)
            if total >= budget:
                break
    return docs


def metadata_docs(rng, budget):
    site = [p for p in sys.path if p.endswith("site-packages")]
    files = sorted(glob.glob(os.path.join(site[0], "*.dist-info", "METADATA"))) if site else []
    rng.shuffle(files)
    docs, total = [], 0
    for f in files:
        text = open(f, encoding="utf-8", errors="replace").read()
        body = text.split("\n\n", 1)[1] if "\n\n" in text else text
        for p in chunk_lines(body, rng)[:2]:
            docs.append(p)
            total += len(p)
        if total >= budget:
            break
    return docs


EMOJI_BASE = [c for c in range(0x1F300, 0x1FAFF) if unicodedata.category(chr(c)) == "So"]
SKIN = [0x1F3FB, 0x1F3FC, 0x1F3FD, 0x1F3FE, 0x1F3FF]
SCRIPTS = [  # (first, last) code points of well-established blocks
    (0x0041, 0x007A), (0x00C0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0530, 0x058F),
    (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0x0980, 0x09FF), (0x0E00, 0x0E7F),
    (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
    (0xFF00, 0xFFEF), (0x2000, 0x206F), (0x2190, 0x22FF), (0x0300, 0x036F), (0x1D400, 0x1D7FF),
]
WORDS = ("the of and to in is that for it as was with be by on not he I this are or his from at which but "
         "have an they you were her she there been one all we their has would when if so no more out up "
         "don't can't it's I'm we've they'll she'd HELLO World CamelCase snake_case").split()


def emoji(rng):
    r = rng.random()
    if r < 0.3:
        return chr(rng.choice(EMOJI_BASE))
    if r < 0.5:
        return chr(rng.choice(EMOJI_BASE)) + chr(rng.choice(SKIN))
    if r < 0.7:  # ZWJ sequence
        return "\u200d".join(chr(rng.choice(EMOJI_BASE)) for _ in range(rng.randint(2, 4)))
    if r < 0.85:  # flag
        return "".join(chr(0x1F1E6 + rng.randrange(26)) for _ in range(2))
    if r < 0.95:  # keycap
        return rng.choice("0123456789#*") + "\ufe0f\u20e3"
    return "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"  # tag sequence


def random_char(rng):
    lo, hi = rng.choice(SCRIPTS)
    while True:
        c = chr(rng.randint(lo, hi))
        if unicodedata.category(c) not in ("Cn", "Cs", "Co"):
            return c


def generated_doc(rng):
    kind = rng.randrange(8)
    parts = []
    n = rng.randint(40, 250)
    for _ in range(n):
        r = rng.random()
        if kind == 0 or r < 0.15:
            parts.append(emoji(rng))
        elif kind == 1 or r < 0.3:
            parts.append("".join(random_char(rng) for _ in range(rng.randint(1, 8))))
        elif kind == 2 or r < 0.4:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 25))) + rng.choice(["", ".", ",", "e10", "%", "th"]))
        elif kind == 3 or r < 0.5:
            parts.append(rng.choice([" " * rng.randint(2, 40), "\t" * rng.randint(1, 5), "\n" * rng.randint(1, 6),
                                     "\r\n", " \n ", "\u00a0", "\u3000", "\u2003", "\u0085", "\u200b"]))
        elif kind == 4 or r < 0.6:
            base = rng.choice(WORDS)
            parts.append(unicodedata.normalize(rng.choice(["NFC", "NFD", "NFKC", "NFKD"]),
                                               base + "".join(chr(rng.randint(0x300, 0x36F))
                                                              for _ in range(rng.randint(0, 3)))))
        elif kind == 5 or r < 0.7:
            parts.append(rng.choice(["<|im_start|>", "<|im_end|>", "<s>", "</s>", "<bos>", "<start_of_turn>",
                                     "<|begin_of_text|>", "<|eot_id|>", "<think>", "</think>", "<|endoftext|>",
                                     "<|start|>", "<|message|>", "<｜User｜>", "<|im_start", "< s >", "<td>",
                                     "<unused12>", "[INST]", "<<SYS>>", "<0x41>"]))
        elif kind == 6 or r < 0.8:
            parts.append(rng.choice(['{"key": [1, 2.5, null], "k2": "v"}', "<div class=\"x\">", "</div>",
                                     "https://example.com/a/b?q=1&r=%20", "user@example.org", "```python",
                                     "$x^2 + \\frac{1}{2}$", "| a | b |", "#!/bin/sh", "a->b", "x := y",
                                     "'s", "'S", "'ll", "’re", "O'Neil", "ſ", "K", "İ", "ı"]))
        else:
            parts.append(rng.choice(WORDS))
        parts.append(rng.choice(["", " ", " ", " ", "\n", "  "]))
    return "".join(parts)


def make_corpus():
    rng = random.Random(20240601)
    docs = []
    docs += stdlib_docs(rng, 1_400_000)
    docs += catalog_docs(rng, 1_900_000)
    docs += metadata_docs(rng, 400_000)
    docs += [generated_doc(rng) for _ in range(260)]
    rng.shuffle(docs)
    docs = [d for d in docs if d]
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(CORPUS, "w", encoding="utf-8") as f:
        for i, d in enumerate(docs):
            f.write(json.dumps({"doc": i, "text": d}, ensure_ascii=False) + "\n")
    size = sum(len(d.encode()) for d in docs)
    print(f"corpus: {len(docs)} documents, {size / 1e6:.2f} MB -> {os.path.relpath(CORPUS, ROOT)}")


# --------------------------------------------------------------- goldens ----

def load_corpus():
    with open(CORPUS, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def load_reference(name):
    from tokenizers import Tokenizer
    path = os.path.join(CACHE, name, "tokenizer.json")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run scripts/fetch_tokenizers.sh")
    return Tokenizer.from_file(path)


def byte_offsets(text, char_offsets):
    # The Python binding reports offsets in characters; Kiln reports bytes.
    cum = [0]
    for ch in text:
        cum.append(cum[-1] + len(ch.encode()))
    return [(cum[s], cum[e]) for s, e in char_offsets]


def make_goldens(names):
    import tokenizers
    docs = load_corpus()
    rng = random.Random(7)
    sample = sorted(rng.sample(range(len(docs)), SAMPLE_DOCS))
    for name in names:
        tok = load_reference(name)
        out = {"tokenizer": name, "reference": f"tokenizers {tokenizers.__version__} (PyPI)",
               "documents": len(docs), "n_tokens": [], "ids_fnv": [], "offsets_fnv": [], "decode_fnv": [],
               "samples": {}}
        for i, text in enumerate(docs):
            enc = tok.encode(text, add_special_tokens=(i % 2 == 0))
            ids = enc.ids
            offs = byte_offsets(text, enc.offsets)
            out["n_tokens"].append(len(ids))
            out["ids_fnv"].append(fnv1a64(u32s(ids)))
            out["offsets_fnv"].append(fnv1a64(u32s([v for o in offs for v in o])))
            out["decode_fnv"].append(fnv1a64(tok.decode(ids, skip_special_tokens=False).encode()))
            if i in sample:
                out["samples"][str(i)] = ids
        path = os.path.join(OUT_DIR, f"{name}.goldens.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(out, f, separators=(",", ":"))
        print(f"goldens: {name}: {sum(out['n_tokens'])} tokens -> {os.path.relpath(path, ROOT)}")


def show(name, doc):
    text = load_corpus()[doc]
    enc = load_reference(name).encode(text, add_special_tokens=(doc % 2 == 0))
    print(json.dumps({"doc": doc, "ids": enc.ids, "tokens": enc.tokens,
                      "offsets": byte_offsets(text, enc.offsets)}, ensure_ascii=False))


def unicode_table():
    import ctypes
    from tokenizers import normalizers

    lib = ctypes.CDLL("libutf8proc.so.2")

    class Prop(ctypes.Structure):  # utf8proc_property_t (utf8proc 2.x)
        _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16),
                    ("bidi_class", ctypes.c_int16), ("decomp_type", ctypes.c_int16),
                    ("decomp_seqindex", ctypes.c_uint16), ("casefold_seqindex", ctypes.c_uint16),
                    ("uppercase_seqindex", ctypes.c_uint16), ("lowercase_seqindex", ctypes.c_uint16),
                    ("titlecase_seqindex", ctypes.c_uint16), ("comb_index", ctypes.c_uint16),
                    ("bits", ctypes.c_uint32)]

    lib.utf8proc_get_property.restype = ctypes.POINTER(Prop)
    for fn in ("utf8proc_NFD", "utf8proc_NFKD", "utf8proc_NFC"):
        getattr(lib, fn).restype = ctypes.c_void_p

    def kiln(fn, text):
        return ctypes.string_at(getattr(lib, fn)(text.encode() + b"\0")).decode()

    nfd, nfkd, nfc = normalizers.NFD(), normalizers.NFKD(), normalizers.NFC()
    exceptions = set()
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        p = lib.utf8proc_get_property(cp).contents
        second = p.comb_index != 0xFFFF and p.comb_index >= 0x8000
        if not (p.combining_class or p.decomp_seqindex != 0xFFFF or second):
            continue
        c = chr(cp)
        if nfd.normalize_str(c) != kiln("utf8proc_NFD", c) or nfkd.normalize_str(c) != kiln("utf8proc_NFKD", c):
            exceptions.add(cp)
        if p.combining_class:  # does the reference reorder it like a combining mark?
            probe = "a" + c + "\u0334" if p.combining_class > 1 else "a\u0301" + c
            if nfd.normalize_str(probe) != kiln("utf8proc_NFD", probe):
                exceptions.add(cp)
        d = kiln("utf8proc_NFD", c)
        if len(d) == 2 and kiln("utf8proc_NFC", d) == c and nfc.normalize_str(d) != c:
            exceptions.update({cp, ord(d[1])})  # a pair the reference does not compose
    ranges = []
    for cp in sorted(exceptions):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    path = os.path.join(ROOT, "src", "tokenizer", "unicode_hf_exceptions.inc")
    with open(path, "w") as f:
        f.write("// Generated by scripts/tokenizer_goldens.py unicode-table: code points the reference's\n"
                "// normalizers do not know (left alone), as inclusive ranges. Do not edit.\n")
        for lo, hi in ranges:
            f.write("{0x%X, 0x%X},\n" % (lo, hi))
    print(f"unicode-table: {len(exceptions)} code points in {len(ranges)} ranges -> {os.path.relpath(path, ROOT)}")


VARIANT_TEXTS = [
    "", " ", "Hello world", "  Hello   world  ", "hello\tworld\n\nbye", "Héllo Wörld ÀÉÎ café naïve",
    "ﬁ ½ ² Ⅻ ｆｕｌｌ", "İstanbul ΣΊΣΥΦΟΣ", "price: $1,234.56 or 7890!", "e=mc^2; x:=y->z (a[b]{c})",
    "don't I'll we've", "你好，世界。", "🦙🔥 👩‍💻 🇫🇷", "<s>Hello</s> <mask> [X] x word words sword word.",
    " <mask>  and [X]   end", "hello world HELLO WORLD", "a\u0301 e\u0301\u0316", "12345678901234567890",
    "Ω Å K", "tab\there\r\nline", "▁literal▁marker", "word", "<|begin_of_text|>Hi<|end_of_text|>",
]

META = "\u2581"
VARIANTS = [
    ("metaspace-first", "llama2", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": False},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": META,
                                                      "prepend_scheme": "first", "split": False},
                                                     {"type": "ByteFallback"}, {"type": "Fuse"}]}}),
    ("metaspace-always-split", "llama2", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True},
        "decoder": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}}),
    ("nfkc-lower-strip-whitespace", "llama2", {
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
                                                           {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": {"type": "Whitespace"},
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}}),
    ("nfd-stripaccents-digits-punct", "llama2", {
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"},
                                                           {"type": "Prepend", "prepend": META}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, {"type": "Punctuation", "behavior": "Isolated"},
            {"type": "WhitespaceSplit"}]},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"},
            {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 2, "stop": 0}]}}),
    ("bert-normalizer-bert-pre", "llama2", {
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}}),
    ("digits-contiguous-chardelim-nfkd", "llama2", {
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKD"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": META}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": False}, {"type": "CharDelimiterSplit", "delimiter": "o"}]}}),
    ("gpt2-bytelevel-roberta", "llama3", {
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["<|end_of_text|>", 128001],
                           "cls": ["<|begin_of_text|>", 128000], "trim_offsets": True, "add_prefix_space": True}}),
    ("split-behaviours", "llama3", {
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
            {"type": "Split", "pattern": {"Regex": "\\p{P}+"}, "behavior": "MergedWithPrevious", "invert": False},
            {"type": "Split", "pattern": {"Regex": "[0-9]"}, "behavior": "Contiguous", "invert": False},
            {"type": "Split", "pattern": {"Regex": "\\p{Han}+"}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}),
    ("split-removed-lowercase", "llama3", {
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]}}),
    ("added-token-flags", "llama3", {
        "added_tokens_extra": [
            {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False, "normalized": False,
             "special": True},
            {"content": "[X]", "single_word": False, "lstrip": False, "rstrip": True, "normalized": False,
             "special": True},
            {"content": "word", "single_word": True, "lstrip": False, "rstrip": False, "normalized": False,
             "special": False},
            {"content": "HELLO WORLD", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True,
             "special": False}],
        "normalizer": {"type": "Lowercase"}}),
]


def make_variants():
    from tokenizers import Tokenizer
    bases = {"llama2": os.path.join(ROOT, "tests", "data", "tokenizer", "llama2.tokenizer.json"),
             "llama3": os.path.join(CACHE, "llama3", "tokenizer.json")}
    out = []
    for name, base, patch in VARIANTS:
        d = json.load(open(bases[base], encoding="utf-8"))
        for key, value in patch.items():
            if key == "added_tokens_extra":
                next_id = max(max(d["model"]["vocab"].values()), max(a["id"] for a in d["added_tokens"])) + 1
                for k, a in enumerate(value):
                    d["added_tokens"].append(dict(a, id=next_id + k))
            else:
                d[key] = value
        tok = Tokenizer.from_str(json.dumps(d))
        cases = []
        for text in VARIANT_TEXTS:
            for add in (True, False):
                enc = tok.encode(text, add_special_tokens=add)
                cases.append({"text": text, "add_special_tokens": add, "ids": enc.ids, "tokens": enc.tokens,
                              "offsets": byte_offsets(text, enc.offsets),
                              "decoded": tok.decode(enc.ids, skip_special_tokens=False),
                              "decoded_skip": tok.decode(enc.ids, skip_special_tokens=True)})
        out.append({"name": name, "base": base, "patch": patch, "cases": cases})
    path = os.path.join(ROOT, "tests", "data", "tokenizer", "variants.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for v in out:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
    print(f"variants: {len(out)} -> {os.path.relpath(path, ROOT)}")


def make_tiny():
    d = json.load(open(os.path.join(CACHE, "llama3", "tokenizer.json"), encoding="utf-8"))
    vocab = d["model"]["vocab"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"][:3000]]
    keep = {}
    for t, i in vocab.items():
        if len(t) == 1:
            keep[t] = i
    for m in merges:
        a, b = m.split(" ")
        for t in (a, b, a + b):
            keep[t] = vocab[t]
    ids = {t: k for k, t in enumerate(sorted(keep, key=lambda t: keep[t]))}
    d["model"]["vocab"] = ids
    d["model"]["merges"] = merges
    n = len(ids)
    d["normalizer"] = {"type": "NFC"}
    d["added_tokens"] = [
        {"id": n, "content": "<|begin_of_text|>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True},
        {"id": n + 1, "content": "<mask>", "single_word": False, "lstrip": True, "rstrip": True,
         "normalized": False, "special": True},
        {"id": n + 2, "content": "word", "single_word": True, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
    ]
    d["post_processor"]["processors"][1]["special_tokens"]["<|begin_of_text|>"]["ids"] = [n]
    path = os.path.join(ROOT, "tests", "data", "tokenizer", "tiny_bytelevel.tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False)
    print(f"tiny: {n} tokens, {len(merges)} merges -> {os.path.relpath(path, ROOT)}")


GGUF_PRE = {"llama3": "llama-bpe", "qwen3": "qwen2", "deepseek_v3": "deepseek-v3", "gptoss": "gpt-4o"}


def looks_special(token):
    # convert_hf_to_gguf's does_token_look_special
    return (token in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (token.startswith("<|") and token.endswith("|>"))
            or (token.startswith("<\uff5c") and token.endswith("\uff5c>"))
            or (token.startswith("<unused") and token.endswith(">")))


def write_gguf(name):
    import gguf
    src = os.path.join(CACHE, name, "tokenizer.json")
    out = os.path.join(CACHE, name, "vocab.gguf")
    if not os.path.exists(src):
        sys.exit(f"{src} is missing: run scripts/fetch_tokenizers.sh")
    if os.path.exists(out) and os.path.getmtime(out) >= max(os.path.getmtime(src), os.path.getmtime(__file__)):
        return
    d = json.load(open(src, encoding="utf-8"))
    cfg_path = os.path.join(CACHE, name, "tokenizer_config.json")
    cfg = json.load(open(cfg_path, encoding="utf-8")) if os.path.exists(cfg_path) else {}
    vocab = d["model"]["vocab"]
    added = {a["id"]: a for a in d["added_tokens"]}
    size = max(max(vocab.values()), max(added) if added else 0) + 1
    reverse = {i: t for t, i in vocab.items()}
    for i, a in added.items():
        reverse[i] = a["content"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"]]

    def token_id(entry):
        t = entry if isinstance(entry, str) else (entry or {}).get("content")
        for i, a in added.items():
            if a["content"] == t:
                return i
        return vocab.get(t)

    post = json.dumps(d.get("post_processor"))
    w = gguf.GGUFWriter(out + ".tmp", arch="llama")
    tokens, types, scores = [], [], []
    if name == "llama2":
        first_rank = {}
        for r, m in enumerate(merges):
            first_rank.setdefault("".join(m.split(" ", 1)), r)
        for i in range(size):
            t = reverse.get(i, f"[PAD{i}]")
            tokens.append(t)
            if i in added:
                types.append(gguf.TokenType.UNKNOWN if t == d["model"]["unk_token"] else gguf.TokenType.CONTROL)
            elif len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                types.append(gguf.TokenType.BYTE)
            else:
                types.append(gguf.TokenType.NORMAL)
            scores.append(-float(first_rank[t]) if t in first_rank else 0.0)
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_unk_token_id(vocab[d["model"]["unk_token"]])
        w.add_add_space_prefix(True)
    else:
        for i in range(size):
            if i in added:
                t = added[i]["content"]
                if added[i]["special"] or looks_special(t):
                    types.append(gguf.TokenType.CONTROL)
                else:
                    t = t.replace("\u2581", " ")
                    types.append(gguf.TokenType.USER_DEFINED)
            elif i in reverse:
                t = reverse[i]
                types.append(gguf.TokenType.NORMAL)
            else:
                t = f"[PAD{i}]"
                types.append(gguf.TokenType.UNUSED)
            tokens.append(t)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(GGUF_PRE[name])
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
    for key, setter in (("bos_token", w.add_bos_token_id), ("eos_token", w.add_eos_token_id)):
        tid = token_id(cfg.get(key))
        if tid is not None:
            setter(tid)
    bos = token_id(cfg.get("bos_token"))
    w.add_add_bos_token(bos is not None and f'"ids": [{bos}]' in post)
    w.add_add_eos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(out + ".tmp", out)
    print(f"gguf: {name}: {len(tokens)} tokens -> {os.path.relpath(out, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("corpus")
    g = sub.add_parser("goldens")
    g.add_argument("names", nargs="*", default=NAMES)
    s = sub.add_parser("show")
    s.add_argument("name")
    s.add_argument("doc", type=int)
    sub.add_parser("unicode-table")
    sub.add_parser("variants")
    sub.add_parser("tiny")
    gg = sub.add_parser("gguf")
    gg.add_argument("names", nargs="*", default=["llama2", "llama3", "qwen3", "deepseek_v3", "gptoss"])
    args = ap.parse_args()
    if args.cmd == "corpus":
        make_corpus()
    elif args.cmd == "goldens":
        make_goldens(args.names)
    elif args.cmd == "gguf":
        for n in args.names:
            write_gguf(n)
    elif args.cmd == "tiny":
        make_tiny()
    elif args.cmd == "variants":
        make_variants()
    elif args.cmd == "unicode-table":
        unicode_table()
    else:
        show(args.name, args.doc)


if __name__ == "__main__":
    main()
