#!/usr/bin/python3
"""GPT-2-124M decoder with an explicit KV cache as ONNX, in f32 and with ONNX Runtime's
com.microsoft::MatMulNBits 4-bit and 8-bit weights: the same-host ONNX Runtime peer of
`make bench-llm` (bench/llm/ort_decode.mjs runs these models).

    export_ort_gpt2.py --hf DIR --out DIR [--check]

DIR/model.safetensors is the random checkpoint bench/llm/make_random_hf.py writes (the one Kiln
compresses), so both engines run the same weights. Every model has the inputs
input_ids [B,S] i64, attention_mask [B,past+S] i64, position_ids [B,S] i64 and
past_key_values.{i}.key/value [B,12,past,64] f32, and the outputs logits [B,1,vocab] (the last
position only: generation reads nothing else, and Kiln's pipeline slices the same way) and
present.{i}.key/value [B,12,past+S,64].

Models written (accuracy_level 4 lets the kernel quantize activations to int8 per block, the
VNNI path; the plain names keep the default, unset, which computes in f32):
    f32.onnx                    plain MatMul
    int4.onnx, int4_acc4.onnx   linear layers 4-bit, output projection 8-bit (Kiln's default
                                recipe keeps the embedding and output projection in INT8)
    int4_all.onnx, int4_all_acc4.onnx   the output projection 4-bit too
    int8.onnx, int8_acc4.onnx   everything 8-bit
All quantized weights are symmetric, blocks of 128 along K, no zero_points input (the op's default
zero point 2^(bits-1)); each layer's bias goes into the op's bias input. The embedding table stays
f32: a step gathers one row of it. DIR/streamed_bytes.json gives each model's bytes of weights a
decode step reads (all initializers but the gathered tables), for bench-llm's floor.

--check writes DIR/check/f32/: a short prompt, one decode step after it, and torch's outputs for
both, which `node bench/llm/ort_decode.mjs --model M.onnx --check DIR/check/f32` compares with ONNX
Runtime's; and DIR/check/int4/ (int4_all/, int8/): the same with torch computing on the weights
the variant's MatMulNBits dequantizes to, which checks the packing on its own.
"""
import argparse
import json
import math
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

N_LAYER, N_HEAD, D_MODEL, N_POS, VOCAB = 12, 12, 768, 1024, 50257
HEAD_DIM = D_MODEL // N_HEAD
BLOCK = 128
# name, bits of the linear layers, bits of the output projection
VARIANTS = [("int4", 4, 8), ("int4_all", 4, 4), ("int8", 8, 8)]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"export_ort_gpt2: {path}: {name} is {e['dtype']}, expected F32")
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], np.float32).reshape(e["shape"])
    return out


def gelu_new(x):
    # Spelled as transformers spells it: ONNX Runtime's FastGelu fusion matches this form (and
    # not the one F.gelu(approximate="tanh") exports to).
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2KV(torch.nn.Module):
    """GPT-2 as transformers computes it (gelu_new, pre-norm, tied head), cache passed in and out."""

    def __init__(self, w):
        super().__init__()
        p = lambda a: torch.nn.Parameter(torch.from_numpy(np.array(a)), requires_grad=False)
        self.wte, self.wpe = p(w["wte.weight"]), p(w["wpe.weight"])
        # A separate [768, vocab] copy so the head is a MatMul on an initializer of its own.
        self.lm_head = p(w["wte.weight"].T)
        self.ln_f_w, self.ln_f_b = p(w["ln_f.weight"]), p(w["ln_f.bias"])
        self.layers = torch.nn.ModuleList()
        for i in range(N_LAYER):
            m = torch.nn.Module()
            for key in ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                        "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                        "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]:
                setattr(m, key.replace(".", "_"), p(w[f"h.{i}.{key}"]))
            self.layers.append(m)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        s, t = input_ids.shape[1], attention_mask.shape[1]
        query_pos = torch.arange(s) + (t - s)
        causal = torch.arange(t)[None, :] <= query_pos[:, None]
        keep = causal[None, None] & attention_mask[:, None, None, :].bool()
        x = self.wte[input_ids] + self.wpe[position_ids]
        present = []
        for i, m in enumerate(self.layers):
            h = F.layer_norm(x, (D_MODEL,), m.ln_1_weight, m.ln_1_bias, 1e-5)
            q, k, v = (h @ m.attn_c_attn_weight + m.attn_c_attn_bias).split(D_MODEL, dim=-1)
            heads = lambda a: a.reshape(a.shape[0], a.shape[1], N_HEAD, HEAD_DIM).transpose(1, 2)
            k = torch.cat([past[2 * i], heads(k)], dim=2)
            v = torch.cat([past[2 * i + 1], heads(v)], dim=2)
            present += [k, v]
            att = (heads(q) @ k.transpose(-1, -2)) * (1.0 / HEAD_DIM ** 0.5)
            att = torch.softmax(torch.where(keep, att, torch.tensor(-1e9)), dim=-1)
            y = (att @ v).transpose(1, 2)
            y = y.reshape(y.shape[0], y.shape[1], D_MODEL)
            x = x + (y @ m.attn_c_proj_weight + m.attn_c_proj_bias)
            h = F.layer_norm(x, (D_MODEL,), m.ln_2_weight, m.ln_2_bias, 1e-5)
            h = gelu_new(h @ m.mlp_c_fc_weight + m.mlp_c_fc_bias)
            x = x + (h @ m.mlp_c_proj_weight + m.mlp_c_proj_bias)
        x = F.layer_norm(x[:, -1:, :], (D_MODEL,), self.ln_f_w, self.ln_f_b, 1e-5)
        return (x @ self.lm_head, *present)


def io_names():
    past, present = [], []
    for i in range(N_LAYER):
        past += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        present += [f"present.{i}.key", f"present.{i}.value"]
    return ["input_ids", "attention_mask", "position_ids"] + past, ["logits"] + present


def feeds(ids, past_len, past=None):
    """Inputs for one batch-1 call: `ids` follow `past_len` cached positions."""
    s = len(ids)
    pkv = past if past is not None else [torch.zeros(1, N_HEAD, past_len, HEAD_DIM)] * (2 * N_LAYER)
    return (torch.tensor([ids], dtype=torch.int64),
            torch.ones(1, past_len + s, dtype=torch.int64),
            torch.arange(past_len, past_len + s, dtype=torch.int64)[None], *pkv)


def export_f32(model, path):
    ins, outs = io_names()
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
            "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
    for n in ins[3:]:
        axes[n] = {0: "batch", 2: "past"}
    for n in outs[1:]:
        axes[n] = {0: "batch", 2: "total"}
    with torch.no_grad():
        torch.onnx.export(model, feeds([1, 2, 3, 4], 3), path, input_names=ins, output_names=outs,
                          dynamic_axes=axes, opset_version=17, do_constant_folding=True)


def quantize_blocks(w_kn, bits):
    """[K, N] weights -> MatMulNBits' B [N, K/BLOCK, BLOCK*bits/8] (codes low-first along K) and
    scales [N, K/BLOCK]; symmetric around the op's default zero point 2^(bits-1)."""
    k, n = w_kn.shape
    if k % BLOCK:
        raise SystemExit(f"export_ort_gpt2: K={k} is not a multiple of the block size {BLOCK}")
    blocks = w_kn.T.reshape(n, k // BLOCK, BLOCK).astype(np.float32)
    qmax = (1 << (bits - 1)) - 1  # 7 or 127: the code 0 (-2^(bits-1)) stays unused, as in int4_sym
    scales = np.abs(blocks).max(axis=2) / qmax
    scales = np.where(scales == 0, np.float32(1), scales).astype(np.float32)
    q = np.clip(np.rint(blocks / scales[:, :, None]), -qmax - 1, qmax).astype(np.int32)
    codes = (q + (1 << (bits - 1))).astype(np.uint8)
    if bits == 8:
        packed = codes
    else:  # two codes per byte, the first in the low nibble
        packed = (codes[:, :, 0::2] | (codes[:, :, 1::2] << 4)).astype(np.uint8)
    return packed, scales


def dequantize_blocks(packed, scales, bits):
    """The [K, N] weights MatMulNBits computes with: the inverse of quantize_blocks's layout."""
    if bits == 8:
        codes = packed.astype(np.int32)
    else:
        codes = np.empty(packed.shape[:2] + (packed.shape[2] * 2,), np.int32)
        codes[:, :, 0::2], codes[:, :, 1::2] = packed & 0xF, packed >> 4
    w = (codes - (1 << (bits - 1))).astype(np.float32) * scales[:, :, None]
    return w.reshape(w.shape[0], -1).T


def roundtrip(model, bits, head_bits):
    """`model` with every linear layer's weights replaced by what the bits-bit op computes with."""
    q = lambda t, b: torch.from_numpy(np.ascontiguousarray(dequantize_blocks(
        *quantize_blocks(t.detach().numpy(), b), b)))
    with torch.no_grad():
        for m in model.layers:
            for name in ["attn_c_attn_weight", "attn_c_proj_weight", "mlp_c_fc_weight",
                         "mlp_c_proj_weight"]:
                getattr(m, name).copy_(q(getattr(m, name), bits))
        model.lm_head.copy_(q(model.lm_head, head_bits))
    return model


def streamed_bytes(path):
    """Bytes of the initializers a decode step reads whole: all but the tables only gathered from
    (the embeddings, of which a step reads one row)."""
    m = onnx.load(path)
    gathered, other = set(), set()
    for node in m.graph.node:
        for k, name in enumerate(node.input):
            (gathered if node.op_type == "Gather" and k == 0 else other).add(name)
    return sum(len(t.raw_data) for t in m.graph.initializer
               if t.name in other or t.name not in gathered)


def to_matmulnbits(src, dst, bits, head_bits, accuracy_level):
    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    # The exporter shares equal initializers (the all-zero biases of a random checkpoint) through
    # Identity nodes: see through them.
    for node in g.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    consumers = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    new_nodes, folded, replaced = [], set(), 0  # folded: outputs of the bias Adds taken in
    for node in g.node:
        if node.op_type == "Add" and node.output[0] in folded:
            continue
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
            new_nodes.append(node)
            continue
        arr = numpy_helper.to_array(w)
        k, n = arr.shape
        nbits = head_bits if node.output[0] == "logits" else bits
        packed, scales = quantize_blocks(arr, nbits)
        base = node.name or node.output[0]
        g.initializer.extend([numpy_helper.from_array(packed, base + "_Q"),
                              numpy_helper.from_array(scales, base + "_scales")])
        inputs, out = [node.input[0], base + "_Q", base + "_scales"], node.output[0]
        # Fold `MatMul + bias` into the op's bias input (inputs 3 and 4, zero_points and g_idx,
        # stay absent).
        users = consumers.get(out, [])
        if len(users) == 1 and users[0].op_type == "Add" and out not in [o.name for o in g.output]:
            add = users[0]
            other = add.input[1] if add.input[0] == out else add.input[0]
            b = inits.get(other)
            if b is not None and list(b.dims) == [n]:
                inputs += ["", "", b.name]
                out = add.output[0]
                folded.add(out)
        new_nodes.append(helper.make_node(
            "MatMulNBits", inputs, [out], name=base + "_nbits", domain="com.microsoft",
            K=k, N=n, bits=nbits, block_size=BLOCK,
            **({"accuracy_level": accuracy_level} if accuracy_level else {})))
        replaced += 1
    # The fused node sits where the MatMul was: its inputs are all defined there already.
    del g.node[:]
    g.node.extend(new_nodes)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, dst)
    return replaced


def write_check(model, out):
    """A 9-token prompt and one decode step, with torch's outputs, as .npy files: `model` being
    the f32 one, or one with the weights a quantized variant computes with (roundtrip)."""
    os.makedirs(out, exist_ok=True)
    prompt = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290]
    with torch.no_grad():
        f1 = feeds(prompt, 0)
        r1 = model(*f1)
        f2 = feeds([318], len(prompt), list(r1[1:]))
        r2 = model(*f2)
    ins, outs = io_names()
    for step, (f, r) in enumerate([(f1, r1), (f2, r2)]):
        for name, t in zip(ins, f):
            np.save(os.path.join(out, f"step{step}.in.{name}.npy"), t.numpy())
        for name, t in zip(outs, r):
            np.save(os.path.join(out, f"step{step}.out.{name}.npy"), t.numpy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hf", required=True, help="folder with make_random_hf.py's model.safetensors")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true", help="write torch's outputs for a short prompt")
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.hf, "config.json")))
    want = dict(vocab_size=VOCAB, n_layer=N_LAYER, n_head=N_HEAD, n_embd=D_MODEL, n_positions=N_POS)
    if any(cfg.get(k) != v for k, v in want.items()):
        raise SystemExit(f"export_ort_gpt2: {a.hf} is not GPT-2-124M-shaped (want {want})")
    w = read_safetensors(os.path.join(a.hf, "model.safetensors"))
    model = GPT2KV(w).eval()
    os.makedirs(a.out, exist_ok=True)
    f32 = os.path.join(a.out, "f32.onnx")
    export_f32(model, f32)
    sizes = {"f32": streamed_bytes(f32)}
    if a.check:
        write_check(model, os.path.join(a.out, "check", "f32"))
    for name, bits, head_bits in VARIANTS:
        for acc, suffix in [(0, ""), (4, "_acc4")]:
            path = os.path.join(a.out, name + suffix + ".onnx")
            n = to_matmulnbits(f32, path, bits, head_bits, acc)
            sizes[name + suffix] = streamed_bytes(path)
            print(f"{name}{suffix}: {n} MatMulNBits, {sizes[name + suffix] / 1e6:.1f} MB per step")
        if a.check:
            write_check(roundtrip(GPT2KV(w).eval(), bits, head_bits),
                        os.path.join(a.out, "check", name))
    with open(os.path.join(a.out, "streamed_bytes.json"), "w") as f:
        json.dump(sizes, f, indent=1)


if __name__ == "__main__":
    main()
