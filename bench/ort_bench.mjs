// ONNX Runtime side of `make bench`: loads one model in ONNX Runtime (CPU execution provider, all
// graph optimizations), feeds it inputs read from .npy files and measures it.
//
//   node bench/ort_bench.mjs --model M.onnx --input NAME=FILE.npy ... [--mode latency|throughput]
//        [--threads N] [--inter N] [--sessions K] [--iters N] [--seconds T] [--warmup N]
//        [--output-dir DIR] [--report FILE.json]
//   node bench/ort_bench.mjs --baseline    (peak memory of node with ONNX Runtime, no model)
//
// latency: one session, `--threads` intra-op threads, one inference at a time.
// throughput: `--sessions` sessions with `--threads` intra-op threads each, each driven by its own
//   worker thread so their inferences overlap (onnxruntime-node runs an inference synchronously
//   on the calling thread, so one thread cannot keep two in flight).
// The run stops after `--iters` inferences (all sessions together) or `--seconds`, whichever comes
// first; warm-up inferences are not counted. With --output-dir the outputs of the first inference
// are written as output_K.npy, K being the model output's position.
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy } from './npy.mjs';

const now = () => performance.timeOrigin + performance.now(); // comparable across workers

function parseArgs(argv) {
  const o = { inputs: [], mode: 'latency', threads: undefined, inter: 1, sessions: 2, iters: 0,
    seconds: 0, warmup: 1, outputDir: '', report: '', model: '' };
  const need = (i) => {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const int = (s, name) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, got '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i += 2) {
    const a = argv[i];
    switch (a) {
      case '--model': o.model = need(i); break;
      case '--input': o.inputs.push(need(i)); break;
      case '--mode': o.mode = need(i); break;
      case '--threads': o.threads = int(need(i), a); break;
      case '--inter': o.inter = int(need(i), a); break;
      case '--sessions': o.sessions = int(need(i), a); break;
      case '--iters': o.iters = int(need(i), a); break;
      case '--seconds': o.seconds = Number(need(i)); break;
      case '--warmup': o.warmup = int(need(i), a); break;
      case '--output-dir': o.outputDir = need(i); break;
      case '--report': o.report = need(i); break;
      case '-h': case '--help':
        console.log('usage: node ort_bench.mjs --model M.onnx --input NAME=FILE.npy ... [--mode latency|throughput] '
          + '[--threads N] [--inter N] [--sessions K] [--iters N] [--seconds T] [--warmup N] '
          + '[--output-dir DIR] [--report FILE]');
        process.exit(0);
        break;
      default: throw new Error(`unknown argument '${a}'`);
    }
  }
  if (!o.model) throw new Error('--model is required');
  if (!['latency', 'throughput'].includes(o.mode)) throw new Error(`--mode must be latency or throughput, got '${o.mode}'`);
  if (!(o.seconds >= 0)) throw new Error('--seconds must be >= 0');
  if (!o.iters && !o.seconds) o.seconds = 10;
  if (o.mode === 'latency') o.sessions = 1;
  if (o.sessions < 1) throw new Error('--sessions must be >= 1');
  if (o.threads === undefined) o.threads = o.mode === 'latency' ? 2 : 1;
  return o;
}

function loadFeeds(specs) {
  const feeds = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--input '${spec}' must be NAME=FILE.npy`);
    const { type, dims, data } = readNpy(spec.slice(eq + 1));
    feeds[spec.slice(0, eq)] = new ort.Tensor(type, data, dims);
  }
  return feeds;
}

async function createSession(o) {
  return ort.InferenceSession.create(o.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: o.threads,
    interOpNumThreads: o.inter,
  });
}

/** Loads the model, runs the warm-up inferences; returns the session and the first outputs. */
async function prepare(o) {
  const feeds = loadFeeds(o.inputs);
  let t = now();
  const session = await createSession(o);
  const loadMs = now() - t;
  for (const name of session.inputNames)
    if (!(name in feeds)) throw new Error(`no --input for model input '${name}'; inputs are ${session.inputNames.join(', ')}`);
  t = now();
  const first = await session.run(feeds);
  const firstMs = now() - t;
  for (let i = 1; i < o.warmup; ++i) await session.run(feeds);
  return { session, feeds, first, loadMs, firstMs };
}

/** Runs inferences while `claim()` grants one; returns the per-inference latencies (ms). */
async function loop(session, feeds, claim) {
  const lat = [];
  while (claim()) {
    const t = now();
    await session.run(feeds);
    lat.push(now() - t);
  }
  return lat;
}

// A claim shared by every session: inference number `counter[0]++` runs if it is below the
// iteration limit and the deadline has not passed.
function makeClaim(counter, iters, deadline) {
  return () => {
    if (deadline && now() >= deadline) return false;
    const i = Atomics.add(counter, 0, 1);
    return !iters || i < iters;
  };
}

async function workerMain() {
  const { o, counter } = workerData;
  const { session, feeds, loadMs, firstMs } = await prepare(o);
  parentPort.postMessage({ ready: true, loadMs, firstMs, outputNames: session.outputNames });
  parentPort.once('message', async ({ deadline }) => {
    const lat = await loop(session, feeds, makeClaim(counter, o.iters, deadline));
    parentPort.postMessage({ done: true, lat, end: now() });
  });
}

function stats(lat) {
  const s = [...lat].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return null;
  const rank = (p) => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]; // nearest rank
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, average: s.reduce((a, b) => a + b, 0) / n, p90: rank(0.9), p99: rank(0.99),
    min: s[0], max: s[n - 1] };
}

function writeOutputs(dir, session, outputs) {
  mkdirSync(dir, { recursive: true });
  session.outputNames.forEach((name, k) => {
    const t = outputs[name];
    writeNpy(join(dir, `output_${k}.npy`), t.type, t.dims, t.data);
  });
}

async function runLatency(o) {
  const { session, feeds, first, loadMs, firstMs } = await prepare(o);
  if (o.outputDir) writeOutputs(o.outputDir, session, first);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const start = now();
  const lat = await loop(session, feeds, makeClaim(counter, o.iters, o.seconds ? start + o.seconds * 1000 : 0));
  return { lat, duration: now() - start, loadMs, firstMs, outputNames: session.outputNames };
}

async function runThroughput(o) {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const workers = [];
  const ready = [];
  for (let k = 0; k < o.sessions; ++k) {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { o, counter } });
    workers.push(w);
    ready.push(new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
  }
  const prepared = await Promise.all(ready);
  const done = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const outputNames = prepared[0].outputNames;
  const start = now();
  for (const w of workers) w.postMessage({ deadline: o.seconds ? start + o.seconds * 1000 : 0 });
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    lat: results.flatMap((r) => r.lat),
    duration: Math.max(...results.map((r) => r.end)) - start,
    loadMs: Math.max(...prepared.map((p) => p.loadMs)),
    firstMs: Math.max(...prepared.map((p) => p.firstMs)),
    outputNames,
  };
}

async function main() {
  if (process.argv[2] === '--baseline') {
    // What node with ONNX Runtime loaded takes before any model: part of every ORT figure.
    console.log(JSON.stringify({ peak_memory_kib: process.resourceUsage().maxRSS }));
    return;
  }
  const o = parseArgs(process.argv.slice(2));
  const r = o.mode === 'latency' ? await runLatency(o) : await runThroughput(o);
  const batch = Object.values(loadFeeds(o.inputs))[0]?.dims[0] ?? 1;
  const report = {
    runtime: 'onnxruntime-node', version: ort.env.versions?.node ?? 'unknown', model: o.model,
    mode: o.mode, outputs: r.outputNames,
    config: { sessions: o.sessions, intra_op_threads: o.threads, inter_op_threads: o.inter,
      graph_optimization_level: 'all', execution_provider: 'cpu' },
    load_time_ms: r.loadMs, first_inference_ms: r.firstMs,
    count: r.lat.length, duration_ms: r.duration,
    latency_ms: stats(r.lat),
    throughput_fps: r.lat.length ? (batch * r.lat.length * 1000) / r.duration : 0,
    peak_memory_kib: process.resourceUsage().maxRSS,
  };
  const json = JSON.stringify(report, null, 2);
  if (o.report) writeFileSync(o.report, json + '\n');
  console.log(json);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`ort_bench: error: ${e.message ?? e}`);
    process.exit(1);
  });
} else {
  workerMain().catch((e) => {
    throw e;
  });
}
