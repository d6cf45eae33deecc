#!/usr/bin/python3
"""Trains Kiln's embedded default model end to end: a byte-level BPE tokenizer and a
few-million-parameter Llama on the King James Bible (Debian's bible-kjv-text), saved as a Hugging
Face folder with reference outputs for parity checks.

    /usr/bin/python3 models/train_tiny_llama.py --out models/tiny-llama-kjv

Sequences are BOS + 255 tokens of the corpus stream. Held-out perplexity: the held-out text's ids
(no BOS) in consecutive chunks of 256, each fed as BOS + chunk[:-1] and scored on all of chunk.
"""
import argparse
import json
import math
import os
import sys
import time

# Debian's torch calls the system libblas.so.3, which is the reference BLAS (about 2.5 GFLOP/s)
# unless OpenBLAS is the selected alternative; OpenBLAS (libopenblas0-openmp) is 25x faster, so
# use it for this process when it is installed, without changing the system's choice.
_OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
if os.path.isdir(_OPENBLAS) and _OPENBLAS not in os.environ.get("LD_LIBRARY_PATH", ""):
    os.environ["LD_LIBRARY_PATH"] = ":".join(
        p for p in (_OPENBLAS, os.environ.get("LD_LIBRARY_PATH")) if p)
    # Idle OpenMP threads spin by default, which on a busy machine burns several times the
    # useful CPU time.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import byte_bpe  # noqa: E402
import kjv_corpus  # noqa: E402
import model_folder  # noqa: E402
from llama_model import LlamaConfig, LlamaForCausalLM  # noqa: E402

BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="Hugging Face folder to write")
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--intermediate", type=int, default=768)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    p.add_argument("--minutes", type=float, default=30.0,
                   help="training time budget; the schedule ends at whichever of --steps and "
                        "--minutes comes first, so a busy machine trains fewer steps")
    p.add_argument("--batch", type=int, default=8, help="sequences per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save-every", type=int, default=100,
                   help="steps between checkpoints (and exports of the folder)")
    p.add_argument("--checkpoint", default="build/tiny-llama-train/checkpoint.pt",
                   help="training state, for --resume; not part of the model folder")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    return p.parse_args()


def progress(step, seconds, args):
    """How far training is, 0 to 1: by steps or by time, whichever is further."""
    return min(1.0, max(step / args.steps, seconds / (60 * args.minutes)))


def lr_at(step, seconds, args):
    """Linear warmup, then cosine decay over the rest of the budget to a tenth of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress(step, seconds, args))))


def sample_batch(stream, line_starts, rng, args, bos_id):
    """BOS + 255 stream tokens per row; half the rows start at a line (verse) start, the rest
    anywhere, so a prompt that begins a verse and one that does not are both in distribution."""
    t = args.context
    starts = rng.integers(0, len(stream) - t, size=args.batch)
    snap = rng.random(args.batch) < 0.5
    idx = np.searchsorted(line_starts, starts, side="right") - 1
    starts = np.where(snap, line_starts[np.maximum(idx, 0)], starts)
    rows = np.stack([stream[s:s + t] for s in starts])
    x = np.concatenate([np.full((args.batch, 1), bos_id), rows[:, :-1]], axis=1)
    return torch.from_numpy(x), torch.from_numpy(rows)


@torch.no_grad()
def perplexity(model, ids, bos_id, context):
    model.eval()
    nll, n = 0.0, 0
    for c in range(0, len(ids), context):
        chunk = ids[c:c + context]
        x = torch.tensor([[bos_id] + chunk[:-1]])
        logits = model(x)[0]
        nll += F.cross_entropy(logits, torch.tensor(chunk), reduction="sum").item()
        n += len(chunk)
    model.train()
    return math.exp(nll / n)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    t0 = time.time()
    train_text, held_text = kjv_corpus.split(kjv_corpus.read_verses())
    vocab, merges = byte_bpe.train(train_text, args.vocab_size, [BOS, EOS])
    tok = byte_bpe.Tokenizer(vocab, merges, BOS, EOS)
    stream = np.array(tok.encode(train_text, add_bos=False), dtype=np.int64)
    held_ids = tok.encode(held_text, add_bos=False)
    newline_ids = [i for t, i in vocab.items() if t.endswith("Ċ")]
    line_starts = np.flatnonzero(np.isin(stream[:-1], newline_ids)) + 1
    bos_id, eos_id = vocab[BOS], vocab[EOS]
    print(f"corpus: {len(train_text)} bytes -> {len(stream)} tokens for training, "
          f"{len(held_text)} bytes -> {len(held_ids)} held out; tokenizer in "
          f"{time.time() - t0:.1f} s", flush=True)

    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=args.hidden,
                      intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                      max_position_embeddings=args.context, bos_token_id=bos_id,
                      eos_token_id=eos_id)
    model = LlamaForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters", flush=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    step, train_seconds = 0, 0.0
    if args.resume:
        state = torch.load(args.checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        step, train_seconds = state["step"], state["train_seconds"]
        print(f"resumed at step {step}", flush=True)

    def save(final):
        os.makedirs(os.path.dirname(args.checkpoint) or ".", exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "rng": rng.bit_generator.state, "step": step,
                    "train_seconds": train_seconds}, args.checkpoint)
        ppl = perplexity(model, held_ids, bos_id, args.context)
        model_folder.export(args.out, model, tok, held_text, {
            "steps": step, "minutes_budget": args.minutes, "final": final,
            "train_seconds": round(train_seconds), "threads": args.threads,
            "batch": args.batch, "context": args.context, "lr": args.lr, "seed": args.seed,
            "parameters": n_params, "train_tokens": int(len(stream)),
            "held_out_tokens": len(held_ids), "held_out_perplexity": round(ppl, 3)})
        print(f"step {step}: held-out perplexity {ppl:.3f}; saved {args.out}", flush=True)

    model.train()
    last = time.time()
    while progress(step, train_seconds, args) < 1.0:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, train_seconds, args)
        x, y = sample_batch(stream, line_starts, rng, args, bos_id)
        loss = F.cross_entropy(model(x).view(-1, cfg.vocab_size), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        train_seconds += now - last
        last = now
        if step % 20 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"{train_seconds:.0f} s", flush=True)
        if progress(step, train_seconds, args) >= 1.0:
            break
        if step % args.save_every == 0:
            save(False)
            last = time.time()  # evaluation and export time is not training time
    save(True)


if __name__ == "__main__":
    main()
