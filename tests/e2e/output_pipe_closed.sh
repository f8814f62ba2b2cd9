#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The reader of keyhole's output goes away mid-stream: keyhole must not die of SIGPIPE, must
# say clearly that alerts were not delivered, and must exit 1 (runtime failure), promptly.
#
# Usage: output_pipe_closed.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
T=$(mktemp -d /tmp/kh-pipe.XXXXXX)
trap 'rm -rf "$T"' EXIT
# many distinct alerting requests: rewrite auditIDs so dedupe does not fold the copies
awk '{ for (i = 1; i <= 300; i++) { l = $0; sub(/"auditID":"[0-9a-f]{8}/, sprintf("\"auditID\":\"%08x", i), l); c[i] = c[i] l "\n" } }
     END { for (i = 1; i <= 300; i++) printf "%s", c[i] }' "$S/tests/data/attack.log" > "$T/many.log"
set +e
timeout 60 "$B/keyhole" replay "$T/many.log" 2> "$T/err" | head -c 200 > /dev/null
st=${PIPESTATUS[0]}
set -e
cat "$T/err"
[ "$st" -eq 1 ] || { echo "FAIL: exit status $st, want 1 (124 = hung, 141 = killed by SIGPIPE)"; exit 1; }
grep -q 'writing alerts failed.*Broken pipe' "$T/err" || { echo "FAIL: no clear message"; exit 1; }
echo "output_pipe_closed: 1 passed, 0 failed"
