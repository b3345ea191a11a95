#!/usr/bin/env bash
# Quick start on a fresh machine: install what is needed, build Quorum, bring the lab's three
# controllers up (with MariaDB, Keystone, HAProxy under Pacemaker), and apply the Magnum HA playbook to
# them. The lab stays up afterwards so you can look around
# (`bash lab/lab.sh exec ctl1 -- cat /etc/magnum/magnum.conf`); `bash lab/lab.sh down` ends it.
# Another playbook: bash scripts/quickstart.sh playbooks/lab-demo.yml
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash lab/install.sh
# After the install: it may have put another program named swift on PATH.
source scripts/swift-toolchain.sh
"$SWIFT" build
bash lab/lab.sh up
playbook=${1:-playbooks/magnum-ha.yml}
set +e
.build/debug/quorum apply "$playbook" -i inventory/lab.yml --diff
status=$?
set -e
echo
echo "Applied $playbook to the lab (exit $status). Run it again to see zero changes;"
echo "add --check to predict without writing; 'bash lab/lab.sh down' takes the lab away."
exit $status
