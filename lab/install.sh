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
# One venv per lab/venvs.d/<name>.txt (pip requirements), from PyPI. Venvs are machine-wide, under
# /var/cache/quorum-lab/venvs/<name>-<sha256 of the requirements and the Python version>, and
# lab/state/venvs/<name> links to the one its requirements name: every checkout on the machine (a CI
# clone, a second worktree) shares them instead of building its own (~2 minutes). A changed
# requirements file is a new cache entry; the marker .quorum-requirements is written last, so a build
# that failed half-way is rebuilt next time. (A venv cannot be built elsewhere and moved: its scripts
# name their interpreter by absolute path, hence the link.)
venvs="$here/state/venvs"
cache=${QUORUM_LAB_VENV_CACHE:-/var/cache/quorum-lab/venvs}
mkdir -p "$venvs" "$cache"
exec 8>"$cache/.lock"
flock -w 1800 8 || { echo "install: the venv cache stayed locked for 30 minutes" >&2; exit 1; }
python_version=$(python3 -c 'import sys; print(sys.version)')
for req in "$here"/venvs.d/*.txt; do
  [[ -e $req ]] || continue
  name=$(basename "$req" .txt)
  sum=$( { cat "$req"; echo "$python_version"; } | sha256sum | cut -d' ' -f1)
  shared="$cache/$name-${sum:0:16}"
  link="$venvs/$name"
  if [[ -x $shared/bin/python && -r $shared/.quorum-requirements && $(cat "$shared/.quorum-requirements") == "$sum" ]]; then
    echo "install: venv $name present ($shared)"
  else
    echo "install: building venv $name in $shared (pip, PyPI)"
    rm -rf "$shared"
    python3 -m venv "$shared" || { echo "install: python3 -m venv failed for $name" >&2; exit 1; }
    "$shared/bin/pip" install -q --disable-pip-version-check --upgrade pip ||
      { echo "install: pip could not upgrade itself in venv $name" >&2; exit 1; }
    "$shared/bin/pip" install -q --disable-pip-version-check -r "$req" ||
      { echo "install: pip install -r $req failed" >&2; exit 1; }
    echo "$sum" >"$shared/.quorum-requirements"
    echo "install: venv $name done"
  fi
  if [[ $(readlink "$link" 2>/dev/null) != "$shared" ]]; then
    rm -rf "$link"
    ln -s "$shared" "$link"
  fi
done
exec 8>&-
