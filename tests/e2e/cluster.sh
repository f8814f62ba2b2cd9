#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cluster mode over a real redis-server (Debian's, on a random loopback port): three stand-in
# apiservers each write their share of the attack and rapid-get logs (requests given out
# round-robin, as a load balancer does) to their own audit log; three `keyhole run --cluster`
# instances tap one log each. Checks:
#   - every alert (per-event ones from the capturing instances, rapid-get, unusual-decision and
#     the escalate-then-loot incidents from the correlators) equals `keyhole replay` of the three
#     logs merged in time order, each line exactly once across the three outputs;
#   - the correlators shared the partitions (each owned some);
#   - what went to Redis has no secret marker and no body but RBAC ones (XRANGE dump);
#   - faults: a wrong URL, a refused ACL login, a missing password file and rediss:// to this
#     plain port are clear errors, each on one line (tests/e2e/cluster_tls.sh has the TLS
#     ones); Redis down at the
#     start then up: facts queue and drain, same alerts.
# Needs root and BPF (the tap): without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: cluster.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-cluster-e2e.XXXXXX)
PIDS=()
REDIS_PID=
cleanup() {
	for p in "${PIDS[@]}" $REDIS_PID; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$S/tests/lib/e2e_cluster.sh"
die() {
	echo "FAIL: $*"
	for f in "$T"/*.err; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -30; done
	exit 1
}

need_bpf_and_redis "cluster e2e"

PORT=$(free_port)
RCLI=(redis-cli -h 127.0.0.1 -p "$PORT" --user admin --pass adminpw --no-auth-warning)
# keyhole logs in as its own least-privilege user; admin dumps (tests/lib/e2e_cluster.sh)
redis_aof() { start_redis --appendonly "${AOF:-no}" --appendfsync always; } # AOF=yes: durable

echo "kh-test-$$-$RANDOM" > "$T/pw"
cat > "$T/kh.yaml" << YAML
cluster:
  user: keyhole
  password_file: $T/pw
  partitions: 4
  lease: 3s
  lag: 2s
YAML
N=3
python3 "$S/tests/lib/cluster_split.py" "$T" "$N" "$S/tests/data/attack.log" \
	"$S/tests/data/rapid-get.log" "$S/tests/data/secret-markers.log"
# the secret values in the marker log (as tests/e2e/secret_markers.sh finds them)
# (base64 ones only when they decode to a marker: RBAC bodies, which may travel, hold long plain
# words such as ClusterRoleBinding)
jq -r '[.requestObject, .responseObject] | .. | strings' "$S/tests/data/secret-markers.log" |
	grep -E 'KHMARK|^[A-Za-z0-9+/]{16,}={0,2}$' | sort -u | while IFS= read -r v; do
	if [[ $v == *KHMARK* ]] || base64 -d <<< "$v" 2> /dev/null | grep -qa KHMARK; then
		printf '%s\n' "$v"
	fi
done > "$T/values"
grep -o 'KHMARK-[A-Z0-9-]*' "$S/tests/data/secret-markers.log" | sort -u >> "$T/values"
[ "$(wc -l < "$T/values")" -ge 20 ] || die "too few secret values in secret-markers.log"
"$KH" replay "$T/merged.log" > "$T/expected.json" 2> /dev/null
sort "$T/expected.json" > "$T/expected.sorted"
grep -q '"k8s-escalate-then-loot"' "$T/expected.json" || die "the input makes no incident"
grep -q '"k8s-secret-rapid-get"' "$T/expected.json" || die "the input makes no rapid-get"

# start instance I of the cluster named $CNAME: taps $T/log$I/audit.log, written by khc$I-$$
start_instance() {
	local i=$1
	local extra=()
	[ -n "${MPORTS[$i]:-}" ] && extra=(--metrics "127.0.0.1:${MPORTS[$i]}")
	mkdir -p "$T/log$i"
	ln -sf "$B/tests/kube-apiserver" "$T/khc$i-$$"
	"$KH" run --cluster "redis://127.0.0.1:$PORT" --cluster-name "$CNAME" -c "$T/kh.yaml" \
		--node-name "cp$i" --role control-plane --comm "khc$i-$$" \
		--audit-log "$T/log$i/audit.log" --no-exec-watch --no-audit-guard --no-baseline \
		-o "$T/out$i.json" "${extra[@]}" 2> "$T/run$i.err" &
	PIDS[$i]=$!
}
wait_ready() {
	for i in $(seq 0 $((N - 1))); do
		for _ in $(seq 150); do
			grep -q 'ready:' "$T/run$i.err" && break
			kill -0 "${PIDS[$i]}" 2> /dev/null || die "instance $i exited early"
			sleep 0.1
		done
		grep -q 'ready:' "$T/run$i.err" || die "instance $i not ready in 15 s"
	done
}
write_logs() { # in the background; wait_logs waits
	WRITERS=()
	for i in $(seq 0 $((N - 1))); do
		"$T/khc$i-$$" --audit-log-path "$T/log$i/audit.log" --input "$T/api$i.log" \
			--threads 1 --ordered --rate 400 --exit-when-done 2> "$T/standin$i.err" &
		WRITERS+=($!)
	done
}
wait_logs() {
	for p in "${WRITERS[@]}"; do wait "$p" || die "a stand-in apiserver failed"; done
}
stop_all() {
	for i in "${!PIDS[@]}"; do
		[ -n "${PIDS[$i]:-}" ] || continue
		kill -TERM "${PIDS[$i]}"
		wait "${PIDS[$i]}" || bad "instance $i exited with $?"
		PIDS[$i]=
	done
}
compare() {
	local what=$1
	cat "$T"/out*.json | sort > "$T/got.sorted"
	if cmp -s "$T/got.sorted" "$T/expected.sorted"; then
		ok
	else
		bad "$what: alerts differ from replaying the merged logs" \
			"($(wc -l < "$T/got.sorted") got, $(wc -l < "$T/expected.sorted") expected)"
		diff "$T/expected.sorted" "$T/got.sorted" | cut -c1-300 | head -20 || true
	fi
	[ -z "$(uniq -d "$T/got.sorted")" ] && ok || bad "$what: an alert line was written twice"
}

# ---- the cluster: three apiservers, three instances ------------------------------------------
redis_aof
CNAME=kh$$a
MPORTS=()
for i in $(seq 0 $((N - 1))); do MPORTS[$i]=$(free_port); done
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
M0=${MPORTS[0]}
M0_ALL=("${MPORTS[@]}")
MPORTS=() # instances started later serve no /metrics
wait_ready
sleep 4 # a lease round: the partitions spread over the three
write_logs
wait_logs
sleep 4 # the lag, and a read round
owned=0
curl -sf "http://127.0.0.1:$M0/metrics" > "$T/metrics.txt" || bad "no /metrics from instance 0"
# every instance publishes its own apiserver's facts; which of them own partitions (and so
# consume) is the leases' choice, so ownership and consumption are summed over the three
for i in $(seq 0 $((N - 1))); do
	curl -sf "http://127.0.0.1:${M0_ALL[$i]}/metrics" > "$T/metrics$i.txt" ||
		bad "no /metrics from instance $i"
	awk '$1 == "keyhole_cluster_facts_published_total" && $2 > 0 { f = 1 } END { exit !f }' \
		"$T/metrics$i.txt" && ok || bad "/metrics $i: keyhole_cluster_facts_published_total is missing or zero"
done
for m in keyhole_cluster_partitions_owned keyhole_cluster_facts_consumed_total; do
	cat "$T"/metrics[0-9]*.txt | awk -v m="$m" '$1 == m { s += $2 } END { exit !(s > 0) }' && ok ||
		bad "/metrics: $m is missing or zero on every instance"
done
grep -q '^keyhole_cluster_facts_dropped_total 0' "$T/metrics.txt" && ok ||
	bad "/metrics: keyhole_cluster_facts_dropped_total is not 0"
for i in $(seq 0 $((N - 1))); do
	kill -USR1 "${PIDS[$i]}"
done
sleep 0.5
for i in $(seq 0 $((N - 1))); do
	grep -q 'took partition' "$T/run$i.err" && owned=$((owned + 1))
done
[ "$owned" -ge 2 ] && ok || bad "the partitions were not shared ($owned instances took some)"
"${RCLI[@]}" --raw keys "$CNAME:facts:*" | sort > "$T/streams"
for k in $(cat "$T/streams"); do "${RCLI[@]}" --raw xrange "$k" - +; done > "$T/xrange.txt"
stop_all
compare "three apiservers"
for i in $(seq 0 $((N - 1))); do
	grep -q 'cluster: .* 0 dropped' "$T/run$i.err" && ok || bad "instance $i dropped facts"
done

# what is on the bus: facts only, no secret value, no body but RBAC's
[ -s "$T/xrange.txt" ] && ok || bad "nothing was read back from the streams"
grep -q '"khFact":1' "$T/xrange.txt" && ok || bad "the streams hold no versioned fact"
if grep -q '"responseObject"' "$T/xrange.txt"; then bad "a response body reached Redis"; else ok; fi
grep -q 'KHMARK' "$T/merged.log" || bad "the marker log is not part of the input"
if grep -qF -f "$T/values" "$T/xrange.txt"; then
	bad "a secret value reached Redis: $(grep -oF -f "$T/values" "$T/xrange.txt" | head -3)"
else ok; fi
if grep -qF -f "$T/values" "$T"/run*.err "$T"/out*.json; then
	bad "a secret value reached an output or message"
else ok; fi
if grep '"requestObject"' "$T/xrange.txt" | grep -vq 'rbac.authorization.k8s.io'; then
	bad "a non-RBAC request body reached Redis"
else ok; fi

# ---- faults: configuration errors are named --------------------------------------------------
run_err() { # run_err NAME ARGS...: start, expect an exit with the message, said once
	local name=$1
	shift
	timeout 20 "$KH" run --no-exec-watch --no-audit-guard --no-baseline --comm "khx-$$" \
		-o "$T/x.json" "$@" > /dev/null 2> "$T/$name.txt" && return 1
	[ "$(grep -c 'error:' "$T/$name.txt")" = 1 ] ||
		bad "$name: the error is not reported exactly once: $(grep 'error:' "$T/$name.txt")"
	return 0
}
run_err url --cluster "http://127.0.0.1:$PORT" && grep -q "scheme must be redis://" "$T/url.txt" &&
	ok || bad "a wrong URL scheme is not named: $(cat "$T/url.txt")"
echo wrong > "$T/wrongpw"
printf 'cluster:\n  user: keyhole\n  password_file: %s\n' "$T/wrongpw" > "$T/wrong.yaml"
run_err acl --cluster "redis://127.0.0.1:$PORT" --role node -c "$T/wrong.yaml" && grep -q "refused the login of user 'keyhole'" "$T/acl.txt" &&
	ok || bad "a refused login is not named: $(cat "$T/acl.txt")"
grep -q wrong "$T/acl.txt" && bad "the password was printed" || ok
run_err nopw --cluster "redis://127.0.0.1:$PORT" --cluster-password-file "$T/none/pw" &&
	grep -q "cluster password file $T/none/pw: No such file" "$T/nopw.txt" &&
	ok || bad "an unreadable password file is not named: $(cat "$T/nopw.txt")"
run_err tls --cluster "rediss://127.0.0.1:$PORT" && grep -q "speaks plain text, not TLS" "$T/tls.txt" &&
	ok || bad "rediss:// to a plain-text port is not named: $(cat "$T/tls.txt")"

# ---- faults: Redis down at the start, up later: facts queue, then drain ----------------------
stop_redis
rm -f "$T"/out*.json "$T"/log*/audit*.log
CNAME=kh$$b
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
wait_ready
grep -q 'redis not reachable yet' "$T/run0.err" && ok || bad "redis down at start not reported"
write_logs
wait_logs
redis_aof
sleep 8 # reconnect backoff, lease round, lag
stop_all
compare "redis down at the start"
for i in $(seq 0 $((N - 1))); do
	grep -q 'cluster: .* 0 queued, 0 dropped' "$T/run$i.err" && ok ||
		bad "instance $i did not drain its queue: $(grep 'cluster:' "$T/run$i.err" | tail -1)"
done

# ---- faults: a correlator killed mid-sequence -------------------------------------------------
# a fourth instance taps a log nobody writes: it only correlates, and is killed (no flush, no
# lease given back) while the facts flow; its partitions move to the others, which rebuild them
# from the streams; the fence keeps what it wrote from being written again
rm -f "$T"/out*.json "$T"/log*/audit*.log
CNAME=kh$$c
for i in $(seq 0 $N); do start_instance "$i"; done
N4=$((N + 1))
N=$N4 wait_ready
sleep 5 # every instance holds a partition
grep -q 'took partition' "$T/run$N.err" || bad "the fourth correlator took no partition"
write_logs
sleep 1
kill -KILL "${PIDS[$N]}"
wait "${PIDS[$N]}" 2> /dev/null || true
unset "PIDS[$N]"
wait_logs
sleep 12 # lease (3 s) and membership run out, takeover, rebuild, lag
moved=$(cat "$T"/run[0-2].err | grep -c 'took partition' || true)
[ "$moved" -gt 4 ] && ok || bad "the killed correlator's partitions did not move ($moved takes)"
stop_all
compare "a correlator killed"

# ---- faults: Redis killed mid-stream, back with its append-only file --------------------------
stop_redis
rm -f "$T"/out*.json "$T"/log*/audit*.log "$T"/appendonly* "$T"/*.aof
rm -rf "$T/appendonlydir"
AOF=yes redis_aof
CNAME=kh$$d
# the outage (2 s, then the reconnect backoff) delays some instances' facts: a lag that covers
# it keeps the event-time order (a fact later than the lag is used out of order)
sed -i 's/lag: 2s/lag: 8s/' "$T/kh.yaml"
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
wait_ready
sleep 4
write_logs
sleep 1
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2> /dev/null || true
sleep 2
AOF=yes redis_aof
wait_logs
sleep 16 # reconnect backoff, lag
stop_all
compare "redis killed mid-stream"
for i in $(seq 0 $((N - 1))); do
	grep -q 'lost redis\|cannot reach redis' "$T/run$i.err" && ok ||
		bad "instance $i did not notice redis going away"
done

stop_redis
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
