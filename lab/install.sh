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

# ---- Python virtual environments ------------------------------------------------------------------
# One venv per lab/venvs.d/<name>.txt (pip requirements) under lab/state/venvs/<name>, from PyPI.
# A venv is rebuilt only when its requirements file changed (its sha256 is kept in the venv as
# .quorum-requirements); otherwise this costs nothing.
venvs="$here/state/venvs"
for req in "$here"/venvs.d/*.txt; do
  [[ -e $req ]] || continue
  name=$(basename "$req" .txt)
  venv="$venvs/$name"
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x $venv/bin/python && -r $venv/.quorum-requirements && $(cat "$venv/.quorum-requirements") == "$sum" ]]; then
    echo "install: venv $name present"
    continue
  fi
  echo "install: building venv $name (pip, PyPI)"
  # The marker is written last: a build that failed half-way is rebuilt next time. (A venv cannot be
  # built elsewhere and moved: its scripts name their interpreter by absolute path.)
  rm -rf "$venv"
  mkdir -p "$venvs"
  python3 -m venv "$venv" || { echo "install: python3 -m venv failed for $name" >&2; exit 1; }
  "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip ||
    { echo "install: pip could not upgrade itself in venv $name" >&2; exit 1; }
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" ||
    { echo "install: pip install -r $req failed" >&2; exit 1; }
  echo "$sum" >"$venv/.quorum-requirements"
  echo "install: venv $name done"
done
