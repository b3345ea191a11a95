#!/usr/bin/env bash
# The fast tests: everything but the lab suite (no network namespaces, no lab services). Some start their own
# sshd or HAProxy on loopback. Needs the build dependencies `lab/install.sh` installs (or README "From source").
#   bash scripts/unit-test.sh                        builds, then runs them
#   bash scripts/unit-test.sh --filter KeystoneStep  extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-toolchain.sh
"$SWIFT" test --skip QuorumLabTests "$@"
