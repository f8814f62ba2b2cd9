#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The rules' and the correlator's state reaches /metrics: `keyhole run` (exec watch on, the
# default) follows a stand-in apiserver (a copy named khs-<pid>) that writes the bundled attack
# log, and /metrics, scraped on --metrics 127.0.0.1:PORT, must show
#   - the escalate-then-loot correlator's series (keyhole_correlate_*): incidents opened and
#     revisions equal to what `keyhole replay` writes for the same log, the open incident and the
#     principals held as gauges;
#   - every node rule's state series (the exec join's and the node state's counters, what their
#     tables hold as gauges), one per rule: node-container-exec, node-exec-without-audit and
#     node-secret-read-in-exec (values not asserted: the exec watch sees every container exec
#     on this machine, other tests' too);
#   - and docs/deployment.md documents every series served.
# Needs root and BPF: without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: state_metrics.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-state-metrics.XXXXXX)
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
	echo "*** SKIPPING state metrics e2e: $why ***"
	exit 0
fi

mkdir "$T/log"
COMM=khs-$$
ln -s "$B/tests/kube-apiserver" "$T/$COMM"
input=$S/tests/data/attack.log
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KH" run --comm "$COMM" --audit-log "$T/log/audit.log" --metrics "127.0.0.1:$port" \
	--output "$T/live.json" 2> "$T/run.err" &
KPID=$!
for _ in $(seq 300); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2>/dev/null || die "keyhole run exited early"
	sleep 0.1
done
grep -q 'ready:' "$T/run.err" || die "keyhole run not ready in 30 s"
grep -q 'exec watch did not load' "$T/run.err" && die "the exec watch did not load"

"$T/$COMM" --audit-log-path "$T/log/audit.log" --input "$input" --threads 2 --ordered \
	--exit-when-done 2> "$T/standin.err" || die "stand-in failed: $(cat "$T/standin.err")"

scrape() {
	exec 3<> "/dev/tcp/127.0.0.1/$port" || die "no metrics endpoint on port $port"
	printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
	cat <&3 > "$T/metrics.txt"
	exec 3<&-
}
val() { awk -v n="$1" '$1 == n { print $2 }' "$T/metrics.txt"; }
nlines=$(wc -l < "$input")
# the pipeline may trail the capture on a loaded machine: wait for every line
for _ in $(seq 100); do
	scrape
	[ "$(val keyhole_events_total)" = "$nlines" ] && break
	sleep 0.2
done
[ "$(val keyhole_events_total)" = "$nlines" ] ||
	die "the pipeline saw $(val keyhole_events_total) of $nlines lines"

# what replay writes for the same log
"$KH" replay -q "$input" > "$T/replay.json"
revisions=$(grep -c '"id":"k8s-escalate-then-loot"' "$T/replay.json" || true)
opened=$(grep '"id":"k8s-escalate-then-loot"' "$T/replay.json" |
	grep -o '"incident":{"id":"[^"]*"' | sort -u | wc -l)
[ "$revisions" -gt 0 ] && [ "$opened" -gt 0 ] || die "replay gave no incident on $input"

counter() { # NAME: a counter, unlabelled
	if grep -q "^# TYPE $1 counter\$" "$T/metrics.txt" && grep -qE "^$1 [0-9]+\$" "$T/metrics.txt"; then
		ok
	else
		bad "/metrics has no counter $1"
	fi
}
gauge() { # NAME: a gauge, unlabelled
	if grep -q "^# TYPE $1 gauge\$" "$T/metrics.txt" && grep -qE "^$1 [0-9]+\$" "$T/metrics.txt"; then
		ok
	else
		bad "/metrics has no gauge $1"
	fi
}
expect() { # NAME VALUE
	[ "$(val "$1")" = "$2" ] && ok || bad "$1 is '$(val "$1")', want $2"
}
for m in grants grants_ignored grants_failed subject_evictions reader_evictions \
	incidents_opened incident_revisions incident_evictions steps_dropped rbac_unreadable; do
	counter "keyhole_correlate_${m}_total"
done
for m in subjects readers incidents; do
	gauge "keyhole_correlate_$m"
done
expect keyhole_correlate_incidents_opened_total "$opened"
expect keyhole_correlate_incident_revisions_total "$revisions"
expect keyhole_correlate_incidents "$opened" # still open: the run goes on
[ "$(val keyhole_correlate_grants_total)" -gt 0 ] && ok || bad "no grant counted"
[ "$(val keyhole_correlate_subjects)" -gt 0 ] && ok || bad "no subject held"

# the node rules' state, one series per rule
for rule in node-container-exec node-exec-without-audit node-secret-read-in-exec; do
	for m in keyhole_exec_join_requests_total keyhole_exec_join_sessions_joined_total \
		keyhole_exec_join_sessions_unjoined_total keyhole_exec_join_held_overflow_total \
		keyhole_exec_join_request_evictions_total keyhole_exec_join_session_evictions_total \
		keyhole_exec_probes_allowed_total keyhole_exec_repeats_suppressed_total \
		keyhole_exec_new_containers_unpaired_total keyhole_exec_repeat_evictions_total \
		keyhole_exec_join_requests_held keyhole_exec_join_sessions_held \
		keyhole_exec_repeats_held; do
		grep -qE "^$m\\{rule=\"$rule\"\\} [0-9]+\$" "$T/metrics.txt" && ok ||
			bad "/metrics has no $m{rule=\"$rule\"}"
	done
done
for m in keyhole_exec_join_requests_held keyhole_exec_join_sessions_held keyhole_exec_repeats_held; do
	grep -q "^# TYPE $m gauge\$" "$T/metrics.txt" && ok || bad "$m is not a gauge"
done

# every series served is documented (container_image.sh checks the exact match, on its config)
undocumented=$(comm -23 <(awk '$1 == "#" && $2 == "TYPE" {print $3}' "$T/metrics.txt" | sort) \
	<(sed -n 's/^| `\(keyhole_[a-z_]*\)` |.*/\1/p' "$S/docs/deployment.md" | sort))
[ -z "$undocumented" ] && ok || bad "served but not in docs/deployment.md: $undocumented"

kill -INT "$KPID"
wait "$KPID" || die "keyhole run exited with $?"
KPID=

echo "$pass passed, $nfail failed"
[ "$nfail" = 0 ]
