#!/usr/bin/env bash
# Tests the Debian package in a clean Debian 12 root: a minimal root from debootstrap with only the package's
# Depends and man-db, `dpkg -i` of the .deb inside it, then, in the root, `quorum --version`, `quorum doc`,
# `man quorum` (and a subcommand's page), the bash completion, and
# `quorum validate playbooks/magnum-ha.yml -i inventory/lab.yml` (playbooks/, files/ and inventory/ copied in);
# then the tarball beside the package, unpacked into the root's /usr/local, and dist/SHA256SUMS.
# Prints what each printed; exits 1 if any failed.
#
#   bash scripts/package-test.sh [--apply-lab] [dist/quorum_<version>_<arch>.deb]   (as root; default: newest in dist/)
#
# --apply-lab also runs, from inside the root against the lab, which must be up (lab/lab.sh up), with ctl2 and ctl3
# refusing SSH from this machine (an iptables REJECT put in them for the while) and an ssh_config sending them
# through ctl1 (ProxyJump): the control (ctl2 straight is unreachable, exit 3), `quorum apply
# playbooks/magnum-ha.yml -i inventory/lab.yml -F lab/state/ssh_config` twice (the second changes nothing) and
# `quorum audit` likewise. The root shares this machine's network, and lab/state's id_ed25519 and known_hosts
# are copied beside the inventory as it names them (../lab/state/).
#
# The root is made once per package list and mirror and kept in /var/cache/quorum-package-root; every run
# works on a copy of it, removed at the end. The mirror is the one apt on this machine uses for the suite
# (or $QUORUM_DEBIAN_MIRROR). $QUORUM_PACKAGE_TEST_PROJECT names another directory to copy playbooks/, files/,
# inventory/ and lab/state/ from (for testing this script itself).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "package-test.sh: $*" >&2; exit 1; }

apply_lab=false
deb=
while (($#)); do
  case $1 in
    --apply-lab) apply_lab=true ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [[ -z $deb ]] || die "one package at a time"; deb=$1 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || die "run as root: debootstrap and chroot need it"
project=$(realpath "${QUORUM_PACKAGE_TEST_PROJECT:-$PWD}")
arch=$(dpkg --print-architecture)
if [[ -z $deb ]]; then
  # shellcheck disable=SC2012  # the newest package: our own file names, no odd characters
  deb=$(ls -t dist/quorum_*_"$arch".deb 2>/dev/null | head -n 1 || true)
  [[ -n $deb ]] || die "no dist/quorum_*_$arch.deb: run scripts/package.sh first, or name the package"
fi
[[ -f $deb ]] || die "no package at $deb"
deb=$(realpath "$deb")
if $apply_lab; then
  for file in id_ed25519 known_hosts; do
    [[ -f $project/lab/state/$file ]] || die "--apply-lab needs $project/lab/state/$file: bring the lab up first (lab/lab.sh up)"
  done
fi

if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null
fi
suite=bookworm
# shellcheck disable=SC2016  # $(TARGET_OF)… are apt's own placeholders
mirror=${QUORUM_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(IDENTIFIER)' |
  awk -v suite="$suite" '$1 == "deb" && $3 == suite && $4 == "Packages" { print $2; exit }')}
[[ -n $mirror ]] || die "apt on this machine has no source for Debian $suite: set QUORUM_DEBIAN_MIRROR to a Debian mirror"

# The root holds the package's Depends (first alternative of each, versions aside) and man-db, nothing more.
version=$(dpkg-deb -f "$deb" Version)
packages=$(dpkg-deb -f "$deb" Depends | sed -E 's/\([^)]*\)//g; s/\|[^,]*//g; s/[[:space:]]//g')
include=$packages,man-db
cache_dir=/var/cache/quorum-package-root
cache=$cache_dir/$suite-$(printf '%s %s' "$mirror" "$include" | sha256sum | cut -c1-12)

# Removes a directory tree only if nothing is mounted below it, and never across file systems.
remove_tree() {
  [[ -e $1 ]] || return 0
  if findmnt -rno TARGET | grep -q "^$(realpath "$1")/"; then die "something is still mounted under $1; not removing it"; fi
  rm -rf --one-file-system "$1"
}

if [[ ! -f $cache/.quorum-root-complete ]]; then
  echo "== making the Debian $suite root ($include) from $mirror in $cache"
  mkdir -p "$cache_dir"
  remove_tree "$cache.partial"
  # In a private mount namespace: what debootstrap mounts in the root goes away with it, even if it is killed.
  unshare --mount --propagation private -- debootstrap --variant=minbase --include="$include" "$suite" "$cache.partial" "$mirror" \
    > "$cache_dir/debootstrap.log" 2>&1 || { tail -n 30 "$cache_dir/debootstrap.log" >&2; die "debootstrap failed (log: $cache_dir/debootstrap.log)"; }
  touch "$cache.partial/.quorum-root-complete"
  mv "$cache.partial" "$cache"
fi

work=$(mktemp -d /var/tmp/quorum-package-test.XXXXXX)
trap 'remove_tree "$work"' EXIT
root=$work/root
cp -a --reflink=auto "$cache" "$root"
cp "$deb" "$root/tmp/"
mkdir -p "$root/srv/quorum"
for dir in playbooks files inventory; do
  [[ -d $project/$dir ]] && cp -a "$project/$dir" "$root/srv/quorum/"
done
if $apply_lab; then
  install -d -m 0700 "$root/srv/quorum/lab/state"
  install -m 0600 "$project/lab/state/id_ed25519" "$project/lab/state/known_hosts" "$root/srv/quorum/lab/state/"
fi

# Runs a shell command line in the root, with /proc and /dev mounted in a private mount namespace (gone when
# it exits) and a plain environment.
in_root() {
  # shellcheck disable=SC2016  # the inner shell expands its own arguments
  unshare --mount --propagation private -- /bin/bash -c '
    mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" || exit 125
    exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
      MANWIDTH=100 /bin/bash -c "$2"' in_root "$root" "$1"
}

failures=()
# check NAME COMMAND [REGEX [REJECT]]: runs COMMAND in the root and prints its output; it fails on a non-zero
# exit, when REGEX (grep -E) matches no line of the output, or when REJECT matches one.
check() {
  local name=$1 command=$2 expect=${3:-} reject=${4:-} output status=0
  echo
  echo "== $name"
  output=$(in_root "$command" 2>&1) || status=$?
  [[ -z $output ]] || printf '%s\n' "$output"
  if ((status != 0)); then
    failures+=("$name (exit $status)")
  elif [[ -n $expect ]] && ! grep -Eq -- "$expect" <<<"$output"; then
    failures+=("$name (no line matches /$expect/)")
  elif [[ -n $reject ]] && grep -Eq -- "$reject" <<<"$output"; then
    failures+=("$name (a line matches /$reject/)")
  else
    echo "-- ok (exit 0)"
    return 0
  fi
  echo "-- FAILED: ${failures[-1]}"
}

echo "== package $(basename "$deb"): Depends: $packages; root: $cache"
if [[ -f $(dirname "$deb")/SHA256SUMS ]]; then
  echo
  echo "== sha256sum -c SHA256SUMS"
  (cd "$(dirname "$deb")" && sha256sum -c SHA256SUMS) || failures+=("SHA256SUMS")
fi
check "dpkg -i $(basename "$deb")" "dpkg -i /tmp/$(basename "$deb")" "^Setting up quorum \(${version//./\\.}\)"
check "ldd /usr/bin/quorum" "ldd /usr/bin/quorum" "libc\.so" "not found|/opt/"
check "quorum --version" "quorum --version" "^quorum ${version//./\\.} \(commit [^ )]+\)$"
check "quorum doc" "quorum doc" "^template +"
# shellcheck disable=SC2016  # check runs the command line in the package's root
check "man quorum | head -n 20" 'page=$(man quorum) && printf "%s\n" "$page" | head -n 20' "^NAME"
check "man -w quorum.apply quorum.vault.edit (a page per subcommand)" "man -w quorum.apply quorum.vault.edit" "quorum\.vault\.edit\.1\.gz$"
check "bash completion" '. /usr/share/bash-completion/completions/quorum && complete -p quorum' "^complete .* quorum$"
check "quorum validate playbooks/magnum-ha.yml -i inventory/lab.yml" \
  "cd /srv/quorum && quorum validate playbooks/magnum-ha.yml -i inventory/lab.yml"
if $apply_lab; then
  # Through a bastion, as operators reach a management network: ctl2 and ctl3 reset SSH from this machine while
  # the applies and the audit run, and the ssh_config sends them through ctl1 (ProxyJump).
  cat >"$root/srv/quorum/lab/state/ssh_config" <<'CONFIG'
Host 10.21.22.5 10.21.22.6
  ProxyJump root@10.21.22.4
Host 10.21.22.4
  IdentityFile /srv/quorum/lab/state/id_ed25519
  UserKnownHostsFile /srv/quorum/lab/state/known_hosts
CONFIG
  block="INPUT -s 10.21.22.1 -p tcp --dport 22 -m comment --comment quorum-package-test -j REJECT --reject-with tcp-reset"
  unblock() {
    local ctl
    for ctl in ctl2 ctl3; do bash lab/lab.sh exec "$ctl" -- sh -c "while iptables -w 5 -D $block 2>/dev/null; do :; done" || true; done
  }
  trap 'unblock; remove_tree "$work"' EXIT
  for ctl in ctl2 ctl3; do bash lab/lab.sh exec "$ctl" -- sh -c "iptables -w 5 -I $block" || die "cannot block SSH to $ctl"; done
  through="-i inventory/lab.yml -F lab/state/ssh_config"
  echo
  echo "== the control: ctl2 straight (without the ssh_config) is unreachable, exit 3"
  status=0
  output=$(in_root "cd /srv/quorum && quorum audit playbooks/magnum-ha.yml -i inventory/lab.yml --limit ctl2" 2>&1) || status=$?
  printf '%s\n' "$output" | tail -n 4
  if ((status == 3)); then echo "-- ok (exit 3)"; else failures+=("ctl2 straight: exit $status, not 3"); echo "-- FAILED: ${failures[-1]}"; fi
  check "quorum apply playbooks/magnum-ha.yml $through (ctl2, ctl3 through ctl1)" \
    "cd /srv/quorum && quorum apply playbooks/magnum-ha.yml $through" "ctl3 +ok=[0-9]+ +changed=[0-9]+ +failed=0"
  check "again: no change" "cd /srv/quorum && quorum apply playbooks/magnum-ha.yml $through" \
    "ctl3 +ok=[0-9]+ +changed=0 +failed=0" "changed=[1-9]"
  check "quorum audit playbooks/magnum-ha.yml $through" "cd /srv/quorum && quorum audit playbooks/magnum-ha.yml $through"
  unblock
fi

# The tarball of the same version, when it sits beside the package: unpacked into /usr/local, as the README says.
tarball=$(dirname "$deb")/quorum-$version-linux-$(uname -m).tar.gz
if [[ -f $tarball ]]; then
  cp "$tarball" "$root/tmp/"
  check "tarball into /usr/local" "tar -xzf /tmp/$(basename "$tarball") -C /usr/local --strip-components=1 &&
    /usr/local/bin/quorum --version && cd /usr/local/share && ls man/man1/quorum.1.gz bash-completion/completions/quorum \
    zsh/site-functions/_quorum fish/vendor_completions.d/quorum.fish doc/quorum/copyright" \
    "^quorum ${version//./\\.} \(commit [^ )]+\)$"
fi

echo
if ((${#failures[@]})); then
  printf 'package test FAILED:\n' >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "package test passed: $(basename "$deb") in a clean Debian $suite root"
