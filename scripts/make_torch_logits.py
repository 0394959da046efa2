#!/usr/bin/env python3
"""Reference numbers from transformers/torch for Kiln's forward-pass tests.

Usage (from the repository root):
  .venv/bin/python scripts/make_torch_logits.py

Writes, under tests/data/forward/torch/:
  rope_inv_freq.json   transformers' RoPE inverse frequencies and attention
                       factors for the "linear", "llama3" and "yarn" rope types
                       (checked by tests/unit/backend/ops_rope_test.cpp).
  <model>/             for each tiny random HF model in tests/data/models/hf-tiny-*/
                       (made by the model-files scripts with transformers):
    manifest.json      prompts (token ids) and file names
    <prompt>_f32.bin   float32 logits [n_tokens, n_vocab] of torch's eager
                       forward over the whole prompt, weights as stored (F32)
    <prompt>_f16.bin   the same with every parameter rounded to float16 first
    <prompt>_bf16.bin  ... rounded to bfloat16 first
                       (arithmetic stays float32 in both: they are the reference
                       for Kiln running F16/BF16 copies of the model)

Everything runs on the CPU in float32 with attn_implementation="eager".
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "forward" / "torch"
MODELS = ROOT / "tests" / "data" / "models"

# Prompt lengths: one token, a short prompt, and one longer than the sliding
# windows the tiny models use.
PROMPT_LENGTHS = {"p0": 1, "p1": 7, "p2": 33}


def rope_goldens():
    cases = [
        ("linear", 10000.0, 64, 4096, {"rope_type": "linear", "factor": 4.0}),
        ("llama3", 500000.0, 64, 131072,
         {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
        ("yarn", 10000.0, 64, 8192,
         {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}),
        ("yarn_betas", 1000000.0, 128, 131072,
         {"rope_type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096,
          "beta_fast": 16.0, "beta_slow": 2.0}),
        ("yarn_mscale", 10000.0, 64, 163840,
         {"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096,
          "mscale": 1.0, "mscale_all_dim": 0.707}),
    ]
    out = []
    for name, theta, head_dim, max_pos, scaling in cases:
        n_heads = 4
        cfg = LlamaConfig(hidden_size=head_dim * n_heads, num_attention_heads=n_heads,
                          head_dim=head_dim, max_position_embeddings=max_pos,
                          rope_theta=theta, rope_scaling=dict(scaling))
        inv_freq, attention_factor = ROPE_INIT_FUNCTIONS[scaling["rope_type"]](cfg, "cpu")
        out.append({"name": name, "theta": theta, "n_rot": head_dim, "rope_scaling": scaling,
                    "inv_freq": [float(x) for x in inv_freq.double()],
                    "attention_factor": float(attention_factor)})
    path = OUT / "rope_inv_freq.json"
    path.write_text(json.dumps({"transformers": transformers.__version__, "cases": out}, indent=1))
    print("wrote", path.relative_to(ROOT))


def prompts(n_vocab):
    rng = np.random.default_rng(1234)
    return {name: [int(x) for x in rng.integers(0, n_vocab, size=n)]
            for name, n in PROMPT_LENGTHS.items()}


def logits_of(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=False)
    return out.logits[0].float().numpy().astype("<f4")


def model_goldens(model_dir):
    name = model_dir.name
    cfg = AutoConfig.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    n_vocab = model.config.vocab_size
    dest = OUT / name
    dest.mkdir(parents=True, exist_ok=True)
    ps = prompts(n_vocab)
    variants = {"f32": None, "f16": torch.float16, "bf16": torch.bfloat16}
    entries = []
    for variant, dtype in variants.items():
        m = model
        if dtype is not None:
            m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                     attn_implementation="eager")
            with torch.no_grad():
                for p in m.parameters():
                    p.copy_(p.to(dtype).to(torch.float32))
            m.eval()
        for pname, ids in ps.items():
            lg = logits_of(m, ids)
            fname = f"{pname}_{variant}.bin"
            lg.tofile(dest / fname)
            entries.append({"prompt": pname, "variant": variant, "file": fname,
                            "shape": list(lg.shape)})
    manifest = {"model": name, "architecture": cfg.architectures[0], "n_vocab": n_vocab,
                "transformers": transformers.__version__, "torch": torch.__version__,
                "attn_implementation": "eager", "prompts": ps, "files": entries}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print("wrote", dest.relative_to(ROOT))


def main():
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    rope_goldens()
    dirs = sorted(d for d in MODELS.glob("hf-tiny-*") if (d / "config.json").exists())
    if not dirs:
        print("no tests/data/models/hf-tiny-*/ models yet", file=sys.stderr)
    for d in dirs:
        model_goldens(d)


if __name__ == "__main__":
    main()
