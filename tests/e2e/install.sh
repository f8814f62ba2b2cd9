#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The install target and the systemd unit: `cmake --install` puts binary, unit, logrotate file
# and example configuration in place for the prefix given at install time (and for --prefix /usr
# under DESTDIR, as a package would); the installed keyhole runs; a changed configuration
# survives a reinstall; systemd-analyze verifies the unit and rates its sandbox no worse than
# it is now. Then the installed keyhole runs as the unit runs it, as far as a test can without
# systemd: root with only the unit's CapabilityBoundingSet and no_new_privs (setpriv), the
# unit's ExecStart options with the state and alert paths moved into the test's directory. It
# captures the stand-in apiserver's writes, and after the alert file is renamed and keyhole gets
# SIGHUP (what keyhole.logrotate does), later alerts land in the new file; old plus new equal
# `keyhole replay` of the same logs.
#
# usage: install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
t0=$(date +%s)
fail() {
	echo "install: FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- prefix given at install time ----
cmake --install "$build" --prefix "$tmp/p" >/dev/null
unit=$tmp/p/lib/systemd/system/keyhole.service
for f in bin/keyhole lib/systemd/system/keyhole.service etc/logrotate.d/keyhole \
	etc/keyhole/keyhole.yaml share/doc/keyhole/README.md share/man/man1/keyhole.1 \
	share/bash-completion/completions/keyhole share/keyhole/systemd/uprobe-tap.conf; do
	[ -e "$tmp/p/$f" ] || fail "cmake --install did not install $f"
done
[ -x "$tmp/p/bin/keyhole" ] || fail "bin/keyhole is not executable"
"$tmp/p/bin/keyhole" --help | grep -q '^Usage: keyhole' || fail "the installed keyhole does not run"
# the Sigma rule pack, whole and valid
[ "$(ls "$tmp/p/share/keyhole/rules/sigma" | wc -l)" = "$(ls "$src/rules/sigma" | wc -l)" ] ||
	fail "cmake --install did not install the Sigma rule pack"
"$tmp/p/bin/keyhole" rules check "$tmp/p/share/keyhole/rules/sigma" ||
	fail "the installed Sigma rule pack does not check"
grep -q "^ExecStart=$tmp/p/bin/keyhole run --config $tmp/p/etc/keyhole/keyhole.yaml " "$unit" ||
	fail "the unit's ExecStart does not point into the prefix: $(grep ExecStart "$unit")"
# the opt-in drop-in replaces ExecStart by the unit's own plus --late-uprobes (and nothing else)
[ "$(sed -n 's/^ExecStart=\(.\)/\1/p' "$tmp/p/share/keyhole/systemd/uprobe-tap.conf")" = \
	"$(sed -n 's/^ExecStart=//p' "$unit") --late-uprobes" ] ||
	fail "uprobe-tap.conf's ExecStart is not the unit's plus --late-uprobes"
cmp -s "$src/deploy/keyhole.example.yaml" "$tmp/p/etc/keyhole/keyhole.yaml" ||
	fail "the installed configuration is not deploy/keyhole.example.yaml"
[ "$(stat -c %a "$tmp/p/etc/keyhole/keyhole.yaml")" = 640 ] || fail "configuration not mode 0640"

# ---- a package's layout: --prefix /usr under DESTDIR ----
DESTDIR=$tmp/d cmake --install "$build" --prefix /usr >/dev/null
grep -q '^ExecStart=/usr/bin/keyhole run --config /etc/keyhole/keyhole.yaml ' \
	"$tmp/d/usr/lib/systemd/system/keyhole.service" || fail "--prefix /usr: unit paths wrong"
[ -f "$tmp/d/etc/keyhole/keyhole.yaml" ] || fail "--prefix /usr: config not in /etc/keyhole"

# ---- reinstall keeps an edited configuration ----
echo "# edited by the operator" >>"$tmp/p/etc/keyhole/keyhole.yaml"
cmake --install "$build" --prefix "$tmp/p" >/dev/null
tail -1 "$tmp/p/etc/keyhole/keyhole.yaml" | grep -q 'edited by the operator' ||
	fail "reinstall overwrote the operator's configuration"
cmp -s "$src/deploy/keyhole.example.yaml" "$tmp/p/etc/keyhole/keyhole.yaml.new" ||
	fail "reinstall did not put the new example beside it as keyhole.yaml.new"

# ---- systemd's own checks ----
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
	score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for keyhole.service: \([0-9.]*\).*/\1/p')
	echo "install: systemd-analyze security exposure $score (0 safest, 10 unsafe)"
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
		fail "the unit's sandbox weakened: exposure ${score:-unknown} > 3.0"
else
	fail "systemd-analyze not found (Debian package systemd, installed by scripts/install-deps)"
fi

# ---- the installed binary under the unit's privileges ----
if [ "$(id -u)" != 0 ] || [ ! -e /sys/kernel/btf/vmlinux ]; then
	msg="live run under the unit's capabilities needs root and BTF"
	[ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ] && fail "$msg (KEYHOLE_REQUIRE_BPF=1)"
	echo "install: SKIP: $msg" >&2
	echo "install: install checks passed in $(($(date +%s) - t0)) s"
	exit 0
fi
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
bset=-all$(for c in $caps; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)
grep -q '^NoNewPrivileges=yes' "$unit" || fail "the unit lost NoNewPrivileges"
exec_opts=$(sed -n 's/^ExecStart=[^ ]* //p' "$unit")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s|/var/lib/keyhole/|$tmp/state/|" "$tmp/p/etc/keyhole/keyhole.yaml" >"$tmp/config.yaml"
mkdir -p "$tmp/state" "$tmp/log" "$tmp/audit"
read -r -a opts <<<"$exec_opts"
for i in "${!opts[@]}"; do # the unit's options, its paths moved into the test directory
	case ${opts[$i]} in
	--config) opts[$((i + 1))]=$tmp/config.yaml ;;
	--output) opts[$((i + 1))]=$tmp/log/alerts.json ;;
	--metrics) opts[$((i + 1))]=127.0.0.1:$port ;;
	esac
done
# the stand-in apiserver under a name of this run's own, so keyhole follows it and not those
# of other tests that may run on this machine at the same time
api=khapi$$
cp "$build/tests/kube-apiserver" "$tmp/$api"
opts+=(--comm "$api")
echo "install: setpriv --bounding-set=$bset --no-new-privs keyhole ${opts[*]}"
setpriv --bounding-set="$bset" --inh-caps=-all --no-new-privs -- \
	"$tmp/p/bin/keyhole" "${opts[@]}" 2>"$tmp/keyhole.err" &
kh=$!
trap 'kill $kh 2>/dev/null || true; pkill -x "$api" 2>/dev/null || true; rm -rf "$tmp"' EXIT
metric() { curl -s -m 2 "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
wait_metric() { # NAME VALUE
	for _ in $(seq 300); do
		[ "$(metric "$1")" = "$2" ] && return 0
		kill -0 $kh 2>/dev/null || { cat "$tmp/keyhole.err"; fail "keyhole exited"; }
		sleep 0.1
	done
	cat "$tmp/keyhole.err"
	fail "$1 is $(metric "$1"), expected $2"
}
# attached (the programs load after the endpoint is up), no apiserver yet
for _ in $(seq 300); do
	curl -s -m 2 "http://127.0.0.1:$port/readyz" | grep -q 'no kube-apiserver' && break
	sleep 0.1
done
curl -s -m 2 "http://127.0.0.1:$port/readyz" | grep -q 'no kube-apiserver' ||
	{ cat "$tmp/keyhole.err"; fail "keyhole did not attach"; }
allowed=$(( (1 << 39) | (1 << 38) | (1 << 19) )) # BPF PERFMON SYS_PTRACE, as the unit says
[ "$bset" = "-all,+bpf,+perfmon,+sys_ptrace" ] || fail "the unit's bounding set changed: $caps"
for set in CapBnd CapPrm CapEff; do
	v=0x$(awk -v s="$set:" '$1 == s {print $2}' "/proc/$kh/status")
	[ $((v & ~allowed)) = 0 ] || fail "keyhole holds $set $v, beyond the unit's bounding set"
done
one=$src/tests/data/attack.log two=$src/tests/data/rapid-get.log
n1=$(grep -c . "$one") n2=$(grep -c . "$two")
# --start-delay-ms: a real apiserver is seconds from its exec to its first audit line, and one
# found by its exec alone is armed once its command line is read (docs/audit-tap.md: the window
# at start); without it the first lines were missed about once in ten runs
"$tmp/$api" --audit-log-path "$tmp/audit/audit.log" --input "$one" --start-delay-ms 300 \
	--exit-when-done >/dev/null 2>&1
wait_metric keyhole_events_total "$n1"
kill -USR1 $kh # nothing to see; keeps the signal paths honest
mv "$tmp/log/alerts.json" "$tmp/log/alerts.json.1"
kill -HUP $kh
"$tmp/$api" --audit-log-path "$tmp/audit/audit.log" --input "$two" --start-delay-ms 300 \
	--exit-when-done >/dev/null 2>&1
wait_metric keyhole_events_total $((n1 + n2))
kill -TERM $kh
wait $kh || fail "keyhole exited $? on TERM: $(tail -3 "$tmp/keyhole.err")"
[ -s "$tmp/log/alerts.json" ] || fail "no alerts in the reopened file after SIGHUP"
grep -q 'reopened output' "$tmp/keyhole.err" || fail "keyhole did not say it reopened the output"
grep -q 'lost 0 writes' "$tmp/keyhole.err" || fail "writes lost: $(grep LOST "$tmp/keyhole.err")"
# the same configuration, with a history of its own (the live run's would mute replay's news)
sed "s|/var/lib/keyhole/|$tmp/replay-|" "$tmp/p/etc/keyhole/keyhole.yaml" >"$tmp/replay.yaml"
"$build/keyhole" replay -q --config "$tmp/replay.yaml" "$one" "$two" >"$tmp/replay.jsonl"
# node-* alerts come from the exec watch, which sees every container exec on this host (other
# tests' runc containers too): the audit alerts are the ones to compare
audit_alerts() { cat "$@" | grep -v '"rule":{"id":"node-' | sort; }
diff <(audit_alerts "$tmp/log/alerts.json.1" "$tmp/log/alerts.json") \
	<(audit_alerts "$tmp/replay.jsonl") >/dev/null ||
	fail "alerts captured under the unit's privileges differ from replay's"
echo "install: under the unit's capabilities ($caps): $((n1 + n2)) lines captured," \
	"$(cat "$tmp/log/alerts.json.1" "$tmp/log/alerts.json" | wc -l) alerts = replay," \
	"$(wc -l <"$tmp/log/alerts.json") of them in the file reopened after SIGHUP"
echo "install: all checks passed in $(($(date +%s) - t0)) s"
