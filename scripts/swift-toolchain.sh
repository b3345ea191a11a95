# shellcheck shell=bash
# Sourced by the project's scripts, after they have installed packages: puts the Swift toolchain first on
# PATH and sets SWIFT to its `swift`. Debian's python3-swiftclient (pulled in with magnum-api for the lab)
# installs OpenStack's object-store client as /usr/bin/swift, so a `swift` on PATH is used only when its
# package manager answers. Candidates in order: $QUORUM_SWIFT, /opt/swift/usr/bin/swift, every swift on PATH.
quorum_find_swift() {
  local candidate
  for candidate in ${QUORUM_SWIFT:+"$QUORUM_SWIFT"} /opt/swift/usr/bin/swift $(type -ap swift 2>/dev/null); do
    [[ -x $candidate ]] || continue
    case "$("$candidate" build --version 2>/dev/null || true)" in
      *"Swift Package Manager"*) echo "$candidate"; return 0 ;;
    esac
  done
  return 1
}
if ! SWIFT=$(quorum_find_swift); then
  echo "no Swift toolchain found (looked at \$QUORUM_SWIFT, /opt/swift/usr/bin and PATH): install Swift 6 and retry" >&2
  # shellcheck disable=SC2317  # exit when run instead of sourced
  return 1 2>/dev/null || exit 1
fi
export SWIFT
PATH="$(dirname "$SWIFT"):$PATH"
export PATH
unset -f quorum_find_swift
