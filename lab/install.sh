#!/usr/bin/env bash
# Install (with apt) everything the lab and the build need.
# The package list is the union of lab/packages.d/*.list; extra package names may be given as arguments.
# Idempotent and fast: apt is skipped when dpkg already reports every package installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root" >&2
  exit 1
fi

packages=()
for list in "$here"/packages.d/*.list; do
  while read -r line; do
    line=${line%%#*}
    for pkg in $line; do packages+=("$pkg"); done
  done <"$list"
done
packages+=("$@")

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages present"
  exit 0
fi

echo "install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install: done"
