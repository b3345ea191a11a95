#!/usr/bin/env bash
# Quorum at scale: a no-change run of a 12-step controller workload on K OpenSSH hosts on loopback, against
# the raw SSH floor. Not a test: run it by hand (as root) and put the figures in the README.
#
#   nice -n 19 bash benchmarks/scale.sh [K...]        # default K: 3 30 100 200
#
#   QUORUM=path/to/quorum   the binary to time (default: `swift build -c release`, then .build/release/quorum)
#   RUNS=N                  timed runs per tool and K, interleaved Quorum, floor, Quorum, floor… (default 3)
#   QUORUM_PREFIX='…'       a command the timed Quorum runs go through, to profile them (its figures are then
#                           the profiler's): QUORUM_PREFIX='perf record -g -o /tmp/q.data' RUNS=1 … 100
#
# Host i is its own /usr/sbin/sshd on 127.0.3.i port 22, started in its own mount namespace where /srv/bench
# (the managed files), /root and /tmp are the host's own directories under a temporary state directory; root
# logs in with a throwaway ed25519 key. The workload (benchmarks/scale/site.yml) is the one of issue 18: a
# configuration directory, a rendered magnum.conf, five api-paste.ini options, a hosts.allow line, a HAProxy
# stanza, a command with `creates`, a read-only command and magnum.conf's owner and mode. For each K the hosts
# get their baseline files, one untimed Quorum run converges them, then every timed run must change nothing.
#
# The floor: per host one fresh `ssh` (curve25519-sha256, the key exchange libssh2 1.10 negotiates) running one
# shell script that does the twelve checks, all hosts in parallel. Each figure is the median of RUNS runs of
# the whole process: wall seconds, CPU seconds (user + sys of it and every process it waited for) and peak
# resident memory (the largest of those processes). Quorum's CPU and memory are the controller side only;
# sshd and the remote shells share the machine's cores. Everything started here (the sshd of each host, by
# the PID recorded when it started) is stopped on exit, and the state directory removed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
workload=$here/scale
runs=${RUNS:-3}
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(3 30 100 200)
die() { echo "scale.sh: $*" >&2; exit 1; }
for k in "${counts[@]}"; do [[ $k =~ ^[0-9]+$ && $k -ge 1 && $k -le 250 ]] || die "K must be 1..250, got '$k'"; done
[[ $(id -u) == 0 ]] || die "run it as root (each host is an sshd in its own mount namespace)"
for tool in /usr/sbin/sshd ssh ssh-keygen unshare python3 ss; do command -v "$tool" >/dev/null || die "$tool is missing"; done

if [[ -z ${QUORUM:-} ]]; then
    source "$root/scripts/swift-toolchain.sh"
    (cd "$root" && "$SWIFT" build -c release >/dev/null)
    QUORUM=$root/.build/release/quorum
fi
[[ -x $QUORUM ]] || die "no executable at $QUORUM"

state=$(mktemp -d /tmp/quorum-scale.XXXXXX)
keys=$state/keys
started=0   # hosts 1..started are up

addr() { echo "127.0.3.$1"; }
is_sshd() { [[ $(readlink "/proc/$1/exe" 2>/dev/null) == /usr/sbin/sshd ]]; }

teardown() {
    local i pid child
    for ((i = 1; i <= started; i++)); do
        pid=$(cat "$state/host$i/pid" 2>/dev/null) || continue
        is_sshd "$pid" || continue
        # The listener, then any connection it still serves (its children).
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do is_sshd "$child" && kill -TERM "$child" 2>/dev/null; done
        kill -TERM "$pid" 2>/dev/null || true
    done
    for ((i = 1; i <= started; i++)); do
        pid=$(cat "$state/host$i/pid" 2>/dev/null) || continue
        for _ in $(seq 50); do is_sshd "$pid" || break; sleep 0.1; done
    done
    rm -rf "$state"
}
trap teardown EXIT
trap 'exit 130' INT TERM

mkdir -p "$keys" "$state/home/.ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -C scale-client -f "$keys/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C scale-host -f "$keys/host_ed25519"
cp "$keys/id_ed25519.pub" "$keys/authorized_keys"
: > "$state/known_hosts"
cat > "$state/ssh_config" <<EOF
Host 127.0.3.*
  User root
  IdentityFile $keys/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $state/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  KexAlgorithms curve25519-sha256
  LogLevel ERROR
EOF

# Starts hosts started+1..$1: sshd -D in a private mount namespace (unshare and sh exec into sshd, so the PID
# recorded is sshd's own).
hosts_up() {
    local want=$1 i d
    for ((i = started + 1; i <= want; i++)); do
        d=$state/host$i
        mkdir -p "$d/srv" "$d/home" "$d/tmp" "$d/keys"
        chmod 0700 "$d/home"; chmod 1777 "$d/tmp"
        cat > "$d/sshd_config" <<EOF
ListenAddress $(addr "$i"):22
HostKey /srv/.host/keys/host_ed25519
AuthorizedKeysFile /srv/.host/keys/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
MaxSessions 100
MaxStartups 100:30:250
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
EOF
        # shellcheck disable=SC2016  # the inner shell expands its own variables
        unshare --mount --propagation private /bin/sh -ec '
            mount -t tmpfs -o size=4m,mode=0755 scale-srv /srv
            mkdir /srv/bench /srv/.host
            mount --bind "$1" /srv/.host
            mount --bind "$2" /srv/.host/keys
            mount --bind /srv/.host/srv /srv/bench
            mount --bind /srv/.host/home /root
            mount --bind /srv/.host/tmp /tmp
            exec /usr/sbin/sshd -D -e -f /srv/.host/sshd_config' sh "$d" "$keys" </dev/null >>"$d/sshd.log" 2>&1 &
        echo $! > "$d/pid"
        started=$i
        echo "$(addr "$i") $(cut -d' ' -f1,2 "$keys/host_ed25519.pub")" >> "$state/known_hosts"
    done
    for _ in $(seq 100); do
        [[ $(ss -Hltn 'sport = :22' | grep -c ' 127\.0\.3\.') -ge $want ]] && return
        sleep 0.1
    done
    die "the sshd hosts did not all listen (see $state/host*/sshd.log)"
}

# The hosts' files before Magnum: a hosts.allow and an existing HAProxy stanza.
reset_hosts() {
    local i d
    for ((i = 1; i <= $1; i++)); do
        d=$state/host$i/srv
        find "$d" -mindepth 1 -delete
        mkdir -p "$d/etc/haproxy/conf.d"
        printf '# hosts allowed to reach local services\nsshd: ALL\n' > "$d/etc/hosts.allow"
        printf 'listen keystone_api\n    bind 127.0.0.1:5000\n    server ctl1 10.0.0.11:5000 check\n' > "$d/etc/haproxy/conf.d/100-keystone.cfg"
    done
}

inventory() {
    local i
    echo "all:"
    echo "  vars: {ansible_user: root, ansible_ssh_private_key_file: $keys/id_ed25519, quorum_known_hosts_file: $state/known_hosts}"
    echo "  children:"
    echo "    bench:"
    echo "      hosts:"
    for ((i = 1; i <= $1; i++)); do echo "        host$i: {ansible_host: $(addr "$i"), bind_host: $(addr "$i")}"; done
}

# The floor's script for host $1: the twelve checks, counting what differs (the converged files are what
# magnum.conf and the stanza must hold).
floor_script() {
    local d=$state/host$1/srv/etc
    cat <<'EOF'
n=0; E=/srv/bench/etc; M=$E/magnum; P=$M/api-paste.ini
differs() { n=$((n + 1)); }
ini() {  # file section option value
    [ "$(awk -v s="$2" -v o="$3" '/^\[/ { f = ($0 == "[" s "]") }
        f && (i = index($0, "=")) { k = substr($0, 1, i - 1); gsub(/^[ \t]+|[ \t]+$/, "", k)
            if (k == o) { v = substr($0, i + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); print v } }' "$1")" = "$4" ] || differs
}
{ [ -d $M ] && [ "$(stat -c %a $M)" = 755 ]; } || differs
{ [ "$(stat -c %a $M/magnum.conf)" = 640 ] && cmp -s - $M/magnum.conf; } <<'__SCALE_EOF__' || differs
EOF
    cat "$d/magnum/magnum.conf"
    cat <<'EOF'
__SCALE_EOF__
ini $P pipeline:main pipeline 'cors healthcheck request_id authtoken api_v1'
ini $P app:api_v1 paste.app_factory 'magnum.api.app:app_factory'
ini $P filter:authtoken acl_public_routes '/, /v1'
ini $P filter:authtoken paste.filter_factory 'magnum.api.middleware.auth_token:AuthTokenMiddleware.factory'
ini $P filter:healthcheck paste.filter_factory 'oslo_middleware:Healthcheck.factory'
grep -qxF 'magnum-api: LOCAL' $E/hosts.allow || differs
{ [ "$(stat -c %a $E/haproxy/conf.d/180-magnum.cfg)" = 644 ] && cmp -s - $E/haproxy/conf.d/180-magnum.cfg; } <<'__SCALE_EOF__' || differs
EOF
    cat "$d/haproxy/conf.d/180-magnum.cfg"
    cat <<'EOF'
__SCALE_EOF__
[ -e $M/db_sync.stamp ] || differs
grep -c listen $E/haproxy/conf.d/180-magnum.cfg > /dev/null || differs
[ "$(stat -c %U:%G:%a $M/magnum.conf)" = root:root:640 ] || differs
echo "changed=$n"
EOF
}

floor_runner() {
    local i
    echo "cd $state/floor"
    for ((i = 1; i <= $1; i++)); do echo "ssh -F $state/ssh_config $(addr "$i") sh -s < host$i.sh > out$i 2>&1 &"; done
    echo "wait"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

quorum_changes() {  # JSON report -> changed steps over all hosts, or "bad" when a host did not end ok
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); recap = r["recap"].values()
bad = any(h.get("failed", 0) or h.get("unreachable", 0) for h in recap)
print("bad" if bad or len(r["recap"]) != int(sys.argv[2]) else sum(h["changed"] for h in recap))' "$1" "$2"
}

export HOME=$state/home   # no ~/.ssh/config of the operator's
printf '%-4s  %-28s  %-16s  %s\n' K "Quorum wall / CPU / peak" "floor wall / CPU" "Quorum / floor (wall, CPU)"
for k in "${counts[@]}"; do
    hosts_up "$k"
    reset_hosts "$k"
    inventory "$k" > "$state/inventory.yml"
    quorum=("$QUORUM" apply "$workload/site.yml" -i "$state/inventory.yml" -F "$state/ssh_config" --json "$state/run.json")
    "${quorum[@]}" > "$state/converge.log" 2>&1 || die "K=$k: the converging run failed (exit $?): $(tail -5 "$state/converge.log")"
    rm -rf "$state/floor"; mkdir -p "$state/floor"
    for ((i = 1; i <= k; i++)); do floor_script "$i" > "$state/floor/host$i.sh"; done
    floor_runner "$k" > "$state/floor/run.sh"
    : > "$state/quorum.txt"; : > "$state/floor.txt"
    for ((r = 1; r <= runs; r++)); do
        # shellcheck disable=SC2086  # QUORUM_PREFIX is a command line: split into its words
        read -r wall cpu peak rc < <(python3 "$workload/timed.py" "$state/quorum.log" ${QUORUM_PREFIX:-} "${quorum[@]}")
        changed=$(quorum_changes "$state/run.json" "$k")
        [[ $rc == 0 && $changed == 0 ]] || die "K=$k: a timed Quorum run was not a clean no-change run (exit $rc, changed $changed)"
        echo "$wall $cpu $peak" >> "$state/quorum.txt"
        read -r wall cpu peak rc < <(python3 "$workload/timed.py" "$state/floor.log" bash "$state/floor/run.sh")
        clean=$(cat "$state"/floor/out* | grep -cx 'changed=0' || true)
        [[ $rc == 0 && $clean == "$k" ]] || die "K=$k: the floor found differences or failed ($clean of $k hosts clean): $(grep -vx 'changed=0' "$state"/floor/out* | head -3)"
        echo "$wall $cpu $peak" >> "$state/floor.txt"
    done
    qw=$(cut -d' ' -f1 "$state/quorum.txt" | median); qc=$(cut -d' ' -f2 "$state/quorum.txt" | median)
    qm=$(cut -d' ' -f3 "$state/quorum.txt" | median)
    fw=$(cut -d' ' -f1 "$state/floor.txt" | median); fc=$(cut -d' ' -f2 "$state/floor.txt" | median)
    printf '%-4s  %-28s  %-16s  %s\n' "$k" "$qw s / $qc s / $qm MiB" "$fw s / $fc s" \
        "$(awk -v a="$qw" -v b="$fw" -v c="$qc" -v d="$fc" 'BEGIN { printf "%.2f, %.2f", a / b, c / d }')"
done
echo "(median of $runs runs each; $(nproc) cores; $("$QUORUM" --version 2>/dev/null || echo quorum))"
