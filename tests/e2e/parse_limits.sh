#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13, no audit event dropped for its size or its shape, in replay and in live capture:
#   - a RequestResponse `list secrets -A` of 17 MiB and one of 100 MiB (generated here, never
#     committed) alert in replay, which keeps their head and tail past its 16 MiB line maximum,
#     counts them truncated (not malformed) and names their true size and byte offset;
#   - seed004's escalate-then-loot story with its grant turned into a patch whose body carries a
#     field nested 10,000 deep still forms its incidents, from that grant;
#   - every user.extra key and value reaches kubernetes.audit.user.extra, escaped; a v1beta1
#     event's top-level timestamp reaches kubernetes.audit.timestamp;
#   - the stand-in apiserver writes the same log through the real BPF audit tap (which cuts the
#     big writes at its 1 MiB cap), and `keyhole run` gives exactly replay's alerts;
#   - again with every line split into 512 KiB writes (the apiserver writes a line in one write;
#     this is for other writers): the reassembly keeps the 100 MiB line's head and tail past its
#     64 MiB maximum, names its true size, drops nothing, and the alerts are still replay's.
# Needs root and BPF for the live half: without them it says so and skips it, unless
# KEYHOLE_REQUIRE_BPF=1.
#
# Usage: parse_limits.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-limits-e2e.XXXXXX)
KPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

python3 "$S/tests/lib/gen_parse_limits.py" "$S/tests/data/correlate/seed004.log" "$T/input.log" 17 100
nlines=$(wc -l < "$T/input.log")

# ---- replay ----
"$KH" replay "$T/input.log" > "$T/replay.json" 2> "$T/replay.err" || bad "replay exited with $?"
check "replay counted a line malformed: $(grep 'replay ' "$T/replay.err")" \
	grep -q "replay .*: $nlines events, 0 malformed" "$T/replay.err"
while read -r id size off; do
	lineno=$(grep -n -m1 "\"auditID\":\"$id\"" "$T/input.log" | cut -d: -f1)
	check "replay did not name $id's size $size and offset $off" \
		grep -q "input.log:$lineno: audit line of $size bytes at byte $off is longer than the line maximum: read from its first 16711680 and last 65536 bytes" "$T/replay.err"
	check "no suspicious-ua alert for the $size byte event $id" \
		grep -q "\"k8s-secret-suspicious-ua\".*\"auditID\":\"$id\"" "$T/replay.json"
	check "$id's alert lacks the token's credential-id in user.extra" \
		grep -q "\"auditID\":\"$id\".*\"extra\":{\"authentication.kubernetes.io/credential-id\":\\[\"JTI=7f1c2e9a-5b3d-4e8f-a1c6-9d0e2b4f6a81\"\\],\"authentication.kubernetes.io/node-name\":\\[\"worker-9\"\\]" "$T/replay.json"
	check "$id's alert lacks the escaped extra key and values" \
		grep -qF '"example.com/quoted \"key\"":["tab\u0009here","newline\u000athere","été"]' "$T/replay.json"
done < "$T/input.log.manifest"
check "the deep patch grant formed no escalate-then-loot incident" \
	grep -q '"k8s-escalate-then-loot".*"grant":{[^}]*"audit_id":"bee46e99-3af9-4fde-9e1c-29694f46f6b4","actor":"system:serviceaccount:ci:deployer","verb":"patch"' "$T/replay.json"
ninc=$(grep -c '"k8s-escalate-then-loot"' "$T/replay.json" || true)
norig=$("$KH" replay -q "$S/tests/data/correlate/seed004.log" | grep -c '"k8s-escalate-then-loot"' || true)
check "the deep grant gave $ninc incident lines, the plain one $norig" [ "$ninc" = "$norig" ]
check "the v1beta1 event's timestamp is not in kubernetes.audit" \
	grep -q '"auditID":"legacy-v1beta1-0001".*"timestamp":"2026-11-23T14:30:00Z"' "$T/replay.json"

# ---- live: the same bytes through the real audit tap ----
not_grep() { ! grep -q "$@"; }
# live TAG [STAND-IN ARGS...]: the stand-in writes the input through the real audit tap to a
# `keyhole run` (with $RUN_ARGS); leaves the alerts in $T/live-TAG.json and the agent's stderr
# in $T/run-TAG.err
RUN_ARGS=()
live() {
	local tag=$1 L=$T/log-$1
	shift
	mkdir "$L"
	"$KH" run --comm "$COMM" --no-exec-watch "${RUN_ARGS[@]}" --output "$T/live-$tag.json" \
		2> "$T/run-$tag.err" &
	KPID=$!
	for _ in $(seq 300); do
		grep -q 'ready:' "$T/run-$tag.err" && break
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'ready:' "$T/run-$tag.err"; then
		bad "$tag: keyhole run not ready: $(tail -3 "$T/run-$tag.err")"
		return 1
	fi
	# --start-delay-ms: as a real apiserver, not writing in the moment after its exec (the
	# window at start in docs/audit-tap.md)
	"$T/$COMM" --audit-log-path "$L/audit.log" --input "$T/input.log" --ordered \
		--start-delay-ms 300 --exit-when-done "$@" 2> "$T/standin-$tag.err" ||
		bad "$tag: stand-in failed: $(cat "$T/standin-$tag.err")"
	# the agent has taken every line once its counters say so (generous: a loaded machine)
	for _ in $(seq 600); do
		kill -USR1 "$KPID"
		sleep 0.1
		grep -q "capture: .* $nlines lines from" "$T/run-$tag.err" && break
	done
	kill -INT "$KPID"
	wait "$KPID" || bad "$tag: keyhole run exited with $?"
	KPID=
	check "$tag: live capture did not take all $nlines lines: $(grep 'capture:' "$T/run-$tag.err" | tail -1)" \
		grep -q "capture: .* $nlines lines from" "$T/run-$tag.err"
	check "$tag: live capture lost writes" grep -q 'capture: lost 0 writes' "$T/run-$tag.err"
	check "$tag: the stand-in did not write the input as it is" cmp -s "$L/audit.log" "$T/input.log"
	"$KH" replay -q "$L/audit.log" > "$T/replay-$tag.json" 2> "$T/replay-$tag.err"
	check "$tag: live alerts differ from replay: $(diff "$T/live-$tag.json" "$T/replay-$tag.json" | head -3 | cut -c1-300)" \
		cmp -s "$T/live-$tag.json" "$T/replay-$tag.json"
	check "$tag: live alerts differ from replay of the input" cmp -s "$T/live-$tag.json" "$T/replay.json"
	return 0
}

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
	if [ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ]; then
		bad "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
	else
		echo "*** SKIPPING the live half: $why ***"
	fi
else
	COMM=khl-$$
	ln -s "$B/tests/kube-apiserver" "$T/$COMM"
	# as the apiserver writes: one write(2) per line, the tap cuts the two big ones at its cap
	if live one; then
		check "live capture did not cut the two big writes: $(grep 'over the cap' "$T/run-one.err")" \
			grep -q 'capture: 2 writes over the cap kept head and tail only (2 lines marked truncated)' "$T/run-one.err"
	fi
	# as another writer might: every line in writes of 512 KiB, under the tap's cap, so the
	# reassembly rebuilds the 17 MiB line whole and cuts the 100 MiB one at its 64 MiB maximum;
	# every byte now crosses the ring (117 MB written as fast as the stand-in can), so the ring
	# is made to hold it all, lest a loaded machine's slow consumer lose writes
	RUN_ARGS=(--ring-bytes 268435456)
	if live split --split-bytes 524288; then
		check "reassembly did not cut the 100 MiB line alone: $(grep 'over the cap' "$T/run-split.err")" \
			grep -q 'capture: 0 writes over the cap kept head and tail only (1 lines marked truncated)' "$T/run-split.err"
		big=$(sort -k2 -n "$T/input.log.manifest" | tail -1 | cut -d' ' -f2)
		check "the agent did not name the cut line's true size $big: $(grep 'longer than' "$T/run-split.err")" \
			grep -q "audit line of $big bytes .* is longer than the line maximum: read from its first 67043328 and last 65536 bytes" "$T/run-split.err"
		check "a line was dropped: $(grep 'dropped' "$T/run-split.err")" \
			not_grep 'lines dropped' "$T/run-split.err"
	fi
fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
