#!/usr/bin/env bash
# Builds Quorum for release and packages it, into dist/ (git-ignored):
#   quorum_<version>_<arch>.deb           /usr/bin/quorum, man page, bash/zsh/fish completions, /usr/share/doc/quorum
#   quorum-<version>-linux-<machine>.tar.gz  the same files in a prefix layout (bin/, share/…) for /usr/local
#   SHA256SUMS                            for both
# The version comes from its one declaration (Sources/quorum/Version.swift), read back from the built binary;
# the commit is `git rev-parse --short HEAD` (with `-dirty` when the tree has uncommitted changes), or
# $QUORUM_COMMIT, baked in through a generated source file that exists only during this build.
# The binary links the Swift runtime statically, so the package depends on Debian's libraries only.
# Debian 12 (or another dpkg-based system) with the build's -dev libraries; run as root only to let it
# install a missing tool (binutils, dpkg-dev). Package maintainer: $QUORUM_MAINTAINER or the HEAD commit's author.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "package.sh: $*" >&2; exit 1; }

# A missing tool is installed through apt when we may, else named.
need() {
  local tool=$1 package=$2
  command -v "$tool" >/dev/null && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >/dev/null
  fi
  command -v "$tool" >/dev/null || die "$tool is missing: install the Debian package $package"
}
need strip binutils
need readelf binutils
need dpkg-deb dpkg
need sha256sum coreutils
# After the installs: one of them may have put another program named swift on PATH.
source scripts/swift-toolchain.sh

commit=${QUORUM_COMMIT:-}
if [[ -z $commit ]] && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  commit=$(git rev-parse --short=7 HEAD)
  git diff --quiet HEAD -- || commit+=-dirty
fi
[[ -z $commit || $commit =~ ^[0-9A-Za-z._-]+$ ]] || die "QUORUM_COMMIT must be letters, digits, . _ or -: $commit"
# Dates inside the packages (file times, the man pages' date): the commit's, not the build's.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch

# 1. The man pages, from argument-parser's generate-manual plugin: quorum.1 with every subcommand in it, and
# one page per subcommand (quorum.apply.1, quorum.vault.edit.1…). The plugin builds the package itself and
# cannot link statically, so it is given the ordinary debug build, which `swift build` and the tests share:
# no second release build. The pages' text does not depend on the build configuration.
manual_dir=.build/plugins/GenerateManual/outputs/quorum
manual_date=$(date -u -d "@$epoch" +%F)
rm -rf "$manual_dir"
"$SWIFT" package plugin generate-manual --configuration debug --date "$manual_date" --multi-page
# Then the whole manual in one page, over the multi-page run's quorum.1, which lists only the subcommands.
"$SWIFT" package plugin generate-manual --configuration debug --date "$manual_date"
[[ -s $manual_dir/quorum.1 && -s $manual_dir/quorum.apply.1 ]] || die "generate-manual wrote no quorum.1 or quorum.apply.1 in $manual_dir"

# 2. The release binary, with the commit baked in when known.
generated=Sources/quorum/BuildCommit.generated.swift
release=(-c release --static-swift-stdlib)
if [[ -n $commit ]]; then
  trap 'rm -f "$generated"' EXIT
  printf '// Written by scripts/package.sh for one release build, then removed; git ignores it.\n%s\n' \
    "extension QuorumVersion { static let bakedCommit = \"$commit\" }" > "$generated"
  release+=(-Xswiftc -DQUORUM_BAKED_COMMIT)
fi
"$SWIFT" build "${release[@]}" --product quorum
built=$("$SWIFT" build "${release[@]}" --show-bin-path)/quorum
rm -f "$generated"

stage=.build/package
rm -rf "$stage"
mkdir -p "$stage"
strip --strip-all -o "$stage/quorum" "$built"
binary=$stage/quorum

# Nothing from the toolchain may be linked at run time, and every library must resolve.
libraries=$(ldd "$binary")
if grep -E '/opt/|not found|/\.build/' <<<"$libraries"; then die "the binary links something that is not a system library (above)"; fi
version_line=$("$binary" --version)
version=$(sed -nE 's/^quorum ([0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+~-]*) \(commit [^ )]+\)$/\1/p' <<<"$version_line")
[[ -n $version ]] || die "unexpected \`quorum --version\`: $version_line"
[[ $version_line == "quorum $version (commit ${commit:-unknown})" ]] || die "\`quorum --version\` says '$version_line', the build's commit is ${commit:-unknown}"

# The Debian packages of the libraries the binary names (NEEDED), found through their paths by dpkg -S.
package_of() {
  local path=$1 candidate
  for candidate in "$path" "$(readlink -f "$path")" "/usr${path#/usr}" "${path#/usr}"; do
    dpkg -S "$candidate" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return 0
  done
  die "no Debian package owns $path"
}
depends=$(readelf -d "$binary" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | while read -r needed; do
  path=$(awk -v lib="$needed" '$1 == lib && $2 == "=>" { print $3 }' <<<"$libraries")
  [[ $needed == ld-linux* ]] && path=$(awk -v lib="$needed" 'index($1, lib) { print $1 }' <<<"$libraries")
  [[ -n $path ]] || die "ldd does not resolve $needed"
  package_of "$path"
done | sort -u | paste -sd, | sed 's/,/, /g')
[[ -n $depends ]] || die "found no runtime libraries"
# And the libraries it opens when a step first needs them (dlopen): the QUORUM_…_SONAME of Sources/C*/*.c.
opened=$(sed -nE 's/^#define QUORUM_[A-Z0-9]+_SONAME "([^"]+)"$/\1/p' Sources/C*/*.c | sort -u)
[[ -n $opened ]] || die "found no QUORUM_…_SONAME in Sources/C*/*.c"
for soname in $opened; do
  path=$(ldconfig -p | awk -v lib="$soname" '$1 == lib && /x86-64/ { print $NF; exit }')
  [[ -n $path ]] || die "ldconfig knows no $soname (the binary opens it at run time)"
  depends+=", $(package_of "$path")"
done
depends=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//' | sort -u | paste -sd, | sed 's/,/, /g')
echo "runtime libraries: $(readelf -d "$binary" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | paste -sd' '); opened when needed: $(paste -sd' ' <<<"$opened")"
echo "Depends: $depends"

# 3. The files both packages carry, in a prefix layout: bin/, share/….
files=$stage/files
install -D -m 0755 "$binary" "$files/bin/quorum"
mkdir -p "$files/share/man/man1"
# shellcheck disable=SC2094  # reads the page, writes its .gz elsewhere
for page in "$manual_dir"/*.1; do gzip -9n < "$page" > "$files/share/man/man1/$(basename "$page").gz"; done
install -d "$files/share/bash-completion/completions" "$files/share/zsh/vendor-completions" \
  "$files/share/fish/vendor_completions.d" "$files/share/doc/quorum"
"$binary" --generate-completion-script bash > "$files/share/bash-completion/completions/quorum"
"$binary" --generate-completion-script zsh > "$files/share/zsh/vendor-completions/_quorum"
"$binary" --generate-completion-script fish > "$files/share/fish/vendor_completions.d/quorum.fish"
gzip -9n < README.md > "$files/share/doc/quorum/README.md.gz"
{
  echo "Quorum $version (commit ${commit:-unknown})"
  echo
  echo "The source tree states no licence for Quorum itself; ask its authors before redistributing."
  echo
  echo "The binary links the Swift runtime and Foundation statically, and the Swift packages the build"
  echo "resolved (below); their licences follow."
  echo
  swift_license=$(realpath -m "$(dirname "$SWIFT")/../share/swift/LICENSE.txt")
  [[ -f $swift_license ]] || die "the toolchain's licence is not at $swift_license"
  echo "==> Swift runtime and Foundation ($("$SWIFT" --version 2>/dev/null | head -1)): $swift_license"
  cat "$swift_license"
  for checkout in .build/checkouts/*/; do
    name=$(basename "$checkout")
    tag=$(git -C "$checkout" describe --tags --exact-match 2>/dev/null || git -C "$checkout" rev-parse --short HEAD)
    for license in "$checkout"{LICENSE,LICENSE.txt,LICENSE.md,NOTICE.txt,COPYING} "$checkout"Sources/*/LICENSE; do
      [[ -f $license ]] || continue
      echo
      echo "==> $name $tag: ${license#"$checkout"}"
      cat "$license"
    done
  done
} > "$files/share/doc/quorum/copyright"

# 4. The Debian package: the files under /usr, the completions where Debian's shells look for them.
arch=$(dpkg --print-architecture)
maintainer=${QUORUM_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || true)}
[[ -n $maintainer ]] || die "set QUORUM_MAINTAINER='Name <email>'"
deb_root=$stage/deb
mkdir -p "$deb_root/DEBIAN"
cp -a "$files" "$deb_root/usr"
cat > "$deb_root/DEBIAN/control" <<EOF
Package: quorum
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk "$deb_root/usr" | cut -f1)
Depends: $depends
Section: admin
Priority: optional
Description: deploy and audit highly-available OpenStack control planes over SSH
 Quorum reads an Ansible-style inventory and ordered playbooks of idempotent
 steps and applies them to every controller in parallel over SSH (libssh2),
 with no agent on the controllers. A check predicts a run without writing
 anything; an audit reports drift. Built from commit ${commit:-unknown}.
EOF
find "$stage" -exec touch -h -d "@$epoch" {} +
mkdir -p dist
deb=dist/quorum_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$deb_root" "$deb"

# 5. The tarball: one directory to unpack into a prefix (`tar -xzf … -C /usr/local --strip-components=1`).
# zsh reads /usr/local/share/zsh/site-functions, not vendor-completions.
tree=quorum-$version-linux-$(uname -m)
mkdir -p "$stage/tar"
cp -a "$files" "$stage/tar/$tree"
mv "$stage/tar/$tree/share/zsh/vendor-completions" "$stage/tar/$tree/share/zsh/site-functions"
tarball=dist/$tree.tar.gz
tar -C "$stage/tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "$tree" | gzip -9n > "$tarball"

(cd dist && sha256sum "$(basename "$deb")" "$(basename "$tarball")" > SHA256SUMS)
echo
echo "$version_line"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'
dpkg-deb --contents "$deb" | awk '{ print $1, $6 }'
echo
ls -l "$deb" "$tarball" dist/SHA256SUMS
