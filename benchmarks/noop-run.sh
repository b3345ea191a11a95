#!/usr/bin/env bash
# Times a no-change run of a 20-step playbook on the lab's three controllers (release build) and prints
# the median of several runs. Not a test: run it by hand and put the figure in the README.
#   bash benchmarks/noop-run.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-toolchain.sh
runs=${1:-9}

bash lab/install.sh >/dev/null
swift build -c release >/dev/null
bash lab/lab.sh up >/dev/null
quorum=.build/release/quorum
playbook=benchmarks/noop-20.yml

# Converge first, so every timed run is a no-change run; fail if it is not.
$quorum apply "$playbook" -i inventory/lab.yml >/dev/null || { echo "converging run failed" >&2; exit 1; }

times=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  $quorum apply "$playbook" -i inventory/lab.yml --json /tmp/quorum-bench.json >/dev/null
  end=$(date +%s.%N)
  changed=$(python3 -c 'import json,sys; r=json.load(open("/tmp/quorum-bench.json")); print(sum(h["changed"] for h in r["recap"].values()))')
  [[ $changed == 0 ]] || { echo "a timed run changed $changed steps: not a no-change run" >&2; exit 1; }
  times+=("$(python3 -c "print($end - $start)")")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" '
  { t[NR] = $1 }
  END { printf "no-change run, 20 steps x 3 controllers: median %.3f s (min %.3f, max %.3f, %d runs)\n", t[int((n+1)/2)], t[1], t[n], n }'
