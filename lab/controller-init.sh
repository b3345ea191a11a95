#!/usr/bin/env bash
# PID 1 of a lab controller. Started by lab.sh as
#   ip netns exec ctlN unshare --mount --uts --pid --fork --propagation private -- controller-init.sh ctlN DIR
# DIR is lab/state/ctlN. It records its own PID (as seen from the root PID namespace), mounts a fresh
# /proc, tmpfs on /run, /dev/shm and /tmp, bind-mounts the controller's private copies listed in
# DIR/mounts, sets the hostname, says "ready", then reaps orphans until it is told to stop.
set -euo pipefail

name=$1
dir=$2

# /proc is still the host's: /proc/self/stat gives this process' PID and parent PID in the root
# namespace. `read` is a builtin, so /proc/self is this shell, not a subshell.
read -r outer_pid _ _ outer_ppid _ </proc/self/stat
echo "$outer_pid $outer_ppid" >"$dir/anchor.pid.tmp"

mount -t proc -o nosuid,nodev,noexec proc /proc
# Copies of the host's /run/netns mounts would keep the other namespaces alive and hide under /run.
umount -R /run/netns 2>/dev/null || true
# The project may live under /tmp (a CI checkout): hold its folder open so it can be bound back into
# the private tmpfs below, or the controller could not see its own state (sshd config, keys, mounts).
project=$(cd "$dir/../../.." && pwd -P)
case $project/ in
  /tmp/*|/run/*|/dev/shm/*) exec 8<"$project" ;;
  *) project= ;;
esac
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
if [ -n "$project" ]; then
  mkdir -p "$project"
  mount --no-canonicalize --bind /proc/self/fd/8 "$project"   # not resolved by path: that is hidden now
  exec 8<&-
fi

# DIR/mounts: "bind SOURCE TARGET" lines (paths without spaces), written by lab.sh.
while read -r kind src dst; do
  case $kind in
    bind) mount --bind "$src" "$dst" ;;
    ''|'#'*) ;;
    *) echo "controller-init: unknown mount kind '$kind'" >&2; exit 1 ;;
  esac
done <"$dir/mounts"

mkdir -p /run/sshd /run/lock
chmod 0755 /run/sshd
hostname "$name"

stopping=0
stop() {
  stopping=1
  kill -TERM -1 2>/dev/null || true
  local procs
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    procs=(/proc/[0-9]*)   # a builtin glob: no process of its own
    [[ ${#procs[@]} -le 1 ]] && break
    sleep 0.2
  done
  exit 0   # the kernel kills whatever is left in this PID namespace
}
trap stop TERM INT HUP

mv "$dir/anchor.pid.tmp" "$dir/anchor.pid"
echo "controller-init: $name ready (pid $outer_pid)"

# Reap orphans. `wait` returns when its sleeper ends or a trapped signal arrives; bash's SIGCHLD
# handling reaps every child meanwhile, including daemons reparented to this PID 1.
while [[ $stopping -eq 0 ]]; do
  sleep 3600 &
  wait || true
done
