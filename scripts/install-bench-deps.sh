#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build dependencies, when any is missing:
# torch + torchvision (to export the model zoo) and Node.js + npm (to run ONNX Runtime).
set -euo pipefail
PKGS=(python3-torch python3-torchvision python3-numpy python3-onnx)
# Node.js may come from elsewhere than Debian (NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package), so the commands, not the packages, decide.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "kiln: missing Debian packages for make bench: ${missing[*]}" >&2
  echo "kiln: run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "kiln: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
