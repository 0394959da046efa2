#!/usr/bin/env python3
"""Builds tiny random Hugging Face checkpoints for Kiln's tests.

Usage (from the repository root; needs torch, transformers, tokenizers):
  .venv/bin/python scripts/make_tiny_hf_models.py [--out tests/data/models]

Writes tests/data/models/hf-tiny-<name>/ for each entry of MODELS: config.json,
generation_config.json, model.safetensors (F32 except gemma3-bf16; qwen2 in
shards with model.safetensors.index.json; save_pretrained with
safe_serialization=True), tokenizer.json and tokenizer_config.json (a 512-token
byte-level BPE trained here on a fixed text; see TOKENIZER_TEXT), and a chat
template in one of the three places transformers reads it from. Everything is
seeded, so re-running reproduces the same weights (with the same torch build).

Weights are not transformers' init (which makes norms exactly 1 and logits
nearly uniform): every parameter is redrawn from a seeded normal so that each
code path (norm weights, biases, q/k norms) changes the logits:
  embeddings N(0, 0.5^2); matrices N(0, 1/fan_in); biases N(0, 0.1^2);
  norm weights 1 + N(0, 0.1^2), or N(0, 0.1^2) for Gemma (which stores w of 1 + w).
"""
import argparse
import json
import shutil
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

VOCAB = 512
SEED = 1234

# Text we wrote for the tokenizer (no third-party data).
TOKENIZER_TEXT = """
Kiln is a small inference server. It reads a model, keeps many requests in flight,
and answers over HTTP. The quick brown fox jumps over the lazy dog, then the dog
sleeps in the sun while the fox runs into the forest. Once upon a time there was a
little robot that loved to count: one, two, three, four, five, six, seven, eight,
nine, ten. It counted apples and oranges, trees and rivers, stars in the night sky.
"Hello, world!" said the robot. 'How are you today?' asked the cat. I am fine,
thank you. We are testing tokens, words, numbers like 12345 and 3.14159, symbols
such as + - * / = < > ( ) [ ] { } # @ & % $, and new lines.
The model predicts the next token; the sampler chooses one; the server streams it.
Attention, rotary embeddings, normalization, and feed-forward layers make a block.
User: what is the capital of France? Assistant: The capital of France is Paris.
System: you are a helpful assistant. Tools may be called with JSON arguments.
"""

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>",
                  "<start_of_turn>", "<end_of_turn>", "<|user|>", "<|assistant|>", "<|end|>"]

# Chat templates written for these fixtures (simple, not copied from any model).
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
CHATML_TOOLS = ("{% if tools %}<|im_start|>system\nTools: {{ tools | tojson }}<|im_end|>\n{% endif %}"
                + CHATML)
GEMMA_STYLE = ("{{ bos_token }}{% for m in messages %}<start_of_turn>"
               "{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n{{ m['content'] }}"
               "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
PHI_STYLE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
             "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
LLAMA_STYLE = ("{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n"
               "{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}")

COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)

# name -> (config class, model class, config kwargs, generation_config kwargs,
#          tokenizer options, chat template placement)
MODELS = {
    "llama": (
        "LlamaConfig", "LlamaForCausalLM",
        dict(COMMON, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False),
        dict(bos_token_id=1, eos_token_id=2, do_sample=True, temperature=0.6, top_p=0.9),
        dict(add_bos=True), ("tokenizer_config", LLAMA_STYLE)),
    "llama-rope-llama3": (
        "LlamaConfig", "LlamaForCausalLM",
        dict(COMMON, rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
             rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                               high_freq_factor=4.0, original_max_position_embeddings=64)),
        dict(bos_token_id=1, eos_token_id=[2, 5]),
        dict(add_bos=True), ("tokenizer_config", LLAMA_STYLE)),
    "qwen2": (
        "Qwen2Config", "Qwen2ForCausalLM",
        dict(COMMON, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False),
        dict(bos_token_id=1, eos_token_id=[5, 2], do_sample=True, repetition_penalty=1.05, top_k=20),
        dict(add_bos=False), ("tokenizer_config_list", {"default": CHATML, "tool_use": CHATML_TOOLS})),
    "qwen3": (
        "Qwen3Config", "Qwen3ForCausalLM",
        dict(COMMON, head_dim=32, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True),
        dict(eos_token_id=[5, 2], do_sample=True, temperature=0.7, top_p=0.8, top_k=20, min_p=0.0),
        dict(add_bos=False), ("jinja_file", CHATML)),
    "gemma3": (
        "Gemma3TextConfig", "Gemma3ForCausalLM",
        dict(COMMON, head_dim=32, num_hidden_layers=3, num_key_value_heads=1, rms_norm_eps=1e-6,
             rope_theta=1000000.0, rope_local_base_freq=10000.0, sliding_window=4,
             layer_types=["sliding_attention", "sliding_attention", "full_attention"],
             query_pre_attn_scalar=32, hidden_activation="gelu_pytorch_tanh",
             tie_word_embeddings=True),
        dict(bos_token_id=1, eos_token_id=[2, 7], do_sample=True, top_k=64, top_p=0.95),
        dict(add_bos=True), ("jinja_file", GEMMA_STYLE)),
    "phi3": (
        "Phi3Config", "Phi3ForCausalLM",
        dict(COMMON, num_key_value_heads=4, rms_norm_eps=1e-5, rope_theta=10000.0,
             sliding_window=128, tie_word_embeddings=False, original_max_position_embeddings=256),
        dict(bos_token_id=1, eos_token_id=[2, 10, 5]),
        dict(add_bos=True), ("tokenizer_config", PHI_STYLE)),
    "phi3-longrope": (
        "Phi3Config", "Phi3ForCausalLM",
        dict(COMMON, num_key_value_heads=4, rms_norm_eps=1e-5, rope_theta=10000.0,
             max_position_embeddings=1024, original_max_position_embeddings=256,
             tie_word_embeddings=False,
             rope_scaling=dict(type="longrope",
                               short_factor=[1.0 + 0.05 * i for i in range(8)],
                               long_factor=[1.0 + 0.5 * i for i in range(8)])),
        dict(bos_token_id=1, eos_token_id=[2, 10]),
        dict(add_bos=True), ("tokenizer_config", PHI_STYLE)),
}
# The Gemma 3 weights again, stored as BF16 (how Gemma checkpoints ship).
MODELS["gemma3-bf16"] = MODELS["gemma3"]
# Saved in shards with model.safetensors.index.json instead of one file.
SHARDED = {"qwen2": "200KB"}
DTYPES = {"gemma3-bf16": torch.bfloat16}


def train_tokenizer(add_bos):
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([TOKENIZER_TEXT] * 4, trainer=trainer)
    if add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def randomize(model, gemma):
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "norm" in name:
                base = 0.0 if gemma else 1.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def write_tokenizer(out, tok_opts, chat):
    tok = train_tokenizer(tok_opts["add_bos"])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>")
    kind, template = chat
    if kind == "jinja_file":
        fast.chat_template = template  # transformers 4.57 saves it as chat_template.jinja
    fast.save_pretrained(out)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["add_bos_token"] = tok_opts["add_bos"]
    cfg["add_eos_token"] = False
    if kind == "tokenizer_config":
        cfg["chat_template"] = template
    elif kind == "tokenizer_config_list":
        cfg["chat_template"] = [{"name": n, "template": t} for n, t in template.items()]
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    if kind == "jinja_file":
        assert (out / "chat_template.jinja").exists(), "expected chat_template.jinja"


def build(name, spec, root):
    config_cls, model_cls, cfg_kwargs, gen_kwargs, tok_opts, chat = spec
    torch.manual_seed(SEED)
    config = getattr(transformers, config_cls)(**cfg_kwargs)
    config.architectures = [model_cls]
    model = getattr(transformers, model_cls)(config).to(torch.float32).eval()
    randomize(model, gemma="gemma" in name)
    model = model.to(DTYPES.get(name, torch.float32))
    out = root / f"hf-tiny-{name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    model.generation_config = transformers.GenerationConfig(**gen_kwargs)
    model.save_pretrained(out, safe_serialization=True, max_shard_size=SHARDED.get(name, "5GB"))
    write_tokenizer(out, tok_opts, chat)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{out}: {size} bytes")
    assert size < 1_000_000, f"{out} is too big"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests/data/models"))
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    root = Path(args.out)
    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        build(name, spec, root)


if __name__ == "__main__":
    main()
