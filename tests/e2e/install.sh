#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The install target and the systemd unit: `cmake --install` puts binary, unit, logrotate file
# and example configuration in place for the prefix given at install time (and for --prefix /usr
# under DESTDIR, as a package would); the installed keyhole runs; a changed configuration
# survives a reinstall; systemd-analyze verifies the unit and rates its sandbox no worse than
# it is now.
#
# usage: install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
t0=$(date +%s)
fail() {
	echo "install: FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- prefix given at install time ----
cmake --install "$build" --prefix "$tmp/p" >/dev/null
unit=$tmp/p/lib/systemd/system/keyhole.service
for f in bin/keyhole lib/systemd/system/keyhole.service etc/logrotate.d/keyhole \
	etc/keyhole/keyhole.yaml share/doc/keyhole/README.md; do
	[ -e "$tmp/p/$f" ] || fail "cmake --install did not install $f"
done
[ -x "$tmp/p/bin/keyhole" ] || fail "bin/keyhole is not executable"
"$tmp/p/bin/keyhole" --help | grep -q '^Usage: keyhole' || fail "the installed keyhole does not run"
grep -q "^ExecStart=$tmp/p/bin/keyhole run --config $tmp/p/etc/keyhole/keyhole.yaml " "$unit" ||
	fail "the unit's ExecStart does not point into the prefix: $(grep ExecStart "$unit")"
cmp -s "$src/deploy/keyhole.yaml" "$tmp/p/etc/keyhole/keyhole.yaml" ||
	fail "the installed configuration is not deploy/keyhole.yaml"
[ "$(stat -c %a "$tmp/p/etc/keyhole/keyhole.yaml")" = 640 ] || fail "configuration not mode 0640"

# ---- a package's layout: --prefix /usr under DESTDIR ----
DESTDIR=$tmp/d cmake --install "$build" --prefix /usr >/dev/null
grep -q '^ExecStart=/usr/bin/keyhole run --config /etc/keyhole/keyhole.yaml ' \
	"$tmp/d/usr/lib/systemd/system/keyhole.service" || fail "--prefix /usr: unit paths wrong"
[ -f "$tmp/d/etc/keyhole/keyhole.yaml" ] || fail "--prefix /usr: config not in /etc/keyhole"

# ---- reinstall keeps an edited configuration ----
echo "# edited by the operator" >>"$tmp/p/etc/keyhole/keyhole.yaml"
cmake --install "$build" --prefix "$tmp/p" >/dev/null
tail -1 "$tmp/p/etc/keyhole/keyhole.yaml" | grep -q 'edited by the operator' ||
	fail "reinstall overwrote the operator's configuration"
cmp -s "$src/deploy/keyhole.yaml" "$tmp/p/etc/keyhole/keyhole.yaml.new" ||
	fail "reinstall did not put the new example beside it as keyhole.yaml.new"

# ---- systemd's own checks ----
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
	score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for keyhole.service: \([0-9.]*\).*/\1/p')
	echo "install: systemd-analyze security exposure $score (0 safest, 10 unsafe)"
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
		fail "the unit's sandbox weakened: exposure ${score:-unknown} > 3.0"
else
	fail "systemd-analyze not found (Debian package systemd, installed by scripts/install-deps)"
fi

echo "install: all checks passed in $(($(date +%s) - t0)) s"
