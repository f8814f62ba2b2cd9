#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A flood of bad input between good lines: every bad line is counted, messages are
# rate-limited (a burst of 10, then about one a second, with a count of what was not shown; the
# bound allows for a slow sanitizer build on a loaded machine),
# each message names the file and line, and the alerts of the good lines around the flood are
# exactly those of the good lines alone.
#
# Usage: malformed_flood.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
T=$(mktemp -d /tmp/kh-flood.XXXXXX)
trap 'rm -rf "$T"' EXIT
GOOD=$S/tests/data/attack.log
NBAD=100000
ngood=$(grep -c . "$GOOD")
# the good lines, each followed by a share of the flood: truncated JSON, binary garbage, valid
# JSON that is not an Event, and an empty object
awk -v nbad="$NBAD" -v ngood="$ngood" 'BEGIN { per = int(nbad / ngood); srand(7) }
	{ print; for (i = 0; i < per; i++) { k = (NR * per + i) % 4
		if (k == 0) print substr($0, 1, 40)
		else if (k == 1) printf "\001\377garbage%c%c\n", 200 + i % 50, 1 + i % 8
		else if (k == 2) print "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}"
		else print "{}" } }' "$GOOD" > "$T/flood.log"
nbad=$(( $(wc -l < "$T/flood.log") - ngood ))

"$B/keyhole" replay -o "$T/good.json" "$GOOD" 2>/dev/null
"$B/keyhole" replay -o "$T/flood.json" "$T/flood.log" 2> "$T/err"

diff <(sort "$T/good.json") <(sort "$T/flood.json") > /dev/null ||
	{ echo "FAIL: the flood changed the alerts of the good lines"; exit 1; }
summary=$(grep 'replay .*flood.log' "$T/err")
echo "$summary"
echo "$summary" | grep -q "$((ngood + nbad)) events, $nbad malformed" ||
	{ echo "FAIL: counters wrong, want $((ngood + nbad)) events and $nbad malformed"; exit 1; }
nmsg=$(grep -c 'malformed audit line' "$T/err" || true)
[ "$nmsg" -ge 10 ] && [ "$nmsg" -le 200 ] ||
	{ echo "FAIL: $nmsg messages for $nbad bad lines: not rate-limited as promised"; exit 1; }
grep -m1 'malformed audit line' "$T/err" | grep -q 'flood.log:[0-9]' ||
	{ echo "FAIL: message does not name file and line"; exit 1; }
echo "malformed_flood: $nbad bad lines, $nmsg messages, alerts unchanged: 1 passed, 0 failed"
