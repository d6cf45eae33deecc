"""Writes the trained model as a Hugging Face folder: config, weights, tokenizer, the held-out
text and prompt, reference outputs for parity checks, and the model card."""
import json
import os

import numpy as np
import torch

import safetensors_file

PROMPT = "And it came to pass in those days, that"
GREEDY_TOKENS = 32


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def _tokenizer_config(tok, context):
    added = {str(tok.vocab[t]): {"content": t, "lstrip": False, "normalized": False,
                                 "rstrip": False, "single_word": False, "special": True}
             for t in sorted(tok.special, key=lambda t: tok.vocab[t])}
    return {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": added,
            "bos_token": tok.bos, "eos_token": tok.eos, "clean_up_tokenization_spaces": False,
            "model_max_length": context, "tokenizer_class": "PreTrainedTokenizerFast"}


def export(out, model, tok, held_text, stats):
    os.makedirs(out, exist_ok=True)
    cfg = model.cfg
    _write_json(os.path.join(out, "config.json"), cfg.to_hf())
    _write_json(os.path.join(out, "generation_config.json"),
                {"_from_model_config": True, "bos_token_id": cfg.bos_token_id,
                 "eos_token_id": cfg.eos_token_id, "transformers_version": "4.44.0"})
    safetensors_file.save(model.hf_state_dict(), os.path.join(out, "model.safetensors"))
    tok.save(os.path.join(out, "tokenizer.json"))
    _write_json(os.path.join(out, "tokenizer_config.json"),
                _tokenizer_config(tok, cfg.max_position_embeddings))
    _write_json(os.path.join(out, "special_tokens_map.json"),
                {"bos_token": tok.bos, "eos_token": tok.eos})
    with open(os.path.join(out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(held_text)
    with open(os.path.join(out, "prompt.txt"), "w", encoding="utf-8") as f:
        f.write(PROMPT)  # no trailing newline: the prompt is exactly this text

    model.eval()
    ids = tok.encode(PROMPT, add_bos=True)
    with torch.no_grad():
        last = model(torch.tensor([ids]))[0, -1].float().numpy()
    np.save(os.path.join(out, "reference_logits.npy"), last.astype(np.float32))
    greedy = model.greedy(ids, GREEDY_TOKENS)
    model.train()
    _write_json(os.path.join(out, "reference_greedy.json"),
                {"prompt": PROMPT, "input_ids": ids, "generated_ids": greedy,
                 "generated_text": tok.decode(greedy)})
    _write_json(os.path.join(out, "training.json"), stats)
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(_model_card(cfg, stats, PROMPT + tok.decode(greedy)))


def _model_card(cfg, s, sample):
    size_mb = s["parameters"] * 4 / 1e6
    status = "" if s["final"] else (
        f"\n**Checkpoint**: step {s['steps']}, before the end of the schedule.\n")
    return f"""---
license: other
language: en
tags: [llama, tiny, kiln]
---

# tiny-llama-kjv

Kiln's embedded default model: a {s['parameters'] / 1e6:.2f}M-parameter Llama causal LM trained
from scratch on the King James Version of the Bible, for demos and tests of Kiln's LLM stack
(conversion, INT8/INT4 compression, generation, perplexity). It writes KJV-style English and
knows nothing else.
{status}
| | |
|---|---|
| architecture | `LlamaForCausalLM`: {cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, MLP {cfg.intermediate_size} (SwiGLU), {cfg.num_attention_heads} heads / {cfg.num_key_value_heads} KV heads (head dim {cfg.head_dim}), RoPE θ {cfg.rope_theta:g}, RMSNorm ε {cfg.rms_norm_eps:g}, tied embeddings |
| context | {cfg.max_position_embeddings} tokens |
| parameters | {s['parameters']:,} ({size_mb:.1f} MB in float32) |
| tokenizer | byte-level BPE (GPT-2 style), {cfg.vocab_size} tokens: 256 bytes, {cfg.vocab_size - 258} merges, `<|begin_of_text|>` (BOS, id {cfg.bos_token_id}, added by the tokenizer) and `<|end_of_text|>` (EOS, id {cfg.eos_token_id}, never seen in training) |
| training data | {s['train_tokens']:,} tokens: the KJV without the held-out books |
| training | {s['steps']} steps × {s['batch']} sequences × {s['context']} tokens, AdamW (β 0.9/0.95, weight decay 0.1), peak LR {s['lr']:g}, warmup then cosine to 10 %, seed {s['seed']}, {s['threads']} CPU threads, {s['train_seconds'] / 60:.1f} minutes |
| held-out perplexity | **{s['held_out_perplexity']:.2f}** on {s['held_out_tokens']:,} tokens (PyTorch, float32) |

## Data

The text comes from Debian's `bible-kjv-text` package (`/usr/lib/bible.data`, read with the
`bible` program of the `bible-kjv` package). The King James Version (1611) is in the public
domain; Debian's copyright file notes that its copyright "is expired since the translation was
done in 1611". One verse a line, a blank line between chapters. The books Ruth, Jonah, Joel,
Titus, Philemon and Jude are held out of training and stored here as `heldout.txt`.

## Files

- `config.json`, `generation_config.json`, `model.safetensors` (float32), `tokenizer.json`,
  `tokenizer_config.json`, `special_tokens_map.json`: a standard Hugging Face folder.
- `heldout.txt`: the held-out books. Perplexity protocol: encode without BOS, cut the ids into
  consecutive chunks of {cfg.max_position_embeddings}, feed each as BOS + chunk[:-1] and score
  every token of the chunk; perplexity = exp(total NLL / token count).
- `prompt.txt`: the demo prompt (no trailing newline).
- `reference_logits.npy`: float32 [{cfg.vocab_size}], PyTorch's logits at the last position of
  BOS + prompt; `reference_greedy.json`: those input ids and the {GREEDY_TOKENS} greedy tokens after them.
- `training.json`: the figures of the run that produced these weights.

Greedy sample (BOS + `prompt.txt`, 32 tokens):

```
{sample}
```

## Reproduce

```
apt-get install bible-kjv bible-kjv-text libopenblas0-openmp
/usr/bin/python3 models/train_tiny_llama.py --out models/tiny-llama-kjv
```

The schedule runs for a time budget (`--minutes`, default 30), so the number of steps, and the
weights, depend on how busy the machine is; `--steps N --minutes 1e9` fixes the run instead.

Debian's PyTorch only; the tokenizer trainer, the model and the safetensors writer are in
`models/` beside the script. See docs/GENAI.md, "The embedded default model".
"""
