#!/usr/bin/python3
"""Side-by-side benchmark of Kiln and ONNX Runtime on the model zoo (`make bench`).

For every model: export it (bench/zoo/export_zoo.py, skipped when already there), write
deterministic inputs, then measure, each in its own process so peak memory is per model and per
measurement:
  ORT latency      node bench/ort_bench.mjs --mode latency (1 session, --threads intra-op threads);
                   also writes ORT's outputs for the comparison
  ORT throughput   --mode throughput with --threads sessions x 1 thread; the better of that and
                   the latency run (1 session x --threads threads) is reported, and which it was
  Kiln latency     kiln benchmark -hint latency -api sync -nthreads T -b 1
  Kiln throughput  kiln benchmark -hint throughput -api async -nthreads T -b 1
  Kiln bf16        kiln benchmark -hint latency -api sync -infer_precision bf16
  Kiln outputs     kiln run (f32, and --infer-precision bf16) on the same input files as ORT
Outputs are compared as max|kiln - ort| / max|ort| over every element of every output: f32 must
be within --rtol (1e-4); the bf16 figure is reported, not judged.

Writes OUT/report.md and OUT/report.json (OUT = build/bench) and prints the table.
Environment defaults: KILN_BENCH_MODELS, KILN_BENCH_SECONDS, KILN_BENCH_ITERS, KILN_BENCH_THREADS.
"""
import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
MODELS = ["resnet50", "mobilenet_v2", "mobilenet_v3_large", "bert_base", "gpt2"]
SEQ_LEN = 128


def model_inputs(name, rng):
    """Deterministic inputs: {input name: array}, batch 1."""
    if name == "bert_base":
        return {"input_ids": rng.integers(0, 30522, (1, SEQ_LEN), dtype=np.int64),
                "attention_mask": np.ones((1, SEQ_LEN), dtype=np.int64)}
    if name == "gpt2":
        return {"input_ids": rng.integers(0, 50257, (1, SEQ_LEN), dtype=np.int64)}
    return {"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}


class StepError(Exception):
    pass


def run(cmd, log, timeout):
    """Runs `cmd`, appending its output to `log`; returns stdout, raises StepError on failure."""
    start = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepError("timed out after %d s" % timeout)
    except OSError as e:
        raise StepError("cannot run %s: %s" % (cmd[0], e))
    took = time.time() - start
    with open(log, "a") as f:
        f.write("$ %s\n# exit %s after %.1f s\n%s%s\n" % (" ".join(cmd), p.returncode, took,
                                                          p.stdout, p.stderr))
    if p.returncode != 0:
        lines = [l for l in p.stderr.splitlines() if l.strip()] or ["exit code %d" % p.returncode]
        errors = [l for l in lines if "error" in l.lower()]
        raise StepError((errors or lines)[-1].strip())
    return p.stdout


def read_json(path):
    with open(path) as f:
        return json.load(f)


def compare(kiln_dir, ort_dir, count):
    """max|kiln - ort| / max|ort| over all outputs."""
    worst_diff, worst_ref = 0.0, 0.0
    for k in range(count):
        ort = np.load(os.path.join(ort_dir, "output_%d.npy" % k)).astype(np.float64)
        kiln = np.load(os.path.join(kiln_dir, "output_%d.npy" % k)).astype(np.float64)
        if ort.shape != kiln.shape:
            raise StepError("output %d: Kiln shape %s, ORT shape %s" % (k, kiln.shape, ort.shape))
        if not np.all(np.isfinite(kiln)):
            raise StepError("output %d: Kiln output has NaN or Inf" % k)
        worst_diff = max(worst_diff, float(np.max(np.abs(kiln - ort))))
        worst_ref = max(worst_ref, float(np.max(np.abs(ort))))
    return worst_diff / worst_ref if worst_ref > 0 else worst_diff


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.kiln = os.path.abspath(opts.kiln)
        self.timeout = opts.timeout

    def step(self, result, key, label, fn):
        """Runs one measurement; a failure is recorded under result['errors'][key]."""
        print("  %-16s" % label, end="", flush=True)
        start = time.time()
        try:
            value = fn()
            result[key] = value
            print(" %s  (%.0f s)" % (self.describe(key, value), time.time() - start), flush=True)
        except StepError as e:
            result.setdefault("errors", {})[key] = str(e)
            print(" ERROR: %s" % e, flush=True)

    @staticmethod
    def describe(key, v):
        if key in ("rel_err", "rel_err_bf16"):
            return "max rel err %.2e" % v
        lat = v["latency_ms"]["median"] if v.get("latency_ms") else float("nan")
        return "median %.2f ms, %.2f fps, %.0f MiB" % (lat, v["throughput_fps"],
                                                        v["peak_memory_kib"] / 1024)

    def limits(self, kiln):
        args = []
        if self.o.iters:
            args += ["-niter" if kiln else "--iters", str(self.o.iters)]
        if self.o.seconds:
            args += ["-t" if kiln else "--seconds", str(self.o.seconds)]
        return args

    def ort(self, model, feeds, work, k, mode, sessions, threads, out_dir=None):
        tag = "ort_%s_%dx%d_r%d" % (mode, sessions, threads, k + 1)
        report = os.path.join(work, tag + ".json")
        cmd = ["node", os.path.join(BENCH, "ort_bench.mjs"), "--model", model, "--mode", mode,
               "--sessions", str(sessions), "--threads", str(threads), "--report", report]
        for name, path in feeds.items():
            cmd += ["--input", "%s=%s" % (name, path)]
        if out_dir:
            cmd += ["--output-dir", out_dir]
        run(cmd + self.limits(False), os.path.join(work, "log.txt"), self.timeout)
        return read_json(report)

    def kiln_bench(self, model, work, k, tag, args):
        report = os.path.join(work, "kiln_%s_r%d.json" % (tag, k + 1))
        cmd = [self.kiln, "benchmark", "-m", model, "-b", "1", "-nthreads", str(self.o.threads)]
        run(cmd + args + self.limits(True) + ["--report", report], os.path.join(work, "log.txt"),
            self.timeout)
        return read_json(report)

    def kiln_run(self, model, feeds, work, out_dir, precision):
        cmd = [self.kiln, "run", model, "-o", out_dir, "--format", "npy",
               "--infer-precision", precision]
        for name, path in feeds.items():
            cmd += ["-i", "%s=%s" % (name, path)]
        run(cmd, os.path.join(work, "log.txt"), self.timeout)

    def measure(self, name):
        o = self.o
        model = os.path.join(o.zoo, name + ".onnx")
        work = os.path.join(o.out, "runs", name)
        os.makedirs(work, exist_ok=True)
        open(os.path.join(work, "log.txt"), "w").close()
        feeds = {}
        for input_name, array in model_inputs(name, np.random.default_rng(0)).items():
            feeds[input_name] = os.path.join(work, "input_%s.npy" % input_name)
            np.save(feeds[input_name], array)
        r = {"model": name, "file": model, "load_average": os.getloadavg()[0]}
        ort_out = os.path.join(work, "ort_out")
        t = o.threads
        latency, sync = ["-hint", "latency"], ["-api", "sync"]
        timed = [  # key, label, run(round) -> report, better: the figure that picks a round
            ("ort_latency", "ORT latency",
             lambda k: self.ort(model, feeds, work, k, "latency", 1, t, ort_out if k == 0 else None)),
            ("kiln_latency", "Kiln latency",
             lambda k: self.kiln_bench(model, work, k, "latency", latency + sync)),
        ]
        if t > 1:
            timed.append(("ort_throughput", "ORT throughput",
                          lambda k: self.ort(model, feeds, work, k, "throughput", t, 1)))
        timed.append(("kiln_throughput", "Kiln throughput",
                      lambda k: self.kiln_bench(model, work, k, "throughput",
                                                ["-hint", "throughput", "-api", "async"])))
        if not o.no_bf16:
            timed.append(("kiln_bf16", "Kiln bf16",
                          lambda k: self.kiln_bench(model, work, k, "bf16",
                                                    latency + sync + ["-infer_precision", "bf16"])))
        # Rounds alternate the runtimes, so a burst of load from elsewhere on the machine hits
        # both alike; each figure is then taken from its least disturbed round.
        rounds = {}
        for k in range(o.rounds):
            for key, label, fn in timed:
                if key in r.get("errors", {}):
                    continue
                tag = label if o.rounds == 1 else "%s [%d]" % (label, k + 1)
                self.step(r, key, tag, lambda: fn(k))
                if key in r:
                    rounds.setdefault(key, []).append(r.pop(key))
        for key, runs in rounds.items():
            if key.endswith("throughput"):
                r[key] = max(runs, key=lambda x: x["throughput_fps"])
            else:
                r[key] = min(runs, key=lambda x: x["latency_ms"]["median"])
            if len(runs) > 1:
                r.setdefault("rounds", {})[key] = [
                    {"median_ms": x["latency_ms"]["median"], "fps": x["throughput_fps"]} for x in runs]
        n_out = len(r["ort_latency"]["outputs"]) if "ort_latency" in r else 0

        def accuracy(precision):
            out = os.path.join(work, "kiln_out_" + precision)
            self.kiln_run(model, feeds, work, out, precision)
            if "ort_latency" not in r:
                raise StepError("no ORT outputs to compare with")
            return compare(out, ort_out, n_out)

        self.step(r, "rel_err", "Kiln f32 outputs", lambda: accuracy("f32"))
        if not o.no_bf16:
            self.step(r, "rel_err_bf16", "Kiln bf16 outputs", lambda: accuracy("bf16"))
            if "rel_err" in r and "rel_err_bf16" in r:
                # Bit-identical outputs mean the bf16 hint changed nothing in the computation.
                r["bf16_same_as_f32"] = all(
                    np.array_equal(np.load(os.path.join(work, "kiln_out_f32", "output_%d.npy" % i)),
                                   np.load(os.path.join(work, "kiln_out_bf16", "output_%d.npy" % i)))
                    for i in range(n_out))
        self.summarize(r)
        return r

    def summarize(self, r):
        """Derived figures: best ORT throughput config, ratios, agreement."""
        ol, kl = r.get("ort_latency"), r.get("kiln_latency")
        candidates = [(x["throughput_fps"], x) for x in (ol, r.get("ort_throughput")) if x]
        if candidates:
            best = max(candidates, key=lambda c: c[0])[1]
            c = best["config"]
            r["ort_best_throughput"] = {
                "fps": best["throughput_fps"],
                "config": "%d session%s x %d thread%s" % (
                    c["sessions"], "s" if c["sessions"] > 1 else "", c["intra_op_threads"],
                    "s" if c["intra_op_threads"] > 1 else "")}
        if ol and kl:
            r["latency_ratio"] = kl["latency_ms"]["median"] / ol["latency_ms"]["median"]
            r["memory_ratio"] = kl["peak_memory_kib"] / ol["peak_memory_kib"]
        if "ort_best_throughput" in r and r.get("kiln_throughput"):
            r["throughput_ratio"] = (r["kiln_throughput"]["throughput_fps"] /
                                     r["ort_best_throughput"]["fps"])
        if ol and r.get("kiln_bf16"):
            r["bf16_latency_ratio"] = r["kiln_bf16"]["latency_ms"]["median"] / ol["latency_ms"]["median"]
        if "rel_err" in r:
            r["agree"] = r["rel_err"] <= self.o.rtol


def fmt(v, spec, missing="—"):
    return missing if v is None else format(v, spec)


def table(results, rtol):
    head = ["model", "ORT lat ms", "Kiln lat ms", "ratio", "ORT fps", "Kiln fps", "ratio",
            "ORT MiB", "Kiln MiB", "ratio", "Kiln bf16 ms (x ORT f32)", "max rel err (bf16)",
            "agree"]
    rows = []
    for r in results:
        def g(key, *path):
            v = r.get(key)
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            return v
        errs = r.get("errors", {})
        bf16 = g("kiln_bf16", "latency_ms", "median")
        err, err_bf16 = r.get("rel_err"), r.get("rel_err_bf16")
        rows.append([
            r["model"],
            fmt(g("ort_latency", "latency_ms", "median"), ".2f", "error"),
            fmt(g("kiln_latency", "latency_ms", "median"), ".2f", "error"),
            fmt(r.get("latency_ratio"), ".2f"),
            fmt(g("ort_best_throughput", "fps"), ".1f", "error"),
            fmt(g("kiln_throughput", "throughput_fps"), ".1f", "error"),
            fmt(r.get("throughput_ratio"), ".2f"),
            fmt(g("ort_latency", "peak_memory_kib") and g("ort_latency", "peak_memory_kib") / 1024,
                ".0f", "error"),
            fmt(g("kiln_latency", "peak_memory_kib") and g("kiln_latency", "peak_memory_kib") / 1024,
                ".0f", "error"),
            fmt(r.get("memory_ratio"), ".2f"),
            "error" if bf16 is None and "kiln_bf16" in errs else
            fmt(bf16, ".2f") + ("" if r.get("bf16_latency_ratio") is None
                                else " (%.2f)" % r["bf16_latency_ratio"]),
            ("error" if err is None else "%.1e" % err) +
            ("" if err_bf16 is None else
             " (= f32)" if r.get("bf16_same_as_f32") else " (%.1e)" % err_bf16),
            {True: "yes", False: "**NO**"}.get(r.get("agree"), "error"),
        ])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average": list(os.getloadavg())}


def versions(kiln):
    out = {}
    try:
        out["kiln"] = subprocess.run([kiln, "--version"], stdout=subprocess.PIPE, text=True,
                                     timeout=30).stdout.strip().replace("kiln ", "")
        with open(os.path.join(BENCH, "node_modules", "onnxruntime-node", "package.json")) as f:
            out["onnxruntime-node"] = json.load(f)["version"]
    except (OSError, subprocess.SubprocessError, KeyError, ValueError):
        pass
    return out


def main():
    env = os.environ.get
    p = argparse.ArgumentParser(description="Kiln vs ONNX Runtime on the benchmark zoo.")
    p.add_argument("--models", default=env("KILN_BENCH_MODELS", ",".join(MODELS)),
                   help="comma-separated subset of: " + ", ".join(MODELS))
    p.add_argument("--seconds", type=float, default=float(env("KILN_BENCH_SECONDS", "5")),
                   help="time limit of each measurement (0: none); default 5")
    p.add_argument("--rounds", type=int, default=int(env("KILN_BENCH_ROUNDS", "2")),
                   help="times each measurement is repeated, alternating the runtimes; the best "
                        "round is reported; default 2")
    p.add_argument("--iters", type=int, default=int(env("KILN_BENCH_ITERS", "0")),
                   help="iteration limit of each measurement (0: none); the first limit reached stops it")
    p.add_argument("--threads", type=int, default=int(env("KILN_BENCH_THREADS", "2")),
                   help="threads each runtime may use; default 2")
    p.add_argument("--rtol", type=float, default=1e-4,
                   help="f32 agreement bound on max|kiln-ort|/max|ort|; default 1e-4")
    p.add_argument("--no-bf16", action="store_true", help="skip the bf16 measurements")
    p.add_argument("--kiln", default=os.path.join(ROOT, "build", "kiln"))
    p.add_argument("--zoo", default=os.path.join(ROOT, "build", "bench", "zoo"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    p.add_argument("--strict", action="store_true",
                   help="exit with 1 when a measurement fails or f32 outputs disagree")
    p.add_argument("--timeout", type=int, default=600, help="seconds each process may take")
    o = p.parse_args()

    names = [n for n in o.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        sys.exit("run_bench: unknown model(s) %s; known: %s" % (", ".join(unknown), ", ".join(MODELS)))
    if o.rounds < 1:
        sys.exit("run_bench: --rounds must be at least 1")
    if not o.seconds and not o.iters:
        sys.exit("run_bench: give --seconds or --iters")
    if not os.access(o.kiln, os.X_OK):
        sys.exit("run_bench: %s is not built (make build)" % o.kiln)

    subprocess.run([sys.executable, os.path.join(BENCH, "zoo", "export_zoo.py"), "--out", o.zoo,
                    "--models", ",".join(names)], check=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "versions": versions(o.kiln), "threads": o.threads, "seconds": o.seconds,
            "iters": o.iters, "rounds": o.rounds, "rtol": o.rtol}
    try:
        info["ort_baseline_kib"] = json.loads(subprocess.run(
            ["node", os.path.join(BENCH, "ort_bench.mjs"), "--baseline"], stdout=subprocess.PIPE,
            text=True, timeout=60, check=True).stdout)["peak_memory_kib"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        pass
    bench = Bench(o)
    results = []
    for name in names:
        print("%s:" % name, flush=True)
        results.append(bench.measure(name))
    info["load_average_end"] = list(os.getloadavg())
    info["minutes"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60, 1)

    gm = geomean([r.get("latency_ratio") for r in results])
    tab = table(results, o.rtol)
    errors = [(r["model"], k, v) for r in results for k, v in r.get("errors", {}).items()]
    notes = [
        "Kiln %s, onnxruntime-node %s; %s, %s cores, %d threads per runtime; load average %.1f "
        "at the start, %.1f at the end; %s." % (
            info["versions"].get("kiln") or "?", info["versions"].get("onnxruntime-node", "?"),
            info["machine"]["cpu"], info["machine"]["cores"], o.threads,
            info["machine"]["load_average"][0], info["load_average_end"][0], info["date"]),
        "Latency: median ms, batch 1, one inference at a time. ratio = Kiln / ORT "
        "(below 1: Kiln faster or smaller); fps ratio = Kiln / ORT (above 1: Kiln faster).",
        "ORT fps: the better of 1 session x %d threads and %d sessions x 1 thread, run "
        "concurrently (per model: %s)." % (o.threads, o.threads, ", ".join(
            "%s %s" % (r["model"], r["ort_best_throughput"]["config"])
            for r in results if "ort_best_throughput" in r)),
        "MiB: peak resident memory of the latency run's process (ORT: node's maxRSS, of which "
        "node with onnxruntime-node loaded and no model takes %s MiB; Kiln: VmHWM)." % (
            "%.0f" % (info["ort_baseline_kib"] / 1024) if "ort_baseline_kib" in info else "?"),
        "Each measurement ran %s%s." % (
            " or ".join(x for x in ("%g s" % o.seconds if o.seconds else "",
                                    "%d iterations" % o.iters if o.iters else "") if x),
            ", %d rounds alternating the runtimes; the best round is shown (lowest median "
            "latency, highest fps)" % o.rounds if o.rounds > 1 else ""),
        "max rel err: max|Kiln - ORT| / max|ORT| over the outputs, f32 (bf16 in parentheses; "
        "'= f32': the bf16 outputs are bit-identical to the f32 ones, the hint changed nothing); "
        "agree: f32 within %g." % o.rtol,
    ]
    md = ["# Kiln vs ONNX Runtime", "", tab, ""]
    md.append("Geometric mean of the latency ratios (Kiln / ORT): %s" %
              ("%.2f" % gm if gm else "n/a"))
    md.append("")
    md += ["- " + n for n in notes]
    if errors:
        md += ["", "Errors:", ""] + ["- %s, %s: %s" % e for e in errors]
    text = "\n".join(md) + "\n"
    os.makedirs(o.out, exist_ok=True)
    with open(os.path.join(o.out, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(o.out, "report.json"), "w") as f:
        json.dump({"info": info, "latency_ratio_geomean": gm, "results": results}, f, indent=2)
    print()
    print(text)
    print("Written: %s, %s (logs: %s)" % (os.path.join(o.out, "report.md"),
                                          os.path.join(o.out, "report.json"),
                                          os.path.join(o.out, "runs", "*", "log.txt")))
    failed = any(r.get("agree") is False for r in results) or errors
    return 1 if o.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
