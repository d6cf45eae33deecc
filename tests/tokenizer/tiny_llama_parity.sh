#!/usr/bin/env bash
# Kiln's tokenizer against the Python byte-level BPE that trained the embedded default model
# (models/byte_bpe.py): the same ids for its held-out text and prompt, whole (with the BOS the
# template adds) and line by line, and every line decodes back to itself.
#   tiny_llama_parity.sh KILN_BINARY WORK_DIR
set -euo pipefail
kiln=$1
work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$root/models/tiny-llama-kjv
mkdir -p "$work"
for f in heldout.txt prompt.txt; do
  python3 "$root/models/byte_bpe.py" "$model/tokenizer.json" "$model/$f" > "$work/$f.expected"
  "$kiln" tokenize "$model" -f "$model/$f" > "$work/$f.kiln"
  python3 "$root/models/byte_bpe.py" "$model/tokenizer.json" "$model/$f" --lines \
    > "$work/$f.lines.expected"
  "$kiln" tokenize "$model" -f "$model/$f" --lines --no-special > "$work/$f.lines.kiln"
  for kind in "" .lines; do
    if ! cmp -s "$work/$f$kind.expected" "$work/$f$kind.kiln"; then
      echo "FAIL: $f$kind: Kiln's ids differ from models/byte_bpe.py ($work/$f$kind.*)"
      exit 1
    fi
  done
  "$kiln" tokenize "$model" -f "$model/$f" --lines --roundtrip
done
echo "PASS: $(wc -w < "$work/heldout.txt.kiln") held-out ids identical to models/byte_bpe.py"
