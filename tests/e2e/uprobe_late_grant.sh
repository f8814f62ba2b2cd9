#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The opt-in uprobe path for an apiserver first seen after the start (docs/audit-tap.md,
# "Privileges"), under the capability sets the deployments grant, not root's full set:
#   - with the uprobe-tap grant (deploy/kubernetes/uprobe-tap, deploy/systemd/uprobe-tap.conf:
#     BPF PERFMON SYS_ADMIN SYS_PTRACE SYS_RESOURCE, no_new_privs) and `run --tap auto
#     --late-uprobes`: after the start CAP_SYS_ADMIN is permitted and NOT effective in the main
#     thread's /proc/PID/status (and not even permitted in the metrics thread); a Go stand-in
#     apiserver started after that, from a binary keyhole never saw (a new inode), gets the
#     uprobe path, the write tracepoints are detached, CapEff still lacks CAP_SYS_ADMIN while it
#     runs, nothing is refused, and the live alerts equal `keyhole replay` of what it wrote;
#   - with the shipped grant (BPF PERFMON SYS_PTRACE SYS_RESOURCE) and plain `run --tap auto`:
#     the same late stand-in gets whatever `keyhole probe` under that grant says an apiserver
#     started later gets. On a kernel that wants CAP_SYS_ADMIN for a new uprobe (ba677dbe77af,
#     6.16+ and stable backports) that is the tracepoint path, with the reason logged ("was not
#     given it"), keyhole_capture_uprobe_refused_total 1 and the exit statistics' count; its lines
#     are captured whole either way.
# Each run uses its own stand-in name and directory, so other tests' stand-ins named
# kube-apiserver on this machine are never followed. Needs root and BPF (setpriv from
# util-linux): without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: uprobe_late_grant.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-late-grant.XXXXXX)
KPID=
SPID=
pass=0
failed=0
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$T/run.err" ] && grep -v 'info: rule' "$T/run.err" | sed 's/^/  run: /' | tail -15
	failed=$((failed + 1))
}
ok() { pass=$((pass + 1)); }

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && { echo "FAIL: root, setpriv and BPF needed and KEYHOLE_REQUIRE_BPF=1"; exit 1; }
	echo "*** SKIPPING late-uprobe grant e2e: needs root, setpriv and BPF ***"
	exit 0
fi
[ -x "$B/tests/go-apiserver" ] || { echo "FAIL: $B/tests/go-apiserver missing (golang-go installed?)"; exit 1; }
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing

SHIPPED=-all,+bpf,+perfmon,+sys_ptrace,+sys_resource
GRANTED=$SHIPPED,+sys_admin
ADMIN=$((1 << 21))
as() { # BOUNDING-SET CMD...: root with only these capabilities, as the pod or the unit runs it
	local set=$1
	shift
	setpriv --bounding-set="$set" --inh-caps=-all --no-new-privs -- "$@"
}
capset() { # PID-or-PID/task/TID SET -> the set as a number
	echo $((0x$(awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status")))
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metric() { curl -s -m 2 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'; }
wait_log() { # PATTERN [TENTHS]: wait for a line in run.err
	for _ in $(seq "${2:-300}"); do
		grep -q -- "$1" "$T/run.err" && return 0
		kill -0 "$KPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop_sensor() { # NAME: INT, then 30 s for the drain before it counts as hung
	kill -INT "$KPID"
	for _ in $(seq 300); do
		kill -0 "$KPID" 2> /dev/null || break
		sleep 0.1
	done
	kill -0 "$KPID" 2> /dev/null && { fail "$1: keyhole run did not stop on INT"; kill -KILL "$KPID"; }
	wait "$KPID" || fail "$1: keyhole run exited with $?"
	KPID=
}

cat "$S/tests/data/benign-controlplane.log" "$S/tests/data/attack.log" > "$T/input.log"
want_lines=$(wc -l < "$T/input.log")

# late GRANT NAME RUN-OPTIONS...: keyhole starts under GRANT; then standin NAME: a stand-in from a
# copy of the Go binary nobody has run yet (its own inode) under NAME writes input.log
late() {
	local set=$1 name=$2 dir=$T/$2 port
	shift 2
	port=$(free_port)
	mkdir -p "$dir/log"
	cp "$B/tests/go-apiserver" "$dir/$name"
	# setpriv execs keyhole, so $! is keyhole's pid
	setpriv --bounding-set="$set" --inh-caps=-all --no-new-privs -- "$KH" run --tap auto --comm "$name" --no-exec-watch --no-baseline \
		--metrics "127.0.0.1:$port" -o "$dir/live.json" "$@" 2> "$T/run.err" &
	KPID=$!
	PORT=$port
	wait_log 'ready:' || { fail "$name: keyhole run not ready"; return 1; }
}
standin() { # NAME: the late stand-in, started after keyhole is ready
	local name=$1 dir=$T/$1
	"$dir/$name" --audit-log-path "$dir/log/audit.log" --input "$T/input.log" --threads 2 \
		--ordered --rotate-bytes 262144 --start-delay 1s --exit-when-done \
		2> "$dir/standin.err" &
	SPID=$!
}

# replay_equal NAME: the live alerts equal replay of the files it wrote, rotated ones first
replay_equal() {
	local dir=$T/$1
	"$KH" replay $(ls "$dir"/log/audit-*.log 2> /dev/null | sort) "$dir/log/audit.log" \
		> "$dir/replay.json" 2> /dev/null
	[ -s "$dir/replay.json" ] || { fail "$1: replay gave no alerts"; return; }
	diff <(sort "$dir/live.json") <(sort "$dir/replay.json") > "$dir/diff" && ok ||
		fail "$1: live alerts differ from replay ($(wc -l < "$dir/diff") diff lines)"
}

# ---- the uprobe-tap grant, --late-uprobes ----
name=khg$$
if late "$GRANTED" "$name" --late-uprobes; then
	grep -q -- '--late-uprobes: CAP_SYS_ADMIN stays permitted' "$T/run.err" && ok ||
		fail "granted: run did not keep CAP_SYS_ADMIN for late uprobes"
	prm=$(capset "$KPID" CapPrm) eff=$(capset "$KPID" CapEff)
	[ $((prm & ADMIN)) != 0 ] && ok || fail "granted: CAP_SYS_ADMIN not permitted after the start (CapPrm $(printf %x "$prm"))"
	[ $((eff & ADMIN)) = 0 ] && ok || fail "granted: CAP_SYS_ADMIN effective after the start (CapEff $(printf %x "$eff"))"
	# the threads at ready, before any attach or detach (the link teardown's short-lived
	# workers, started by the main thread later, inherit its sets): the metrics thread
	nthreads=0
	for st in /proc/"$KPID"/task/*; do
		[ "${st##*/}" = "$KPID" ] && continue
		nthreads=$((nthreads + 1))
		# it narrows itself as it starts: a moment's grace
		for _ in $(seq 20); do
			[ $(($(capset "$KPID/task/${st##*/}" CapPrm) & ADMIN)) = 0 ] && break
			sleep 0.1
		done
		[ $(($(capset "$KPID/task/${st##*/}" CapPrm) & ADMIN)) = 0 ] ||
			fail "granted: thread ${st##*/} holds CAP_SYS_ADMIN permitted"
	done
	[ "$nthreads" -ge 1 ] && ok || fail "granted: no metrics thread to check"
	standin "$name"
	wait_log "pid $SPID: uprobe path: syscall.write" 300 && ok ||
		fail "granted: the late stand-in did not get the uprobe path: $(grep "pid $SPID" "$T/run.err")"
	wait_log "write tracepoints detached" 100 && ok || fail "granted: the write tracepoints stayed attached"
	# between attaches: sampled while the stand-in writes through its uprobe
	raised=0 samples=0
	while kill -0 "$SPID" 2> /dev/null; do
		eff=$(capset "$KPID" CapEff 2> /dev/null) || break
		samples=$((samples + 1))
		[ $((eff & ADMIN)) = 0 ] || raised=$((raised + 1))
		sleep 0.05
	done
	[ "$raised" = 0 ] && ok || fail "granted: CAP_SYS_ADMIN effective in $raised of $samples samples between attaches"
	wait "$SPID" || fail "granted: stand-in failed: $(cat "$T/$name/standin.err")"
	SPID=
	sleep 1
	[ "$(metric "$PORT" keyhole_capture_uprobe_refused_total)" = 0 ] && ok ||
		fail "granted: keyhole_capture_uprobe_refused_total is $(metric "$PORT" keyhole_capture_uprobe_refused_total)"
	stop_sensor granted
	grep -q '; 0 refused a uprobe by the kernel' "$T/run.err" && ok || fail "granted: a uprobe counted refused"
	grep -q "$want_lines lines from" "$T/run.err" && ok ||
		fail "granted: not every line captured (want $want_lines): $(grep 'lines from' "$T/run.err")"
	grep -q 'lost 0 writes' "$T/run.err" && ok || fail "granted: writes lost"
	grep -q 'UNSEEN' "$T/run.err" && fail "granted: bytes unseen by the uprobe path" || ok
	replay_equal "$name"
	echo "  granted: CapEff without CAP_SYS_ADMIN in $samples samples while the late stand-in ran"
fi

# ---- the shipped grant: what probe says an apiserver started later gets ----
level=$(cat /proc/sys/kernel/perf_event_paranoid)
if [ "$level" -ge 3 ]; then
	echo "  shipped: not run: perf_event_paranoid $level lets no process without CAP_SYS_ADMIN attach"
else
	as "$SHIPPED" "$KH" probe > "$T/probe-shipped.txt" 2>&1 || true
	grep -q '^privileges: CAP_SYS_ADMIN no, CAP_PERFMON yes, CAP_BPF yes' "$T/probe-shipped.txt" && ok ||
		fail "shipped: probe does not see the shipped set: $(grep '^privileges' "$T/probe-shipped.txt")"
	expect=$(sed -n 's/^tap auto: apiserver started later [^:]*: \([a-z]*\) path: .*/\1/p' "$T/probe-shipped.txt")
	[ -n "$expect" ] || fail "shipped: probe says nothing of an apiserver started later"
	name=khn$$
	if [ -n "$expect" ] && late "$SHIPPED" "$name"; then
		standin "$name"
		wait_log "pid $SPID: $expect path" 300 && ok ||
			fail "shipped: probe said $expect path, run said: $(grep "pid $SPID" "$T/run.err")"
		wait "$SPID" || fail "shipped: stand-in failed: $(cat "$T/$name/standin.err")"
		SPID=
		sleep 1
		refused=$(metric "$PORT" keyhole_capture_uprobe_refused_total)
		stop_sensor shipped
		if [ "$expect" = tracepoint ]; then
			grep -q "tracepoint path: the kernel refused a uprobe on its binary .*CAP_SYS_ADMIN .*was not given it" \
				"$T/run.err" && ok || fail "shipped: no reason logged for the tracepoint path"
			[ "$refused" = 1 ] && ok || fail "shipped: keyhole_capture_uprobe_refused_total is $refused, want 1"
			grep -q '; 1 refused a uprobe by the kernel' "$T/run.err" && ok ||
				fail "shipped: the refusal not in the exit statistics"
		else
			[ "$refused" = 0 ] && ok || fail "shipped: uprobe path yet $refused refused"
		fi
		grep -q "$want_lines lines from" "$T/run.err" && ok ||
			fail "shipped: not every line captured (want $want_lines)"
		grep -q 'lost 0 writes' "$T/run.err" && ok || fail "shipped: writes lost"
		replay_equal "$name"
		echo "  shipped: the late stand-in got the $expect path"
	fi
fi

echo "uprobe late grant: $pass passed, $failed failed"
[ "$failed" = 0 ]
