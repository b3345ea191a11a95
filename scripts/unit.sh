#!/usr/bin/env bash
# The fast tests: every test that needs neither the lab nor root, in about two minutes after a build, as any
# user. Some start their own HAProxy, RabbitMQ or sshd on loopback. As root, the SSH transport's tests run too
# (their sshd logs in a user they create); as another user they are skipped, and the summary says so.
# Needs the build dependencies `lab/install.sh` installs (README "From source").
#   bash scripts/unit.sh                        builds, then runs them
#   bash scripts/unit.sh --filter KeystoneStep  extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-toolchain.sh
"$SWIFT" test --skip QuorumLabTests "$@"
