# SPDX-License-Identifier: Apache-2.0
# Shared by the cluster end-to-end scripts (cluster*.sh),
# sourced after they set KH, S and T and define die: the pass/fail tally, the BPF gate (a skip
# becomes a failure under KEYHOLE_REQUIRE_BPF=1), a free loopback port, a redis-server with the
# shipped ACL (PORT and RCLI set by the script), and the per-thread capability check.
pass=0
failed=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

need_bpf_and_redis() { # need_bpf_and_redis WHAT: exits 0 (skip) or through die
	local why
	if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
		why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
		[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && die "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
		echo "*** SKIPPING $1: $why ***"
		exit 0
	fi
	command -v redis-server > /dev/null || die "redis-server is not installed (scripts/install-deps)"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# threads_within_main PID: every thread of PID holds no capability (permitted or effective)
# that its main thread gave up; cluster threads start before the main thread's drop and must
# drop on their own (capabilities are per thread)
threads_within_main() {
	local pid=$1 main task prm eff n=0
	main=$(awk '/^CapPrm:/ {print $2}' "/proc/$pid/status")
	for task in /proc/"$pid"/task/*; do
		prm=$(awk '/^CapPrm:/ {print $2}' "$task/status" 2> /dev/null) || continue
		eff=$(awk '/^CapEff:/ {print $2}' "$task/status" 2> /dev/null) || continue
		[ -n "$prm" ] || continue
		n=$((n + 1))
		if (((0x$prm | 0x$main) != 0x$main || (0x$eff | 0x$main) != 0x$main)); then
			bad "thread $(cat "$task/comm") ($task) holds CapPrm $prm CapEff $eff, main thread $main"
			return
		fi
	done
	[ "$n" -gt 2 ] && ok || bad "only $n threads found in /proc/$pid/task"
}

# redis_acl: $T/users.acl, the shipped least-privilege ACL (keyhole's password from $T/pw, its keys
# under this run's prefix kh$$) plus an admin user for the test's own commands (RCLI)
redis_acl() {
	grep -v '^#' "$S/deploy/redis/users.acl" | sed -e "s/@@KEYHOLE_PASSWORD@@/$(cat "$T/pw")/" \
		-e "s/~keyhole:\*/~kh$$*/" > "$T/users.acl"
	echo "user admin on >adminpw ~* &* +@all" >> "$T/users.acl"
}

# redis_up WHAT: wait for RCLI's PONG, else die with the server log's tail
redis_up() {
	for _ in $(seq 100); do
		"${RCLI[@]}" ping 2> /dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	die "$1 did not start: $(tail -5 "$T/redis.log")"
}

# start_redis [ARGS...]: redis-server on loopback $PORT with a fresh $T/users.acl and ARGS;
# sets REDIS_PID
start_redis() {
	redis_acl
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' --dir "$T" --aclfile "$T/users.acl" \
		"$@" >> "$T/redis.log" 2>&1 &
	REDIS_PID=$!
	redis_up redis-server
}
stop_redis() {
	kill -TERM "$REDIS_PID" 2> /dev/null || true
	wait "$REDIS_PID" 2> /dev/null || true
	REDIS_PID=
}
