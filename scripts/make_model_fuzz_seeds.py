#!/usr/bin/env python3
"""Writes small seed inputs for the model fuzz targets (tests/fuzz/corpus/):
two tiny but complete Llama GGUF files (1 layer, n_embd 32; F32 and Q8_0; named
*.seed because .gitignore keeps *.gguf out of the repository) with every metadata value
type including a nested array, written with the `gguf` package, and a tiny
safetensors file. The config.json seeds are copies of tests/data/models/hf-tiny-*/.

Usage: .venv/bin/python scripts/make_model_fuzz_seeds.py
"""
from pathlib import Path

import numpy as np
import gguf
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def tiny_gguf(path, qtype):
    rng = np.random.default_rng(3)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("seed")
    w.add_context_length(16)
    w.add_embedding_length(32)
    w.add_block_count(1)
    w.add_feed_forward_length(32)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "a"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.0])
    w.add_token_types([2, 3, 3, 1])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_chat_template("{{ messages }}")
    w.add_array("seed.nested", [[1, 2], [3]])
    w.add_int8("seed.i8", -3)
    w.add_uint16("seed.u16", 7)
    w.add_int64("seed.i64", -9)
    w.add_float64("seed.f64", 0.5)
    shapes = {"token_embd.weight": (4, 32), "output_norm.weight": (32,),
              "blk.0.attn_norm.weight": (32,), "blk.0.attn_q.weight": (32, 32),
              "blk.0.attn_k.weight": (16, 32), "blk.0.attn_v.weight": (16, 32),
              "blk.0.attn_output.weight": (32, 32), "blk.0.ffn_norm.weight": (32,),
              "blk.0.ffn_gate.weight": (32, 32), "blk.0.ffn_up.weight": (32, 32),
              "blk.0.ffn_down.weight": (32, 32)}
    for name, shape in shapes.items():
        data = rng.standard_normal(shape).astype(np.float32)
        if len(shape) == 2 and qtype == gguf.GGMLQuantizationType.Q8_0:
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
        else:
            w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    (CORPUS / "fuzz_gguf").mkdir(parents=True, exist_ok=True)
    tiny_gguf(CORPUS / "fuzz_gguf" / "tiny-f32.seed", gguf.GGMLQuantizationType.F32)
    tiny_gguf(CORPUS / "fuzz_gguf" / "tiny-q8_0.seed", gguf.GGMLQuantizationType.Q8_0)
    (CORPUS / "fuzz_safetensors").mkdir(parents=True, exist_ok=True)
    save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, np.float16)},
              str(CORPUS / "fuzz_safetensors" / "tiny.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    main()
