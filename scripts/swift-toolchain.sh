# Sourced by the project's scripts: puts the Swift toolchain on PATH. Not OpenStack's object-store client,
# which Debian's python3-swiftclient (pulled in with magnum-api for the lab) installs as /usr/bin/swift.
case "$(swift build --version 2>/dev/null || true)" in
  *"Swift Package Manager"*) ;;
  *) export PATH=/opt/swift/usr/bin:$PATH ;;
esac
