#!/usr/bin/env bash
# The LLM tour on the embedded default model (models/tiny-llama-kjv, a 4.2M-parameter Llama
# trained on the King James Bible): convert the Hugging Face folder to IR, compress it to INT8
# and INT4, generate from a prompt with each, and compare sizes, speed and held-out perplexity.
# Usage: scripts/demo_llm.sh [BUILD_DIR] (default: build).
set -euo pipefail

BUILD_DIR=${1:-build}
KILN="$BUILD_DIR/kiln"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL="$ROOT/models/tiny-llama-kjv"
OUT="$BUILD_DIR/demo/llm"

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD= PLAIN=; fi
heading() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$PLAIN"; }
step() { printf '$ %s\n' "$*"; "$@"; }

[ -x "$KILN" ] || { echo "demo: $KILN not found; build first (make build)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"

heading "LLM 1. The embedded default model: a Hugging Face folder"
step "$KILN" info "$MODEL"

heading "LLM 2. Convert it to Kiln IR (no Python involved)"
step "$KILN" convert "$MODEL" -o "$OUT/f32/model.xml"

heading "LLM 3. Compress the weights: INT8, INT4 (groups of 128), and INT4 with 80% of layers in 4 bits"
step "$KILN" compress "$OUT/f32/model.xml" -o "$OUT/int8/model.xml" --mode int8_asym
step "$KILN" compress "$OUT/f32/model.xml" -o "$OUT/int4/model.xml" --mode int4_asym --group-size 128
step "$KILN" compress "$OUT/f32/model.xml" -o "$OUT/int4-ratio0.8/model.xml" --mode int4_asym \
    --group-size 128 --ratio 0.8

prompt=$(cat "$MODEL/prompt.txt")
declare -A size speed ppl
for v in f32 int8 int4 int4-ratio0.8; do
    heading "LLM 4. Generate with $v (greedy, 40 tokens)"
    printf '$ %s generate %s --prompt-file prompt.txt -n 40 --greedy\n' "$KILN" "$OUT/$v"
    printf '%s' "$prompt"
    "$KILN" generate "$OUT/$v" --prompt-file "$MODEL/prompt.txt" -n 40 --greedy 2> "$OUT/$v.log"
    echo
    cat "$OUT/$v.log"
    speed[$v]=$(sed -n 's/^Decode: .*, \([0-9.]*\) tokens\/s.*/\1/p' "$OUT/$v.log")
    size[$v]=$(( $(stat -c %s "$OUT/$v/model.bin") ))
done

heading "LLM 5. Perplexity on held-out text (Ruth, Jonah, Joel, Titus, Philemon, Jude: never trained on)"
for v in f32 int8 int4 int4-ratio0.8; do
    printf '$ %s perplexity %s -f heldout.txt\n' "$KILN" "$OUT/$v"
    "$KILN" perplexity "$OUT/$v" -f "$MODEL/heldout.txt" 2>&1 | tee "$OUT/$v.ppl"
    ppl[$v]=$(sed -n 's/^Perplexity: \([0-9.]*\).*/\1/p' "$OUT/$v.ppl")
done

heading "LLM summary"
printf '%-14s %12s %16s %12s %12s\n' variant "weights MB" "decode tokens/s" perplexity "vs f32"
for v in f32 int8 int4 int4-ratio0.8; do
    awk -v v="$v" -v b="${size[$v]}" -v s="${speed[$v]}" -v p="${ppl[$v]}" -v p0="${ppl[f32]}" \
        'BEGIN { printf "%-14s %12.2f %16s %12.2f %+11.2f%%\n", v, b / 1e6, s, p, 100 * (p / p0 - 1) }'
done
