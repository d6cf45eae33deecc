#!/usr/bin/python3
"""Writes a GPT-2-small-shaped Hugging Face folder with random weights (config.json and
model.safetensors, f32, ~500 MB) for timing `kiln generate` without downloading a checkpoint.
The weights come from tests/hf/make_reference.py's gpt2_weights; put a GPT-2 tokenizer.json
beside them (tests/tokenizer/gpt2_parity.sh builds one).

usage: make_random_gpt2.py OUT_DIR
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "hf"))
import make_reference  # noqa: E402

CONFIG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50257,
          "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
          "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
          "bos_token_id": 50256, "eos_token_id": 50256, "tie_word_embeddings": True,
          "torch_dtype": "float32"}

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    weights = make_reference.gpt2_weights(CONFIG, torch.Generator().manual_seed(5))
    make_reference.write_safetensors(os.path.join(out, "model.safetensors"), weights)
