#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cluster mode delivers facts at least once; the correlator must not count a copy twice. Over a
# real redis-server (Debian's, on a random loopback port, the shipped least-privilege ACL):
#   - a publishing instance (node role: no correlator) taps a stand-in apiserver writing the
#     attack, rapid-get and impersonation logs, and stops: every fact is in the partition
#     streams once;
#   - every stream entry is then really published a second time (XADD of the same fact, as a
#     resend after a broken link or a damaged disk-queue cursor does);
#   - a correlator starts, takes every partition and reads the streams, copies included.
# The alerts of both outputs must equal `keyhole replay` of the logs, each once, with the same
# counts (the impersonation incident's grant_repeats is what a copy changes), and /metrics must
# count every copy in keyhole_cluster_facts_duplicate_total and none in
# keyhole_cluster_fact_ids_evicted_total.
# Needs root and BPF (the tap): without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: cluster_duplicates.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-cluster-dup.XXXXXX)
PIDS=()
REDIS_PID=
cleanup() {
	for p in ${PIDS[@]+"${PIDS[@]}"} $REDIS_PID; do kill -KILL "$p" 2> /dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$S/tests/lib/e2e_cluster.sh"
die() {
	echo "FAIL: $*"
	for f in "$T"/*.err; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -30; done
	exit 1
}

need_bpf_and_redis "cluster duplicates e2e"

PORT=$(free_port)
MPORT=$(free_port)
RCLI=(redis-cli -h 127.0.0.1 -p "$PORT" --user admin --pass adminpw --no-auth-warning)
CNAME=kh$$d
echo "kh-test-$$-$RANDOM" > "$T/pw"
# keyhole logs in as its own least-privilege user; admin publishes the copies
start_redis --appendonly no

cat > "$T/kh.yaml" << YAML
cluster:
  user: keyhole
  password_file: $T/pw
  partitions: 4
  lease: 3s
  lag: 1s
YAML
python3 "$S/tests/lib/cluster_split.py" "$T" 1 "$S/tests/data/attack.log" \
	"$S/tests/data/rapid-get.log" "$S/tests/data/correlate/impersonation.log"
"$KH" replay "$T/merged.log" > "$T/expected.json" 2> /dev/null
sort "$T/expected.json" > "$T/expected.sorted"
grep -q '"grant_repeats"' "$T/expected.json" || die "the input makes no incident with repeats"

# instance NAME ROLE [ARGS]: taps $T/NAME/audit.log, written by a stand-in named khd-NAME-$$
instance() {
	local name=$1 role=$2
	shift 2
	mkdir -p "$T/$name"
	ln -sf "$B/tests/kube-apiserver" "$T/khd-$name-$$"
	"$KH" run --cluster "redis://127.0.0.1:$PORT" --cluster-name "$CNAME" -c "$T/kh.yaml" \
		--node-name "$name" --role "$role" --comm "khd-$name-$$" \
		--audit-log "$T/$name/audit.log" --no-exec-watch --no-audit-guard --no-baseline \
		-o "$T/$name.json" "$@" 2> "$T/$name.err" &
	PIDS+=($!)
	for _ in $(seq 150); do
		grep -q 'ready:' "$T/$name.err" && return 0
		kill -0 "$!" 2> /dev/null || die "$name exited early"
		sleep 0.1
	done
	die "$name not ready in 15 s"
}
stop() { # stop I: the I-th instance started
	kill -TERM "${PIDS[$1]}"
	wait "${PIDS[$1]}" || bad "instance $1 exited with $?"
	PIDS[$1]=
}
metric() {
	curl -s -m 2 "http://127.0.0.1:$MPORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}

# ---- every fact once in the streams --------------------------------------------------------
instance pub node
"$T/khd-pub-$$" --audit-log-path "$T/pub/audit.log" --input "$T/api0.log" --threads 1 \
	--ordered --rate 400 --exit-when-done 2> "$T/standin.err" || die "the stand-in apiserver failed"
lines=$(grep -c . "$T/api0.log")
for _ in $(seq 100); do
	[ "$(grep -c . "$T/pub/audit.log")" = "$lines" ] && break
	sleep 0.1
done
sleep 2 # the tap's last lines through the pipeline, their facts to Redis
stop 0
grep -q 'cluster: [1-9][0-9]* facts published, 0 queued, 0 dropped' "$T/pub.err" ||
	die "the facts did not all reach Redis: $(grep 'cluster:' "$T/pub.err" | tail -1)"

# ---- and each again: the same bytes XADDed a second time ----------------------------------
once=0
for k in $("${RCLI[@]}" --raw keys "$CNAME:facts:*"); do
	n=$("${RCLI[@]}" eval "local e = redis.call('XRANGE', KEYS[1], '-', '+')
		for _, x in ipairs(e) do redis.call('XADD', KEYS[1], '*', unpack(x[2])) end
		return #e" 1 "$k")
	once=$((once + n))
done
[ "$once" -gt 100 ] || die "only $once facts in the streams"
twice=0
for k in $("${RCLI[@]}" --raw keys "$CNAME:facts:*"); do
	twice=$((twice + $("${RCLI[@]}" xlen "$k")))
done
[ "$twice" = $((2 * once)) ] && ok || bad "the streams hold $twice entries, not 2 x $once"

# ---- a correlator reads them all -----------------------------------------------------------
instance cor control-plane --metrics "127.0.0.1:$MPORT"
threads_within_main "${PIDS[1]}" # publisher, correlator, metrics: no more than the main thread
for _ in $(seq 300); do
	[ "$(metric keyhole_cluster_facts_consumed_total)" = "$once" ] &&
		[ "$(metric keyhole_cluster_facts_duplicate_total)" = "$once" ] && break
	sleep 0.1
done
got_dup=$(metric keyhole_cluster_facts_duplicate_total)
got_con=$(metric keyhole_cluster_facts_consumed_total)
[ "$got_dup" = "$once" ] && ok || bad "keyhole_cluster_facts_duplicate_total $got_dup, not $once"
[ "$got_con" = "$once" ] && ok || bad "keyhole_cluster_facts_consumed_total $got_con, not $once"
[ "$(metric keyhole_cluster_fact_ids_evicted_total)" = 0 ] && ok ||
	bad "keyhole_cluster_fact_ids_evicted_total is $(metric keyhole_cluster_fact_ids_evicted_total)"
stop 1
grep -q "took partition" "$T/cor.err" || bad "the correlator took no partition"
grep -q "$once facts consumed, 0 bad, $once duplicate" "$T/cor.err" && ok ||
	bad "the correlator's counters: $(grep 'correlator:' "$T/cor.err" | tail -1)"

cat "$T/pub.json" "$T/cor.json" | sort > "$T/got.sorted"
if cmp -s "$T/got.sorted" "$T/expected.sorted"; then
	ok
else
	bad "facts delivered twice: alerts differ from replaying the logs" \
		"($(wc -l < "$T/got.sorted") got, $(wc -l < "$T/expected.sorted") expected)"
	diff "$T/expected.sorted" "$T/got.sorted" | cut -c1-300 | head -20 || true
fi
[ -z "$(uniq -d "$T/got.sorted")" ] && ok || bad "an alert line was written twice"

kill -TERM "$REDIS_PID" 2> /dev/null || true
wait "$REDIS_PID" 2> /dev/null || true
REDIS_PID=
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
