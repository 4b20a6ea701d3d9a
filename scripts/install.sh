#!/bin/sh
# make install: the warden binary, its systemd unit and a sample configuration under a prefix.
#   scripts/install.sh BINARY PREFIX SYSCONFDIR [DESTDIR]
# An existing configuration file is left as it is (the sample goes beside it as warden.json.sample).
set -eu
binary=$1
prefix=$2
sysconfdir=$3
destdir=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)

[ -x "$binary" ] || { echo "install: no warden binary at $binary (make release builds one)" >&2; exit 1; }
bindir="$prefix/bin"
unitdir="$prefix/lib/systemd/system"
docdir="$prefix/share/doc/warden"
confdir="$sysconfdir/warden"

install -d "$destdir$bindir" "$destdir$unitdir" "$destdir$docdir" "$destdir$confdir"
install -m 0755 "$binary" "$destdir$bindir/warden"
sed -e "s|@BINDIR@|$bindir|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" -e "s|@DOCDIR@|$docdir|g" "$root/contrib/warden.service" >"$destdir$unitdir/warden.service.tmp"
chmod 0644 "$destdir$unitdir/warden.service.tmp"
mv "$destdir$unitdir/warden.service.tmp" "$destdir$unitdir/warden.service"
if [ -e "$destdir$confdir/warden.json" ]; then
  install -m 0644 "$root/contrib/warden.json" "$destdir$confdir/warden.json.sample"
  echo "install: kept $destdir$confdir/warden.json; the sample is beside it as warden.json.sample"
else
  install -m 0644 "$root/contrib/warden.json" "$destdir$confdir/warden.json"
fi
install -m 0644 "$root/docs/operations.md" "$root/README.md" "$destdir$docdir/"
echo "install: $destdir$bindir/warden, $destdir$unitdir/warden.service, $destdir$confdir/warden.json"
echo "install: at run time warden needs Debian's libjavascriptcoregtk-4.1-0 and node-typescript"
