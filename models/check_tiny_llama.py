#!/usr/bin/python3
"""Reloads a folder written by train_tiny_llama.py from its files alone (config.json,
model.safetensors, tokenizer.json) and checks it against its reference outputs: the last-position
logits, the greedy continuation and the held-out perplexity recorded in training.json.

    /usr/bin/python3 models/check_tiny_llama.py models/tiny-llama-kjv
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import byte_bpe  # noqa: E402
import safetensors_file  # noqa: E402
from llama_model import LlamaConfig, LlamaForCausalLM  # noqa: E402
# Importing the training script also re-runs this one with OpenBLAS when it is installed.
from train_tiny_llama import perplexity  # noqa: E402


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        hf = json.load(f)
    fields = LlamaConfig.__dataclass_fields__
    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in hf.items() if k in fields}))
    weights = safetensors_file.load(os.path.join(folder, "model.safetensors"))
    if model.cfg.tie_word_embeddings:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    model.load_state_dict(weights, strict=True)
    return model.eval(), byte_bpe.Tokenizer.load(os.path.join(folder, "tokenizer.json"))


def main():
    folder = sys.argv[1]
    torch.set_num_threads(2)
    model, tok = load(folder)
    with open(os.path.join(folder, "reference_greedy.json")) as f:
        ref = json.load(f)
    with open(os.path.join(folder, "prompt.txt"), encoding="utf-8") as f:
        prompt = f.read()
    ids = tok.encode(prompt)
    assert ids == ref["input_ids"], f"prompt ids {ids} != reference {ref['input_ids']}"
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0, -1].numpy()
    diff = float(np.abs(logits - np.load(os.path.join(folder, "reference_logits.npy"))).max())
    greedy = model.greedy(ids, len(ref["generated_ids"]))
    with open(os.path.join(folder, "heldout.txt"), encoding="utf-8") as f:
        held = tok.encode(f.read(), add_bos=False)
    with open(os.path.join(folder, "training.json")) as f:
        stats = json.load(f)
    ppl = perplexity(model, held, tok.vocab[tok.bos], model.cfg.max_position_embeddings)
    print(f"logits max |diff| {diff:.2e}; greedy {'same' if greedy == ref['generated_ids'] else 'DIFFERENT'}; "
          f"held-out perplexity {ppl:.3f} (recorded {stats['held_out_perplexity']})")
    ok = diff < 1e-4 and greedy == ref["generated_ids"] and \
        abs(ppl - stats["held_out_perplexity"]) < 1e-2
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
