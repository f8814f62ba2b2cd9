#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line as people type it: options after file names, --opt=VALUE, every input
# checked before any is read (a missing third file leaves no half run), and the man page and
# bash completion made from the same option tables as --help (their option lists must match).
#
# Usage: cli_options.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(realpath "$1")
S=$(realpath "$2")
KH=$B/keyhole
D=$S/tests/data
T=$(mktemp -d /tmp/kh-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# -- options after file names: -o takes its value, nothing on stdout, exit 0
"$KH" replay "$D/attack.log" -o "$T/a.json" -q > "$T/stdout" 2> "$T/stderr" && rc=0 || rc=$?
"$KH" replay -q "$D/attack.log" > "$T/ref.json"
[ "$rc" = 0 ] && ok || bad "replay FILE -o OUT exited $rc: $(cat "$T/stderr")"
[ ! -s "$T/stdout" ] && ok || bad "replay FILE -o OUT still wrote to stdout"
cmp -s "$T/a.json" "$T/ref.json" && ok || bad "replay FILE -o OUT wrote other alerts than -o first"
[ "$(wc -l < "$T/ref.json")" -ge 20 ] && ok || bad "the attack log gave too few alerts"

# --opt=VALUE, options between and after --baseline's list
"$KH" replay --baseline "$D/benign-controlplane.log" -- "$D/attack.log" --output="$T/b.json" \
	--quiet && ok || bad "--output=FILE after --baseline ... -- FILE"
"$KH" replay -q -o "$T/c.json" --baseline "$D/benign-controlplane.log" -- "$D/attack.log"
cmp -s "$T/b.json" "$T/c.json" && ok || bad "option order changed the alerts"

# -- after the options: a file named like an option is a file
cp "$D/attack.log" "$T/-o"
(cd "$T" && "$KH" replay -q -- -o > "$T/dash.json") && ok || bad "replay -- -o (a file named -o)"
cmp -s "$T/dash.json" "$T/ref.json" && ok || bad "file named -o read differently"

# -- a missing third input: exit 2, the file named, nothing read, nothing written
rm -f "$T/half.json"
"$KH" replay "$D/attack.log" "$D/benign-controlplane.log" "$T/typo.log" -o "$T/half.json" \
	> "$T/stdout" 2> "$T/stderr" && rc=0 || rc=$?
[ "$rc" = 2 ] && ok || bad "missing third input: exit $rc, want 2"
grep -q "typo.log" "$T/stderr" && ok || bad "missing third input not named: $(cat "$T/stderr")"
! grep -q "replay .*attack.log: .* events" "$T/stderr" && ok || bad "the first input was read"
[ ! -s "$T/half.json" ] && [ ! -s "$T/stdout" ] && ok || bad "a half run left alerts behind"
"$KH" report "$D/attack.log" "$D/attack.log" "$T/typo.log" -o "$T/r.html" 2> "$T/stderr" &&
	rc=0 || rc=$?
[ "$rc" = 2 ] && [ ! -e "$T/r.html" ] && ok || bad "report with a missing input: exit $rc"
"$KH" replay --baseline "$T/nobase.log" -- "$D/attack.log" > "$T/stdout" 2> "$T/stderr" &&
	rc=0 || rc=$?
[ "$rc" = 2 ] && [ ! -s "$T/stdout" ] && ok || bad "missing baseline file: exit $rc"
"$KH" replay "$T" > /dev/null 2> "$T/stderr" && rc=0 || rc=$?
[ "$rc" = 2 ] && grep -q "directory" "$T/stderr" && ok || bad "a directory as input: exit $rc"

# -- usage errors: exit 2 with a message
for args in "replay --bogus $D/attack.log" "replay $D/attack.log -o" "replay" \
	"replay --baseline $D/attack.log" "report $D/attack.log" "run stray" \
	"replay --format=xml $D/attack.log" "rules --json=1"; do
	# shellcheck disable=SC2086
	"$KH" $args > /dev/null 2> "$T/stderr" && rc=0 || rc=$?
	[ "$rc" = 2 ] && grep -q "error" "$T/stderr" && ok || bad "'$args': exit $rc, want 2"
done

# -- man page and completion against --help, command by command
"$KH" --man > "$T/keyhole.1"
"$KH" --bash-completion > "$T/keyhole.bash"
if [ -f "$B/keyhole.1" ]; then
	cmp -s "$B/keyhole.1" "$T/keyhole.1" && ok || bad "build/keyhole.1 is stale"
fi
MANWIDTH=200 man -l "$T/keyhole.1" > "$T/man.txt" 2> /dev/null ||
	bad "man -l cannot format keyhole.1"
cmds=$("$KH" --help | awk '/^Commands:/ {f = 1; next} f && /^  [a-z]/ {print $1}')
[ "$(echo "$cmds" | wc -l)" -ge 5 ] && ok || bad "keyhole --help lists too few commands"
for c in $cmds; do
	"$KH" "$c" --help > "$T/help.$c"
	# long options in --help: the option column only (lines starting with two spaces and -)
	grep -oE '^  (-[a-zA-Z], |    )--[a-z-]+' "$T/help.$c" | grep -oE -- '--[a-z-]+' |
		sort -u > "$T/h.$c"
	# the man page's section for the command, options as bold tags
	awk -v c="keyhole $c" '$0 == ".SS \"" c "\"" {f = 1; next} /^\.S[SH]/ {f = 0} f' \
		"$T/keyhole.1" | grep -A1 '^\.TP' | grep -oE '\\fB\\-\\-([a-z]|\\-)+' |
		sed 's/\\fB//; s/\\-/-/g' | sort -u > "$T/m.$c"
	words=$(bash -c "source '$T/keyhole.bash'; COMP_WORDS=(keyhole $c --); COMP_CWORD=2; \
		_keyhole; printf '%s\n' \"\${COMPREPLY[@]}\"" | sort -u)
	echo "$words" | grep -E '^--' > "$T/c.$c" || true
	[ -s "$T/h.$c" ] && ok || bad "no options found in keyhole $c --help"
	diff "$T/h.$c" "$T/m.$c" > /dev/null && ok ||
		bad "keyhole $c: man page options differ from --help: $(diff "$T/h.$c" "$T/m.$c" | tr '\n' ' ')"
	diff "$T/h.$c" "$T/c.$c" > /dev/null && ok ||
		bad "keyhole $c: completion differs from --help: $(diff "$T/h.$c" "$T/c.$c" | tr '\n' ' ')"
	grep -q "^   keyhole $c\$" "$T/man.txt" && ok || bad "man page has no section for $c"
done

# completion: commands, a value list, file names after -o
comp() { bash -c "cd '$T' && source '$T/keyhole.bash'; COMP_WORDS=($1); COMP_CWORD=$2; _keyhole; \
	printf '%s\n' \"\${COMPREPLY[@]}\""; }
comp "keyhole re" 1 | grep -qx report && ok || bad "completion of 're' lacks report"
[ "$(comp "keyhole replay --format ''" 3 | sort | tr '\n' ' ')" = "json text " ] && ok ||
	bad "completion of --format values: $(comp "keyhole replay --format ''" 3 | tr '\n' ' ')"
comp "keyhole replay -o ke" 3 | grep -qx keyhole.bash && ok || bad "no file names after -o"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
