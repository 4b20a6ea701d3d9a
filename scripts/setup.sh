#!/usr/bin/env bash
# Installs the Debian packages Warden needs when they are missing: with apt-get when run as root, otherwise it names
# them and stops. Extra package names given as arguments are checked too (make bench adds wrk).
set -euo pipefail

packages=(pkg-config libjavascriptcoregtk-4.1-dev node-typescript "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Warden needs these Debian packages: ${missing[*]}" >&2
  echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
