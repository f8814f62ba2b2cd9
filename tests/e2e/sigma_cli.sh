#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Sigma interfaces from the command line: `keyhole rules check` (file:line:column, exit 1),
# `keyhole rules -r` listing, `replay --rules` and rules.paths in the config giving Sigma
# alerts in the ECS envelope, a bad rule skipped while the others load, and every rule example
# in docs/writing-rules.md valid.
#
# usage: sigma_cli.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
kh=$build/keyhole
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
ok() { pass=$((pass + 1)); }

cat >"$tmp/good.yml" <<'Y'
title: Events deleted (test)
id: e2e-events-deleted
logsource:
    product: kubernetes
    service: audit
detection:
    selection:
        verb: delete
        objectRef.resource: events
    condition: selection
level: medium
tags: [attack.defense-evasion, attack.t1070]
Y
cat >"$tmp/bad.yml" <<'Y'
title: Bad
id: e2e-bad
logsource:
    product: kubernetes
    service: audit
detection:
    selection:
        verb|sometimes: delete
    condition: selection
Y
line='{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2e-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/d/events/x","verb":"delete","user":{"username":"mallory"},"sourceIPs":["192.0.2.1"],"objectRef":{"resource":"events","namespace":"d","name":"x"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-23T10:00:00.000000Z","stageTimestamp":"2026-11-23T10:00:00.000000Z","annotations":{"authorization.k8s.io/decision":"allow"}}'
echo "$line" >"$tmp/audit.log"

# rules check
if "$kh" rules check "$tmp/good.yml" 2>"$tmp/err"; then ok; else fail "check of a good rule: $(cat "$tmp/err")"; fi
if "$kh" rules check "$tmp/good.yml" "$tmp/bad.yml" 2>"$tmp/err"; then
	fail "check of a bad rule exited 0"
else
	grep -q "^$tmp/bad.yml:8:9: unknown or unsupported value modifier 'sometimes'" "$tmp/err" && ok ||
		fail "check did not print file:line:column: $(cat "$tmp/err")"
fi

# listing
"$kh" rules -r "$tmp/good.yml" >"$tmp/list" && grep -q "e2e-events-deleted" "$tmp/list" &&
	grep -q "k8s-secret-suspicious-ua" "$tmp/list" && ok || fail "rules -r does not list both kinds"
"$kh" rules --json -r "$tmp/good.yml" | grep -q '"ruleset":"sigma"' && ok ||
	fail "rules --json has no sigma ruleset"

# replay --rules, with a bad rule beside the good one
"$kh" replay -q -r "$tmp/good.yml" -r "$tmp/bad.yml" "$tmp/audit.log" >"$tmp/out" 2>"$tmp/err" ||
	fail "replay failed: $(cat "$tmp/err")"
grep -q "bad.yml:8:9:.*rule skipped" "$tmp/err" && ok || fail "the bad rule was not reported"
n=$(grep -c '"id":"e2e-events-deleted"' "$tmp/out" || true)
[ "$n" = 1 ] && ok || fail "replay --rules gave $n alerts, want 1"
grep -q '"ruleset":"sigma","reference":"'"$tmp"'/good.yml"' "$tmp/out" && ok ||
	fail "alert lacks rule.ruleset/reference: $(cat "$tmp/out")"
grep -q '"technique":{"id":\["T1070"\]}' "$tmp/out" && ok || fail "alert lacks the MITRE id"

# rules.paths in the config
printf 'rules:\n  paths:\n    - %s\n' "$tmp/good.yml" >"$tmp/config.yaml"
"$kh" replay -q -c "$tmp/config.yaml" "$tmp/audit.log" 2>/dev/null | grep -q e2e-events-deleted &&
	ok || fail "rules.paths in the config loaded nothing"

# the shipped pack and every example of docs/writing-rules.md
"$kh" rules check "$src/rules/sigma" && ok || fail "the shipped pack does not check"
mkdir "$tmp/doc"
awk -v d="$tmp/doc" '/^```yaml/ {n++; f = sprintf("%s/%02d.yml", d, n); inb = 1; next}
	/^```/ {inb = 0; next} inb {print > f}' "$src/docs/writing-rules.md"
# the first block is the config snippet; the correlation examples share their base rules
rm "$tmp/doc/01.yml"
(cat "$tmp/doc/04.yml"; echo ---; cat "$tmp/doc/05.yml"; echo ---; cat "$tmp/doc/06.yml") \
	>"$tmp/doc/corr.yml"
rm "$tmp/doc/04.yml" "$tmp/doc/05.yml" "$tmp/doc/06.yml"
"$kh" rules check "$tmp/doc" 2>"$tmp/err" && ok ||
	fail "docs/writing-rules.md examples: $(cat "$tmp/err")"
[ "$("$kh" rules --json -r "$tmp/doc" | grep -c '"ruleset":"sigma"')" = 7 ] && ok ||
	fail "docs/writing-rules.md: not 7 example rules"

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
