#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No blind window across a restart (issue 19), through the real binaries: `keyhole run` with a
# state file follows a stand-in apiserver (a copy named khr-<pid>, exec watch and audit guard off)
# writing the bundled benign and attack logs with rotations; keyhole is stopped mid-way, the
# stand-in writes on (rotating) while it is down, and keyhole is started again.
# Every rule and the correlator are on; both runs append to one output file, as a deployment does.
#   1. SIGTERM: the alerts of both runs equal `keyhole replay` of every file once (incident
#      revisions included), none twice (the seam between catch-up and the live tap included);
#   2. SIGKILL, and the apiserver gone too when keyhole comes back (the log is read by the path
#      the checkpoint names): the same, exactly once: the alerts written after the last save are
#      found in the output file's tail and not written again;
#   3. a downtime larger than --catchup-max-bytes: the skipped range is a keyhole-catchup-skipped
#      alert with its bytes, and the rest is caught up;
#   4. the checkpoint's file deleted during the downtime: reported (reason vanished), not fatal,
#      and the newer files are caught up;
#   5. `keyhole replay --resume STATE` over a growing set of files neither repeats nor skips;
#   6. restarts at chosen lines, inside an escalate-then-loot incident, a rapid-get burst and a
#      request's two stages: the warm-up rebuilds windows, incidents and the dedupe, and the
#      runs' alerts equal replay's (a request's alert may come from its RequestReceived stage,
#      written by the clean stop: counted and printed, not a failure).
# Needs root and BPF: without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: restart_resume.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-resume-e2e.XXXXXX)
KPID=
SPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null || true
	[ "${KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); }
bad() {
	echo "FAIL: $*"
	FAILED=$((FAILED + 1))
}
die() {
	echo "FAIL: $*"
	for f in "$T"/*.err; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -15; done
	exit 1
}

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && die "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
	echo "*** SKIPPING restart/resume e2e: $why ***"
	exit 0
fi

COMM=khr-$$
ln -s "$B/tests/kube-apiserver" "$T/$COMM"
cat "$S/tests/data/benign-controlplane.log" "$S/tests/data/attack.log" > "$T/input.log"
NIN=$(wc -l < "$T/input.log")

config() { # config DIR: state file in DIR, every rule and the correlator on
	cat > "$1/keyhole.yaml" <<EOC
state_file: $1/state.khs
state_save_interval: 1s
# the bundled logs are from November 2026: no age bound, or all of it would be too old
capture: {catchup_max_age: 0s}
EOC
}

start_keyhole() { # start_keyhole DIR NAME [ARGS...]: background, waits for ready
	local d=$1 name=$2
	shift 2
	: > "$d/$name.err"
	"$KH" run --comm "$COMM" --no-exec-watch --no-audit-guard --config "$d/keyhole.yaml" \
		--output "${OUT:-$d/$name.json}" "$@" 2> "$d/$name.err" &
	KPID=$!
	for _ in $(seq 150); do
		grep -q 'ready:' "$d/$name.err" && return 0
		kill -0 "$KPID" 2>/dev/null || die "keyhole run ($name) exited early: $(cat "$d/$name.err")"
		sleep 0.1
	done
	die "keyhole run ($name) not ready in 15 s"
}

# the alerts of a run, one per line: "rule auditID" for a request's alert (one per request,
# whatever its stage), "rule incident-id revision evidence..." for an incident revision
keys() {
	jq -r 'if .keyhole.incident then [.rule.id, .keyhole.incident.id, (.keyhole.incident.revision | tostring)] + .evidence.audit_ids
	       else [.rule.id, .kubernetes.audit.auditID // "-"] end | join(" ")' "$@"
}
# the stage each request's alert came from
stages() { jq -r 'select(.kubernetes.audit.auditID) | [.rule.id, .kubernetes.audit.auditID, .kubernetes.audit.stage] | join(" ")' "$@"; }

# every file the stand-in wrote, oldest first (lumberjack names sort by time), the live one last
all_files() { echo $(ls "$1"/log/audit-*.log 2> /dev/null | sort) "$1/log/audit.log"; }

# ---- 1 and 2: stopped mid-way while the stand-in writes, rotations during the downtime ----
scenario() { # scenario SIGNAL
	local sig=$1 d=$T/$1
	mkdir -p "$d/log"
	config "$d"
	# both runs append to one output file, as a deployment does: the restart reads its tail back
	OUT=$d/alerts.json
	start_keyhole "$d" run1
	"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$T/input.log" --threads 2 \
		--ordered --rate 120 --rotate-bytes 65536 --exit-when-done 2> "$d/standin.err" &
	SPID=$!
	sleep 1.2
	kill -"$sig" "$KPID"
	wait "$KPID" 2> /dev/null || true
	KPID=
	cp "$OUT" "$d/run1.json"
	local at_stop
	at_stop=$(cat "$d"/log/*.log | wc -l)
	sleep 1.2 # the stand-in writes and rotates while keyhole is down
	local rotated_down
	rotated_down=$(ls "$d"/log/audit-*.log 2> /dev/null | wc -l)
	if [ "$sig" = KILL ]; then
		# the apiserver is gone too when keyhole comes back: the log is read by its path
		wait "$SPID" || die "stand-in failed: $(cat "$d/standin.err")"
		SPID=
		start_keyhole "$d" run2
		grep -q "catch-up: no apiserver writes $d/log/audit.log now" "$d/run2.err" ||
			bad "KILL: the log of an apiserver that is not running was not read by its path"
	else
		start_keyhole "$d" run2
		kill -0 "$SPID" 2> /dev/null || echo "note: the stand-in ended before the restart"
		wait "$SPID" || die "stand-in failed: $(cat "$d/standin.err")"
		SPID=
	fi
	sleep 1
	kill -INT "$KPID"
	wait "$KPID" || bad "$sig: keyhole run (restart) exited with $?"
	KPID=
	tail -n +"$(($(wc -l < "$d/run1.json") + 1))" "$OUT" > "$d/run2.json"
	OUT=

	local written
	written=$(cat $(all_files "$d") | wc -l)
	[ "$written" = "$NIN" ] || die "$sig: the stand-in wrote $written of $NIN lines"
	[ "$at_stop" -gt 0 ] && [ "$at_stop" -lt "$NIN" ] || bad "$sig: not stopped mid-way ($at_stop lines)"
	[ "$rotated_down" -ge 1 ] || bad "$sig: no rotation before the restart"
	# expected: every file replayed once, with a fresh history
	mkdir "$d/replay"
	config "$d/replay"
	# shellcheck disable=SC2046
	"$KH" replay -q --config "$d/replay/keyhole.yaml" -o "$d/replay.json" $(all_files "$d") ||
		die "$sig: replay failed"
	keys "$d/replay.json" | sort > "$d/expected"
	keys "$d/run1.json" "$d/run2.json" | sort > "$d/union"
	local n1 n2 nexp dups missing
	n1=$(wc -l < "$d/run1.json")
	n2=$(wc -l < "$d/run2.json")
	nexp=$(wc -l < "$d/expected")
	[ "$nexp" -ge 20 ] || die "$sig: replay gave only $nexp alerts"
	missing=$(comm -23 "$d/expected" <(sort -u "$d/union") | wc -l)
	dups=$(uniq -d "$d/union" | wc -l)
	grep -q "catch-up of $d/log/audit.log: from " "$d/run2.err" || bad "$sig: no catch-up at restart"
	[ "$missing" = 0 ] && ok || bad "$sig: $missing alerts missing after the restart: $(comm -23 "$d/expected" <(sort -u "$d/union") | head -3)"
	# exactly replay's alerts, each once: the warm-up restored the dedupe, and the output
	# file's tail read back keeps the alerts written after the last save (KILL) from repeating
	local extra stagediff
	extra=$(comm -13 "$d/expected" "$d/union" | wc -l)
	[ "$extra" = 0 ] && ok || bad "$sig: $extra alerts replay does not give (or gives fewer times): $(comm -13 "$d/expected" "$d/union" | head -3)"
	[ "$dups" = 0 ] && ok || bad "$sig: $dups alerts written twice: $(uniq -d "$d/union" | head -3)"
	grep -q "warm-up of $d/log/audit.log: [1-9][0-9]* lines" "$d/run2.err" || bad "$sig: no warm-up at restart"
	[ "$sig" = KILL ] || grep -q 'catch-up: .* 0 range(s) skipped' "$d/run2.err" || bad "TERM: no catch-up summary"
	stagediff=$(comm -3 <(stages "$d/replay.json" | sort) <(stages "$d/run1.json" "$d/run2.json" | sort) | wc -l)
	echo "$sig: stopped after $at_stop of $NIN lines, $rotated_down rotation(s) while down;" \
		"$n1 + $n2 alerts, replay $nexp, missing $missing, extra $extra, doubles $dups," \
		"$((stagediff / 2)) from another stage;" \
		"$(grep -o 'catch-up: [0-9]* lines[^,]*' "$d/run2.err")"
}
scenario TERM
scenario KILL

# ---- 3 and 4: the bound, and a vanished file (the stand-in writes while keyhole is down) ----
half=$((NIN / 2))
head -n "$half" "$T/input.log" > "$T/part1.log"
tail -n +"$((half + 1))" "$T/input.log" > "$T/part2.log"
downtime() { # downtime DIR: part 1 live, stop, part 2 with rotations while keyhole is down
	local d=$1
	mkdir -p "$d/log"
	config "$d"
	start_keyhole "$d" run1 --audit-log "$d/log/audit.log"
	"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$T/part1.log" --ordered \
		--exit-when-done 2> "$d/standin.err" || die "stand-in failed"
	sleep 1
	kill -TERM "$KPID"
	wait "$KPID" || die "keyhole run (part 1) exited with $?"
	KPID=
	"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$T/part2.log" --ordered \
		--rotate-bytes 65536 --exit-when-done 2> "$d/standin.err" || die "stand-in failed"
}

d=$T/bound
downtime "$d"
down_bytes=$(($(cat $(all_files "$d") | wc -c) - $(wc -c < "$T/part1.log")))
start_keyhole "$d" run2 --audit-log "$d/log/audit.log" --catchup-max-bytes 100000
kill -INT "$KPID"
wait "$KPID" || bad "bound: keyhole run exited with $?"
KPID=
skip=$(jq -c 'select(.rule.id == "keyhole-catchup-skipped") | .keyhole.catchup' "$d/run2.json")
[ "$(echo "$skip" | jq -r .reason)" = max_bytes ] && ok || bad "bound: no skipped-range alert: $skip"
skipped=$(echo "$skip" | jq -r .bytes)
caught=$(grep -o 'catch-up: [0-9]* lines ([0-9]* bytes)' "$d/run2.err" | grep -o '([0-9]*' | tr -d '(')
# the cut lands inside a line: the rest of that line goes with the skipped range
[ -n "$caught" ] && [ "$caught" -le 100000 ] && [ "$caught" -gt 90000 ] &&
	[ "$((caught + skipped))" = "$down_bytes" ] && ok ||
	bad "bound: caught up ${caught:-?} and skipped $skipped bytes of $down_bytes (bound 100000)"
[ "$(echo "$skip" | jq -r '.from != null and .to != null')" = true ] && ok || bad "bound: no time span: $skip"
grep -q "1 range(s) skipped ($skipped bytes)" "$d/run2.err" && ok ||
	bad "bound: the exit summary does not count the skipped range"

d=$T/vanished
downtime "$d"
oldest=$(ls "$d"/log/audit-*.log | sort | head -1)
rm -f "$oldest" # the file the checkpoint names: rotated away and deleted while keyhole was down
start_keyhole "$d" run2 --audit-log "$d/log/audit.log"
kill -INT "$KPID"
wait "$KPID" || bad "vanished: keyhole run exited with $? (must not be fatal)"
KPID=
[ "$(jq -r 'select(.rule.id == "keyhole-catchup-skipped") | .keyhole.catchup.reason' "$d/run2.json")" = vanished ] &&
	ok || bad "vanished: no keyhole-catchup-skipped alert: $(head -c 300 "$d/run2.json")"
# the files that remain are caught up whole: their lines equal what remains on disk
rest=$(cat $(all_files "$d") | wc -l)
grep -q "catch-up: $rest lines" "$d/run2.err" && ok ||
	bad "vanished: expected $rest lines caught up: $(grep 'catch-up:' "$d/run2.err")"

# ---- 6: windows and incidents across the restart, at chosen lines of the scenario ----
# 420: between the escalate-then-loot grant (line 391) and its loot (453..482): the incident
#      must open after the restart with the id and steps replay gives;
# 530: inside the rapid-get burst (527, 535, 545): its first read is before the restart;
# 545: between the two stages of the request that completes the burst: its RequestReceived
#      alert is held at the stop and written by the clean stop; the restart must not write it
#      again from the later stage.
cut_at() { # cut_at LINE
	local n=$1 d=$T/cut$1
	mkdir -p "$d/log"
	config "$d"
	head -n "$n" "$T/input.log" > "$d/part1.log"
	tail -n +"$((n + 1))" "$T/input.log" > "$d/part2.log"
	OUT=$d/alerts.json
	start_keyhole "$d" run1 --audit-log "$d/log/audit.log"
	"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$d/part1.log" --ordered \
		--exit-when-done 2> "$d/standin.err" || die "stand-in failed"
	sleep 1
	kill -TERM "$KPID"
	wait "$KPID" || die "keyhole run (cut $n, part 1) exited with $?"
	cp "$OUT" "$d/run1.json"
	"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$d/part2.log" --ordered \
		--rotate-bytes 65536 --exit-when-done 2> "$d/standin.err" || die "stand-in failed"
	start_keyhole "$d" run2 --audit-log "$d/log/audit.log"
	kill -INT "$KPID"
	wait "$KPID" || bad "cut $n: keyhole run exited with $?"
	KPID=
	OUT=
	tail -n +"$(($(wc -l < "$d/run1.json") + 1))" "$d/alerts.json" > "$d/run2.json"
	mkdir "$d/replay"
	config "$d/replay"
	# shellcheck disable=SC2046
	"$KH" replay -q --config "$d/replay/keyhole.yaml" -o "$d/replay.json" $(all_files "$d") ||
		die "cut $n: replay failed"
	keys "$d/replay.json" | sort > "$d/expected"
	keys "$d/run1.json" "$d/run2.json" | sort > "$d/union"
	grep -q '^k8s-secret-rapid-get ' "$d/expected" && grep -q '^k8s-escalate-then-loot ' "$d/expected" ||
		die "cut $n: replay gave no rapid-get or incident"
	diff -q "$d/expected" "$d/union" > /dev/null && ok ||
		bad "cut $n: the runs' alerts differ from one replay: $(diff "$d/expected" "$d/union" | grep '^[<>]' | head -4)"
	echo "cut $n: $(wc -l < "$d/run1.json") + $(wc -l < "$d/run2.json") alerts, replay $(wc -l < "$d/expected");" \
		"$(comm -3 <(stages "$d/replay.json" | sort) <(stages "$d/run1.json" "$d/run2.json" | sort) | wc -l | awk '{print $1 / 2}') from another stage;" \
		"$(grep -o 'warm-up: .*' "$d/run2.err")"
}
cut_at 420
cut_at 530
cut_at 545

# ---- 5: replay --resume over a growing set of files ----
d=$T/replay
mkdir -p "$d/log"
config "$d"
"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$T/part1.log" --ordered \
	--rotate-bytes 65536 --exit-when-done 2> "$d/standin.err" || die "stand-in failed"
# shellcheck disable=SC2046
"$KH" replay -q --config "$d/keyhole.yaml" --resume "$d/state.khs" -o "$d/r1.json" $(all_files "$d") ||
	bad "replay --resume (first) failed"
"$T/$COMM" --audit-log-path "$d/log/audit.log" --input "$T/part2.log" --ordered \
	--rotate-bytes 65536 --exit-when-done 2> "$d/standin.err" || die "stand-in failed"
# shellcheck disable=SC2046
"$KH" replay -q --config "$d/keyhole.yaml" --resume "$d/state.khs" -o "$d/r2.json" $(all_files "$d") ||
	bad "replay --resume (second) failed"
# shellcheck disable=SC2046
"$KH" replay -q --config "$d/keyhole.yaml" --resume "$d/state.khs" -o "$d/r3.json" $(all_files "$d") ||
	bad "replay --resume (third) failed"
mkdir "$d/once"
config "$d/once"
# shellcheck disable=SC2046
"$KH" replay -q --config "$d/once/keyhole.yaml" -o "$d/once.json" $(all_files "$d")
cat "$d/r1.json" "$d/r2.json" | keys | sort > "$d/union"
keys "$d/once.json" | sort > "$d/expected"
[ -s "$d/r1.json" ] && [ -s "$d/r2.json" ] && ok || bad "replay --resume: a run gave no alerts"
diff -q "$d/expected" "$d/union" > /dev/null && ok ||
	bad "replay --resume: the runs' alerts differ from one replay: $(diff "$d/expected" "$d/union" | head -4)"
[ ! -s "$d/r3.json" ] && ok || bad "replay --resume with nothing new alerted: $(head -c 200 "$d/r3.json")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
