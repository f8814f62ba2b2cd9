#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `keyhole probe` on privileges: perf_event_paranoid (the value in /proc/sys/kernel, and what it
# means for the tap), whether this process holds CAP_SYS_ADMIN, CAP_PERFMON and CAP_BPF (checked
# against the CapEff of the process that ran it), what a new uprobe needs on this kernel (asked
# of the kernel), and the path `run --tap auto` gives an apiserver started now and one started
# later. Run as root, then without CAP_SYS_ADMIN (capsh --drop, or setpriv) to show the other
# answer, with --late-uprobes, with --tap tracepoint, and as JSON. tests/e2e/uprobe_late_grant.sh
# checks that `run` then does what probe said.
# Needs root: without it it says so and passes, unless KEYHOLE_REQUIRE_BPF=1.
#
# Usage: probe_privileges.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
KH=$B/keyhole
T=$(mktemp -d /tmp/kh-probe-priv.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
ok() { pass=$((pass + 1)); }
# expect FILE REGEX WHAT
expect() { grep -Eq -- "$2" "$1" && ok || fail "$3: $(grep -E '^(perf_event|privileges|new uprobe|tap )' "$1" | sed 's/^/    /')"; }

if [ "$(id -u)" != 0 ] || ! "$KH" probe > "$T/root.txt" 2>&1; then
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && { echo "FAIL: root and BPF needed and KEYHOLE_REQUIRE_BPF=1"; exit 1; }
	echo "*** SKIPPING probe privileges e2e: needs root and BPF ***"
	exit 0
fi
drop() { # CMD...: the same, without CAP_SYS_ADMIN
	if command -v capsh > /dev/null; then
		capsh --drop=cap_sys_admin -- -c '"$@"' sh "$@"
	else
		setpriv --bounding-set=-sys_admin --inh-caps=-all -- "$@"
	fi
}
level=$(cat /proc/sys/kernel/perf_event_paranoid)
eff=$((0x$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)))
yn() { [ $((eff >> $1 & 1)) = 1 ] && echo yes || echo no; }

# ---- root ----
expect "$T/root.txt" "^perf_event_paranoid: $level: " "root: paranoid is not $level"
if [ "$level" -ge 3 ]; then
	expect "$T/root.txt" "^perf_event_paranoid: $level: Debian's and Ubuntu's restriction" "root: paranoid 3 not explained"
else
	expect "$T/root.txt" "^perf_event_paranoid: $level: .*CAP_PERFMON" "root: paranoid $level not explained"
fi
expect "$T/root.txt" "^privileges: CAP_SYS_ADMIN $(yn 21), CAP_PERFMON $(yn 38), CAP_BPF $(yn 39) \(effective\)" \
	"root: capabilities differ from CapEff $(printf %x $eff)"
# what a new uprobe needs: the kernel's answer; from 6.16 on it is CAP_SYS_ADMIN whatever else
need=$(sed -n 's/^new uprobe: \(this kernel wants CAP_SYS_ADMIN\|this kernel predates CAP_PERFMON\|CAP_SYS_ADMIN here\|CAP_PERFMON is enough\).*/\1/p' "$T/root.txt")
[ -n "$need" ] && ok || fail "root: probe cannot tell what a new uprobe needs: $(grep '^new uprobe' "$T/root.txt")"
IFS=. read -r maj min _ < <(uname -r)
if [ "$maj" -gt 6 ] || { [ "$maj" = 6 ] && [ "${min%%[!0-9]*}" -ge 16 ]; }; then
	[ "$need" != "CAP_PERFMON is enough" ] && ok || fail "root: kernel $(uname -r) has ba677dbe77af yet probe says CAP_PERFMON is enough"
fi
expect "$T/root.txt" "^tap auto: apiserver started now: uprobe path: where its binary resolves .*CAP_SYS_ADMIN is effective" \
	"root: an apiserver started now does not get the uprobe path"
if [ "$need" = "CAP_PERFMON is enough" ]; then
	expect "$T/root.txt" "^tap auto: apiserver started later [^:]*: uprobe path: .*CAP_PERFMON, which .run. keeps" \
		"root: later should be the uprobe path on a CAP_PERFMON kernel"
else
	expect "$T/root.txt" "^tap auto: apiserver started later [^:]*: tracepoint path: .*(gives it up after its start|does not keep after its start)" \
		"root: later should be the tracepoint path, since run gives CAP_SYS_ADMIN up"
fi
"$KH" probe --late-uprobes > "$T/late.txt" 2>&1 || true
expect "$T/late.txt" "^tap auto --late-uprobes: apiserver started later [^:]*: uprobe path: where its binary resolves: --late-uprobes keeps CAP_SYS_ADMIN permitted" \
	"root --late-uprobes: later should be the uprobe path"
"$KH" probe --tap tracepoint > "$T/tp.txt" 2>&1 || true
expect "$T/tp.txt" "^tap tracepoint: apiserver started now: tracepoint path: --tap tracepoint" "--tap tracepoint: now"
expect "$T/tp.txt" "^tap tracepoint: apiserver started later [^:]*: tracepoint path: --tap tracepoint" "--tap tracepoint: later"
"$KH" probe --json > "$T/root.json" 2> /dev/null || true
jq -e --argjson l "$level" '.privileges.perf_event_paranoid == $l and .privileges.cap_sys_admin and
	.privileges.started_now.path == "uprobe"' "$T/root.json" > /dev/null && ok ||
	fail "root --json: $(jq -c .privileges "$T/root.json" 2>&1)"

# ---- without CAP_SYS_ADMIN ----
drop "$KH" probe > "$T/drop.txt" 2>&1 || true
expect "$T/drop.txt" "^privileges: CAP_SYS_ADMIN no, CAP_PERFMON yes, CAP_BPF yes" "no CAP_SYS_ADMIN: not seen"
drop "$KH" probe --late-uprobes > "$T/drop-late.txt" 2>&1 || true
if [ "$level" -ge 3 ]; then
	expect "$T/drop.txt" "^tap auto: apiserver started now: tracepoint path: perf_event_paranoid 3" "no CAP_SYS_ADMIN, paranoid 3: now"
elif [ "$need" = "CAP_PERFMON is enough" ]; then
	expect "$T/drop.txt" "^tap auto: apiserver started now: uprobe path: .*CAP_PERFMON is enough" "no CAP_SYS_ADMIN, CAP_PERFMON kernel: now"
	expect "$T/drop.txt" "^tap auto: apiserver started later [^:]*: uprobe path" "no CAP_SYS_ADMIN, CAP_PERFMON kernel: later"
else
	# the kernel's answer does not depend on who asks
	if [ "$need" = "this kernel wants CAP_SYS_ADMIN" ]; then
		expect "$T/drop.txt" "^new uprobe: this kernel wants CAP_SYS_ADMIN \(a uprobe opened with CAP_PERFMON alone: Permission denied" \
			"no CAP_SYS_ADMIN: a different answer on what a uprobe needs"
	fi
	expect "$T/drop.txt" "^tap auto: apiserver started now: tracepoint path: this kernel wants CAP_SYS_ADMIN for a new uprobe, and this process does not hold it" \
		"no CAP_SYS_ADMIN: now should be the tracepoint path"
	expect "$T/drop.txt" "^tap auto: apiserver started later [^:]*: tracepoint path: .*does not hold it .*uprobe-tap" \
		"no CAP_SYS_ADMIN: later should be the tracepoint path, naming the grant"
	expect "$T/drop-late.txt" "^tap auto --late-uprobes: apiserver started later [^:]*: tracepoint path" \
		"no CAP_SYS_ADMIN: --late-uprobes cannot keep what is not held"
fi
echo "  paranoid $level; new uprobe: $need; root: $(sed -n 's/^tap auto: apiserver started \(now\|later\)[^:]*: \([a-z]*\) path.*/\1 \2/p' "$T/root.txt" | paste -sd' ')"
echo "probe privileges: $pass passed, $failed failed"
[ "$failed" = 0 ]
