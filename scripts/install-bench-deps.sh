#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build and test dependencies (which include
# Node.js + npm, to run ONNX Runtime), when any is missing: torch + torchvision to export the
# model zoo.
set -euo pipefail
exec "$(dirname "$0")/apt-install-missing.sh" "make bench" \
  python3-torch python3-torchvision python3-numpy python3-onnx
