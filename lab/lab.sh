#!/usr/bin/env bash
# The Quorum lab: three simulated controllers (ctl1..ctl3) in network namespaces on this machine.
#   lab.sh up | down | status | exec CTL [-- CMD...] | cut CTL | mend CTL | ssh-config
# See lab/README.md. Every command is idempotent; state lives in lab/state/ (git-ignored).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=$LAB_DIR/state

# ---- topology -------------------------------------------------------------------------------------
NET_PREFIX=10.21.22          # the lab's /24
HOST_IF=lab0                 # root namespace end of the uplink veth
HOST_ADDR=$NET_PREFIX.1
LAB_NS=lab                   # netns holding the bridge and the VIP (shared services listen here)
BRIDGE=br-lab
UPLINK=uplink                # lab namespace end of the uplink veth
VIP=$NET_PREFIX.2
CONTROLLERS=(ctl1 ctl2 ctl3)
declare -A CTL_ADDR=([ctl1]=$NET_PREFIX.4 [ctl2]=$NET_PREFIX.5 [ctl3]=$NET_PREFIX.6)
# Interfaces are created directly inside their namespaces (never with a temporary name in the root
# namespace): in netns lab, controller ctlN's port is "port-ctlN"; inside ctlN it is "eth0".
port_of() { echo "port-$1"; }
# Fixed MAC addresses (locally administered, from the IPv4 address): a controller restarted with new
# links keeps its MAC, so the neighbours' ARP entries stay right (a stale one blackholes it ~30 s).
mac_of() { local IFS=.; read -r a b c d <<<"$1"; printf '02:00:%02x:%02x:%02x:%02x' "$a" "$b" "$c" "$d"; }

# Private per controller: bind-mounted from lab/state/ctlN/fs/<path> (seeded from the host's copy
# when the controller starts fresh). Service hooks may append to these arrays.
# /etc/default is a directory, not per-file mounts: Quorum writes files there (/etc/default/magnum-api)
# atomically, a temporary file renamed over the old one, which a file bind mount refuses (EBUSY).
# /var/lib/quorum: Quorum's own state on a controller (handlers still owed by an interrupted run).
PRIVATE_DIRS=(/etc/magnum /etc/haproxy /etc/iptables /etc/default /var/log/magnum /var/lib/quorum)
PRIVATE_FILES=(/etc/hosts /etc/hostname /root/.bashrc)

LABOP_USER=labop
LABOP_PASSWORD=labop-Pa55
DEMO_INIT=/etc/init.d/quorum-demo
SSH_WAIT_SECONDS=${LAB_SSH_WAIT_SECONDS:-20}

# ---- helpers --------------------------------------------------------------------------------------
log() { echo "lab: $*"; }
warn() { echo "lab: warning: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 120 9 || die "another lab.sh holds $STATE/.lock"
}

# Close every descriptor above 2 (the lock, the caller's pipes): a daemon must not keep them open.
close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-"; fi
  done
}

# detach LOG CMD...: start CMD in its own session, stdin /dev/null, stdout+stderr appended to LOG,
# no inherited descriptor. Sets DETACHED_PID (the PID of CMD itself: in a non-interactive shell the
# background subshell is no process group leader, so setsid does not fork).
DETACHED_PID=
detach() {
  local logfile=$1
  shift
  (
    close_fds
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  DETACHED_PID=$!
}

# PID records: "PID STARTTIME" so a recycled PID is never mistaken for ours.
proc_starttime() {
  local stat f
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  stat=${stat##*) }             # drop "pid (comm) "
  read -ra f <<<"$stat"
  [[ ${f[0]} != [ZX] ]] || return 1   # a zombie is gone for our purposes
  echo "${f[19]}"               # field 22 of stat
}
record_pid() { # FILE PID
  mkdir -p "$(dirname "$1")"
  echo "$2 $(proc_starttime "$2")" >"$1"
}
recorded_pid() { # FILE -> prints the PID if that process is still the one recorded
  local pid start now
  [[ -r $1 ]] || return 1
  read -r pid start <"$1" || return 1
  [[ -n ${pid:-} ]] || return 1
  now=$(proc_starttime "$pid") || return 1
  [[ $now == "$start" ]] || return 1
  echo "$pid"
}
stop_pid() { # FILE [SECONDS]: TERM, wait, KILL; then forget the record
  local pid i
  if pid=$(recorded_pid "$1"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < ${2:-5} * 10; i++)); do
      recorded_pid "$1" >/dev/null || break
      sleep 0.1
    done
    if recorded_pid "$1" >/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}

ns_ok() { ip -n "$1" link show lo >/dev/null 2>&1; }
ns_sysctl() { local ns=$1; shift; ip netns exec "$ns" sysctl -qw "$@" >/dev/null; }

ctl_dir() { echo "$STATE/$1"; }
is_controller() { local c; for c in "${CONTROLLERS[@]}"; do [[ $c == "$1" ]] && return 0; done; return 1; }
need_controller() { is_controller "${1:-}" || die "unknown controller '${1:-}' (one of: ${CONTROLLERS[*]})"; }

anchor_pid() { recorded_pid "$(ctl_dir "$1")/pids/anchor"; }

# Run a command inside a controller (all its namespaces; it starts in /).
ctl_exec() { # CTL CMD...
  local ctl=$1 pid
  shift
  pid=$(anchor_pid "$ctl") || die "$ctl is not running (lab.sh up)"
  nsenter -t "$pid" -m -u -n -p -- "$@"
}

# ctl_daemon CTL NAME CMD...: start a long-running CMD (not daemonizing itself) inside CTL, child of
# the controller's PID 1; log in lab/state/CTL/logs/NAME.log, PID (root namespace) in pids/NAME.
ctl_daemon() {
  local ctl=$1 name=$2 dir pid anchor i
  shift 2
  dir=$(ctl_dir "$ctl")
  anchor=$(anchor_pid "$ctl") || die "$ctl is not running"
  if recorded_pid "$dir/pids/$name" >/dev/null; then return 0; fi
  mkdir -p "$dir/logs"
  detach "$dir/logs/$name.log" nsenter -t "$anchor" -m -u -n -p -- /usr/bin/setsid -f "$@"
  for ((i = 0; i < 50; i++)); do
    # (sshd rewrites its process title, but keeps its arguments in it: no -x)
    if pid=$(pgrep -n -P "$anchor" -f -- "$*"); then
      record_pid "$dir/pids/$name" "$pid"
      return 0
    fi
    sleep 0.1
  done
  die "$ctl: $name did not start (see $dir/logs/$name.log)"
}

# ---- service hooks --------------------------------------------------------------------------------
# lab/services/NN-name.sh are sourced in order; each may append to PRIVATE_DIRS/PRIVATE_FILES and
# define svc_<name>_seed CTL FSROOT, svc_<name>_ctl_up CTL, svc_<name>_up, svc_<name>_down,
# svc_<name>_status (name: file name without NN- and .sh, '-' -> '_'). See lab/services/README.md.
SERVICES=()
load_services() {
  local f n
  for f in "$LAB_DIR"/services/*.sh; do
    [[ -e $f ]] || continue
    # shellcheck source=/dev/null
    source "$f"
    n=$(basename "$f" .sh)
    n=${n#[0-9][0-9]-}
    SERVICES+=("${n//-/_}")
  done
}
hook() { # HOOK ARGS...: run svc_<service>_<HOOK> for every service that defines it
  local h=$1 s
  shift
  for s in ${SERVICES[@]+"${SERVICES[@]}"}; do
    if declare -F "svc_${s}_$h" >/dev/null; then "svc_${s}_$h" "$@"; fi
  done
}
hook_reverse() {
  local h=$1 i s
  shift
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    s=${SERVICES[i]}
    if declare -F "svc_${s}_$h" >/dev/null; then "svc_${s}_$h" "$@"; fi
  done
}

# ---- network --------------------------------------------------------------------------------------
preflight() {
  local dev addr line
  [[ $STATE != *[[:space:]]* ]] || die "the lab's path must not contain spaces: $STATE"
  for cmd in ip unshare nsenter setsid flock pgrep ssh-keygen /usr/sbin/sshd start-stop-daemon; do
    command -v "$cmd" >/dev/null || die "missing $cmd: run lab/install.sh"
  done
  # The subnet must not be used on the host by anything but our own lab0.
  while read -r _ dev _ addr _; do
    if [[ $addr == "$NET_PREFIX".* && $dev != "$HOST_IF" ]]; then
      die "$NET_PREFIX.0/24 is already used on this host ($addr on $dev): refusing to start"
    fi
  done < <(ip -4 -o addr show)
  while read -r line; do
    [[ -z $line || $line == *" dev $HOST_IF "* || $line == *" dev $HOST_IF" ]] && continue
    die "$NET_PREFIX.0/24 is already routed on this host ($line): refusing to start"
  done < <(ip -4 route show root "$NET_PREFIX.0/24" table all 2>/dev/null | grep -v '^local\|^broadcast' || true)
  while read -r line; do
    [[ -z $line || $line == default* ]] && continue
    warn "a host route covers $NET_PREFIX.0/24 ($line); the lab's /24 on $HOST_IF takes precedence"
  done < <(ip -4 route show match "$NET_PREFIX.0/24" | grep -v " dev $HOST_IF " || true)
  if ip link show "$HOST_IF" >/dev/null 2>&1 && ! ip -o link show "$HOST_IF" | grep -q "link-netns $LAB_NS"; then
    die "interface $HOST_IF exists on this host and is not the lab's: refusing to start"
  fi
}

ensure_ns() { # NS
  if ! ns_ok "$1"; then
    [[ -e /run/netns/$1 ]] && { ip netns del "$1" 2>/dev/null || rm -f "/run/netns/$1"; }
    ip netns add "$1"
  fi
  # No IPv6 on lab links (loopback keeps ::1), no forwarding.
  ns_sysctl "$1" net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
  ip -n "$1" link set lo up
}

net_up() {
  ensure_ns "$LAB_NS"
  if ! ip -n "$LAB_NS" link show "$BRIDGE" >/dev/null 2>&1; then
    ip -n "$LAB_NS" link add "$BRIDGE" type bridge
  fi
  ns_sysctl "$LAB_NS" "net.ipv6.conf.$BRIDGE.disable_ipv6=1"
  ip -n "$LAB_NS" link set "$BRIDGE" address "$(mac_of "$VIP")"
  ip -n "$LAB_NS" addr replace "$VIP/24" dev "$BRIDGE"
  ip -n "$LAB_NS" link set "$BRIDGE" up

  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip -n "$LAB_NS" link del "$UPLINK" 2>/dev/null || true
    ip link add "$HOST_IF" type veth peer name "$UPLINK" netns "$LAB_NS"
  fi
  sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1" "net.ipv4.conf.$HOST_IF.forwarding=0" >/dev/null
  ns_sysctl "$LAB_NS" "net.ipv6.conf.$UPLINK.disable_ipv6=1"
  ip link set "$HOST_IF" address "$(mac_of "$HOST_ADDR")"
  ip addr replace "$HOST_ADDR/24" dev "$HOST_IF"
  ip -n "$LAB_NS" link set "$UPLINK" master "$BRIDGE" up
  ip link set "$HOST_IF" up
}

ctl_net_up() { # CTL
  local ctl=$1 port
  port=$(port_of "$ctl")
  ensure_ns "$ctl"
  if ! ip -n "$ctl" link show eth0 >/dev/null 2>&1; then
    ip -n "$LAB_NS" link del "$port" 2>/dev/null || true
    ip -n "$LAB_NS" link add "$port" type veth peer name eth0 netns "$ctl"
  fi
  ns_sysctl "$ctl" net.ipv6.conf.eth0.disable_ipv6=1
  ns_sysctl "$LAB_NS" "net.ipv6.conf.$port.disable_ipv6=1"
  ip -n "$ctl" link set eth0 address "$(mac_of "${CTL_ADDR[$ctl]}")"
  ip -n "$ctl" addr replace "${CTL_ADDR[$ctl]}/24" dev eth0
  ip -n "$ctl" link set eth0 up
  ip -n "$LAB_NS" link set "$port" master "$BRIDGE" up
}

# ---- controllers ----------------------------------------------------------------------------------
hosts_file() { # CTL
  echo "127.0.0.1 localhost"
  echo "$VIP vip"
  local c
  for c in "${CONTROLLERS[@]}"; do echo "${CTL_ADDR[$c]} $c"; done
}

# Fresh private tree for a controller that is not running: lab/state/CTL/fs/...
seed_controller() { # CTL
  local ctl=$1 dir fs p
  dir=$(ctl_dir "$ctl")
  fs=$dir/fs
  rm -rf "$fs" "$dir/pids" "$dir/logs"
  mkdir -p "$fs" "$dir/pids" "$dir/logs"
  for p in "${PRIVATE_DIRS[@]}"; do
    mkdir -p "$p" "$fs$p"    # the mount point on the host stays (empty if it was missing)
    cp -a "$p/." "$fs$p/" 2>/dev/null || true
  done
  for p in "${PRIVATE_FILES[@]}"; do
    mkdir -p "$(dirname "$fs$p")"
    [[ -e $p ]] || touch "$p"
    cp -a "$p" "$fs$p"
  done
  mkdir -p "$fs/etc/haproxy/conf.d"
  # root's shell start-up on a real controller is plain; this machine's /root/.bashrc (pyenv, cargo) costs
  # ~150 ms on every command sshd runs, so each controller gets a minimal one of its own.
  printf '%s\n' '# lab controller: minimal root .bashrc' >"$fs/root/.bashrc"
  hosts_file "$ctl" >"$fs/etc/hosts"
  echo "$ctl" >"$fs/etc/hostname"
  hook seed "$ctl" "$fs"
  # Mount list for controller-init.sh; a parent directory comes before its children.
  {
    for p in "${PRIVATE_DIRS[@]}" "${PRIVATE_FILES[@]}"; do echo "bind $fs$p $p"; done
  } >"$dir/mounts"
}

ssh_keys() {
  local ctl dir
  [[ -s $STATE/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C quorum-lab -f "$STATE/id_ed25519"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  : >"$STATE/known_hosts.tmp"
  for ctl in "${CONTROLLERS[@]}"; do
    dir=$(ctl_dir "$ctl")
    mkdir -p "$dir"
    [[ -s $dir/ssh_host_ed25519_key ]] ||
      ssh-keygen -q -t ed25519 -N '' -C "$ctl" -f "$dir/ssh_host_ed25519_key"
    echo "${CTL_ADDR[$ctl]} $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >>"$STATE/known_hosts.tmp"
  done
  mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"
  ssh_config_text >"$STATE/ssh_config"
}

ssh_config_text() {
  local ctl
  for ctl in "${CONTROLLERS[@]}"; do
    cat <<EOF
Host $ctl
  HostName ${CTL_ADDR[$ctl]}
  User root
  IdentityFile $STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  StrictHostKeyChecking yes
  ConnectTimeout 5

EOF
  done
}

sshd_config() { # CTL
  local ctl=$1 dir
  dir=$(ctl_dir "$ctl")
  cat <<EOF
# Generated by lab/lab.sh for $ctl
ListenAddress ${CTL_ADDR[$ctl]}:22
HostKey $dir/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile $STATE/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 100
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
UseDNS no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

users_up() {
  if ! id "$LABOP_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$LABOP_USER"
  fi
  # Set the password once; lab/state/labop.hash remembers the hash we set (cheaper than checking it).
  local hash
  hash=$(getent shadow "$LABOP_USER" | cut -d: -f2)
  if [[ ! -s $STATE/labop.hash || $(cat "$STATE/labop.hash") != "$hash" ]]; then
    echo "$LABOP_USER:$LABOP_PASSWORD" | chpasswd
    getent shadow "$LABOP_USER" | cut -d: -f2 >"$STATE/labop.hash"
  fi
  local want="$LABOP_USER ALL=(ALL:ALL) ALL"
  if [[ ! -f /etc/sudoers.d/$LABOP_USER || $(cat "/etc/sudoers.d/$LABOP_USER") != "$want" ]]; then
    echo "$want" >"/etc/sudoers.d/.$LABOP_USER.tmp"
    chmod 0440 "/etc/sudoers.d/.$LABOP_USER.tmp"
    visudo -qcf "/etc/sudoers.d/.$LABOP_USER.tmp" >/dev/null
    mv "/etc/sudoers.d/.$LABOP_USER.tmp" "/etc/sudoers.d/$LABOP_USER"
  fi
}

demo_service_up() {
  if ! cmp -s "$LAB_DIR/quorum-demo.init" "$DEMO_INIT"; then
    install -m 0755 "$LAB_DIR/quorum-demo.init" "$DEMO_INIT"
  fi
}

start_anchor() { # CTL
  local ctl=$1 dir i pid
  dir=$(ctl_dir "$ctl")
  rm -f "$dir/anchor.pid" "$dir/anchor.pid.tmp"
  detach "$dir/logs/anchor.log" ip netns exec "$ctl" \
    unshare --mount --uts --pid --fork --propagation private -- "$LAB_DIR/controller-init.sh" "$ctl" "$dir"
  record_pid "$dir/pids/unshare" "$DETACHED_PID"
  for ((i = 0; i < 100; i++)); do
    [[ -s $dir/anchor.pid ]] && break
    if ! kill -0 "$DETACHED_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  if [[ ! -s $dir/anchor.pid ]]; then
    # A half-started anchor records itself in anchor.pid.tmp first.
    [[ -s $dir/anchor.pid.tmp ]] && { read -r pid _ <"$dir/anchor.pid.tmp"; kill -KILL "$pid" 2>/dev/null || true; }
    tail -n 5 "$dir/logs/anchor.log" >&2 || true
    die "$ctl: controller init did not come up (see $dir/logs/anchor.log)"
  fi
  read -r pid _ <"$dir/anchor.pid"
  record_pid "$dir/pids/anchor" "$pid"
}

ctl_up() { # CTL
  local ctl=$1 dir
  dir=$(ctl_dir "$ctl")
  local fresh=0
  if ! anchor_pid "$ctl" >/dev/null; then
    stop_controller "$ctl" # leftovers of a half-up controller, if any
    seed_controller "$ctl"
    fresh=1
  fi
  ctl_net_up "$ctl"
  sshd_config "$ctl" >"$dir/sshd_config"
  [[ $fresh -eq 0 ]] || start_anchor "$ctl"
  ctl_daemon "$ctl" sshd /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/logs/sshd.log"
  hook ctl_up "$ctl"
}

ssh_banner() { # ADDR: true if an SSH server answers on ADDR:22
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/22" && head -c 4 <&3' _ "$1" 2>/dev/null | grep -q '^SSH-'
}

wait_ssh() {
  local deadline ctl pending
  deadline=$((SECONDS + SSH_WAIT_SECONDS))
  while :; do
    pending=()
    for ctl in "${CONTROLLERS[@]}"; do ssh_banner "${CTL_ADDR[$ctl]}" || pending+=("$ctl"); done
    [[ ${#pending[@]} -eq 0 ]] && return 0
    if ((SECONDS >= deadline)); then
      for ctl in "${pending[@]}"; do
        echo "--- $ctl sshd log:" >&2
        tail -n 5 "$(ctl_dir "$ctl")/logs/sshd.log" >&2 2>/dev/null || true
      done
      die "sshd did not answer on :22 within ${SSH_WAIT_SECONDS}s on: ${pending[*]}"
    fi
    sleep 0.2
  done
}

stop_controller() { # CTL: end the processes we started for it, remove its namespace
  local ctl=$1 dir pid f
  dir=$(ctl_dir "$ctl")
  for f in "$dir"/pids/*; do
    [[ -e $f && ${f##*/} != anchor && ${f##*/} != unshare ]] || continue
    stop_pid "$f" 3
  done
  # PID 1 of the controller: on TERM it signals everything in its PID namespace and exits, and the
  # kernel kills whatever is left. An anchor that an interrupted "up" did not record yet is found
  # through the PID it wrote itself (anchor.pid, or anchor.pid.tmp while it was mounting).
  stop_pid "$dir/pids/anchor" 5
  for f in "$dir/anchor.pid" "$dir/anchor.pid.tmp"; do
    [[ -s $f ]] || continue
    read -r pid _ <"$f"
    if [[ $(tr "\\0" " " 2>/dev/null <"/proc/$pid/cmdline") == *"controller-init.sh $ctl $dir "* ]]; then
      record_pid "$dir/pids/anchor" "$pid"
      stop_pid "$dir/pids/anchor" 5
    fi
  done
  stop_pid "$dir/pids/unshare" 2
  rm -f "$dir/anchor.pid" "$dir/anchor.pid.tmp"
  # Delete the link explicitly: a deleted namespace is dismantled asynchronously by the kernel.
  ip -n "$LAB_NS" link del "$(port_of "$ctl")" 2>/dev/null || true
  if [[ -e /run/netns/$ctl ]]; then ip netns del "$ctl" 2>/dev/null || rm -f "/run/netns/$ctl"; fi
}

# ---- commands -------------------------------------------------------------------------------------
cmd_up() {
  # Offline packages (lab/install.sh fetched them) go into apt's cache for the controllers.
  if compgen -G "$LAB_DIR/state/debs/*.deb" >/dev/null; then cp -n "$LAB_DIR"/state/debs/*.deb /var/cache/apt/archives/ 2>/dev/null || true; fi
  need_root
  lock
  preflight
  load_services
  local t0=$SECONDS ctl
  log "network: $HOST_IF $HOST_ADDR <-> netns $LAB_NS ($BRIDGE, VIP $VIP)"
  net_up
  ssh_keys
  users_up
  demo_service_up
  for ctl in "${CONTROLLERS[@]}"; do
    ctl_up "$ctl"
    log "$ctl: ${CTL_ADDR[$ctl]} anchor $(anchor_pid "$ctl"), sshd $(recorded_pid "$(ctl_dir "$ctl")/pids/sshd")"
  done
  wait_ssh
  hook up
  log "up in $((SECONDS - t0))s: ssh -F $STATE/ssh_config ctl1 (or inventory/lab.yml)"
}

cmd_down() {
  need_root
  lock
  load_services
  local ctl n=0
  hook_reverse down
  for ctl in "${CONTROLLERS[@]}"; do
    if anchor_pid "$ctl" >/dev/null; then n=$((n + 1)); fi
    stop_controller "$ctl"
  done
  # lab0 first (its peer is in netns lab): a deleted namespace is dismantled asynchronously.
  if ip -o link show "$HOST_IF" 2>/dev/null | grep -q "link-netns $LAB_NS"; then ip link del "$HOST_IF"; fi
  if [[ -e /run/netns/$LAB_NS ]]; then ip netns del "$LAB_NS" 2>/dev/null || rm -f "/run/netns/$LAB_NS"; fi
  # Leftover mounts of ours in this mount namespace (none expected: they live in the controllers').
  { grep -F " $STATE/" /proc/self/mounts || true; } | cut -d' ' -f2 | sort -r |
    while read -r m; do umount -l "$m" || true; done
  # iproute2 bind-mounts /run/netns on itself at the first "ip netns add": undo it once unused.
  if [[ -z $(ip netns list) ]] && findmnt -rn /run/netns >/dev/null 2>&1; then umount /run/netns 2>/dev/null || true; fi
  if [[ -f $DEMO_INIT ]] && cmp -s "$LAB_DIR/quorum-demo.init" "$DEMO_INIT"; then rm -f "$DEMO_INIT"; fi
  log "down (controllers stopped: $n)"
}

cmd_status() {
  need_root
  load_services
  local ctl dir anchor sshd reach link rc=0 net
  if ns_ok "$LAB_NS" && ip -o link show "$HOST_IF" 2>/dev/null | grep -q 'state UP\|,UP'; then
    net="up ($HOST_IF $HOST_ADDR, VIP $VIP in netns $LAB_NS)"
  else
    net="down"
    rc=1
  fi
  echo "network: $net"
  for ctl in "${CONTROLLERS[@]}"; do
    dir=$(ctl_dir "$ctl")
    anchor=$(anchor_pid "$ctl" || echo -)
    if sshd=$(recorded_pid "$dir/pids/sshd"); then sshd="up (pid $sshd)"; else sshd=down; fi
    if ssh_banner "${CTL_ADDR[$ctl]}"; then reach=reachable; else reach=unreachable; fi
    if ip -n "$LAB_NS" -o link show "$(port_of "$ctl")" 2>/dev/null | grep -q '<[^>]*,UP'; then
      link=up
    elif ip -n "$LAB_NS" link show "$(port_of "$ctl")" >/dev/null 2>&1; then
      link="cut"
    else
      link=none
    fi
    printf '%s %-11s anchor %-7s sshd %-14s :22 %-11s link %s\n' \
      "$ctl" "${CTL_ADDR[$ctl]}" "$anchor" "$sshd" "$reach" "$link"
    [[ $anchor != - && $reach == reachable ]] || rc=1
  done
  hook status
  return $rc
}

cmd_exec() {
  need_root
  local ctl=${1:-}
  need_controller "$ctl"
  shift
  [[ ${1:-} == -- ]] && shift
  [[ $# -gt 0 ]] || set -- /bin/bash -l
  ctl_exec "$ctl" "$@"
}

cmd_cut() {
  need_root
  need_controller "${1:-}"
  ip -n "$LAB_NS" link set "$(port_of "$1")" down
  log "$1 cut (${CTL_ADDR[$1]} unreachable)"
}

cmd_mend() {
  need_root
  need_controller "${1:-}"
  ip -n "$LAB_NS" link set "$(port_of "$1")" up
  # Addresses that failed to resolve while the link was down would keep failing at once for a while (a FAILED
  # neighbour entry): forget them everywhere, so the mended controller is reachable as soon as this returns.
  local ns
  for ns in "$LAB_NS" "${CONTROLLERS[@]}"; do ip -n "$ns" neigh flush nud failed 2>/dev/null || true; done
  log "$1 mended"
}

usage() {
  cat <<EOF
usage: lab/lab.sh COMMAND
  up                   create the network and the controllers, start sshd (waits for :22)
  down                 stop everything the lab started, remove namespaces and links
  status               one line per controller (exit 0 when all are up and reachable)
  exec CTL [-- CMD...] run CMD (default: a login shell) inside controller CTL
  cut CTL | mend CTL   take CTL's link down / up again
  ssh-config           print an OpenSSH client configuration for ctl1..ctl3
controllers: ${CONTROLLERS[*]}
EOF
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    exec) cmd_exec "$@" ;;
    cut) cmd_cut "$@" ;;
    mend) cmd_mend "$@" ;;
    ssh-config) [[ -s $STATE/ssh_config ]] || die "no lab/state/ssh_config yet: run lab.sh up"; cat "$STATE/ssh_config" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 1 ;;
  esac
}

main "$@"
