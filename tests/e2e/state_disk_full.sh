#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The disk holding the state file is full at save time: keyhole says so clearly, the previous
# state file survives byte for byte (the save writes a temporary file and renames it, so a
# failed save never leaves a half-written state behind), no temporary file is left over, and
# the alerts are unaffected.
#
# Usage: state_disk_full.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
KH=$B/keyhole
D=$S/tests/data
T=$(mktemp -d /tmp/kh-enospc.XXXXXX)
cleanup() {
	umount "$T/small" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
if [ "$(id -u)" != 0 ]; then
	echo "*** SKIPPING disk-full test: mounting a small tmpfs needs root ***"
	exit 0
fi
mkdir "$T/small"
mount -t tmpfs -o size=64k tmpfs "$T/small" || {
	echo "*** SKIPPING disk-full test: cannot mount tmpfs here ***"
	exit 0
}
cat > "$T/keyhole.yaml" <<EOF
state_file: $T/small/history.khs
EOF
# first run: a small history fits
"$KH" replay -q --config "$T/keyhole.yaml" -o "$T/a1.json" "$D/history-day1.log" 2> "$T/a1.err" ||
	fail "first run: $(cat "$T/a1.err")"
[ -s "$T/small/history.khs" ] || fail "no state file after the first run"
cp "$T/small/history.khs" "$T/saved.khs"
# fill the disk, leaving no room for the next save
dd if=/dev/zero of="$T/small/filler" bs=1k count=1024 2> /dev/null || true
# second run: more history, the save must fail cleanly
set +e
"$KH" replay -q --config "$T/keyhole.yaml" -o "$T/a2.json" "$D/benign-controlplane.log" \
	"$D/attack.log" 2> "$T/a2.err"
st=$?
set -e
cat "$T/a2.err"
grep -qi 'no space left' "$T/a2.err" || fail "the failed save was not reported clearly"
grep -q "history.khs" "$T/a2.err" || fail "the message does not name the state file"
cmp -s "$T/small/history.khs" "$T/saved.khs" || fail "the previous state file was damaged"
leftover=$(find "$T/small" -name 'history.khs?*' | wc -l)
[ "$leftover" -eq 0 ] || fail "a temporary state file was left behind"
[ -s "$T/a2.json" ] || fail "no alerts from the second run"
echo "state_disk_full: save failed with exit $st, old state intact: 1 passed, 0 failed"
