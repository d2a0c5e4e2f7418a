#!/usr/bin/env bash
# Installs the Debian packages named on the command line unless all are installed already (then it
# returns at once, without touching apt). Usage: apt-need.sh PACKAGE...
set -euo pipefail
missing=()
for p in "$@"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "apt-need: missing Debian packages ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "[apt-need] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
