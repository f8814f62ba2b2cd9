#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# keyhole report, opened in headless Chromium (Debian's chromium): the report of the bundled
# attack log (benign control plane as baseline) renders without console errors, its incident
# timeline and alert plot are visible in a screenshot (pixels of their colours, counted where
# they belong), and the alert table filter works (set through the URL fragment). Hostile user
# names and user agents come out inert in HTML and Markdown; no secret value reaches a report;
# --alerts makes the same report from keyhole's JSON.
#
# Usage: report_html.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(realpath "$1")
S=$(realpath "$2")
KH=$B/keyhole
D=$S/tests/data
T=$(mktemp -d /tmp/kh-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

command -v chromium > /dev/null || { echo "FAIL: chromium is not installed (scripts/install-deps)"; exit 1; }
# one fresh profile per run, nothing fetched, no sandbox (root in CI)
chrome() {
	local prof
	prof=$(mktemp -d "$T/prof.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --enable-logging=stderr --v=0 "$@"
}
console_errors() { grep -E 'CONSOLE|Uncaught|Refused to' "$1" || true; }

# -- the detector of console errors detects one
printf '<!DOCTYPE html><script>nosuchfn();</script>' > "$T/broken.html"
chrome --dump-dom "file://$T/broken.html" > /dev/null 2> "$T/broken.err" || true
[ -n "$(console_errors "$T/broken.err")" ] && ok || bad "a page script error was not seen in the log"

# -- the bundled logs' report
"$KH" report -q --baseline "$D/benign-controlplane.log" -- "$D/attack.log" -o "$T/r.html"
"$KH" replay -q --baseline "$D/benign-controlplane.log" -- "$D/attack.log" > "$T/a.json"
nalerts=$(wc -l < "$T/a.json")
ncrit=$(jq -r 'select(.rule.severity == "critical") | 1' "$T/a.json" | wc -l)
[ "$ncrit" -ge 1 ] && ok || bad "no critical alert in the bundled attack"
# self-contained: nothing fetched from anywhere
! grep -qiE '(src|href)="(https?:)?//|url\(|@import|<link|<img|<iframe' "$T/r.html" && ok ||
	bad "the report refers to something outside itself"
[ "$(grep -c '<script' "$T/r.html")" = 1 ] && ok || bad "more than the one inline script"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$T/r.html" && ok || bad "no CSP"

chrome --window-size=1280,2400 --screenshot="$T/shot.png" "file://$T/r.html" > /dev/null \
	2> "$T/shot.err" || bad "chromium --screenshot failed: $(tail -3 "$T/shot.err")"
[ -z "$(console_errors "$T/shot.err")" ] && ok || bad "console errors: $(console_errors "$T/shot.err")"
# colours of src/report/render_svg.h: grant, secret read, exec; plot critical, high, low
python3 "$S/tests/lib/png_pixels.py" "$T/shot.png" 6a3d9a e31a1c ff7f00 8e0152 d7301f 4575b4 \
	> "$T/px"
px() { awk -v c="$1" -v f="$2" '$1 == c {print $f}' "$T/px"; }
# the timeline: a grant marker left of the secret reads, one lane above them, exec after
[ "$(px 6a3d9a 2)" -ge 120 ] && ok || bad "grant marker not visible: $(grep 6a3d9a "$T/px")"
[ "$(px e31a1c 2)" -ge 400 ] && ok || bad "secret-read markers not visible: $(grep e31a1c "$T/px")"
[ "$(px ff7f00 2)" -ge 120 ] && ok || bad "exec markers not visible: $(grep ff7f00 "$T/px")"
[ "$(px 6a3d9a 5)" -lt "$(px e31a1c 3)" ] && [ "$(px 6a3d9a 4)" -lt "$(px e31a1c 3)" ] && ok ||
	bad "grant is not above and left of the secret reads: $(tr '\n' ' ' < "$T/px")"
[ "$(px e31a1c 6)" -lt "$(px ff7f00 4)" ] && ok || bad "exec lane not below the secret reads"
# the plot: below the timeline, bars of several severities, taller than a legend swatch
[ "$(px 8e0152 2)" -ge 400 ] && [ "$(px d7301f 2)" -ge 400 ] && [ "$(px 4575b4 2)" -ge 400 ] &&
	ok || bad "plot bars not visible: $(tr '\n' ' ' < "$T/px")"
[ "$(px d7301f 4)" -gt "$(px ff7f00 6)" ] && ok || bad "the plot is not below the timeline"
[ $(($(px d7301f 6) - $(px d7301f 4))) -ge 60 ] && ok || bad "plot bars too short"

# -- the table filter, set through the URL fragment
ncurl=$(grep -ci '^<tr data-sev=.*curl' "$T/r.html")
[ "$ncurl" -ge 3 ] && [ "$ncurl" -lt "$nalerts" ] && ok || bad "curl rows: $ncurl"
chrome --dump-dom "file://$T/r.html#filter=curl" > "$T/dom-curl.html" 2> "$T/dom.err"
[ -z "$(console_errors "$T/dom.err")" ] && ok || bad "console errors: $(console_errors "$T/dom.err")"
vis=$(grep '^<tr data-sev=' "$T/dom-curl.html" | grep -vc ' hidden=' || true)
[ "$vis" = "$ncurl" ] && ok || bad "filter=curl shows $vis rows, want $ncurl"
! grep '^<tr data-sev=' "$T/dom-curl.html" | grep -v ' hidden=' | grep -viq curl && ok ||
	bad "filter=curl shows a row without curl"
grep -q "id=\"shown\">$ncurl of $nalerts shown" "$T/dom-curl.html" && ok || bad "shown count wrong"
chrome --dump-dom "file://$T/r.html#sev=critical" > "$T/dom-crit.html" 2> /dev/null
vis=$(grep '^<tr data-sev=' "$T/dom-crit.html" | grep -vc ' hidden=' || true)
[ "$vis" = "$ncrit" ] && ok || bad "sev=critical shows $vis rows, want $ncrit"
chrome --dump-dom "file://$T/r.html" > "$T/dom-all.html" 2> /dev/null
[ "$(grep '^<tr data-sev=' "$T/dom-all.html" | grep -vc ' hidden=' || true)" = "$nalerts" ] &&
	ok || bad "without a filter, not every alert row is shown"

# -- sorting, through the fragment: severity descending puts the critical rows first; user
# ascending orders the user column
chrome --dump-dom "file://$T/r.html#sort=1&dir=desc" > "$T/dom-sort.html" 2> "$T/sort.err"
[ -z "$(console_errors "$T/sort.err")" ] && ok || bad "console errors: $(console_errors "$T/sort.err")"
# the rows as python sees them in a dumped DOM (sorting moves rows, so not one per line)
rows() { python3 -c '
import re, sys
for sev, body in re.findall(r"<tr data-sev=\"([a-z]*)\">(.*?)</tr>", open(sys.argv[1]).read(), re.S):
    print(sev, re.findall(r"<td[^>]*>(.*?)</td>", body)[int(sys.argv[2])], sep="\t")' "$@"; }
rows "$T/dom-sort.html" 0 | cut -f1 > "$T/sevs"
[ "$(wc -l < "$T/sevs")" = "$nalerts" ] && [ "$(head -n "$ncrit" "$T/sevs" | sort -u)" = critical ] &&
	[ "$(tail -1 "$T/sevs")" = low ] && ok ||
	bad "sort=1&dir=desc: severities in order $(uniq -c "$T/sevs" | tr '\n' ' ')"
rows "$T/r.html" 0 | cut -f1 > "$T/sevs0"
! cmp -s "$T/sevs" "$T/sevs0" && ok || bad "sorting changed nothing (the test cannot tell)"
chrome --dump-dom "file://$T/r.html#sort=3" > "$T/dom-user.html" 2> /dev/null
rows "$T/dom-user.html" 3 | cut -f2 > "$T/users"
LC_ALL=C sort -c "$T/users" 2> /dev/null && [ "$(sort -u "$T/users" | wc -l)" -gt 2 ] &&
	[ "$(wc -l < "$T/users")" = "$nalerts" ] && ok || bad "sort=3 did not order the user column"

# -- Markdown: same content
"$KH" report -q -f markdown --baseline "$D/benign-controlplane.log" -- "$D/attack.log" -o "$T/r.md"
grep -q '^## Incidents (1)' "$T/r.md" && grep -q '^### .*: attacker-admin' "$T/r.md" && ok ||
	bad "markdown: no incident"
[ "$(grep -c '^| 20[0-9-]*T[0-9:.]*Z | [a-z]* | k8s-' "$T/r.md")" = "$nalerts" ] && ok ||
	bad "markdown: alert rows != $nalerts"

# -- --alerts: the same alerts, incidents and rankings from keyhole's JSON
"$KH" report --alerts "$T/a.json" -o "$T/ra.html"
grep -q "<b>$nalerts</b>alerts" "$T/ra.html" && grep -q '<b>1</b>incidents' "$T/ra.html" &&
	ok || bad "--alerts report lost alerts or the incident"
grep -q '<svg class="timeline"' "$T/ra.html" && ok || bad "--alerts report has no timeline"
grep -q '<td>curl/8.5.0</td>' "$T/ra.html" && ok || bad "--alerts report has no UA ranking"

# -- hostile strings: user names and user agents with markup, quotes, control bytes, 20 KB
ev() { # USER UA ID
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db","verb":"get","user":{"username":"%s","groups":["system:authenticated"]},"sourceIPs":["198.51.100.9"],"userAgent":"%s","objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-23T14:20:0%s.000000Z","stageTimestamp":"2026-11-23T14:20:0%s.001000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}\n' \
		"0c1a5e4e-0000-4000-8000-00000000000$3" "$1" "$2" "$3" "$3"
}
long=$(head -c 20000 /dev/zero | tr '\0' 'A')
{
	ev '<script>alert(1)</script>' 'curl/8 <img src=x onerror=alert(2)>' 1
	ev '\" onmouseover=\"alert(3)' "curl/8 ' onfocus='alert(4)" 2
	ev 'bell\u0007esc\u001b[31m|pipe|`tick`' 'python-requests/2 \u0000\u0001\u001f' 3
	ev 'long' "curl/8 $long" 4
	ev '</td></tr></table><h1>x</h1>' 'curl/8 </textarea><svg onload=alert(5)>' 5
} > "$T/hostile.log"
"$KH" report -q "$T/hostile.log" -o "$T/h.html"
"$KH" report -q -f markdown "$T/hostile.log" -o "$T/h.md"
"$KH" replay -q "$T/hostile.log" > "$T/h.json"
"$KH" report --alerts "$T/h.json" -o "$T/ha.html"
[ "$(wc -l < "$T/h.json")" -ge 5 ] && ok || bad "the hostile requests raised too few alerts"
for f in h.html ha.html; do
	[ "$(grep -c '<script' "$T/$f")" = 1 ] && ok || bad "$f: injected script"
	! grep -qE "<img|<svg onload|<h1>x|onmouseover=\"|onfocus='|</textarea>" "$T/$f" && ok ||
		bad "$f: injected markup"
	! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$T/$f" && ok || bad "$f: raw control bytes"
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/$f" && ok || bad "$f: name not shown escaped"
	grep -q 'bell\\x07esc\\x1b\[31m' "$T/$f" && ok || bad "$f: control bytes not shown as \\xNN"
	# the 20 KB agent is cut in every cell
	! grep -q "$(head -c 1000 /dev/zero | tr '\0' 'A')" "$T/$f" && ok || bad "$f: long UA not cut"
	chrome --dump-dom "file://$T/$f" > "$T/hdom.html" 2> "$T/hdom.err"
	[ -z "$(console_errors "$T/hdom.err")" ] && ok || bad "$f: console: $(console_errors "$T/hdom.err")"
	[ "$(grep -o '<script' "$T/hdom.html" | wc -l)" = 1 ] && ! grep -qE '<img|<h1>x' "$T/hdom.html" &&
		ok || bad "$f: the browser built injected elements"
	[ "$(grep -c '^<tr data-sev=' "$T/hdom.html")" = "$(wc -l < "$T/h.json")" ] && ok ||
		bad "$f: the alert table lost its shape"
done
! grep -qE '<script|<img|<svg|<h1>' "$T/h.md" && ok || bad "markdown: raw markup"
# every alert row keeps its 10 cell separators (a | in a name is escaped)
awk '/^## Alerts \(/ {f = 1} f && /^\| 20/ {n = gsub(/\|/, "|"); if (n != 10) bad++} END {exit bad}' \
	"$T/h.md" && ok || bad "markdown: a name broke a table row"

# -- no secret value reaches a report (bodies are never read)
jq -r '[.requestObject, .responseObject] | .. | strings' "$D/secret-markers.log" |
	grep -E 'KHMARK|^[A-Za-z0-9+/]{16,}={0,2}$' | sort -u > "$T/values"
grep -o 'KHMARK-[A-Z0-9-]*' "$D/secret-markers.log" | sort -u >> "$T/values"
"$KH" report -q "$D/secret-markers.log" -o "$T/m.html"
"$KH" report -q -f markdown "$D/secret-markers.log" -o "$T/m.md"
leaks=$({ grep -cF -f "$T/values" "$T/m.html" "$T/m.md" || true; } | awk -F: '{s += $2} END {print s}')
[ "$(wc -l < "$T/values")" -ge 20 ] && [ "$leaks" = 0 ] && ok || bad "secret values in a report: $leaks"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
