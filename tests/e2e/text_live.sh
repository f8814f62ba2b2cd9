#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `keyhole run --format text`, live: the stand-in kube-apiserver writes the bundled attack log,
# keyhole captures it with BPF and writes one text line per alert to its output file; the lines
# are exactly those `keyhole replay --format text` gives for the same log (no colour in a file).
# Needs root and BPF: without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: text_live.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(realpath "$1")
S=$(realpath "$2")
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-textlive.XXXXXX)
KPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$T/run.err" ] && sed 's/^/  run: /' "$T/run.err"
	echo "0 passed, 1 failed"
	exit 1
}

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && fail "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
	echo "*** SKIPPING live text format e2e: $why ***"
	exit 0
fi

mkdir "$T/log"
COMM=kht-$$ # a name of our own: other tests' stand-ins on this machine are not ours
ln -s "$B/tests/kube-apiserver" "$T/$COMM"
"$KH" run --no-exec-watch --no-baseline --comm "$COMM" --audit-log "$T/log/audit.log" \
	-o "$T/alerts.txt" --format text 2> "$T/run.err" &
KPID=$!
for _ in $(seq 300); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2> /dev/null || fail "keyhole run exited"
	sleep 0.1
done
grep -q 'ready:' "$T/run.err" || fail "keyhole run did not get ready in 30 s"
"$T/$COMM" --audit-log-path "$T/log/audit.log" --input "$S/tests/data/attack.log" --threads 1 \
	--ordered --rate 5000 --exit-when-done > /dev/null 2>&1
want=$(wc -l < "$S/tests/data/attack.log")
for _ in $(seq 300); do
	kill -USR1 "$KPID"
	sleep 0.1
	grep -q "pipeline: $want lines" "$T/run.err" && break
done
kill -INT "$KPID"
wait "$KPID" || fail "keyhole run exited $?"
KPID=
"$KH" replay -q --format text "$S/tests/data/attack.log" > "$T/replay.txt"
[ "$(wc -l < "$T/replay.txt")" -ge 20 ] || fail "replay gave too few alerts"
! grep -q $'\033' "$T/alerts.txt" || fail "colour codes in an alert file"
diff "$T/replay.txt" "$T/alerts.txt" > "$T/diff" ||
	fail "live text lines differ from replay's: $(head -5 "$T/diff")"
echo "1 passed, 0 failed"
