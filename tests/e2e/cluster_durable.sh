#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cluster mode's durability over a real redis-server (Debian's, on a random loopback port):
#   - the disk queue: three `keyhole run --cluster --cluster-queue-dir` instances tap their
#     apiservers' logs while Redis is down, so every fact waits on disk; one instance is killed
#     with SIGKILL and its last segment gets a torn record appended (a write cut by a crash);
#     then Redis and the killed instance start again. The alerts of all outputs must equal
#     `keyhole replay` of the merged logs, each once: the killed instance's facts were published
#     by its next start, the torn record was found and counted, nothing was lost or doubled.
#   - the shared new-terms history: a correlator owns every partition, sees the new-terms case,
#     and is stopped; the streams are trimmed to nothing; a second correlator takes the
#     partitions over and is fed the same requests again: it must not alert on terms the first
#     one knew (they live in Redis, not in the trimmed streams), and must on a new one.
# Needs root and BPF (the tap): without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: cluster_durable.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-cluster-durable.XXXXXX)
PIDS=()
REDIS_PID=
cleanup() {
	for p in "${PIDS[@]}" $REDIS_PID; do kill -KILL "$p" 2> /dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$S/tests/lib/e2e_cluster.sh"
die() {
	echo "FAIL: $*"
	for f in "$T"/*.err; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -30; done
	exit 1
}

need_bpf_and_redis "cluster durability e2e"

PORT=$(free_port)
RCLI=(redis-cli -h 127.0.0.1 -p "$PORT" --user admin --pass adminpw --no-auth-warning)
CNAME=kh$$a
# keyhole logs in as its own least-privilege user; admin trims (start_redis, stop_redis:
# tests/lib/e2e_cluster.sh)

echo "kh-test-$$-$RANDOM" > "$T/pw"
cat > "$T/kh.yaml" << YAML
cluster:
  user: keyhole
  password_file: $T/pw
  partitions: 4
  lease: 3s
  lag: 8s
YAML
N=3
CFG=$T/kh.yaml
python3 "$S/tests/lib/cluster_split.py" "$T" "$N" "$S/tests/data/attack.log" \
	"$S/tests/data/rapid-get.log"
"$KH" replay "$T/merged.log" > "$T/expected.json" 2> /dev/null
sort "$T/expected.json" > "$T/expected.sorted"
grep -q '"k8s-escalate-then-loot"' "$T/expected.json" || die "the input makes no incident"
grep -q '"k8s-secret-rapid-get"' "$T/expected.json" || die "the input makes no rapid-get"

# start instance I (its output file is out$I$2.json): taps $T/log$I/audit.log, queue in $T/q$I
start_instance() {
	local i=$1 tag=${2:-}
	mkdir -p "$T/log$i"
	ln -sf "$B/tests/kube-apiserver" "$T/khd$i-$$"
	"$KH" run --cluster "redis://127.0.0.1:$PORT" --cluster-name "$CNAME" -c "$CFG" \
		--node-name "cp$i" --role control-plane --comm "khd$i-$$" \
		--cluster-queue-dir "$T/q$i" --audit-log "$T/log$i/audit.log" --no-exec-watch \
		--no-audit-guard --no-baseline -o "$T/out$i$tag.json" 2> "$T/run$i$tag.err" &
	PIDS[$i]=$!
}
wait_ready() { # wait_ready I [TAG]
	for _ in $(seq 150); do
		grep -q 'ready:' "$T/run$1${2:-}.err" && return 0
		kill -0 "${PIDS[$1]}" 2> /dev/null || die "instance $1 exited early"
		sleep 0.1
	done
	die "instance $1 not ready in 15 s"
}
stop_all() {
	for i in "${!PIDS[@]}"; do
		[ -n "${PIDS[$i]:-}" ] || continue
		kill -TERM "${PIDS[$i]}"
		wait "${PIDS[$i]}" || bad "instance $i exited with $?"
		PIDS[$i]=
	done
}

# ---- the disk queue: a crash while Redis is down ---------------------------------------------
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
for i in $(seq 0 $((N - 1))); do wait_ready "$i"; done
WRITERS=()
for i in $(seq 0 $((N - 1))); do
	"$T/khd$i-$$" --audit-log-path "$T/log$i/audit.log" --input "$T/api$i.log" \
		--threads 1 --ordered --rate 400 --exit-when-done 2> "$T/standin$i.err" &
	WRITERS+=($!)
done
for p in "${WRITERS[@]}"; do wait "$p" || die "a stand-in apiserver failed"; done
sleep 3 # the tap's last lines through the pipeline, their facts on disk
kill -KILL "${PIDS[0]}"
wait "${PIDS[0]}" 2> /dev/null || true
PIDS[0]=
seg=$(ls "$T"/q0/*.kq | tail -1)
[ -s "$seg" ] && ok || bad "the killed instance left no facts on disk"
printf '\x40\x00\x00\x00\x01\x00\x00\x00torn' >> "$seg" # a record cut short by the crash
start_redis
start_instance 0 b
wait_ready 0 b
grep -q "facts of an earlier run to publish" "$T/run0b.err" && ok ||
	bad "the restarted instance found no facts of its earlier run"
grep -q "damaged record" "$T/run0b.err" && ok || bad "the torn record was not reported"
sleep 16 # reconnect backoff, lease rounds, lag
stop_all
grep -q 'disk queue: 0 bytes, [1-9][0-9]* facts recovered at start, 1 damaged records' \
	"$T/run0b.err" && ok ||
	bad "the restarted instance's counters: $(grep 'disk queue:' "$T/run0b.err" | tail -1)"
for f in "$T"/run[12].err "$T/run0b.err"; do
	grep -q 'cluster: .* 0 queued, 0 dropped' "$f" && ok ||
		bad "$(basename "$f"): the queue did not drain: $(grep 'cluster:' "$f" | tail -1)"
done
cat "$T"/out*.json | sort > "$T/got.sorted"
if cmp -s "$T/got.sorted" "$T/expected.sorted"; then
	ok
else
	bad "a crash with facts on disk: alerts differ from replaying the merged logs" \
		"($(wc -l < "$T/got.sorted") got, $(wc -l < "$T/expected.sorted") expected)"
	diff "$T/expected.sorted" "$T/got.sorted" | cut -c1-300 | head -20 || true
fi
[ -z "$(uniq -d "$T/got.sorted")" ] && ok || bad "an alert line was written twice"

# ---- the shared new-terms history: a takeover after the streams were trimmed ----------------
CNAME=kh$$b
sed 's/lag: 8s/lag: 1s/' "$T/kh.yaml" > "$T/kh2.yaml"
CFG=$T/kh2.yaml
# terms_phase I INPUT TAG: instance I alone (so it owns every partition) taps INPUT, then stops
terms_phase() {
	local i=$1 input=$2 tag=$3
	rm -rf "$T/log$i" "$T/q$i"
	start_instance "$i" "$tag"
	wait_ready "$i" "$tag"
	sleep 5 # lease rounds: the members of the phase before have expired, it owns every partition
	"$T/khd$i-$$" --audit-log-path "$T/log$i/audit.log" --input "$input" --threads 1 --ordered \
		--rate 400 --exit-when-done 2> "$T/standin$i$tag.err" || die "a stand-in apiserver failed"
	sleep 4 # the lag, a read round
	kill -TERM "${PIDS[$i]}"
	wait "${PIDS[$i]}" || bad "instance $i ($tag) exited with $?"
	PIDS[$i]=
	grep -q 'took partition 3' "$T/run$i$tag.err" || bad "$tag: partition 3 was never taken"
}
trim() { # every stream of the cluster emptied, as MAXLEN does to old facts
	for k in $("${RCLI[@]}" --raw keys "$CNAME:facts:*"); do
		"${RCLI[@]}" xtrim "$k" MAXLEN 0 > /dev/null
	done
}
unusual() { grep -c '"k8s-unusual-decision-ua"' "$1" || true; }
"$KH" replay "$S/tests/data/attack.log" > "$T/expected1.json" 2> /dev/null
want=$(unusual "$T/expected1.json")
[ "$want" -gt 5 ] || die "the attack log makes too few new terms ($want)"
terms_phase 0 "$S/tests/data/attack.log" t1
[ "$(unusual "$T/out0t1.json")" = "$want" ] && ok ||
	bad "first owner: $(unusual "$T/out0t1.json") new-terms alerts, replay has $want"
stored=0
for k in $("${RCLI[@]}" --raw keys "$CNAME:terms:*"); do
	stored=$((stored + $("${RCLI[@]}" zcard "$k")))
done
[ "$stored" -ge "$want" ] && ok || bad "only $stored new terms stored in Redis ($want seen)"
trim
# the same users and agents an hour later (new requests), and one new user
python3 "$S/tests/lib/shift_log.py" "$S/tests/data/attack.log" "$T/later.log" 1 -later kh-new-user
terms_phase 1 "$T/later.log" t2
got=$(unusual "$T/out1t2.json")
[ "$got" = 1 ] && ok || bad "the next owner alerted on $got new terms, not just the new user's"
grep '"k8s-unusual-decision-ua"' "$T/out1t2.json" | grep -q kh-new-user && ok ||
	bad "the new user's term did not alert"
grep -q 'new terms loaded' "$T/run1t2.err" && ! grep -q ' 0 new terms loaded' "$T/run1t2.err" &&
	ok || bad "the next owner loaded no terms: $(grep 'cluster:' "$T/run1t2.err" | tail -1)"
# the control: without the terms in Redis, the same trimmed takeover alerts on them all again
trim
for k in $("${RCLI[@]}" --raw keys "$CNAME:terms:*"); do "${RCLI[@]}" del "$k" > /dev/null; done
python3 "$S/tests/lib/shift_log.py" "$S/tests/data/attack.log" "$T/later2.log" 2 -later2
terms_phase 2 "$T/later2.log" t3
[ "$(unusual "$T/out2t3.json")" -ge "$want" ] && ok ||
	bad "control: without the stored terms only $(unusual "$T/out2t3.json") alerts (the test is blind)"

stop_redis
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
