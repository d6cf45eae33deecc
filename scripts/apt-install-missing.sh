#!/usr/bin/env bash
# Installs the Debian packages given after WHAT that are not installed yet.
#   apt-install-missing.sh WHAT PACKAGE...
# WHAT names the purpose in the message shown when they are missing and we are not root.
set -euo pipefail
what=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "kiln: missing Debian packages for $what: ${missing[*]}" >&2
  echo "kiln: run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "kiln: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
