#!/usr/bin/env bash
# The Kiln tour. First the LLM on the embedded default model (scripts/demo_llm.sh: convert,
# compress to INT8/INT4, generate, perplexity); then a small ONNX classifier: inspect it, convert
# it to Kiln IR, run the IR and check the result against NumPy.
# Usage: scripts/demo.sh [BUILD_DIR] (default: build).
set -euo pipefail

BUILD_DIR=${1:-build}
KILN="$BUILD_DIR/kiln"
PYTHON=/usr/bin/python3
DEMO_DIR="$BUILD_DIR/demo"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD= PLAIN=; fi
heading() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$PLAIN"; }
step() { printf '$ %s\n' "$*"; "$@"; }

[ -x "$KILN" ] || { echo "demo: $KILN not found; build first (make build)" >&2; exit 1; }
"$PYTHON" -c 'import numpy, onnx' 2>/dev/null || {
    echo "demo: $PYTHON needs numpy and onnx (Debian: python3-numpy python3-onnx)" >&2; exit 1; }
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"

"$SCRIPTS/demo_llm.sh" "$BUILD_DIR"

heading "ONNX 1. Make a small ONNX image classifier (Conv, Relu, MaxPool, Gemm, Softmax)"
step "$PYTHON" "$SCRIPTS/make_demo_model.py" "$DEMO_DIR"

heading "ONNX 2. Inspect the ONNX model"
step "$KILN" info "$DEMO_DIR/model.onnx"

heading "ONNX 3. Convert it to Kiln IR (.xml topology + .bin weights)"
step "$KILN" convert "$DEMO_DIR/model.onnx" -o "$DEMO_DIR/ir/model.xml"

heading "ONNX 4. Inspect the IR"
step "$KILN" info "$DEMO_DIR/ir/model.xml"

heading "ONNX 5. Run the IR on two sample images"
step "$KILN" run "$DEMO_DIR/ir/model.xml" --input image="$DEMO_DIR/input.npy" \
    --output-dir "$DEMO_DIR/out" --format npy

heading "ONNX 6. Compare with NumPy"
"$PYTHON" - "$DEMO_DIR/out/output_0.npy" "$DEMO_DIR/expected.npy" <<'PY'
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
np.set_printoptions(precision=4, suppress=True)
for i, (g, w) in enumerate(zip(got, want)):
    print(f"image {i}: Kiln says class {g.argmax()} (p={g.max():.4f}), "
          f"NumPy says class {w.argmax()} (p={w.max():.4f})")
    print(f"  kiln:  {g}")
    print(f"  numpy: {w}")
diff = float(np.abs(got.astype(np.float64) - want).max())
ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-6)
print(f"max abs difference: {diff:.3g} -> {'OK' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY

heading "ONNX 7. Same run, checked by kiln itself (--expected-dir)"
mkdir -p "$DEMO_DIR/expected"
cp "$DEMO_DIR/expected.npy" "$DEMO_DIR/expected/output_0.npy"
step "$KILN" run "$DEMO_DIR/model.onnx" --input "$DEMO_DIR/input.npy" \
    --expected-dir "$DEMO_DIR/expected" --rtol 1e-4 --atol 1e-6

heading "Done"
echo "Files are in $DEMO_DIR."
