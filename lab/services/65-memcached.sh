# shellcheck shell=bash disable=SC2153  # CONTROLLERS, CTL_ADDR come from lab/lab.sh
# Memcached in every controller (Debian's memcached, lab/packages.d/memcached.list), bound to the controller's
# own address on 11211, as the book runs it for keystonemiddleware's token cache (`memcached_servers` in
# inventory/lab.yml lists the three). Started by `up` as a foreground daemon of the controller; it ends with it.

svc_memcached_ctl_up() { # CTL
  local ctl=$1
  [[ -x /usr/bin/memcached ]] || die "missing memcached: run lab/install.sh"
  ctl_daemon "$ctl" memcached /usr/bin/memcached -u memcache -l "${CTL_ADDR[$ctl]}" -p 11211 -U 0 -m 64 -c 1024
}

svc_memcached_status() {
  local ctl line=
  for ctl in "${CONTROLLERS[@]}"; do
    if recorded_pid "$(ctl_dir "$ctl")/pids/memcached" >/dev/null; then line+=" $ctl:running"; else line+=" $ctl:stopped"; fi
  done
  echo "memcached:$line"
}
