#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Secret safety: RequestResponse events whose bodies hold secret values (tests/data/
# secret-markers.log, every value marked KHMARK-* or base64 of one) go through every rule; no
# byte of those values may appear in alerts, messages, or the state file. Malformed copies of
# the same lines must not leak them through error messages either.
#
# Usage: secret_markers.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
KH=$B/keyhole
DATA=$S/tests/data/secret-markers.log
T=$(mktemp -d /tmp/kh-markers.XXXXXX)
trap 'rm -rf "$T"' EXIT

# the secret values: every string under a request or response body that is a marker or base64
jq -r '[.requestObject, .responseObject] | .. | strings' "$DATA" |
	grep -E 'KHMARK|^[A-Za-z0-9+/]{16,}={0,2}$' | sort -u > "$T/values"
# and each kubeconfig line holding a marker, as the values are multi-line
grep -o 'KHMARK-[A-Z0-9-]*' "$DATA" | sort -u >> "$T/values"
nvalues=$(wc -l < "$T/values")
[ "$nvalues" -ge 20 ] || { echo "FAIL: only $nvalues secret values found in $DATA"; exit 1; }

# malformed variants: each line cut in half (inside its bodies) and with garbage appended
awk '{ print substr($0, 1, int(length($0) * 0.6)); print $0 "}}garbage" }' "$DATA" > "$T/bad.log"

"$KH" replay -o "$T/alerts.json" "$DATA" "$T/bad.log" 2> "$T/stderr.log"
nalerts=$(wc -l < "$T/alerts.json")
[ "$nalerts" -ge 5 ] || { echo "FAIL: expected the marked events to raise alerts, got $nalerts"; exit 1; }
grep -q 'malformed' "$T/stderr.log" || { echo "FAIL: malformed lines were not reported"; exit 1; }

leaks=0
while IFS= read -r v; do
	for f in "$T/alerts.json" "$T/stderr.log"; do
		if grep -qF -- "$v" "$f"; then
			echo "LEAK: a secret value (${#v} bytes, starts ${v:0:12}) appears in $(basename "$f")"
			leaks=$((leaks + 1))
		fi
	done
done < "$T/values"
[ "$leaks" -eq 0 ] || { echo "FAIL: $leaks leaks"; exit 1; }
echo "secret_markers: $nvalues secret values, $nalerts alerts, 0 leaks: 1 passed, 0 failed"
