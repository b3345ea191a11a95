#!/usr/bin/env bash
# The whole test suite, from nothing: installs the Debian packages it needs, builds, brings the lab up,
# runs every test (unit and lab), and brings the lab down again whatever happened.
#   sudo bash scripts/test.sh            (extra arguments go to `swift test`, e.g. --filter LabTests)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash lab/install.sh
# After the install: it may have put another program named swift on PATH.
source scripts/swift-toolchain.sh
"$SWIFT" build --build-tests
bash lab/with-lab.sh "$SWIFT" test --skip-build "$@"
