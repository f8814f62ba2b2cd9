#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# node-audit-log-tamper through the real binaries: `keyhole run` captures a stand-in apiserver
# (a copy named khg-<pid>, so other tests' apiservers are not its targets), and other processes
# then do to the live audit log what an intruder would. Each case is one command; keyhole must
# raise exactly the alert named, with the process that did it:
#   - `sh -c 'echo ... >> audit.log'`            open-write  (the kernel matched the inode)
#   - `truncate -s 0 audit.log` (open+ftruncate)  open-write, truncate (bytes lost)
#   - truncate(2) by path (python os.truncate)    truncate
#   - `mv audit.log moved.log`                    rename-away
#   - a symlink to /dev/null moved onto it        replace
#   - `rm` of that symlink                        unlink
#   - `cd log && rm audit.log` (a bare name)      unlink (the kernel matched directory + name)
#   - `rm` through a path longer than the kernel reads (./././...)   unlink, path_truncated
#   - open(O_RDONLY|O_TRUNC) (python)            truncate (no write access needed to truncate)
#   - `echo >>` through a hard link in another directory                open-write
#   - truncate(2) of /proc/self/fd/N of an O_PATH descriptor             truncate (by effect)
#   - `rm /proc/self/cwd/audit.log` from the log's directory             unlink (the remover's
#     /proc/self, not keyhole's)
#   - `cd log && mv /elsewhere/audit.log audit.log`                       replace
# and these must raise nothing: the apiserver's own writes and rotations by rename, reading the
# log (cat, tail), and creating, renaming and removing an audit.log in another directory (counted
# as lookalikes). Between cases the stand-in writes again, as the apiserver would, so the log
# exists and keyhole knows the inode it writes. The per-event alerts of the apiserver's own
# lines still equal replay's, and nothing was lost.
# Needs root and BPF: without them it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: audit_log_tamper.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$2
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-tamper-e2e.XXXXXX)
KPID=
cleanup() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KH_KEEP:-}" ] && trap - EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$T/run.err" ] && sed 's/^/  run: /' "$T/run.err"
	[ -f "$T/alerts.json" ] && jq -c 'select(.rule.id == "node-audit-log-tamper") |
		[.event.action, .process.name, .keyhole.audit_log_tamper]' "$T/alerts.json" |
		sed 's/^/  alert: /'
	exit 1
}

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/probe.txt" 2>&1; then
	why=$(grep -E 'NOT work|not root' "$T/probe.txt" || echo "not root")
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && fail "BPF unavailable and KEYHOLE_REQUIRE_BPF=1: $why"
	echo "*** SKIPPING audit-log tamper e2e: $why ***"
	exit 0
fi

mkdir "$T/log" "$T/other"
LOG=$T/log/audit.log
COMM=khg-$$
ln -s "$B/tests/kube-apiserver" "$T/$COMM"

"$KH" run --comm "$COMM" --audit-log "$LOG" --no-exec-watch --no-baseline \
	--output "$T/alerts.json" 2> "$T/run.err" &
KPID=$!
for _ in $(seq 100); do
	grep -q 'ready:' "$T/run.err" && break
	kill -0 "$KPID" 2>/dev/null || fail "keyhole run exited early"
	sleep 0.1
done
grep -q 'ready:' "$T/run.err" || fail "keyhole run not ready in 10 s"
grep -q 'audit guard did not load' "$T/run.err" && fail "the audit guard did not load"

tamper_count() {
	jq -s '[.[] | select(.rule.id == "node-audit-log-tamper")] | length' "$T/alerts.json"
}
# wait until keyhole has written N tamper alerts in all (it writes them as they happen)
await() {
	local want=$1 what=$2
	for _ in $(seq 100); do
		[ "$(tamper_count)" -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "$what: $(tamper_count) tamper alerts, want $want"
}
# the apiserver writes (again): the log exists and keyhole has seen the inode it writes
apiserver_writes() {
	"$T/$COMM" --audit-log-path "$LOG" --generate 5 --line-bytes 600 --alert-every 0 \
		--exit-when-done 2>> "$T/standin.err" || fail "stand-in: $(cat "$T/standin.err")"
	sleep 0.2
}

# the apiserver's own work: every line (in input order, so that first-seen rules alert on the
# same lines as replay), rotated by rename every 32 KB, read by a log reader
"$T/$COMM" --audit-log-path "$LOG" --input "$S/tests/data/attack.log" --threads 2 --ordered \
	--rotate-bytes 32768 --exit-when-done 2> "$T/standin.err" ||
	fail "stand-in failed: $(cat "$T/standin.err")"
cat "$LOG" > /dev/null
tail -n 1 "$LOG" > /dev/null
touch "$T/other/audit.log"
mv "$T/other/audit.log" "$T/other/audit.log.1"
mv "$T/other/audit.log.1" "$T/other/audit.log"
rm "$T/other/audit.log"
sleep 0.5
[ "$(tamper_count)" = 0 ] || fail "alerts without tampering (rotation, reads, lookalikes)"

sh -c "echo '{\"forged\": true}' >> '$LOG'"
await 1 "append by sh"
truncate -s 0 "$LOG"
await 3 "truncate -s 0"
apiserver_writes
python3 -c 'import os, sys; os.truncate(sys.argv[1], 100)' "$LOG"
await 4 "truncate(2) by path"
apiserver_writes
mv "$LOG" "$T/log/moved.log"
await 5 "mv away"
apiserver_writes
ln -s /dev/null "$T/evil"
mv -T "$T/evil" "$LOG"
await 6 "symlink moved onto the log"
rm "$LOG"
await 7 "rm of the symlink"
apiserver_writes
(cd "$T/log" && rm audit.log)
await 8 "rm of a bare name"
apiserver_writes
long=$T/log/$(printf './%.0s' $(seq 160))audit.log
rm "$long"
await 9 "rm through a long path"
apiserver_writes
# O_RDONLY|O_TRUNC truncates without write access
python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC))' "$LOG"
await 10 "a read-only open with O_TRUNC"
apiserver_writes
# a second name in another directory is the same file
ln "$LOG" "$T/other/second-name"
sh -c "echo '{\"forged\": 2}' >> '$T/other/second-name'"
await 11 "an append through a hard link"
rm "$T/other/second-name"
# truncate(2) through an O_PATH descriptor's magic link, a name nothing like the log's
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_PATH); os.truncate("/proc/self/fd/%d" % fd, 5)' "$LOG"
await 12 "truncate(2) through /proc/self/fd"
apiserver_writes
# /proc/self names the remover, not keyhole
(cd "$T/log" && rm /proc/self/cwd/audit.log)
await 13 "rm through /proc/self/cwd"
# a file from elsewhere moved onto the bare name
touch "$T/other/audit.log"
(cd "$T/log" && mv "$T/other/audit.log" audit.log)
await 14 "a file moved onto the bare name"
sleep 0.5

kill -INT "$KPID"
wait "$KPID" || fail "keyhole run exited with $?"
KPID=

# exactly these alerts, in this order, by these processes
got=$(jq -r 'select(.rule.id == "node-audit-log-tamper") |
	.keyhole.audit_log_tamper.lost_bytes as $l |
	"\(.event.action) \(.process.name) \(if $l == null then "-" else $l end)"' \
	"$T/alerts.json")
want="audit-log-open-write sh false
audit-log-open-write truncate false
audit-log-truncate truncate true
audit-log-truncate python3 true
audit-log-rename-away mv -
audit-log-replace mv -
audit-log-unlink rm -
audit-log-unlink rm -
audit-log-unlink rm -
audit-log-truncate python3 true
audit-log-open-write sh false
audit-log-truncate python3 true
audit-log-unlink rm -
audit-log-replace mv -"
[ "$got" = "$want" ] || fail "tamper alerts differ:
$(diff <(echo "$want") <(echo "$got"))"

# the alert's shape: the file, the process, the rule's metadata, and how the log was matched
jq -e -s '[.[] | select(.rule.id == "node-audit-log-tamper")] |
	all(.["@timestamp"] and .event.kind == "alert" and .rule.severity == "high" and
	    (.threat.technique.id | index("T1070")) and .file.path == "'"$LOG"'" and
	    (.process.pid | type) == "number" and (.process.parent.pid | type) == "number" and
	    .keyhole.attribution.method == "none")' \
	"$T/alerts.json" > /dev/null || fail "tamper alerts lack their fields"
[ "$(jq -r 'select(.event.action == "audit-log-open-write") | .keyhole.audit_log_tamper.matched_by' \
	"$T/alerts.json" | sort -u)" = inode ] || fail "opens not matched by inode"
jq -e -s '[.[] | select(.event.action == "audit-log-unlink")][1].keyhole.audit_log_tamper |
	.matched_by == "directory" and .path == "audit.log"' "$T/alerts.json" > /dev/null ||
	fail "the bare-name rm was not matched by directory and name"
jq -e -s '[.[] | select(.event.action == "audit-log-unlink")][2].keyhole.audit_log_tamper |
	.path_truncated == true' "$T/alerts.json" > /dev/null ||
	fail "the long-path rm is not marked path_truncated"
jq -e -s '[.[] | select(.event.action == "audit-log-rename-away")][0].keyhole.audit_log_tamper |
	.new_path == "'"$T/log/moved.log"'"' "$T/alerts.json" > /dev/null ||
	fail "rename-away does not name the new path"

# the apiserver's own lines of attack.log: the alerts of replay, nothing lost
"$KH" replay -q --output "$T/replay.json" "$S/tests/data/attack.log"
# (the stand-in's generated lines between cases have audit IDs of their own: gen-...)
live=$(jq -r 'select(.rule.id != "node-audit-log-tamper" and
		    (.evidence.audit_ids | all(startswith("gen-") | not))) |
	"\(.rule.id) \(.evidence.audit_ids)"' "$T/alerts.json" | sort)
replay=$(jq -r '"\(.rule.id) \(.evidence.audit_ids)"' "$T/replay.json" | sort)
[ "$live" = "$replay" ] || fail "the apiserver's alerts differ from replay"
grep -q 'capture: lost 0 writes' "$T/run.err" || fail "capture lost writes"
grep -qE 'audit guard: 14 changes to the audit log by other processes, [1-9][0-9]* lookalike' \
	"$T/run.err" || fail "guard counters wrong: $(grep 'audit guard' "$T/run.err")"
grep -q 'lost 0 records (ring full)' "$T/run.err" || fail "guard records lost"

# --no-audit-guard: the guard is not loaded, says so in nothing, and nothing is reported
"$KH" run --comm "$COMM" --audit-log "$LOG" --no-exec-watch --no-baseline --no-audit-guard \
	--output "$T/off.json" 2> "$T/off.err" &
KPID=$!
for _ in $(seq 100); do
	grep -q 'ready:' "$T/off.err" && break
	sleep 0.1
done
grep -q 'ready:' "$T/off.err" || fail "keyhole run --no-audit-guard not ready"
apiserver_writes
sh -c "echo '{\"forged\": true}' >> '$LOG'"
rm "$LOG"
sleep 0.5
kill -INT "$KPID"
wait "$KPID" || fail "keyhole run --no-audit-guard exited with $?"
KPID=
! grep -q 'audit guard' "$T/off.err" || fail "--no-audit-guard still loaded the guard"
[ "$(jq -s '[.[] | select(.rule.id == "node-audit-log-tamper")] | length' "$T/off.json")" = 0 ] ||
	fail "--no-audit-guard still reported tampering"
echo "audit_log_tamper: 14 changes alerted, rotation, reads and lookalikes silent; off when asked"
