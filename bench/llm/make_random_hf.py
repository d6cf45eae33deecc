#!/usr/bin/python3
"""Writes a Hugging Face causal-LM folder with random weights in the shapes of a real model, for
speed measurements: config.json, generation_config.json and model.safetensors (numpy only, fixed
seed). Random weights run exactly as fast as trained ones of the same shapes.

    make_random_hf.py --preset gpt2-124m --out DIR [--dtype f32|bf16]
    make_random_hf.py --preset tinyllama-1.1b --out DIR --dtype bf16

The tokenizer is not written here: copy one beside it (bench/run_llm_bench.py uses GPT-2's).
"""
import argparse
import json
import os
import struct

import numpy as np

PRESETS = {
    # GPT-2 small: 124M parameters, tied embeddings.
    "gpt2-124m": dict(model_type="gpt2", vocab_size=50257, n_positions=1024, n_embd=768,
                      n_layer=12, n_head=12),
    # TinyLlama-1.1B: grouped-query attention (32 heads, 4 KV heads), untied output projection.
    "tinyllama-1.1b": dict(model_type="llama", vocab_size=32000, hidden_size=2048,
                           intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                           num_key_value_heads=4, max_position_embeddings=2048),
}


def gpt2_tensors(c):
    h, v = c["n_embd"], c["vocab_size"]
    yield "wte.weight", (v, h), "normal"
    yield "wpe.weight", (c["n_positions"], h), "normal"
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        yield p + "ln_1.weight", (h,), "ones"
        yield p + "ln_1.bias", (h,), "zeros"
        yield p + "attn.c_attn.weight", (h, 3 * h), "normal"  # Conv1D: [in, out]
        yield p + "attn.c_attn.bias", (3 * h,), "zeros"
        yield p + "attn.c_proj.weight", (h, h), "normal"
        yield p + "attn.c_proj.bias", (h,), "zeros"
        yield p + "ln_2.weight", (h,), "ones"
        yield p + "ln_2.bias", (h,), "zeros"
        yield p + "mlp.c_fc.weight", (h, 4 * h), "normal"
        yield p + "mlp.c_fc.bias", (4 * h,), "zeros"
        yield p + "mlp.c_proj.weight", (4 * h, h), "normal"
        yield p + "mlp.c_proj.bias", (h,), "zeros"
    yield "ln_f.weight", (h,), "ones"
    yield "ln_f.bias", (h,), "zeros"


def llama_tensors(c):
    h, v, f = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    hd = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    yield "model.embed_tokens.weight", (v, h), "normal"
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,), "ones"
        yield p + "self_attn.q_proj.weight", (h, h), "normal"
        yield p + "self_attn.k_proj.weight", (kv, h), "normal"
        yield p + "self_attn.v_proj.weight", (kv, h), "normal"
        yield p + "self_attn.o_proj.weight", (h, h), "normal"
        yield p + "post_attention_layernorm.weight", (h,), "ones"
        yield p + "mlp.gate_proj.weight", (f, h), "normal"
        yield p + "mlp.up_proj.weight", (f, h), "normal"
        yield p + "mlp.down_proj.weight", (h, f), "normal"
    yield "model.norm.weight", (h,), "ones"
    yield "lm_head.weight", (v, h), "normal"


def config_json(preset, dtype):
    c = dict(PRESETS[preset])
    torch_dtype = "float32" if dtype == "f32" else "bfloat16"
    if c["model_type"] == "gpt2":
        c.update(architectures=["GPT2LMHeadModel"], n_ctx=c["n_positions"],
                 activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=50256,
                 eos_token_id=50256, tie_word_embeddings=True)
    else:
        c.update(architectures=["LlamaForCausalLM"], hidden_act="silu", rms_norm_eps=1e-5,
                 rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=False,
                 attention_bias=False, bos_token_id=1, eos_token_id=2)
    c["torch_dtype"] = torch_dtype
    return c


def write_safetensors(path, tensors, dtype, seed):
    rng = np.random.default_rng(seed)
    st_dtype, item = ("F32", 4) if dtype == "f32" else ("BF16", 2)
    header, offset, entries = {}, 0, list(tensors)
    for name, shape, _ in entries:
        nbytes = int(np.prod(shape)) * item
        header[name] = {"dtype": st_dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape, init in entries:
            if init == "normal":
                a = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
            elif init == "ones":
                a = np.ones(shape, np.float32)
            else:
                a = np.zeros(shape, np.float32)
            if dtype == "bf16":  # round to nearest even on the top 16 bits
                u = a.view(np.uint32)
                a = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
            f.write(np.ascontiguousarray(a).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cfg = config_json(a.preset, a.dtype)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"]}, f)
    tensors = gpt2_tensors(cfg) if cfg["model_type"] == "gpt2" else llama_tensors(cfg)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors, a.dtype, a.seed)
    print(f"wrote {a.out} ({a.preset}, {a.dtype})")


if __name__ == "__main__":
    main()
