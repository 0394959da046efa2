#!/usr/bin/env python3
"""Write random-weight GGUF models (Llama or Gemma 3 architecture).

Needs only `pip install gguf numpy`. The weights are drawn from a fixed seed,
so a given preset + seed + numpy version regenerates the same file.

Kiln's copy of the project tool ../shared/tools/make_random_gguf.py, extended
with quantized weights for benchmarks (--dtype q8_0 / q4_0 / q4_k):
  q8_0, q4_0  the gguf package's quantize (GGML's reference rounding);
  q4_k        our own quantizer (below; the gguf package has none): per
              sub-block of 32, min/max -> 6-bit scale and min, nibbles
              rounded to nearest. Simpler than llama.cpp's search, so a little
              less accurate, but the same format and the same speed.
              Like llama-quantize, a tensor whose rows are not a multiple of
              256 (e.g. hidden 896) falls back to Q5_0.
All 2-D weights get the chosen type (like llama-quantize --pure); norm
vectors stay F32. Example:
  .venv/bin/python scripts/make_random_gguf.py --preset llama-0.5b --dtype q4_k \
      --out /tmp/llama-0.5b-q4_k.gguf

Used for two things in this project:
  * tiny models for kernel/forward-pass goldens (shared/data/goldens/), and
  * realistic-shape models for performance measurements (not stored; they are
    several GB, regenerate them with this script).

Presets (see PRESETS below; every field can be overridden on the command line):
  tiny-llama   n_embd 256, 2 layers, 8 heads, 2 KV heads (GQA), n_ff 768,
               ctx 256, rope theta 1e4, rms eps 1e-5, separate output tensor.
               Vocab: copy tokenizer.* keys from a GGUF (--vocab-from).
  tiny-gemma3  Gemma 3 layout: n_embd 128, 6 layers, 4 heads of dim 64
               (4*64 != n_embd, like Gemma 3 270M), 1 KV head, n_ff 512,
               qk-norm, post-attention and post-FFN norms, sliding_window 8,
               rope theta 1e6 (global) / 1e4 (local), rms eps 1e-6, tied
               embeddings (no output tensor).
  llama-1b     "1B-class": n_embd 2048, 16 layers, 32 heads, 8 KV heads,
               n_ff 8192, vocab 32000 (synthetic SentencePiece vocab).
  llama-0.5b   "0.5B-class": n_embd 896, 24 layers, 14 heads, 2 KV heads,
               n_ff 4864, vocab 32000 (synthetic SentencePiece vocab).

Examples:
  python make_random_gguf.py --preset llama-1b --dtype f16 --out llama-1b-f16.gguf
  python make_random_gguf.py --preset tiny-llama --dtype f32 \
      --vocab-from stories260K.gguf --out tiny-llama-f32.gguf

Weight initialisation: every 2-D weight ~ N(0, std^2) (std 0.02 by default);
every norm weight = 1.0 + N(0, norm_noise^2) (norm_noise 0.02 by default).
Each tensor gets its own generator seeded with (seed, tensor index), so the
values of a tensor do not depend on how many values other tensors drew.
Norm (1-D) tensors are always stored as F32, as llama.cpp's converters do.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import gguf

PRESETS = {
    "tiny-llama": dict(
        arch="llama", n_embd=256, n_layer=2, n_head=8, n_head_kv=2, head_dim=None,
        n_ff=768, n_ctx=256, rope_theta=10000.0, rope_theta_swa=None, rms_eps=1e-5,
        n_vocab=512, tied=False, sliding_window=None,
    ),
    "tiny-gemma3": dict(
        arch="gemma3", n_embd=128, n_layer=6, n_head=4, n_head_kv=1, head_dim=64,
        n_ff=512, n_ctx=256, rope_theta=1000000.0, rope_theta_swa=10000.0, rms_eps=1e-6,
        n_vocab=512, tied=True, sliding_window=8,
    ),
    "llama-1b": dict(
        arch="llama", n_embd=2048, n_layer=16, n_head=32, n_head_kv=8, head_dim=None,
        n_ff=8192, n_ctx=4096, rope_theta=10000.0, rope_theta_swa=None, rms_eps=1e-5,
        n_vocab=32000, tied=False, sliding_window=None,
    ),
    "llama-0.5b": dict(
        arch="llama", n_embd=896, n_layer=24, n_head=14, n_head_kv=2, head_dim=None,
        n_ff=4864, n_ctx=4096, rope_theta=10000.0, rope_theta_swa=None, rms_eps=1e-5,
        n_vocab=32000, tied=False, sliding_window=None,
    ),
}

# GGUF token types (llama.cpp llama_token_type)
TT_NORMAL, TT_UNKNOWN, TT_CONTROL, TT_BYTE = 1, 2, 3, 6


# --------------------------------------------------------------------------- vocab

def synthetic_spm_vocab(n_vocab: int):
    """A SentencePiece-style ("llama" tokenizer model) vocab of exactly n_vocab
    entries: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then unique
    made-up word pieces. Good enough to load and run; not a real language."""
    assert n_vocab >= 259 + 26
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TT_UNKNOWN, TT_CONTROL, TT_CONTROL] + [TT_BYTE] * 256
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen = set(tokens)
    pieces = []
    # single letters, with and without the word-start marker, then longer strings
    length = 1
    while len(pieces) < n_vocab - len(tokens):
        idx = [0] * length
        while True:
            w = "".join(letters[i] for i in idx)
            for p in ("\u2581" + w, w):
                if p not in seen and len(pieces) < n_vocab - len(tokens):
                    seen.add(p)
                    pieces.append(p)
            # increment base-26 counter
            k = length - 1
            while k >= 0:
                idx[k] += 1
                if idx[k] < 26:
                    break
                idx[k] = 0
                k -= 1
            if k < 0 or len(pieces) >= n_vocab - len(tokens):
                break
        length += 1
    tokens += pieces
    types += [TT_NORMAL] * len(pieces)
    scores = [0.0] * 259 + [-float(i) for i in range(len(pieces))]
    return tokens, scores, types


def add_synthetic_vocab(w: gguf.GGUFWriter, n_vocab: int) -> None:
    tokens, scores, types = synthetic_spm_vocab(n_vocab)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)


def _field_value(field):
    """Value of a GGUFReader field, without relying on newer helper methods."""
    main = field.types[0]
    if main == gguf.GGUFValueType.ARRAY:
        sub = field.types[-1]
        if sub == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data], main, sub
        return [field.parts[i].tolist()[0] for i in field.data], main, sub
    if main == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8"), main, None
    return field.parts[field.data[0]].tolist()[0], main, None


def copy_vocab(w: gguf.GGUFWriter, path: str) -> int:
    """Copy every tokenizer.* key of another GGUF; returns its vocab size."""
    r = gguf.GGUFReader(path)
    n_vocab = None
    for name, field in r.fields.items():
        if not name.startswith("tokenizer."):
            continue
        val, main, sub = _field_value(field)
        if main == gguf.GGUFValueType.ARRAY:
            try:
                w.add_key_value(name, val, main, sub_type=sub)
            except TypeError:  # older gguf packages infer the element type
                w.add_key_value(name, val, main)
            if name == "tokenizer.ggml.tokens":
                n_vocab = len(val)
        else:
            w.add_key_value(name, val, main)
    if n_vocab is None:
        sys.exit(f"{path}: no tokenizer.ggml.tokens")
    return n_vocab


# --------------------------------------------------------------------------- tensors

def tensor_plan(cfg) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, numpy shape, kind) in file order. numpy shape is (rows, cols) =
    (ggml ne1, ggml ne0): a weight that maps x[n_in] -> y[n_out] is (n_out, n_in)."""
    E, F, V = cfg["n_embd"], cfg["n_ff"], cfg["n_vocab"]
    hd = cfg["head_dim"]
    q_dim = cfg["n_head"] * hd
    kv_dim = cfg["n_head_kv"] * hd
    plan = [("token_embd.weight", (V, E), "w")]
    for i in range(cfg["n_layer"]):
        b = f"blk.{i}."
        plan += [
            (b + "attn_norm.weight", (E,), "n"),
            (b + "attn_q.weight", (q_dim, E), "w"),
            (b + "attn_k.weight", (kv_dim, E), "w"),
            (b + "attn_v.weight", (kv_dim, E), "w"),
            (b + "attn_output.weight", (E, q_dim), "w"),
        ]
        if cfg["arch"] == "gemma3":
            plan += [
                (b + "attn_q_norm.weight", (hd,), "n"),
                (b + "attn_k_norm.weight", (hd,), "n"),
                (b + "post_attention_norm.weight", (E,), "n"),
            ]
        plan += [
            (b + "ffn_norm.weight", (E,), "n"),
            (b + "ffn_gate.weight", (F, E), "w"),
            (b + "ffn_up.weight", (F, E), "w"),
            (b + "ffn_down.weight", (E, F), "w"),
        ]
        if cfg["arch"] == "gemma3":
            plan += [(b + "post_ffw_norm.weight", (E,), "n")]
    plan.append(("output_norm.weight", (E,), "n"))
    if not cfg["tied"]:
        plan.append(("output.weight", (V, E), "w"))
    return plan


QUANT = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0,
         "q4_k": gguf.GGMLQuantizationType.Q4_K}


def weight_type(shape, kind: str, dtype: str):
    """GGML type of a tensor: norms F32; Q4_K falls back to Q5_0 for rows
    that are not whole 256-element super-blocks (as llama-quantize does)."""
    if kind == "n" or dtype == "f32":
        return gguf.GGMLQuantizationType.F32
    if dtype == "f16":
        return gguf.GGMLQuantizationType.F16
    q = QUANT[dtype]
    if q == gguf.GGMLQuantizationType.Q4_K and shape[-1] % 256 != 0:
        return gguf.GGMLQuantizationType.Q5_0
    return q


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """Q4_K blocks (uint8, rows x row_bytes) of float32 rows (cols % 256 == 0).
    Block: d, dmin (f16), 12 bytes of 6-bit scales/mins, 128 bytes of nibbles;
    value = d * sc * q - dmin * m for each sub-block of 32."""
    rows, cols = x.shape
    b = x.reshape(-1, 8, 32).astype(np.float32)  # super-blocks x sub-blocks x 32
    lo = np.minimum(b.min(axis=2), 0.0)  # mins are <= 0 (stored as -min >= 0)
    hi = b.max(axis=2)
    scale = (hi - lo) / 15.0
    d = scale.max(axis=1) / 63.0
    dmin = (-lo).max(axis=1) / 63.0
    d16, dmin16 = d.astype(np.float16), dmin.astype(np.float16)
    d32, dmin32 = d16.astype(np.float32)[:, None], dmin16.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d32 > 0, np.rint(scale / d32), 0).clip(0, 63).astype(np.uint8)
        mn = np.where(dmin32 > 0, np.rint(-lo / dmin32), 0).clip(0, 63).astype(np.uint8)
        step = (d32 * sc)[:, :, None]
        off = (dmin32 * mn)[:, :, None]
        q = np.where(step > 0, np.rint((b + off) / step), 0).clip(0, 15).astype(np.uint8)
    # 12 scale bytes: j < 4 -> sc/mn in the low 6 bits of bytes j / j+4;
    # j >= 4 -> low nibbles in byte j+4, high 2 bits in the top of bytes j-4 / j
    s = np.zeros((b.shape[0], 12), dtype=np.uint8)
    s[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    s[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    s[:, 8:12] = (sc[:, 4:8] & 15) | ((mn[:, 4:8] & 15) << 4)
    # nibbles: byte l of chunk c holds element 64c + l (low) and 64c + 32 + l (high)
    qc = q.reshape(-1, 4, 2, 32)
    qs = (qc[:, :, 0, :] | (qc[:, :, 1, :] << 4)).reshape(-1, 128)
    out = np.concatenate([d16.view(np.uint8).reshape(-1, 2), dmin16.view(np.uint8).reshape(-1, 2),
                          s, qs], axis=1)
    return out.reshape(rows, cols // 256 * 144)


def make_tensor(idx: int, shape, kind: str, cfg) -> np.ndarray:
    rng = np.random.default_rng([cfg["seed"], idx])
    x = rng.standard_normal(size=shape, dtype=np.float32)
    if kind == "n":
        return (1.0 + cfg["norm_noise"] * x).astype(np.float32)
    x *= np.float32(cfg["std"])
    t = weight_type(shape, kind, cfg["dtype"])
    if t == gguf.GGMLQuantizationType.F16:
        return x.astype(np.float16)
    if t == gguf.GGMLQuantizationType.Q4_K:
        return quantize_q4_k(x)
    if t != gguf.GGMLQuantizationType.F32:
        return gguf.quants.quantize(x, t)
    return x


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "q8_0", "q4_0", "q4_k"],
                    help="type of the 2-D weights")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--norm-noise", type=float, default=0.02)
    ap.add_argument("--vocab-from", help="copy tokenizer.* keys from this GGUF (else a synthetic vocab)")
    ap.add_argument("--name", help="general.name (default: preset name)")
    for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "head_dim", "n_ff", "n_ctx", "n_vocab", "sliding_window"):
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    for k in ("rope_theta", "rope_theta_swa", "rms_eps"):
        ap.add_argument("--" + k.replace("_", "-"), type=float)
    a = ap.parse_args()

    cfg = dict(PRESETS[a.preset])
    for k in list(cfg):
        v = getattr(a, k, None)
        if v is not None:
            cfg[k] = v
    cfg.update(seed=a.seed, std=a.std, norm_noise=a.norm_noise, dtype=a.dtype)
    if cfg["head_dim"] is None:
        assert cfg["n_embd"] % cfg["n_head"] == 0
        cfg["head_dim"] = cfg["n_embd"] // cfg["n_head"]

    arch = cfg["arch"]
    w = gguf.GGUFWriter(a.out, arch)
    w.add_name(a.name or a.preset)
    w.add_description(f"random weights (seed {a.seed}, std {a.std}, norms 1+N(0,{a.norm_noise}^2)), "
                      f"written by make_random_gguf.py preset {a.preset}")
    w.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                     "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
                     "q4_k": gguf.LlamaFileType.MOSTLY_Q4_K_M}[a.dtype])

    if a.vocab_from:
        n_vocab = copy_vocab(w, a.vocab_from)
        if cfg["n_vocab"] != n_vocab:
            print(f"note: vocab size taken from {a.vocab_from}: {n_vocab}", file=sys.stderr)
        cfg["n_vocab"] = n_vocab
    else:
        add_synthetic_vocab(w, cfg["n_vocab"])

    w.add_context_length(cfg["n_ctx"])
    w.add_embedding_length(cfg["n_embd"])
    w.add_block_count(cfg["n_layer"])
    w.add_feed_forward_length(cfg["n_ff"])
    w.add_head_count(cfg["n_head"])
    w.add_head_count_kv(cfg["n_head_kv"])
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_eps"])
    w.add_vocab_size(cfg["n_vocab"])
    if arch == "llama":
        w.add_rope_dimension_count(cfg["head_dim"])
    elif arch == "gemma3":
        # the keys llama.cpp's HF converter writes for Gemma 3
        w.add_key_length(cfg["head_dim"])
        w.add_value_length(cfg["head_dim"])
        if cfg["sliding_window"]:
            w.add_sliding_window(cfg["sliding_window"])
        if cfg["rope_theta_swa"] is not None:
            # key spelled out: older gguf packages lack add_rope_freq_base_swa()
            w.add_float32(f"{arch}.rope.freq_base_swa", cfg["rope_theta_swa"])
        # note: no sliding_window_pattern key (the HF converter writes none
        # either); llama.cpp then uses period 6: layers 0-4 local, 5 global, ...
    else:
        sys.exit(f"unsupported arch {arch}")

    plan = tensor_plan(cfg)
    for name, shape, kind in plan:
        t = weight_type(shape, kind, a.dtype)
        if t in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            dt = np.float32 if t == gguf.GGMLQuantizationType.F32 else np.float16
            nbytes = int(np.prod(shape)) * np.dtype(dt).itemsize
            w.add_tensor_info(name, shape, np.dtype(dt), nbytes)
        else:
            block, size = gguf.GGML_QUANT_SIZES[t]
            byte_shape = (shape[0], shape[1] // block * size)
            w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), byte_shape[0] * byte_shape[1],
                              raw_dtype=t)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    n_params = 0
    for idx, (name, shape, kind) in enumerate(plan):
        t = make_tensor(idx, shape, kind, cfg)
        n_params += int(np.prod(shape))
        w.write_tensor_data(t)
    w.close()
    print(f"wrote {a.out}: arch {arch}, {len(plan)} tensors, {n_params/1e6:.2f}M params, "
          f"weights {a.dtype}", file=sys.stderr)


if __name__ == "__main__":
    main()
