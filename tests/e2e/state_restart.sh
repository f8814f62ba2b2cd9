#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# History that survives restarts, through the real binary: `keyhole replay` with a config naming
# state_file, run again and again as an agent would be restarted.
#
#   - a first run alerts on every (decision, username, user agent) combination of day 1;
#   - a second run of the same log is silent: the combinations came back from the state file;
#   - day 2 alerts only on its one new combination; day 15 (13 days later) alerts on day 1's
#     combinations again: the history expired;
#   - a corrupt state file is set aside with a warning, never trusted, never fatal;
#   - `replay --baseline FILE... -- FILE...` learns without alerting, then alerts on the rest.
#
# The expected counts come from the logs themselves (jq), not from keyhole.
# Usage: state_restart.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
KH=$B/keyhole
D=$S/tests/data
T=$(mktemp -d /tmp/kh-state-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
RULE=k8s-unusual-decision-ua
fail() {
	echo "FAIL: $*"
	exit 1
}

cat > "$T/keyhole.yaml" <<EOF
# only the new-terms rule, so every count below is its own
state_file: $T/history.khs
rules:
  k8s-secret-suspicious-ua: {enabled: false}
  k8s-secret-access-non-controller: {enabled: false}
  k8s-secret-read-node-or-pod-sa: {enabled: false}
  k8s-secret-configmap-arc-proxy: {enabled: false}
  k8s-secret-rapid-get: {enabled: false}
EOF

# distinct combinations of a log, as seed 002 defines them
combos() {
	jq -r 'select(.stage == "ResponseComplete" and (.userAgent // "") != ""
		and .annotations["authorization.k8s.io/decision"] != null and .user.username != null)
		| [.annotations["authorization.k8s.io/decision"], .user.username, .userAgent] | @json' \
		"$@" | sort -u
}
# alerts of the rule in a replay's output
alerts() { jq -r "select(.rule.id == \"$RULE\") | .new_terms.values | @json" "$1" | sort; }

run() { # run NAME FILE... : replay with the config, alerts to $T/NAME.json, stderr to NAME.err
	local name=$1
	shift
	"$KH" replay -q --config "$T/keyhole.yaml" -o "$T/$name.json" "$@" 2> "$T/$name.err" ||
		fail "$name: keyhole replay exited $? ($(cat "$T/$name.err"))"
}

combos "$D/history-day1.log" > "$T/day1.combos"
n1=$(wc -l < "$T/day1.combos")
[ "$n1" -ge 4 ] || fail "history-day1.log holds only $n1 combinations"

# 1. a fresh start alerts on every combination, once
run first "$D/history-day1.log"
alerts "$T/first.json" > "$T/first.alerts"
diff -u "$T/day1.combos" "$T/first.alerts" || fail "first run: alerts differ from day 1's combinations"
[ -f "$T/history.khs" ] || fail "no state file written"
[ "$(stat -c %a "$T/history.khs")" = 600 ] || fail "state file mode $(stat -c %a "$T/history.khs")"

# 2. a restart on the same log: every combination comes back from the state file
run second "$D/history-day1.log"
[ ! -s "$T/second.json" ] || fail "second run alerted: $(cat "$T/second.json")"
grep -q "loaded $n1 history keys" "$T/second.err" || fail "second run did not report loading: $(cat "$T/second.err")"

# 3. day 2: only its new combination
combos "$D/history-day2.log" | comm -13 "$T/day1.combos" - > "$T/day2.new"
[ "$(wc -l < "$T/day2.new")" = 1 ] || fail "day 2 should add exactly one combination"
run day2 "$D/history-day2.log"
alerts "$T/day2.json" | diff -u "$T/day2.new" - || fail "day 2: alerts are not its new combination"

# 4. day 15: day 1's combinations were last seen on day 2, 13 days earlier: new again
run day15 "$D/history-day15.log"
combos "$D/history-day15.log" > "$T/day15.combos"
alerts "$T/day15.json" | diff -u "$T/day15.combos" - || fail "day 15: expired combinations must alert again"
[ "$(jq -r 'select(.new_terms.last_seen) | .new_terms.last_seen' "$T/day15.json" | cut -c1-10 | sort -u)" = 2026-11-02 ] ||
	fail "day 15 alerts should say the combinations were last seen on day 2"

# 5. a corrupt state file: warned about, moved aside, not trusted, not fatal
printf 'KHSTATE\032garbage' > "$T/history.khs"
run corrupt "$D/history-day1.log"
grep -q "warning: state file $T/history.khs: .*moved aside to $T/history.khs.corrupt-" "$T/corrupt.err" ||
	fail "no warning for the corrupt state file: $(cat "$T/corrupt.err")"
ls "$T"/history.khs.corrupt-* > /dev/null 2>&1 || fail "corrupt file not set aside"
alerts "$T/corrupt.json" | diff -u "$T/day1.combos" - || fail "after a corrupt file the history must start empty"
run after_corrupt "$D/history-day1.log"
[ ! -s "$T/after_corrupt.json" ] || fail "the state file written after the corrupt one was not used"

# 6. baseline: learn day 1 without alerting, then day 2 alerts only on what is new
rm -f "$T/history.khs"
"$KH" replay -q --config "$T/keyhole.yaml" -o "$T/baseline.json" \
	--baseline "$D/history-day1.log" -- "$D/history-day2.log" 2> "$T/baseline.err" ||
	fail "baseline replay failed: $(cat "$T/baseline.err")"
alerts "$T/baseline.json" | diff -u "$T/day2.new" - || fail "baseline: day 1 must be learned, not alerted"

# 7. the config's output key is where alerts go, unless --output says otherwise
printf 'output: %s\n' "$T/from-config.json" > "$T/output.yaml"
"$KH" replay -q --config "$T/output.yaml" "$D/history-day1.log" > "$T/stdout.json" 2>/dev/null
[ -s "$T/from-config.json" ] && [ ! -s "$T/stdout.json" ] || fail "config output: alerts not in the file it names"
"$KH" replay -q --config "$T/output.yaml" -o - "$D/history-day1.log" > "$T/stdout.json" 2>/dev/null
[ -s "$T/stdout.json" ] || fail "--output - must win over the config's output"

echo "state_restart: $n1 combinations; restart, expiry, corrupt file and baseline all as expected"
