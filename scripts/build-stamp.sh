#!/bin/sh
# Writes <out>/BuildStamp.swift for the warden binary: the version (VERSION), the commit the tree is at ("-dirty" when
# tracked files differ from it; "unknown" outside a git checkout) and the UTC time the stamp was made. The file is
# rewritten only when the version or the commit changes, so a rebuild of the same tree compiles nothing new.
# Run by the BuildStamp plugin before every build: scripts/build-stamp.sh <package folder> <out folder>
set -eu
root=$1
out=$2
mkdir -p "$out"
git_in_root() { git -c safe.directory='*' -C "$root" "$@" 2>/dev/null; }
commit=$(git_in_root rev-parse HEAD) || commit=unknown
if [ "$commit" != unknown ] && [ -n "$(git_in_root status --porcelain --untracked-files=no)" ]; then
  commit="$commit-dirty"
fi
version=$(tr -d ' \n' <"$root/VERSION" 2>/dev/null) || version=unknown
file="$out/BuildStamp.swift"
if [ -f "$file" ] && grep -qx "    static let commit = \"$commit\"" "$file" && grep -qx "    static let version = \"$version\"" "$file"; then
  exit 0
fi
cat >"$file.tmp" <<SWIFT
// Made by scripts/build-stamp.sh; not kept in git.
enum BuildStamp {
    static let version = "$version"
    static let commit = "$commit"
    static let buildDate = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
SWIFT
mv "$file.tmp" "$file"
