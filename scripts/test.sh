#!/usr/bin/env bash
# The whole test suite, from nothing: installs the Debian packages it needs, builds, runs the fast tests
# (no lab), then brings the lab up, runs the lab tests, and brings the lab down again whatever happened.
# The two parts run one after the other so that the lab's services never compete with the fast tests for
# the CPU (several of those time how soon a dead peer is noticed).
#   sudo bash scripts/test.sh                     everything
#   sudo bash scripts/test.sh --filter LabTests   only what matches, with the lab up (extra arguments go to `swift test`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash lab/install.sh
# After the install: it may have put another program named swift on PATH.
source scripts/swift-toolchain.sh
"$SWIFT" build --build-tests
if [[ $# -gt 0 ]]; then
  exec bash lab/with-lab.sh "$SWIFT" test --skip-build "$@"
fi
bash scripts/unit.sh --skip-build
bash lab/with-lab.sh "$SWIFT" test --skip-build --filter QuorumLabTests
