#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM while keyhole saves its state file. The history is large (50,000 keys, 6 MB, from
# `keyhole replay` with a config naming state_file); a second replay adds 50,000 more and saves
# 100,000 keys (12 MB: write, fsync, rename takes tens of milliseconds). That second replay is
# sent SIGTERM three times in a row, again and again:
#   - at random moments of its run (loading, replaying, saving, exiting);
#   - the moment its temporary file <state_file>.tmp appears, plus 0-9 ms: inside the save.
# After each, whatever the moment:
#   - the state file is the old one byte for byte, or a whole new one that keyhole loads with
#     all 100,000 keys and no warning (nothing set aside as corrupt);
#   - no temporary file is left beside it;
#   - a signal that arrived during the save did not stop it: the state is the new one (the save
#     holds the stop signals back until its rename is done, then the process stops).
# SIGKILL during the save cannot be held back: the old state survives, the temporary file stays,
# and the next start removes it. `keyhole run` (when BPF is here) catches SIGTERM itself: sent
# repeatedly while it saves at exit, it finishes the save and exits 0.
#
# Usage: state_sigterm.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-sigterm.XXXXXX)
KPID=
cleanup() {
	if [ -n "$KPID" ]; then kill -KILL "$KPID" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

# N distinct (decision, username, user agent) combinations from FROM on: one history key each
gen() {
	awk -v from="$1" -v n="$2" 'BEGIN { for (i = from; i < from + n; i++) printf "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"%08x-0000-4000-8000-000000000000\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/team-%d/configmaps/cm\",\"verb\":\"get\",\"user\":{\"username\":\"system:serviceaccount:team-%d:worker-%07d\",\"groups\":[\"system:authenticated\"]},\"sourceIPs\":[\"10.0.%d.%d\"],\"userAgent\":\"app-worker/v2.%d (linux/amd64) kubernetes/3968350\",\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"team-%d\",\"name\":\"cm\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},\"requestReceivedTimestamp\":\"2026-11-23T10:00:00.000000Z\",\"stageTimestamp\":\"2026-11-23T10:00:00.001000Z\",\"annotations\":{\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"\"}}\n", i, i % 100, i % 100, i, int(i / 256) % 256, i % 256, i % 10, i % 100 }'
}
config() { # config FILE STATE: only the new-terms rule, so the history is all there is to it
	cat > "$1" <<EOF
state_file: $2
rules:
  k8s-secret-suspicious-ua: {enabled: false}
  k8s-secret-access-non-controller: {enabled: false}
  k8s-secret-read-node-or-pod-sa: {enabled: false}
  k8s-secret-configmap-arc-proxy: {enabled: false}
  k8s-secret-rapid-get: {enabled: false}
EOF
}
N_OLD=50000
N_NEW=100000
gen 0 "$N_OLD" > "$T/old.log"
gen "$N_OLD" "$((N_NEW - N_OLD))" > "$T/new.log"
STATE=$T/state/history.khs
mkdir "$T/state"
config "$T/keyhole.yaml" "$STATE"
config "$T/check.yaml" "$T/check.khs"

# keys LOADED FROM FILE: load a copy and say how many keys came back; fail on any warning
loaded_keys() {
	cp "$1" "$T/check.khs"
	"$KH" replay -q --config "$T/check.yaml" -o /dev/null /dev/null 2> "$T/check.err" ||
		fail "loading $1 failed: $(cat "$T/check.err")"
	if grep -qi 'warning\|corrupt\|set aside\|moved aside' "$T/check.err"; then
		fail "loading $1: $(cat "$T/check.err")"
	fi
	sed -n 's/.*loaded \([0-9]*\) history keys.*/\1/p' "$T/check.err"
}

"$KH" replay -q --config "$T/keyhole.yaml" -o /dev/null "$T/old.log" 2> "$T/old.err" ||
	fail "building the old state: $(cat "$T/old.err")"
cp "$STATE" "$T/old.khs"
[ "$(loaded_keys "$T/old.khs")" = "$N_OLD" ] || fail "the old state does not hold $N_OLD keys"

# one interrupted replay. MODE random: SIGTERM after DELAY seconds; MODE save: SIGTERM once the
# temporary file exists, DELAY seconds later; SIG: the signal. Sets VERDICT (old|new) and HIT
# (the temporary file existed when the first signal went).
interrupt() {
	local mode=$1 delay=$2 sig=$3 st
	cp "$T/old.khs" "$STATE"
	"$KH" replay -q --config "$T/keyhole.yaml" -o /dev/null "$T/new.log" 2> "$T/new.err" &
	KPID=$!
	if [ "$mode" = save ]; then
		while [ ! -e "$STATE.tmp" ] && kill -0 "$KPID" 2>/dev/null; do :; done
	fi
	sleep "$delay"
	HIT=0
	[ -e "$STATE.tmp" ] && HIT=1
	set +e
	{ # three times, and quietly: bash would say "Killed" when it reaps the job
		kill "-$sig" "$KPID"
		sleep 0.002
		kill "-$sig" "$KPID"
		sleep 0.002
		kill "-$sig" "$KPID"
		wait "$KPID"
		st=$?
	} 2> /dev/null
	set -e
	STATUS=$st
	KPID=
	case "$sig:$st" in
	TERM:0 | TERM:143 | KILL:0 | KILL:137) ;;
	*) fail "$mode $delay: keyhole replay exited $st after SIG$sig: $(cat "$T/new.err")" ;;
	esac
	if cmp -s "$STATE" "$T/old.khs"; then
		VERDICT=old
	else
		[ "$(loaded_keys "$STATE")" = "$N_NEW" ] ||
			fail "$mode $delay: the state file is neither the old one nor the whole new one"
		VERDICT=new
	fi
}

n_old=0
n_new=0
hits=0
stopped=0
for _ in $(seq 10); do
	d=$(printf '0.%03d' $((RANDOM % 600)))
	interrupt random "$d" TERM
	leftover=$(find "$T/state" -name 'history.khs?*')
	[ -z "$leftover" ] || fail "SIGTERM at $d s left $leftover behind"
	if [ "$VERDICT" = old ]; then n_old=$((n_old + 1)); else n_new=$((n_new + 1)); fi
done
for _ in $(seq 10); do
	d=$(printf '0.%03d' $((RANDOM % 10)))
	interrupt save "$d" TERM
	leftover=$(find "$T/state" -name 'history.khs?*')
	[ -z "$leftover" ] || fail "SIGTERM ${d} s into the save left $leftover behind"
	if [ "$HIT" = 1 ]; then
		hits=$((hits + 1))
		[ "$VERDICT" = new ] || fail "SIGTERM ${d} s into the save stopped it: the new state was lost"
		[ "$STATUS" = 143 ] && stopped=$((stopped + 1))
	fi
done
[ "$hits" -ge 5 ] || fail "only $hits of 10 signals landed inside a save"

# SIGKILL inside the save: the old state survives, the next start removes the temporary file
killed=0
for _ in $(seq 5); do
	interrupt save 0.00$((RANDOM % 10)) KILL
	[ "$VERDICT" = old ] || [ "$HIT" = 0 ] || fail "SIGKILL inside the save, yet a new state"
	if [ -e "$STATE.tmp" ]; then
		killed=1
		break
	fi
done
[ "$killed" = 1 ] || fail "SIGKILL never caught a save in progress"
[ "$VERDICT" = old ] || fail "SIGKILL inside the save, and the state is not the old one"
"$KH" replay --config "$T/keyhole.yaml" -o /dev/null /dev/null 2> "$T/next.err" ||
	fail "the next start failed: $(cat "$T/next.err")"
grep -q "removed .*history.khs.tmp" "$T/next.err" ||
	fail "the next start did not say it removed the temporary file: $(cat "$T/next.err")"
grep -q "loaded $N_OLD history keys" "$T/next.err" || fail "the next start: $(cat "$T/next.err")"
[ ! -e "$STATE.tmp" ] || fail "the next start left the temporary file"

# keyhole run: SIGTERM stops it and it saves at exit (a stand-in apiserver wrote a day of audit
# lines first, so there is something new to save); more SIGTERMs during that save change nothing
run_part="skipped (needs root and BPF)"
if [ "$(id -u)" = 0 ] && "$KH" probe > /dev/null 2>&1; then
	# the keys the live run must end with: the old state plus day 1, as replay counts them
	cp "$T/old.khs" "$T/ref.khs"
	config "$T/ref.yaml" "$T/ref.khs"
	"$KH" replay -q --config "$T/ref.yaml" -o /dev/null "$S/tests/data/history-day1.log" \
		2> /dev/null
	want=$(loaded_keys "$T/ref.khs")
	COMM=khs-$$
	ln -s "$B/tests/kube-apiserver" "$T/$COMM"
	mkdir "$T/live"
	cp "$T/old.khs" "$STATE"
	: > "$T/run.err"
	"$KH" run --config "$T/keyhole.yaml" --comm "$COMM" --audit-log "$T/live/audit.log" \
		--no-exec-watch --no-baseline -o /dev/null 2> "$T/run.err" &
	KPID=$!
	for _ in $(seq 150); do
		grep -q 'ready:' "$T/run.err" && break
		kill -0 "$KPID" 2>/dev/null || fail "keyhole run exited early: $(cat "$T/run.err")"
		sleep 0.1
	done
	grep -q 'ready:' "$T/run.err" || fail "keyhole run not ready: $(cat "$T/run.err")"
	"$T/$COMM" --audit-log-path "$T/live/audit.log" --input "$S/tests/data/history-day1.log" \
		--exit-when-done 2> /dev/null || fail "the stand-in failed"
	sleep 0.3
	kill -TERM "$KPID"
	while [ ! -e "$STATE.tmp" ] && kill -0 "$KPID" 2>/dev/null; do :; done
	[ -e "$STATE.tmp" ] && run_hit=1 || run_hit=0
	for _ in 1 2 3 4 5; do
		kill -TERM "$KPID" 2>/dev/null || true
		sleep 0.003
	done
	wait "$KPID" || fail "keyhole run exited $? after SIGTERMs during its save: $(cat "$T/run.err")"
	KPID=
	[ ! -e "$STATE.tmp" ] || fail "keyhole run left the temporary file"
	got=$(loaded_keys "$STATE")
	[ "$got" = "$want" ] || fail "keyhole run saved $got keys, want $want"
	run_part="$want keys saved whole under repeated SIGTERM (caught inside the save: $run_hit)"
fi

echo "state_sigterm: random SIGTERMs left the old state $n_old times, the new $n_new times;" \
	"$hits SIGTERMs inside a save kept the new state ($stopped stopped the process right after" \
	"it); SIGKILL's leftover removed at the next start; run: $run_part"
