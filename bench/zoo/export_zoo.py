#!/usr/bin/python3
"""Exports the benchmark model zoo to ONNX (opset 17, dynamic batch axis, fixed-seed random weights).

The models are generated when the benchmark runs and never committed. Random weights are enough:
speed does not depend on the values, and outputs are compared between two runtimes on the same
file. BERT and GPT-2 are written in plain torch so no `transformers` package is needed; their
shapes follow bert-base-uncased and gpt2 (124M).

    /usr/bin/python3 bench/zoo/export_zoo.py [--out build/bench/zoo] [--models a,b] [--force]
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
SEQ_LEN = 128
SEED = 0


# --------------------------------------------------------------------------------------------
# BERT-base encoder


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, ffn)
        self.output = nn.Linear(ffn, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def split_heads(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        b, s, h = x.shape
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        ctx = ctx.transpose(1, 2).reshape(b, s, h)
        x = self.attn_norm(x + self.attn_out(ctx))
        y = self.output(F.gelu(self.intermediate(x)))  # exact (erf) GELU, as BERT
        return self.out_norm(x + y)


class BertEncoder(nn.Module):
    def __init__(self, vocab=30522, hidden=768, layers=12, heads=12, ffn=3072, max_pos=512,
                 type_vocab=2, eps=1e-12):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(max_pos, hidden)
        self.token_type = nn.Embedding(type_vocab, hidden)
        self.emb_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ffn, eps) for _ in range(layers))

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, dtype=torch.int64, device=input_ids.device).unsqueeze(0)
        token_types = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.position(positions) + self.token_type(token_types)
        x = self.emb_norm(x)
        # [B,S] of 1 (attend) / 0 (padding) -> additive bias [B,1,1,S] of 0 / -10000, as BERT.
        mask_bias = (1.0 - attention_mask.to(torch.float32)).unsqueeze(1).unsqueeze(2) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


# --------------------------------------------------------------------------------------------
# GPT-2 (124M) decoder, prefill


class Gpt2Block(nn.Module):
    def __init__(self, hidden, heads, max_pos, eps):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.ln_1 = nn.LayerNorm(hidden, eps=eps)
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.ln_2 = nn.LayerNorm(hidden, eps=eps)
        self.c_fc = nn.Linear(hidden, 4 * hidden)
        self.mlp_proj = nn.Linear(4 * hidden, hidden)
        causal = torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, max_pos, max_pos), persistent=False)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(h, dim=2)
        q, k, v = (t.view(b, s, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~self.causal[:, :, :s, :s], torch.finfo(torch.float32).min)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, h)
        x = x + self.c_proj(ctx)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, vocab=50257, hidden=768, layers=12, heads=12, max_pos=1024, eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_pos, hidden)
        self.blocks = nn.ModuleList(Gpt2Block(hidden, heads, max_pos, eps) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=eps)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, dtype=torch.int64, device=input_ids.device).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        return torch.matmul(self.ln_f(x), self.wte.weight.t())  # LM head tied to wte


def init_transformer(model, std=0.02):
    """BERT/GPT-2 style initialisation: N(0, 0.02) weights, zero biases, unit LayerNorms.
    PyTorch's N(0,1) embedding default would give activations far from a trained model's."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=std)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
    return model


# --------------------------------------------------------------------------------------------


def vision(name):
    def build():
        import torchvision
        model = getattr(torchvision.models, name)(weights=None)
        x = torch.randn(1, 3, 224, 224)
        return model, (x,), ["input"], ["output"], {"input": {0: "batch"}, "output": {0: "batch"}}
    return build


def bert_base():
    model = init_transformer(BertEncoder())
    ids = torch.randint(0, 30522, (1, SEQ_LEN), dtype=torch.int64)
    mask = torch.ones(1, SEQ_LEN, dtype=torch.int64)
    axes = {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"},
            "last_hidden_state": {0: "batch"}}
    return model, (ids, mask), ["input_ids", "attention_mask"], ["last_hidden_state"], axes


def gpt2():
    model = init_transformer(Gpt2())
    ids = torch.randint(0, 50257, (1, SEQ_LEN), dtype=torch.int64)
    axes = {"input_ids": {0: "batch"}, "logits": {0: "batch"}}
    return model, (ids,), ["input_ids"], ["logits"], axes


MODELS = {
    "resnet50": vision("resnet50"),
    "mobilenet_v2": vision("mobilenet_v2"),
    "mobilenet_v3_large": vision("mobilenet_v3_large"),
    "bert_base": bert_base,
    "gpt2": gpt2,
}


def export(name, path):
    import onnx
    torch.manual_seed(SEED)
    model, args, inputs, outputs, axes = MODELS[name]()
    model.eval()
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, args, tmp, opset_version=OPSET, input_names=inputs,
                          output_names=outputs, dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(tmp)  # by path: works for models of any size
    os.replace(tmp, path)  # only a checked model gets the final name, so reruns skip it


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/bench/zoo", help="output directory")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of: " + ", ".join(MODELS))
    parser.add_argument("--force", action="store_true", help="re-export models already there")
    opts = parser.parse_args()

    names = [n for n in opts.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit("export_zoo: unknown model(s) %s; known: %s" % (", ".join(unknown), ", ".join(MODELS)))
    os.makedirs(opts.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names:
        path = os.path.join(opts.out, name + ".onnx")
        if os.path.exists(path) and not opts.force:
            print("zoo: %-20s already exported (%s)" % (name, path), flush=True)
            continue
        print("zoo: %-20s exporting ..." % name, end="", flush=True)
        start = time.time()
        export(name, path)
        print(" %.1f MB in %.1f s -> %s" % (os.path.getsize(path) / 1e6, time.time() - start, path),
              flush=True)


if __name__ == "__main__":
    main()
