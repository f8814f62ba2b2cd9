#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Least privilege: once `keyhole run` has attached, its process keeps CAP_SYS_PTRACE (to follow a
# restarted apiserver through /proc/PID/root) and, with the tap's path chosen per process (--tap
# auto, the default), CAP_PERFMON (to attach the write tracepoints or a uprobe a new process
# needs), nothing else, in every set, with no_new_privs, and the metrics thread holds nothing
# more; with --tap tracepoint only CAP_SYS_PTRACE. Capture still works after the drop: a stand-in apiserver
# that rotates its log and restarts itself (found again by its exec) is captured whole.
#
# Usage: privileges.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-priv.XXXXXX)
KPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$T/run.err" ] && sed 's/^/  run: /' "$T/run.err"
	exit 1
}
if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && fail "BPF unavailable and KEYHOLE_REQUIRE_BPF=1"
	echo "*** SKIPPING privileges e2e: needs root and BPF ***"
	exit 0
fi

# a uniquely named stand-in, so no other apiserver on the machine feeds this test
cp "$B/tests/kube-apiserver" "$T/kh-priv-apisrv"
mkdir "$T/log"
port=$((20000 + RANDOM % 20000))
"$KH" run --comm kh-priv-apisrv --metrics "127.0.0.1:$port" -o "$T/alerts.json" \
	2> "$T/run.err" &
KPID=$!
for _ in $(seq 150); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2>/dev/null || fail "keyhole run exited"
	sleep 0.1
done
grep -q 'ready:' "$T/run.err" || fail "keyhole run never became ready"

# every thread: only CAP_SYS_PTRACE (bit 19) and CAP_PERFMON (bit 38) in effective, permitted
# and bounding; nothing inheritable or ambient; no_new_privs set
want=0000004000080000
nthreads=0
for st in /proc/"$KPID"/task/*/status; do
	nthreads=$((nthreads + 1))
	for set in CapEff CapPrm CapBnd; do
		got=$(awk -v k="$set:" '$1 == k {print $2}' "$st")
		[ "$got" = "$want" ] || fail "$st: $set is $got, want $want (CAP_SYS_PTRACE, CAP_PERFMON)"
	done
	for set in CapInh CapAmb; do
		got=$(awk -v k="$set:" '$1 == k {print $2}' "$st")
		[ "$got" = 0000000000000000 ] || fail "$st: $set is $got, want none"
	done
	grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || fail "$st: no_new_privs not set"
done
[ "$nthreads" -ge 2 ] || fail "expected the metrics thread beside the main thread"

# capture after the drop: rotation and a restart mid-stream
cat "$S/tests/data/benign-controlplane.log" "$S/tests/data/attack.log" > "$T/input.log"
"$T/kh-priv-apisrv" --audit-log-path "$T/log/audit.log" --input "$T/input.log" --threads 2 \
	--ordered --rotate-bytes 65536 --restart-after 300 --start-delay-ms 500 --exit-when-done > /dev/null
sleep 1
kill -INT "$KPID"
wait "$KPID" || fail "keyhole run exited with $?"
KPID=
want_lines=$(wc -l < "$T/input.log")
grep -q "$want_lines lines from" "$T/run.err" || fail "not every line captured after the drop"
grep -q 'lost 0 writes' "$T/run.err" || fail "writes lost after the drop"
"$KH" replay "$S/tests/data/benign-controlplane.log" "$S/tests/data/attack.log" \
	> "$T/replay.json" 2> /dev/null
diff <(jq -c 'select(.rule.id | startswith("node-") | not)' "$T/alerts.json" | sort) \
	<(sort "$T/replay.json") > /dev/null || fail "live alerts differ from replay after the drop"
# --tap tracepoint needs nothing attached later: CAP_SYS_PTRACE alone
"$KH" run --comm kh-priv-apisrv --tap tracepoint --no-exec-watch -o "$T/alerts2.json" \
	2> "$T/run.err" &
KPID=$!
for _ in $(seq 150); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2>/dev/null || fail "keyhole run --tap tracepoint exited"
	sleep 0.1
done
got=$(awk '$1 == "CapEff:" {print $2}' /proc/"$KPID"/status)
[ "$got" = 0000000000080000 ] || fail "--tap tracepoint: CapEff is $got, want CAP_SYS_PTRACE only"
kill -INT "$KPID"
wait "$KPID" || fail "keyhole run --tap tracepoint exited with $?"
KPID=
echo "privileges: CAP_SYS_PTRACE (+ CAP_PERFMON for --tap auto) in $nthreads threads, $want_lines lines captured across" \
	"rotation and restart: 1 passed, 0 failed"
