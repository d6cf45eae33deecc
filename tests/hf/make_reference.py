#!/usr/bin/python3
"""Writes small random Hugging Face causal-LM folders and PyTorch reference outputs for the
graph-builder parity test (tests/hf/hf_parity_test.cpp).

usage: make_reference.py OUT_DIR

For each architecture (gpt2, llama with grouped-query attention and llama3 RoPE scaling, qwen2
with q/k/v biases and tied embeddings, mistral with a sliding window shorter than the sequence,
llama_dynamic with dynamic NTK RoPE scaling, compared on single forward passes only)
OUT_DIR/<name>/ gets:
  config.json, tokenizer.json (two-letter tokens, for the generation pipeline),
  model.safetensors (llama: two shards + model.safetensors.index.json; qwen2 in bfloat16,
  mistral in float16), npy/<tensor name>.npy (the same tensors, as read back),
  reference/: prompt_logits.npy [1, L, V], greedy_logits.npy [64, V] (the logits each greedy
  token was chosen from), batch_logits.npy [2, L, V] (a left-padded batch) and reference.json
  (token ids, masks, position ids, the greedy continuations).

The models follow the modeling code of Hugging Face transformers (GPT2LMHeadModel,
LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM, eager attention), written here with
plain torch since the transformers library is not installed. Each step recomputes the whole
sequence without a cache, so the test's KV-cache path is checked against a cache-free result.
Exits 77 (skip) when torch is missing.
"""
import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print(f"make_reference.py: skipped, {e}")
    sys.exit(77)

GREEDY_STEPS = 64
BATCH_STEPS = 8
NEG = torch.finfo(torch.float32).min

# ---------------------------------------------------------------------------------------------
# Reference models


def causal_mask(attention_mask, seq, sliding_window=None):
    """[B, 1, L, S] additive mask: query t (cache index past + t) sees keys <= itself, inside
    the sliding window, that attention_mask does not mark as padding."""
    total = attention_mask.shape[1]
    past = total - seq
    q = torch.arange(past, total)[:, None]
    k = torch.arange(total)[None, :]
    ok = k <= q
    if sliding_window is not None:
        ok = ok & (k > q - sliding_window)
    ok = ok[None, None] & (attention_mask[:, None, None, :] != 0)
    return torch.where(ok, torch.tensor(0.0), torch.tensor(NEG))


def attend(q, k, v, mask):
    """q [B, H, L, E], k / v [B, KV, S, E]; repeat_kv, eager softmax attention."""
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    w = q @ k.transpose(2, 3) / math.sqrt(q.shape[-1]) + mask
    w = torch.softmax(w.float(), dim=-1)
    return w @ v


def heads(x, n):
    b, l, _ = x.shape
    return x.view(b, l, n, -1).transpose(1, 2)


def merge(x):
    b, h, l, e = x.shape
    return x.transpose(1, 2).reshape(b, l, h * e)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(cfg, w, ids, mask, pos):
    p = "transformer."
    h = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][pos]
    n, eps = cfg["n_head"], cfg["layer_norm_epsilon"]
    m = causal_mask(mask, ids.shape[1])
    ln = lambda x, name: torch.nn.functional.layer_norm(
        x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], eps)
    conv1d = lambda x, name: x @ w[name + ".weight"] + w[name + ".bias"]
    for i in range(cfg["n_layer"]):
        b = f"{p}h.{i}."
        q, k, v = conv1d(ln(h, b + "ln_1"), b + "attn.c_attn").split(cfg["n_embd"], dim=2)
        a = attend(heads(q, n), heads(k, n), heads(v, n), m)
        h = h + conv1d(merge(a), b + "attn.c_proj")
        h = h + conv1d(gelu_new(conv1d(ln(h, b + "ln_2"), b + "mlp.c_fc")), b + "mlp.c_proj")
    return ln(h, p + "ln_f") @ w[p + "wte.weight"].T


def rope_inv_freq(cfg, dim, seq_len):
    base = cfg.get("rope_theta", 10000.0)
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "dynamic":  # transformers' _compute_dynamic_ntk_parameters
        longest = max(seq_len, cfg["max_position_embeddings"])
        base = base * ((rs["factor"] * longest / cfg["max_position_embeddings"]) - (rs["factor"] - 1)) ** (dim / (dim - 2))
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if kind == "linear":
        inv = inv / rs["factor"]
    elif kind == "llama3":  # transformers' _compute_llama3_parameters
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def llama_forward(cfg, w, ids, mask, pos):
    n, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg["hidden_size"] // n
    eps = cfg["rms_norm_eps"]
    qkv_bias = cfg["model_type"] == "qwen2"
    window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" else None
    inv = rope_inv_freq(cfg, hd, int(pos.max()) + 1)
    freqs = (inv[None, :, None] @ pos[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    rope = lambda x: x * cos + rotate_half(x) * sin

    def rms(x, name):
        var = x.pow(2).mean(-1, keepdim=True)
        return w[name] * (x * torch.rsqrt(var + eps))

    def lin(x, name, bias=False):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if bias else y

    m = causal_mask(mask, ids.shape[1], window)
    h = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        b = f"model.layers.{i}."
        a = rms(h, b + "input_layernorm.weight")
        q = rope(heads(lin(a, b + "self_attn.q_proj", qkv_bias), n))
        k = rope(heads(lin(a, b + "self_attn.k_proj", qkv_bias), kv))
        v = heads(lin(a, b + "self_attn.v_proj", qkv_bias), kv)
        h = h + lin(merge(attend(q, k, v, m)), b + "self_attn.o_proj")
        x = rms(h, b + "post_attention_layernorm.weight")
        act = torch.nn.functional.silu(lin(x, b + "mlp.gate_proj")) * lin(x, b + "mlp.up_proj")
        h = h + lin(act, b + "mlp.down_proj")
    h = rms(h, "model.norm.weight")
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return h @ head.T


# ---------------------------------------------------------------------------------------------
# Random checkpoints


def gpt2_weights(cfg, g):
    d, v, inner = cfg["n_embd"], cfg["vocab_size"], 4 * cfg["n_embd"]
    r = lambda *s, std=1.0: torch.randn(*s, generator=g) * std
    # Small embeddings against the blocks' outputs keep tied models from repeating the last token.
    w = {"transformer.wte.weight": r(v, d, std=0.05),
         "transformer.wpe.weight": r(cfg["n_positions"], d, std=0.02)}
    norm = lambda name: w.update({name + ".weight": 1 + r(d, std=0.1), name + ".bias": r(d, std=0.1)})
    for i in range(cfg["n_layer"]):
        b = f"transformer.h.{i}."
        norm(b + "ln_1")
        norm(b + "ln_2")
        for name, (fi, fo) in {"attn.c_attn": (d, 3 * d), "attn.c_proj": (d, d),
                               "mlp.c_fc": (d, inner), "mlp.c_proj": (inner, d)}.items():
            w[b + name + ".weight"] = r(fi, fo, std=fi ** -0.5)
            w[b + name + ".bias"] = r(fo, std=0.1)
    norm("transformer.ln_f")
    w["transformer.ln_f.weight"] *= 20  # logits of a useful size from the small embeddings
    return w


def llama_weights(cfg, g):
    d, v, inner = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    n, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // n
    r = lambda *s, std=1.0: torch.randn(*s, generator=g) * std
    w = {"model.embed_tokens.weight": r(v, d, std=0.05 if cfg.get("tie_word_embeddings") else 0.5)}
    for i in range(cfg["num_hidden_layers"]):
        b = f"model.layers.{i}."
        w[b + "input_layernorm.weight"] = 1 + r(d, std=0.1)
        w[b + "post_attention_layernorm.weight"] = 1 + r(d, std=0.1)
        for name, (fo, fi) in {"self_attn.q_proj": (n * hd, d), "self_attn.k_proj": (kv * hd, d),
                               "self_attn.v_proj": (kv * hd, d), "self_attn.o_proj": (d, n * hd),
                               "mlp.gate_proj": (inner, d), "mlp.up_proj": (inner, d),
                               "mlp.down_proj": (d, inner)}.items():
            w[b + name + ".weight"] = r(fo, fi, std=fi ** -0.5)
        if cfg["model_type"] == "qwen2":
            for name, fo in {"q_proj": n * hd, "k_proj": kv * hd, "v_proj": kv * hd}.items():
                w[b + "self_attn." + name + ".bias"] = r(fo, std=0.5)
    w["model.norm.weight"] = (1 + r(d, std=0.1)) * (20 if cfg.get("tie_word_embeddings") else 1)
    if not cfg.get("tie_word_embeddings"):
        w["lm_head.weight"] = r(v, d, std=d ** -0.5 * 4)
    return w


# ---------------------------------------------------------------------------------------------
# Files

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    return offset


def tokenizer_json(vocab_size):
    """A byte-level BPE tokenizer without merges whose token i is a two-letter ASCII string, so
    that any generated id decodes to text."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {letters[i // 26] + letters[i % 26]: i for i in range(vocab_size)}
    return {"version": "1.0", "added_tokens": [], "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                              "trim_offsets": True, "use_regex": True},
            "post_processor": None, "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": vocab, "merges": []}}


def write_folder(folder, cfg, stored, shards):
    os.makedirs(os.path.join(folder, "npy"), exist_ok=True)
    os.makedirs(os.path.join(folder, "reference"), exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(cfg["vocab_size"]), f)
    names = list(stored)
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), stored)
    else:
        weight_map, total = {}, 0
        for s in range(shards):
            part = names[s::shards]
            file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            total += write_safetensors(os.path.join(folder, file), {n: stored[n] for n in part})
            weight_map.update({n: file for n in part})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    for name, t in stored.items():
        # NumPy has no bfloat16: those tensors go to the sidecar as the float32 values they hold.
        a = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
        np.save(os.path.join(folder, "npy", name + ".npy"), a)


# ---------------------------------------------------------------------------------------------
# Reference runs


def greedy(forward, ids, steps):
    """Greedy continuation recomputing the whole (unpadded) sequence each step."""
    seq, chosen, logits = ids.clone(), [], []
    margin = float("inf")
    for _ in range(steps):
        n = seq.shape[1]
        out = forward(seq, torch.ones(1, n, dtype=torch.int64), torch.arange(n)[None])[0, -1]
        top = torch.topk(out, 2).values
        margin = min(margin, float(top[0] - top[1]))
        tok = int(out.argmax())
        chosen.append(tok)
        logits.append(out)
        seq = torch.cat([seq, torch.tensor([[tok]])], dim=1)
    return chosen, torch.stack(logits) if logits else torch.zeros(0, ids.shape[1]), margin


def batch_greedy(forward, ids, mask, steps):
    chosen = []
    for _ in range(steps):
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        out = forward(ids, mask, pos)[:, -1]
        tok = out.argmax(-1)
        chosen.append(tok.tolist())
        ids = torch.cat([ids, tok[:, None]], dim=1)
        mask = torch.cat([mask, torch.ones(ids.shape[0], 1, dtype=torch.int64)], dim=1)
    return [list(r) for r in zip(*chosen)] if chosen else [[] for _ in range(ids.shape[0])]


MODELS = {
    "gpt2": dict(
        cfg={"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 301,
             "n_positions": 128, "n_embd": 64, "n_layer": 3, "n_head": 4, "n_inner": None,
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
             "bos_token_id": 300, "eos_token_id": 300, "tie_word_embeddings": True,
             "torch_dtype": "float32"},
        weights=gpt2_weights, forward=gpt2_forward, dtype=torch.float32, shards=1, seed=11),
    "llama": dict(
        cfg={"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 300,
             "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 3,
             "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
             "rope_scaling": {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
             "attention_bias": False, "tie_word_embeddings": False, "bos_token_id": 1,
             "eos_token_id": 2, "torch_dtype": "float32"},
        weights=llama_weights, forward=llama_forward, dtype=torch.float32, shards=2, seed=12),
    "qwen2": dict(
        cfg={"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 300,
             "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
             "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "hidden_act": "silu",
             "sliding_window": 32, "use_sliding_window": False, "max_window_layers": 2,
             "tie_word_embeddings": True, "bos_token_id": 298, "eos_token_id": 299,
             "torch_dtype": "bfloat16"},
        weights=llama_weights, forward=llama_forward, dtype=torch.bfloat16, shards=1, seed=13),
    "mistral": dict(
        cfg={"model_type": "mistral", "architectures": ["MistralForCausalLM"], "vocab_size": 300,
             "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 1, "max_position_embeddings": 256,
             "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
             "sliding_window": 16, "tie_word_embeddings": False, "bos_token_id": 1,
             "eos_token_id": 2, "torch_dtype": "float16"},
        weights=llama_weights, forward=llama_forward, dtype=torch.float16, shards=1, seed=14),
    # Dynamic NTK scaling past a context of 8: Hugging Face rotates cached keys with the base of
    # their own step, so only single forward passes (prompt, batch) compare with this cache-free
    # reference.
    "llama_dynamic": dict(
        cfg={"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 300,
             "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 8,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
             "rope_scaling": {"rope_type": "dynamic", "factor": 2.0},
             "tie_word_embeddings": False, "torch_dtype": "float32"},
        weights=llama_weights, forward=llama_forward, dtype=torch.float32, shards=1, seed=15,
        decode=False),
}


def make(out_dir, name, spec):
    g = torch.Generator().manual_seed(spec["seed"])
    cfg = spec["cfg"]
    stored = {k: t.to(spec["dtype"]) for k, t in spec["weights"](cfg, g).items()}
    w = {k: t.float() for k, t in stored.items()}  # what the checkpoint holds, computed in f32
    folder = os.path.join(out_dir, name)
    write_folder(folder, cfg, stored, spec["shards"])
    vocab = cfg["vocab_size"]
    fwd = lambda ids, mask, pos: spec["forward"](cfg, w, ids, mask, pos)
    prompt = torch.randint(3, vocab - 3, (1, 11), generator=g)
    with torch.no_grad():
        prompt_logits = fwd(prompt, torch.ones_like(prompt), torch.arange(11)[None])
        steps = GREEDY_STEPS if spec.get("decode", True) else 0
        tokens, greedy_logits, margin = greedy(fwd, prompt, steps)
        short = torch.randint(3, vocab - 3, (1, 6), generator=g)
        pad = cfg.get("pad_token_id") or 0
        ids = torch.cat([prompt, torch.cat([torch.full((1, 5), pad), short], dim=1)])
        mask = torch.cat([torch.ones(1, 11, dtype=torch.int64),
                          torch.cat([torch.zeros(1, 5, dtype=torch.int64),
                                     torch.ones(1, 6, dtype=torch.int64)], dim=1)])
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        batch_logits = fwd(ids, mask, pos)
        batch_tokens = batch_greedy(fwd, ids, mask, BATCH_STEPS if steps else 0)
    if margin < 1e-3:
        sys.exit(f"make_reference.py: {name}: greedy top-2 margin {margin:.2e} is too small to "
                 "compare argmax; change the seed")
    ref = os.path.join(folder, "reference")
    np.save(os.path.join(ref, "prompt_logits.npy"), prompt_logits.numpy())
    np.save(os.path.join(ref, "greedy_logits.npy"), greedy_logits.numpy())
    np.save(os.path.join(ref, "batch_logits.npy"), batch_logits.numpy())
    with open(os.path.join(ref, "reference.json"), "w") as f:
        json.dump({"prompt": prompt[0].tolist(), "greedy": tokens,
                   "batch_input_ids": ids.tolist(), "batch_attention_mask": mask.tolist(),
                   "batch_position_ids": pos.tolist(), "batch_greedy": batch_tokens,
                   "greedy_min_margin": margin if steps else None}, f)
    print(f"{name}: {len(stored)} tensors ({cfg['torch_dtype']}, {spec['shards']} file(s)), "
          f"greedy margin >= {margin:.3g}, continuation {tokens[:8]}...")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.manual_seed(0)
    for name, spec in MODELS.items():
        make(sys.argv[1], name, spec)


if __name__ == "__main__":
    main()
