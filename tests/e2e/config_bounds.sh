#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Capture bounds are checked once, where the user gave the value, and the refusal names what
# they gave: a config file's capture.max_event_bytes below the tap's minimum is refused at load
# by replay and run alike (naming the key and line, never a flag); the same value given as
# --max-event-bytes is refused naming the flag; --ring-bytes and --comm likewise. All before
# anything is loaded into the kernel, so no root is needed.
#
# Usage: config_bounds.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-config-bounds.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
nfail=0

# expect CODE GREP-PATTERN NOT-PATTERN -- command...: exit code, a stderr match, and no stderr
# line matching NOT-PATTERN (empty: none)
expect() {
	local code=$1 want=$2 not=$3 got
	shift 4
	set +e
	"$@" > /dev/null 2> "$T/err" < /dev/null
	got=$?
	set -e
	if [ "$got" != "$code" ]; then
		echo "FAIL: $* exited $got, not $code: $(head -3 "$T/err")"
		nfail=$((nfail + 1))
	elif [ -n "$want" ] && ! grep -qE -- "$want" "$T/err"; then
		echo "FAIL: $*: stderr lacks '$want': $(head -3 "$T/err")"
		nfail=$((nfail + 1))
	elif [ -n "$not" ] && grep -qE -- "$not" "$T/err"; then
		echo "FAIL: $*: stderr names '$not': $(head -3 "$T/err")"
		nfail=$((nfail + 1))
	else
		pass=$((pass + 1))
	fi
}

printf 'capture:\n  max_event_bytes: 6000\n' > "$T/small.yaml"
log=$S/tests/data/attack.log
expect 2 'capture.max_event_bytes.*from 8192 to 8388608' '--max-event-bytes' -- \
	"$KH" replay -q -c "$T/small.yaml" "$log"
expect 2 'capture.max_event_bytes.*from 8192 to 8388608' '--max-event-bytes' -- \
	"$KH" run -c "$T/small.yaml"
expect 2 "--max-event-bytes '6000': must be from 8192 to 8388608" 'capture\.' -- \
	"$KH" run --max-event-bytes 6000
expect 2 "--max-event-bytes '9M': must be from 8192 to 8388608" '' -- \
	"$KH" run --max-event-bytes 9M
expect 2 "--ring-bytes '5000': must be a power of two" '' -- "$KH" run --ring-bytes 5000
expect 2 "--comm 'kube-apiserver-long': process names are at most 15 bytes" '' -- \
	"$KH" run --comm kube-apiserver-long
# the bounds themselves load: the smallest and largest cap
printf 'capture:\n  max_event_bytes: 8192\n' > "$T/min.yaml"
printf 'capture:\n  max_event_bytes: 8388608\n' > "$T/max.yaml"
expect 0 '' 'error' -- "$KH" replay -q -c "$T/min.yaml" "$log"
expect 0 '' 'error' -- "$KH" replay -q -c "$T/max.yaml" "$log"

echo "$pass passed, $nfail failed"
[ "$nfail" = 0 ]
