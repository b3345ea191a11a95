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

export DEBIAN_FRONTEND=noninteractive
updated=no
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install: all ${#packages[@]} packages present"
else
  echo "install: installing ${missing[*]}"
  apt-get update -q
  updated=yes
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  echo "install: done"
fi

# Offline packages for the controllers, which have no route out of the lab: .deb files kept under
# lab/state/debs (apt's own cache may be cleaned after every install, as Debian's container images do);
# `lab.sh up` and the tests put them into apt's cache before a controller installs them.
debs="$here/state/debs"
mkdir -p "$debs"
for list in "$here"/downloads.d/*.list; do
  [[ -e $list ]] || continue
  while read -r line; do
    line=${line%%#*}
    for pkg in $line; do
      if ! compgen -G "$debs/${pkg}_*.deb" >/dev/null; then
        [[ $updated == yes ]] || { apt-get update -q; updated=yes; }
        echo "install: fetching $pkg for the controllers"
        (cd "$debs" && apt-get download -q "$pkg" >/dev/null)
      fi
    done
  done <"$list"
done
