#!/usr/bin/env bash
# Runs COMMAND with the lab up, then brings the lab down, holding a machine-wide lock the whole time so
# that two checkouts (or two developers' test runs) on one machine never bring the same namespaces up and
# down under each other. Waits for the lock (up to 30 minutes).
#   bash lab/with-lab.sh swift test --filter LabTests
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -gt 0 ]] || { echo "usage: lab/with-lab.sh COMMAND [ARG...]" >&2; exit 2; }

exec 9>/run/quorum-lab.lock
if ! flock -n 9; then
  echo "with-lab: waiting for another user of the lab to finish..." >&2
  flock -w 1800 9 || { echo "with-lab: the lab stayed busy for 30 minutes" >&2; exit 1; }
fi
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { bash "$here/lab.sh" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash "$here/lab.sh" up 9>&-
set +e
"$@" 9>&-
status=$?
set -e
exit $status
