#!/usr/bin/env bash
# Times `quorum audit` of the whole Magnum playbook (playbooks/magnum-ha.yml: database and Keystone through
# tunnels, three controllers' configuration, firewall and stanza) on the lab (release build): applies it
# once, then audits N times, each audit required to find no drift, and prints min/median/max.
# Not a test: run it by hand and put the figure in the README. It takes the lab through lab/with-lab.sh.
#   bash benchmarks/audit-run.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-toolchain.sh
runs=${1:-9}

if [[ -z ${QUORUM_AUDIT_BENCH_LAB:-} ]]; then
  bash lab/install.sh >/dev/null
  swift build -c release >/dev/null
  QUORUM_AUDIT_BENCH_LAB=1 exec bash lab/with-lab.sh bash "$0" "$runs"
fi

quorum=.build/release/quorum
playbook=playbooks/magnum-ha.yml
report=$(mktemp /tmp/quorum-audit-bench.XXXXXX)
trap 'rm -f "$report"' EXIT

$quorum apply "$playbook" -i inventory/lab.yml >/dev/null || { echo "applying $playbook failed" >&2; exit 1; }

times=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  status=0
  $quorum audit "$playbook" -i inventory/lab.yml --format json >"$report" || status=$?
  end=$(date +%s.%N)
  [[ $status == 0 ]] || { echo "an audit exited $status (drift or failure right after apply):" >&2; cat "$report" >&2; exit 1; }
  times+=("$(python3 -c "print($end - $start)")")
done
probes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["probes"])' "$report")
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" -v probes="$probes" '
  { t[NR] = $1 }
  END { printf "audit of magnum-ha.yml, 3 controllers (%d probes): median %.3f s (min %.3f, max %.3f, %d runs)\n", probes, t[int((n+1)/2)], t[1], t[n], n }'
