#!/usr/bin/env bash
# Counts failed requests during a change (issue 19): a request loop inside a controller (default ctl1), one
# request every 0.1 s through the VIP to Magnum (http://10.21.22.2:9511/) and, in a second loop, to Keystone
# (http://10.21.22.2:5000/v3), while the built quorum applies playbooks/magnum-ha.yml to the lab with one kind
# of change. Prints, per kind and service, failed/total requests and the longest stretch without an answer.
# Not a test: run it by hand, as root, with the lab up (lab/lab.sh up) and quorum built (swift build), and
# put the figures in the README.
#
#   bash benchmarks/availability.sh [KIND...]        KIND: rolling, toggle, hitless (default: all three, in order)
#
#   rolling  magnum.conf re-rendered: -e memcached_servers= alternates between two orders of the three
#            memcached servers, so every run changes it; the drained rolling restart of Magnum follows.
#   toggle   the HAProxy stanza (/etc/haproxy/conf.d/180-magnum.cfg) removed on every controller first (the
#            running HAProxy keeps serving it), then written back: -e haproxy_restart=toggle (Pacemaker toggle).
#   hitless  the same, with -e haproxy_restart=hitless (haproxy_reload: master-worker reload on each controller).
#
# Environment: QUORUM (default .build/debug/quorum), CONTROLLER (ctl1), INTERVAL (0.1), SETTLE (seconds of
# requests before and after the change, 3). A request fails when it gets no answer within 2 s or an HTTP
# status of 500 or more (HAProxy's 503 when it has no server). The apply's output goes to
# lab/state/availability/KIND.log.
# In the lab, Keystone on the VIP is served in netns lab, not through the controllers' HAProxy (lab/README.md):
# its figures are the control (a change of Magnum's stanza must not touch it); on a cloud they would not be.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

QUORUM=${QUORUM:-.build/debug/quorum}
CONTROLLER=${CONTROLLER:-ctl1}
INTERVAL=${INTERVAL:-0.1}
SETTLE=${SETTLE:-3}
PLAYBOOK=playbooks/magnum-ha.yml
INVENTORY=inventory/lab.yml
CONTROLLERS=(ctl1 ctl2 ctl3)
STANZA=/etc/haproxy/conf.d/180-magnum.cfg
# The inventory's memcached_servers and the same servers in another order: either works for Magnum.
MEMCACHED_A=10.21.22.4:11211,10.21.22.5:11211,10.21.22.6:11211
MEMCACHED_B=10.21.22.5:11211,10.21.22.6:11211,10.21.22.4:11211
declare -A URLS=([magnum]=http://10.21.22.2:9511/ [keystone]=http://10.21.22.2:5000/v3)
SERVICES=(magnum keystone)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "availability.sh: $*" >&2; exit 1; }

kinds=("$@")
[[ ${#kinds[@]} -gt 0 ]] || kinds=(rolling toggle hitless)
for kind in "${kinds[@]}"; do
  case $kind in
    rolling | toggle | hitless) ;;
    -h | --help | help) usage; exit 0 ;;
    *) usage >&2; die "unknown kind: $kind" ;;
  esac
done
[[ $(id -u) == 0 ]] || die "run it as root (lab/lab.sh exec needs root)"
[[ -x $QUORUM ]] || die "no $QUORUM: build quorum first (swift build)"
bash lab/lab.sh status >/dev/null || die "the lab is not up (bash lab/lab.sh up)"

work=$(mktemp -d /tmp/quorum-availability.XXXXXX)
logs=lab/state/availability
mkdir -p "$logs"
loop_pids=()      # the background `lab.sh exec` of each request loop, and nothing else
declare -A writer # the fd that holds each loop's FIFO open (closing it ends the loop)

# The request loop, run inside the controller: one GET every INTERVAL s (2 s timeout), a line per request
# ("SECONDS ok|fail WHAT"); it ends when its stdin closes, or after LIMIT s whatever happens.
loop_script='
import http.client, select, sys, time, urllib.parse
url, interval, limit = urllib.parse.urlsplit(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
while time.monotonic() - start < limit:
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=2)
        c.request("GET", url.path or "/")
        status = c.getresponse().status
        c.close()
        ok, what = status < 500, str(status)
    except Exception as e:
        ok, what = False, type(e).__name__
    print("%.3f %s %s" % (t0 - start, "ok" if ok else "fail", what), flush=True)
    if select.select([sys.stdin], [], [], 0)[0]:
        break
    time.sleep(max(0.0, interval - (time.monotonic() - t0)))
'

# Every descendant of a PID (its children first), from ps: the loop's nsenter and python.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

start_loops() { # KIND
  local service fifo fd
  for service in "${SERVICES[@]}"; do
    fifo=$work/$1-$service.fifo
    mkfifo "$fifo"
    bash lab/lab.sh exec "$CONTROLLER" -- python3 -c "$loop_script" "${URLS[$service]}" "$INTERVAL" 1800 \
      <"$fifo" >"$work/$1-$service.out" 2>"$work/$1-$service.err" &
    loop_pids+=($!)
    exec {fd}>"$fifo"   # opens once the loop's side has opened it (the loop reads EOF when it closes)
    writer[$service]=$fd
  done
}

# Ends the loops: closes their FIFOs, waits (bounded), then kills what is left of them, by PID.
stop_loops() {
  local service pid i left fd
  for service in "${!writer[@]}"; do
    fd=${writer[$service]}
    exec {fd}>&-
    unset "writer[$service]"
  done
  for ((i = 0; i < 50; i++)); do
    left=0
    for pid in "${loop_pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    ((left)) || break
    sleep 0.2
  done
  for pid in "${loop_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      # shellcheck disable=SC2046
      kill $(descendants "$pid") "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  loop_pids=()
}

# A copy of each controller's stanza, put back where a failed run left it missing.
save_stanzas() {
  local ctl
  for ctl in "${CONTROLLERS[@]}"; do
    bash lab/lab.sh exec "$ctl" -- cat "$STANZA" >"$work/stanza-$ctl" || die "no $STANZA on $ctl: apply $PLAYBOOK first"
  done
}

restore_stanzas() {
  local ctl
  for ctl in "${CONTROLLERS[@]}"; do
    [[ -s $work/stanza-$ctl ]] || continue
    if ! bash lab/lab.sh exec "$ctl" -- test -e "$STANZA"; then
      bash lab/lab.sh exec "$ctl" -- sh -c 'cat >"$1"' sh "$STANZA" <"$work/stanza-$ctl" &&
        echo "availability.sh: $STANZA put back on $ctl (HAProxy was not reloaded)" >&2
    fi
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_loops
  restore_stanzas
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# magnum.conf's memcached_servers on the controller (empty before the first apply).
current_memcached() {
  bash lab/lab.sh exec "$CONTROLLER" -- awk -F' *= *' \
    '/^\[/ { section = $0 } section == "[keystone_authtoken]" && $1 == "memcached_servers" { print $2 }' \
    /etc/magnum/magnum.conf 2>/dev/null || true
}

# failed/total and the longest stretch without an answer: from a run's first failed request to the next
# answered one (or to the last request).
summarize() { # KIND SERVICE FILE
  awk -v kind="$1" -v service="$2" -v interval="$INTERVAL" '
    $2 == "ok" || $2 == "fail" {
      total++; last = $1
      if ($2 == "fail") { failed++; if (since == "") since = $1 }
      else if (since != "") { if ($1 - since > gap) gap = $1 - since; since = "" }
    }
    END {
      if (since != "" && last - since + interval > gap) gap = last - since + interval
      printf "%-8s %-9s %6d/%-6d %8.1f s\n", kind, service, failed, total, gap
    }' "$3"
}

# The lab converged first, not measured: just after `lab.sh up` Magnum does not run, and a measured change would
# count its services starting, not the change (seen: 153 of 197 requests failed, a 17.3 s gap).
current=$(current_memcached)
echo "== settling (not measured): $QUORUM apply $PLAYBOOK -i $INVENTORY" >&2
"$QUORUM" apply "$PLAYBOOK" -i "$INVENTORY" ${current:+-e "memcached_servers=$current"} >"$logs/settle.log" 2>&1 ||
  die "the settling apply failed: see $logs/settle.log"

results=()
for kind in "${kinds[@]}"; do
  current=$(current_memcached)
  extra=()
  case $kind in
    rolling)
      if [[ $current == "$MEMCACHED_A" ]]; then extra=(-e "memcached_servers=$MEMCACHED_B"); else extra=(-e "memcached_servers=$MEMCACHED_A"); fi
      ;;
    toggle | hitless)
      # magnum.conf as it is (no rolling restart mixed in), the stanza written anew on every controller.
      extra=(-e "memcached_servers=${current:-$MEMCACHED_A}" -e "haproxy_restart=$kind")
      save_stanzas
      for ctl in "${CONTROLLERS[@]}"; do bash lab/lab.sh exec "$ctl" -- rm -f "$STANZA"; done
      ;;
  esac
  echo "== $kind: $QUORUM apply $PLAYBOOK -i $INVENTORY ${extra[*]}" >&2
  start_loops "$kind"
  sleep "$SETTLE"
  started=$(date +%s.%N)
  status=0
  "$QUORUM" apply "$PLAYBOOK" -i "$INVENTORY" "${extra[@]}" >"$logs/$kind.log" 2>&1 || status=$?
  ended=$(date +%s.%N)
  sleep "$SETTLE"
  stop_loops
  restore_stanzas
  printf '   apply exited %d after %s s (%s)\n' "$status" "$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')" \
    "$logs/$kind.log" >&2
  [[ $status == 0 ]] || echo "   the apply failed: the figures below are not those of a completed change" >&2
  for service in "${SERVICES[@]}"; do
    [[ -s $work/$kind-$service.err ]] && sed 's/^/   loop: /' "$work/$kind-$service.err" >&2
    results+=("$(summarize "$kind" "$service" "$work/$kind-$service.out")")
  done
done

printf '%-8s %-9s %13s %10s\n' kind service failed/total "longest gap"
printf '%s\n' "${results[@]}"
