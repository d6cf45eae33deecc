#!/usr/bin/env bash
# Installs the Debian packages Kiln needs to build and test, when any is missing.
set -euo pipefail
PKGS=(g++ cmake make ccache pkg-config protobuf-compiler libprotobuf-dev libonnx-dev libonnx-testdata
      libpugixml-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev python3-numpy python3-onnx
      libicu-dev)
# Node.js + npm run the reference tokenizer of the tests; NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package, so the commands, not the packages, decide.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "kiln: missing Debian packages: ${missing[*]}" >&2
  echo "kiln: run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "kiln: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
