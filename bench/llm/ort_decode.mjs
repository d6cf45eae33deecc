// ONNX Runtime side of `make bench-llm --ort`: greedy generation with a GPT-2 decoder that takes
// and returns its KV cache (bench/llm/export_ort_gpt2.py writes the models), timed the way
// `kiln generate` times itself.
//
//   node bench/llm/ort_decode.mjs --model M.onnx [--prompt-len 128] [--new-tokens 64]
//        [--rounds 3] [--threads 2] [--no-spin] [--json]
//   node bench/llm/ort_decode.mjs --model M.onnx --check DIR   (DIR: export_ort_gpt2.py --check)
//
// One session (CPU execution provider, `--threads` intra-op threads, 1 inter-op, all graph
// optimizations); each round is one generation: a prefill of `--prompt-len` copies of token 262
// (" the", like bench-llm's prompt), the first token taken from its logits, then
// `--new-tokens` - 1 decode steps, each feeding the previous step's present.* as past_key_values.*.
// As in `kiln generate`: prefill tokens/s = prompt tokens / (prefill run + argmax); decode
// tokens/s = decode steps / their total time, a step being input set-up + run + argmax. Rounds
// are not warmed up: the first runs cold, as Kiln's one generation per process does.
// onnxruntime-node returns every output in a buffer of its own (pre-allocated outputs passed as
// fetches come back as copies too), so each step copies the whole cache out of the runtime once,
// besides the Concat inside the graph that appends the new position.
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../npy.mjs';

const N_LAYER = 12;
const N_HEAD = 12;
const HEAD_DIM = 64;

function parseArgs(argv) {
  const o = { model: '', promptLen: 128, newTokens: 64, rounds: 3, threads: 2, json: false, check: '', spin: true };
  const int = (s, name) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--model': o.model = val(); break;
      case '--prompt-len': o.promptLen = int(val(), a); break;
      case '--new-tokens': o.newTokens = int(val(), a); break;
      case '--rounds': o.rounds = int(val(), a); break;
      case '--threads': o.threads = int(val(), a); break;
      case '--check': o.check = val(); break;
      case '--json': o.json = true; break;
      case '--no-spin': o.spin = false; break;
      case '-h': case '--help':
        console.log('usage: node ort_decode.mjs --model M.onnx [--prompt-len N] [--new-tokens N] [--rounds N] '
          + '[--threads N] [--no-spin] [--json] | --model M.onnx --check DIR');
        process.exit(0);
        break;
      default: throw new Error(`unknown argument '${a}'`);
    }
  }
  if (!o.model) throw new Error('--model is required');
  if (o.promptLen + o.newTokens > 1024) throw new Error('prompt + new tokens exceed GPT-2\'s 1024 positions');
  return o;
}

const i64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
const range = (from, n) => Array.from({ length: n }, (_, k) => from + k);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function argmaxLast(logits) {
  const v = logits.dims[logits.dims.length - 1];
  const d = logits.data;
  let best = 0;
  for (let k = 1, base = d.length - v; k < v; ++k) if (d[base + k] > d[base + best]) best = k;
  return best;
}

function pastFrom(results) {
  const past = {};
  for (let l = 0; l < N_LAYER; ++l) {
    past[`past_key_values.${l}.key`] = results[`present.${l}.key`];
    past[`past_key_values.${l}.value`] = results[`present.${l}.value`];
  }
  return past;
}

async function generate(session, o) {
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, N_HEAD, 0, HEAD_DIM]);
  const feeds = {
    input_ids: i64(new Array(o.promptLen).fill(262), [1, o.promptLen]),
    attention_mask: i64(new Array(o.promptLen).fill(1), [1, o.promptLen]),
    position_ids: i64(range(0, o.promptLen), [1, o.promptLen]),
  };
  for (let l = 0; l < N_LAYER; ++l) {
    feeds[`past_key_values.${l}.key`] = empty;
    feeds[`past_key_values.${l}.value`] = empty;
  }
  let t = performance.now();
  let results = await session.run(feeds);
  let token = argmaxLast(results.logits);
  const prefillMs = performance.now() - t;
  const tokens = [token];
  const stepMs = [];
  for (let past = o.promptLen; tokens.length < o.newTokens; ++past) {
    t = performance.now();
    const step = {
      input_ids: i64([token], [1, 1]),
      attention_mask: i64(new Array(past + 1).fill(1), [1, past + 1]),
      position_ids: i64([past], [1, 1]),
      ...pastFrom(results),
    };
    results = await session.run(step);
    token = argmaxLast(results.logits);
    stepMs.push(performance.now() - t);
    tokens.push(token);
  }
  const decodeMs = stepMs.reduce((a, b) => a + b, 0);
  return {
    prefill_tokens_per_s: (1e3 * o.promptLen) / prefillMs,
    decode_tokens_per_s: stepMs.length ? (1e3 * stepMs.length) / decodeMs : 0,
    median_step_ms: stepMs.length ? median(stepMs) : 0,
    tokens,
  };
}

function relError(got, want) {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let k = 0; k < want.length; ++k) {
    const d = got[k] - want[k];
    num += d * d;
    den += want[k] * want[k];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { rel: Math.sqrt(num / den), maxAbs };
}

// Runs the prompt and the decode step export_ort_gpt2.py --check recorded, comparing every output
// with torch's: relative L2 error of the logits, and the largest over the present.* tensors.
async function check(session, dir) {
  const report = {};
  for (let step = 0; existsSync(join(dir, `step${step}.in.input_ids.npy`)); ++step) {
    const feeds = {};
    for (const name of session.inputNames) {
      const { type, dims, data } = readNpy(join(dir, `step${step}.in.${name}.npy`));
      feeds[name] = new ort.Tensor(type, data, dims);
    }
    const results = await session.run(feeds);
    let present = { rel: 0, maxAbs: 0 };
    let logits;
    for (const name of session.outputNames) {
      const want = readNpy(join(dir, `step${step}.out.${name}.npy`));
      const got = results[name];
      if (got.dims.join() !== want.dims.join())
        throw new Error(`check: ${name} has shape [${got.dims}], torch's is [${want.dims}]`);
      const e = relError(got.data, want.data);
      if (name === 'logits') logits = e;
      else present = { rel: Math.max(present.rel, e.rel), maxAbs: Math.max(present.maxAbs, e.maxAbs) };
    }
    const wantLogits = readNpy(join(dir, `step${step}.out.logits.npy`));
    const argmaxSame = argmaxLast(results.logits) === argmaxLast(wantLogits);
    report[`step${step}`] = { logits_rel: logits.rel, logits_max_abs: logits.maxAbs,
      present_rel: present.rel, present_max_abs: present.maxAbs, argmax_same: argmaxSame };
  }
  return report;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(o.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // --no-spin: idle intra-op threads block at once instead of spinning first (ONNX Runtime's
    // default spins), which matters when other processes want the same cores.
    ...(o.spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  if (o.check) {
    console.log(JSON.stringify({ model: o.model, ...(await check(session, o.check)) }));
    return;
  }
  const rounds = [];
  for (let r = 0; r < o.rounds; ++r) rounds.push(await generate(session, o));
  const summary = {
    model: o.model,
    prompt_tokens: o.promptLen,
    new_tokens: o.newTokens,
    threads: o.threads,
    spin: o.spin,
    prefill_tokens_per_s: median(rounds.map((x) => x.prefill_tokens_per_s)),
    decode_tokens_per_s: median(rounds.map((x) => x.decode_tokens_per_s)),
    median_step_ms: median(rounds.map((x) => x.median_step_ms)),
    rounds: rounds.map(({ tokens, ...rest }) => rest),
    tokens: rounds[0].tokens,
  };
  if (o.json) {
    console.log(JSON.stringify(summary));
  } else {
    for (const [k, x] of rounds.entries())
      console.log(`round ${k}: prefill ${x.prefill_tokens_per_s.toFixed(0)} tokens/s, decode `
        + `${x.decode_tokens_per_s.toFixed(1)} tokens/s (median ${x.median_step_ms.toFixed(2)} ms/token)`);
    console.log(`Prefill: ${o.promptLen} tokens, ${summary.prefill_tokens_per_s.toFixed(1)} tokens/s`);
    console.log(`Decode: ${o.newTokens} tokens in ${o.newTokens - 1} steps, `
      + `${summary.decode_tokens_per_s.toFixed(1)} tokens/s (median ${summary.median_step_ms.toFixed(2)} ms/token)`);
  }
}

main().catch((e) => {
  console.error(`ort_decode: ${e.message}`);
  process.exit(1);
});
