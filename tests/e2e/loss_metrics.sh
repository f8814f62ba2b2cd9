#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every loss counter of every BPF program reaches /metrics and the exit summary: `keyhole run`
# with the audit tap, the audit guard and the exec watch loaded (the default), scraped on
# --metrics 127.0.0.1:PORT. Each loss series (ring full, table full, unreadable, budget) of the
# tap, the guard and the exec watch must be there as a counter; at exit the summary prints the
# guard's and the exec watch's loss counts, and each equals what /metrics said (an idle run
# loses nothing on this node, so both sides are read close together).
# Needs root and BPF: without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: loss_metrics.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-loss-metrics.XXXXXX)
KPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
pass=0
nfail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	nfail=$((nfail + 1))
}
die() {
	echo "FAIL: $*"
	[ -f "$T/run.err" ] && sed 's/^/  run: /' "$T/run.err"
	echo "$pass passed, $((nfail + 1)) failed"
	exit 1
}

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && die "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
	echo "*** SKIPPING loss metrics e2e: $why ***"
	exit 0
fi

mkdir "$T/log"
: > "$T/log/audit.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KH" run --comm "khl-$$" --audit-log "$T/log/audit.log" --metrics "127.0.0.1:$port" \
	--output "$T/alerts.json" 2> "$T/run.err" &
KPID=$!
for _ in $(seq 300); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2>/dev/null || die "keyhole run exited early"
	sleep 0.1
done
grep -q 'ready:' "$T/run.err" || die "keyhole run not ready in 30 s"
grep -q 'exec watch did not load' "$T/run.err" && die "the exec watch did not load"
grep -q 'audit guard did not load\|cannot serve the audit guard' "$T/run.err" &&
	die "the audit guard did not load"

exec 3<> "/dev/tcp/127.0.0.1/$port" || die "no metrics endpoint on port $port"
printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
cat <&3 > "$T/metrics.txt"
exec 3<&-

loss=(
	keyhole_capture_lost_writes_total keyhole_ringbuf_drops_total
	keyhole_capture_lost_proc_events_total keyhole_capture_untracked_writes_total
	keyhole_capture_read_faults_total keyhole_capture_budget_writes_total
	keyhole_guard_lost_records_total keyhole_guard_untracked_ops_total
	keyhole_exec_watch_lost_exec_records_total keyhole_exec_watch_lost_open_records_total
	keyhole_exec_watch_lost_exit_records_total keyhole_exec_watch_untagged_processes_total
	keyhole_exec_watch_untracked_syscalls_total
)
for m in "${loss[@]}"; do
	if grep -q "^# TYPE $m counter\$" "$T/metrics.txt" &&
		grep -qE "^$m [0-9]+\$" "$T/metrics.txt"; then
		ok
	else
		bad "/metrics has no counter $m"
	fi
done
val() { awk -v n="$1" '$1 == n { print $2 }' "$T/metrics.txt"; }

kill -INT "$KPID"
wait "$KPID" || die "keyhole run exited with $?"
KPID=

# exit summary: the guard's and the exec watch's loss counts, equal to the scrape's
g=$(grep -m1 '^keyhole: audit guard: ' "$T/run.err" || true)
if [ -z "$g" ]; then
	bad "no audit guard line in the exit summary"
else
	glost=$(sed -nE 's/.*(lost|LOST) ([0-9]+) records \(ring full\).*/\2/p' <<< "$g")
	gpend=$(sed -nE 's/.* ([0-9]+) operations not followed.*/\1/p' <<< "$g")
	[ "$glost" = "$(val keyhole_guard_lost_records_total)" ] && ok ||
		bad "guard lost: summary '$glost', metrics '$(val keyhole_guard_lost_records_total)'"
	[ "$gpend" = "$(val keyhole_guard_untracked_ops_total)" ] && ok ||
		bad "guard untracked: summary '$gpend', metrics '$(val keyhole_guard_untracked_ops_total)'"
fi
e=$(grep -m1 '^keyhole: exec watch: [0-9]* records' "$T/run.err" || true)
if [ -z "$e" ]; then
	bad "no exec watch line in the exit summary"
else
	re='ring full: ([0-9]+) exec, ([0-9]+) open, ([0-9]+) exit\).*tables full: ([0-9]+) untagged, ([0-9]+) syscalls'
	if [[ $e =~ $re ]]; then
		i=1
		for m in keyhole_exec_watch_lost_exec_records_total \
			keyhole_exec_watch_lost_open_records_total \
			keyhole_exec_watch_lost_exit_records_total \
			keyhole_exec_watch_untagged_processes_total \
			keyhole_exec_watch_untracked_syscalls_total; do
			[ "${BASH_REMATCH[$i]}" = "$(val $m)" ] && ok ||
				bad "$m: summary '${BASH_REMATCH[$i]}', metrics '$(val $m)'"
			i=$((i + 1))
		done
	else
		bad "the exec watch summary has no per-counter losses: $e"
	fi
fi
t=$(grep -m1 '^keyhole: capture: \(lost\|LOST\) ' "$T/run.err" || true)
[ -n "$t" ] && ok || bad "no capture loss line in the exit summary"

echo "$pass passed, $nfail failed"
[ "$nfail" = 0 ]
