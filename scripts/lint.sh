#!/usr/bin/env bash
# The project's habits, checked: swift-format (.swift-format: 4 spaces, 160 columns, argument-parser's rules
# otherwise) on Sources, Tests and Package.swift, shellcheck on every shell script, and Package.swift's target
# dependencies against what each target's files import (scripts/package-imports.py). Exit 1 on any finding.
# CI runs it after the tests. `bash scripts/lint.sh --fix` rewrites the Swift files in place first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-toolchain.sh
swift_format=$(dirname "$SWIFT")/swift-format
[[ -x $swift_format ]] || { echo "lint: no swift-format beside $SWIFT (Swift 6 toolchains ship it)" >&2; exit 1; }
swift_files=(Sources Tests Package.swift)
if [[ ${1:-} == --fix ]]; then
  "$swift_format" format --in-place --recursive --parallel "${swift_files[@]}"
fi
status=0
"$swift_format" lint --strict --recursive --parallel "${swift_files[@]}" || status=1
"$SWIFT" package dump-package | python3 scripts/package-imports.py || status=1
mapfile -t shell_scripts < <(git ls-files -- '*.sh' lab/quorum-demo.init .ci/run)
shellcheck -x "${shell_scripts[@]}" || status=1
if [[ $status -eq 0 ]]; then echo "lint: clean (swift-format, Package.swift's imports, shellcheck on ${#shell_scripts[@]} scripts)"; fi
exit $status
