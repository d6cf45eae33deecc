#!/usr/bin/env bash
# Installs the Debian packages Kiln needs to build and test, when any is missing.
set -euo pipefail
PKGS=(g++ cmake make ccache pkg-config protobuf-compiler libprotobuf-dev libonnx-dev libonnx-testdata
      libpugixml-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev python3-numpy python3-onnx python3-torch
      libicu-dev)
# Node.js + npm run the reference tokenizer of the tests; NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package, so the commands, not the packages, decide.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
exec "$(dirname "$0")/apt-install-missing.sh" "building and testing Kiln" "${PKGS[@]}"
