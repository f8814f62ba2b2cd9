#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cluster mode over rediss:// against a real redis-server (Debian's, built with TLS) that listens
# on a TLS port only, with certificates the openssl CLI makes here (a CA, a server certificate
# for 127.0.0.1 and redis.test, a client certificate for tls-auth-clients, and a second CA that
# signed nothing of ours) and the shipped ACL. Checks:
#   - two `keyhole run --cluster rediss://...` instances, each tapping one stand-in apiserver's
#     log, give the alerts of `keyhole replay` of the merged logs, each once (as over redis://),
#     one verifying Redis by its IP, the other by the name redis.test (cluster.tls_server_name);
#   - Redis dropping every client mid-stream (CLIENT KILL): both reconnect with a new handshake,
#     the alerts are still the same;
#   - each failure is named and the password never printed: an untrusted CA, a host name
#     mismatch, no client certificate for a tls-auth-clients server, rediss:// to a plain-text
#     port, redis:// to the TLS port, TLS settings with a redis:// URL, an unreadable CA file.
# Needs root and BPF (the tap): without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: cluster_tls.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-cluster-tls.XXXXXX)
PIDS=()
REDIS_PIDS=()
cleanup() {
	for p in "${PIDS[@]}" "${REDIS_PIDS[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2> /dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
. "$S/tests/lib/e2e_cluster.sh"
die() {
	echo "FAIL: $*"
	for f in "$T"/*.err "$T"/redis*.log; do
		[ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -20
	done
	exit 1
}

need_bpf_and_redis "cluster TLS e2e"
command -v openssl > /dev/null || die "openssl is not installed (scripts/install-deps)"

# ---- certificates ------------------------------------------------------------------------------
C=$T/certs
mkdir -p "$C"
mkca() { # mkca NAME
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=keyhole test $1" \
		-keyout "$C/$1.key" -out "$C/$1.crt" 2> /dev/null
}
mkcert() { # mkcert NAME CA SUBJECT_ALT_NAME EXTENDED_KEY_USAGE
	openssl req -newkey rsa:2048 -nodes -subj "/CN=keyhole test $1" -keyout "$C/$1.key" \
		-out "$C/$1.csr" 2> /dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" > "$C/$1.ext"
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial \
		-days 2 -extfile "$C/$1.ext" -out "$C/$1.crt" 2> /dev/null
}
mkca ca
mkca wrongca
mkcert server ca "IP:127.0.0.1,DNS:redis.test" serverAuth
mkcert client ca "DNS:keyhole" clientAuth
for f in ca.crt wrongca.crt server.crt client.crt; do
	[ -s "$C/$f" ] || die "openssl did not make $f"
done

# ---- redis: a TLS port only (port 0), client certificates required, the shipped ACL ------------
PORT=$(free_port)
PLAIN_PORT=$(free_port)
echo "kh-tls-$$-$RANDOM" > "$T/pw"
redis_acl
RCLI=(redis-cli -h 127.0.0.1 -p "$PORT" --tls --cacert "$C/ca.crt" --cert "$C/client.crt"
	--key "$C/client.key" --user admin --pass adminpw --no-auth-warning)
start_redis() { # the TLS one
	redis-server --port 0 --tls-port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--tls-cert-file "$C/server.crt" --tls-key-file "$C/server.key" \
		--tls-ca-cert-file "$C/ca.crt" --tls-auth-clients yes \
		--dir "$T" --aclfile "$T/users.acl" >> "$T/redis.log" 2>&1 &
	REDIS_PIDS+=($!)
	redis_up "redis-server (TLS)"
}
start_redis
redis-server --port "$PLAIN_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
	--aclfile "$T/users.acl" >> "$T/redis-plain.log" 2>&1 &
REDIS_PIDS+=($!)
for _ in $(seq 100); do
	redis-cli -p "$PLAIN_PORT" --user admin --pass adminpw --no-auth-warning ping 2> /dev/null |
		grep -q PONG && break
	sleep 0.1
done

tls_yaml() { # tls_yaml FILE [extra lines]: the keyhole user, the CA, the client certificate
	{
		printf 'cluster:\n  user: keyhole\n  password_file: %s\n' "$T/pw"
		printf '  partitions: 4\n  lease: 3s\n  lag: 2s\n'
		printf '  tls_cert_file: %s\n  tls_key_file: %s\n' "$C/client.crt" "$C/client.key"
		for l in "${@:2}"; do printf '  %s\n' "$l"; done
	} > "$1"
}
tls_yaml "$T/kh0.yaml" "tls_ca_file: $C/ca.crt"
tls_yaml "$T/kh1.yaml" "tls_ca_file: $C/ca.crt" "tls_server_name: redis.test"

# ---- the input: the attack and rapid-get logs over two apiservers -------------------------------
N=2
python3 "$S/tests/lib/cluster_split.py" "$T" "$N" "$S/tests/data/attack.log" \
	"$S/tests/data/rapid-get.log"
"$KH" replay "$T/merged.log" > "$T/expected.json" 2> /dev/null
sort "$T/expected.json" > "$T/expected.sorted"
grep -q '"k8s-escalate-then-loot"' "$T/expected.json" || die "the input makes no incident"

CNAME=kh$$a
start_instance() {
	local i=$1
	mkdir -p "$T/log$i"
	ln -sf "$B/tests/kube-apiserver" "$T/kht$i-$$"
	"$KH" run --cluster "rediss://127.0.0.1:$PORT" --cluster-name "$CNAME" -c "$T/kh$i.yaml" \
		--node-name "cp$i" --role control-plane --comm "kht$i-$$" \
		--audit-log "$T/log$i/audit.log" --no-exec-watch --no-audit-guard --no-baseline \
		-o "$T/out$i.json" 2> "$T/run$i.err" &
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
write_logs() {
	WRITERS=()
	for i in $(seq 0 $((N - 1))); do
		"$T/kht$i-$$" --audit-log-path "$T/log$i/audit.log" --input "$T/api$i.log" \
			--threads 1 --ordered --rate 300 --exit-when-done 2> "$T/standin$i.err" &
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

# ---- the cluster over TLS ----------------------------------------------------------------------
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
wait_ready
for i in $(seq 0 $((N - 1))); do
	grep -q "cluster: connected to redis at 127.0.0.1:$PORT" "$T/run$i.err" && ok ||
		bad "instance $i did not connect over TLS: $(grep cluster "$T/run$i.err" | head -3)"
done
sleep 4 # a lease round: the partitions spread over the two
write_logs
wait_logs
sleep 4 # the lag, and a read round
"${RCLI[@]}" --raw keys "$CNAME:facts:*" > "$T/streams"
[ -s "$T/streams" ] && ok || bad "no fact stream reached Redis over TLS"
stop_all
compare "over rediss://"
for i in $(seq 0 $((N - 1))); do
	grep -q 'cluster: .* 0 queued, 0 dropped' "$T/run$i.err" && ok ||
		bad "instance $i: $(grep 'cluster:' "$T/run$i.err" | tail -1)"
done

# ---- Redis drops every client mid-stream: a new handshake each, same alerts --------------------
rm -f "$T"/out*.json "$T"/log*/audit*.log
CNAME=kh$$b
for i in $(seq 0 $((N - 1))); do start_instance "$i"; done
wait_ready
sleep 4
write_logs
sleep 1.5
"${RCLI[@]}" client kill user keyhole > "$T/killed.txt"
wait_logs
sleep 10 # reconnect backoff, lag
stop_all
[ "$(cat "$T/killed.txt")" -ge 2 ] && ok || bad "CLIENT KILL dropped $(cat "$T/killed.txt") clients"
compare "TLS links dropped mid-stream"
again=$(cat "$T"/run*.err | grep -c 'connected to redis at .* again' || true)
[ "$again" -ge 2 ] && ok || bad "the dropped links were not re-established ($again reconnects said)"
for i in $(seq 0 $((N - 1))); do
	grep -q 'cluster: .* 0 queued, 0 dropped' "$T/run$i.err" && ok ||
		bad "instance $i after the drop: $(grep 'cluster:' "$T/run$i.err" | tail -1)"
done

# ---- failures, each named -----------------------------------------------------------------------
run_err() { # run_err NAME ARGS...: start, expect an exit (a configuration fault) with its reason
	local name=$1
	shift
	timeout 30 "$KH" run --no-exec-watch --no-audit-guard --no-baseline --comm "khx-$$" \
		--role node -o "$T/x.json" "$@" > /dev/null 2> "$T/$name.txt" && return 1
	return 0
}
expect() { # expect NAME PATTERN WHAT ARGS...
	local name=$1 pat=$2 what=$3
	shift 3
	if run_err "$name" "$@" && grep -q "$pat" "$T/$name.txt"; then
		ok
	else
		bad "$what is not named: $(grep -v '^keyhole: \(capture\|pipeline\)' "$T/$name.txt" | head -3)"
	fi
}
tls_yaml "$T/wrongca.yaml" "tls_ca_file: $C/wrongca.crt"
expect untrusted "certificate of redis 127.0.0.1:$PORT is not trusted" "an untrusted CA" \
	--cluster "rediss://127.0.0.1:$PORT" -c "$T/wrongca.yaml"
tls_yaml "$T/mismatch.yaml" "tls_ca_file: $C/ca.crt" "tls_server_name: wrong.example"
expect mismatch "host name mismatch: .* is not for 'wrong.example' (it names IP:127.0.0.1, DNS:redis.test)" \
	"a host name mismatch" --cluster "rediss://127.0.0.1:$PORT" -c "$T/mismatch.yaml"
printf 'cluster:\n  user: keyhole\n  password_file: %s\n  tls_ca_file: %s\n' "$T/pw" \
	"$C/ca.crt" > "$T/nocert.yaml"
expect nocert "the server ended the TLS session: .*certificate required" \
	"a server refusing a client without a certificate" \
	--cluster "rediss://127.0.0.1:$PORT" -c "$T/nocert.yaml"
expect plain "redis 127.0.0.1:$PLAIN_PORT speaks plain text, not TLS" "rediss:// to a plain port" \
	--cluster "rediss://127.0.0.1:$PLAIN_PORT" -c "$T/kh0.yaml"
printf 'cluster:\n  user: keyhole\n  password_file: %s\n' "$T/pw" > "$T/plain.yaml"
expect tlsport "closed the connection at the first command.*if it is a TLS port, use rediss://" \
	"redis:// to the TLS port" --cluster "redis://127.0.0.1:$PORT" -c "$T/plain.yaml"
expect mixed "cluster.tls_ca_file is set but the URL is redis://" "TLS settings on redis://" \
	--cluster "redis://127.0.0.1:$PLAIN_PORT" -c "$T/plain.yaml" --cluster-tls-ca "$C/ca.crt"
expect nocafile "cluster.tls_ca_file $T/none.crt: No such file or directory" "a missing CA file" \
	--cluster "rediss://127.0.0.1:$PORT" -c "$T/plain.yaml" --cluster-tls-ca "$T/none.crt"
# the flag gives the CA too, and the URL's password is not printed on any failure
expect flagca "is not trusted" "--cluster-tls-ca" \
	--cluster "rediss://keyhole:$(cat "$T/pw")@127.0.0.1:$PORT" --cluster-tls-ca "$C/wrongca.crt"
if grep -qF "$(cat "$T/pw")" "$T"/*.txt "$T"/run*.err; then
	bad "the password was printed"
else ok; fi

for p in "${REDIS_PIDS[@]}"; do
	kill -TERM "$p" 2> /dev/null || true
	wait "$p" 2> /dev/null || true
done
REDIS_PIDS=()
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
