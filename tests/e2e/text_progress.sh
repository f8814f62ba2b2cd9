#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --format text and the progress line, under a pseudo-terminal and in a pipe: text lines carry
# colour only on a terminal, one line per alert with its fields; control bytes in a user agent
# never reach the terminal raw; the progress line appears on a terminal only.
#
# Usage: text_progress.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(realpath "$1")
S=$(realpath "$2")
KH=$B/keyhole
D=$S/tests/data
T=$(mktemp -d /tmp/kh-text.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# run a command with stdout and/or stderr on a pty; what the pty got goes to OUT
cat > "$T/on_pty.py" << 'PY'
import os, pty, subprocess, sys
which, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
m, s = pty.openpty()
kw = {"stdout": s if "1" in which else open(out + ".pipe1", "wb"),
      "stderr": s if "2" in which else open(out + ".pipe2", "wb")}
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
os.close(s)
buf = b""
while True:
    try:
        b = os.read(m, 65536)
    except OSError:
        break
    if not b:
        break
    buf += b
p.wait()
open(out, "wb").write(buf)
sys.exit(p.returncode)
PY
pty() { python3 "$T/on_pty.py" "$@"; }

"$KH" replay -q --baseline "$D/benign-controlplane.log" -- "$D/attack.log" > "$T/a.json"
n=$(wc -l < "$T/a.json")

# -- in a pipe: no colour, one line per alert, the fields a person scans
"$KH" replay -q --baseline "$D/benign-controlplane.log" -- "$D/attack.log" --format text |
	cat > "$T/pipe.txt"
[ "$(wc -l < "$T/pipe.txt")" = "$n" ] && ok || bad "text lines $(wc -l < "$T/pipe.txt") != $n alerts"
! grep -q $'\033' "$T/pipe.txt" && ok || bad "colour codes in a pipe"
grep -q '^2026-11-23T14:2[0-9:.]*Z CRITICAL k8s-escalate-then-loot user=attacker-admin src=203.0.113.77 ua="kubectl/[^"]*" escalate-then-loot subject attacker-admin \[incident etl-[0-9a-f]* r1\]$' \
	"$T/pipe.txt" && ok || bad "no incident line with its fields: $(grep -m1 escalate "$T/pipe.txt")"
grep -q ' HIGH     k8s-secret-suspicious-ua user=attacker-admin src=203.0.113.77 ua="curl/8.5.0" get prod/secrets/aws-credentials$' \
	"$T/pipe.txt" && ok || bad "no secret read line: $(grep -m1 curl "$T/pipe.txt")"
# the rules' view of the same alerts: every JSON alert has a text line with its rule
diff <(jq -r '.rule.id' "$T/a.json") <(awk '{print $3}' "$T/pipe.txt") > /dev/null && ok ||
	bad "text lines do not follow the JSON alerts' rules"

# -- on a terminal: colour, same text otherwise
pty 1 "$T/tty.txt" "$KH" replay -q --baseline "$D/benign-controlplane.log" -- "$D/attack.log" \
	--format=text || bad "replay on a pty exited $?"
grep -q $'\033\\[1;97;41mCRITICAL' "$T/tty.txt" && ok || bad "no colour on a terminal"
sed 's/\x1b\[[0-9;]*m//g; s/\r$//' "$T/tty.txt" | cmp -s - "$T/pipe.txt" && ok ||
	bad "terminal text differs from pipe text beyond colour"
pty 1 "$T/never.txt" "$KH" replay -q "$D/attack.log" -f text --color never || true
! grep -q $'\033' "$T/never.txt" && ok || bad "--color never still coloured"
NO_COLOR=1 pty 1 "$T/nocolor.txt" "$KH" replay -q "$D/attack.log" -f text || true
! grep -q $'\033' "$T/nocolor.txt" && ok || bad "NO_COLOR ignored"

# -- hostile user agent: an escape sequence and a bell must arrive escaped, not raw
printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0c1a5e4e-0000-4000-8000-000000000001","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db","verb":"get","user":{"username":"evil\\u001b]0;pwned\\u0007","groups":["system:authenticated"]},"sourceIPs":["198.51.100.9"],"userAgent":"curl/8 \\u001b[2J\\u001b[31mRED","objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-23T14:20:00.000000Z","stageTimestamp":"2026-11-23T14:20:00.001000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}\n' > "$T/hostile.log"
pty 1 "$T/hostile.txt" "$KH" replay -q "$T/hostile.log" -f text || true
grep -q 'curl/8 \\x1b\[2J\\x1b\[31mRED' "$T/hostile.txt" && ok || bad "hostile UA not escaped: $(cat -v "$T/hostile.txt")"
! grep -q $'\033\\[2J\|\a' "$T/hostile.txt" && ok || bad "a raw escape sequence reached the terminal"
grep -q 'user=evil\\x1b\]0;pwned\\x07' "$T/hostile.txt" && ok || bad "hostile user not escaped"

# -- progress: on a terminal only
for i in $(seq 300); do cat "$D/attack.log"; done > "$T/big.log"
pty 2 "$T/prog.txt" "$KH" replay "$T/big.log" -o "$T/big.json" || bad "replay with progress exited $?"
grep -q $'\r\033\\[Kreplay: [0-9.]* [KMG]\\?B, 111600 events, .* events/s, [0-9]* alerts, done in' \
	"$T/prog.txt" && ok || bad "no final progress line on the terminal: $(tr '\r' '\n' < "$T/prog.txt" | tail -3)"
if grep -q 'done in [1-9]\|done in 0\.[5-9]' "$T/prog.txt"; then
	# long enough for a redraw before the end: it shows the share done and time left
	grep -q ' of [0-9.]* MB ([0-9]*%), [0-9]* events, .* alerts, [0-9]* s left' "$T/prog.txt" && ok ||
		bad "no progress redraw with time left: $(tr '\r' '\n' < "$T/prog.txt" | head -3)"
fi
grep -q 'replay .*big.log: 111600 events' "$T/prog.txt" && ok || bad "summary lost beside progress"
"$KH" replay "$T/big.log" -o "$T/big2.json" 2> "$T/prog-pipe.txt"
! grep -q $'\r\|events/s' "$T/prog-pipe.txt" && ok || bad "progress written to a pipe"
pty 2 "$T/prog-rep.txt" "$KH" report "$T/big.log" -o "$T/big.html" -q || bad "report with progress"
grep -q $'\r\033\\[Kreport: .*111600 events, .* events/s, .* done in' "$T/prog-rep.txt" && ok ||
	bad "no progress line for report: $(cat -v "$T/prog-rep.txt" | tail -2)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
