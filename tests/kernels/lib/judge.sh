# SPDX-License-Identifier: Apache-2.0
#
# judge.sh: turns one kernel's report (the @@KH lines kernel-test wrote) into a table row, for
# run-matrix, which sources it. The guest only reports; every pass/fail decision is made here.
# Expects: $out, $boot_only, $expected, $expected_twice, $KH_CACHE. Sets failed=1 when a row does not pass.

failed=0

# kv_get REPORT KEY: the value kernel-test recorded for KEY (empty when absent).
kv_get() { tr -d '\r' <"$1" | awk -v k="$2" '$1 == "@@KH" && $2 == "kv" && $3 == k {
	sub(/^@@KH kv [^ ]+ ?/, ""); v = $0 } END { print v }'; }

# file_get REPORT NAME: the lines of file NAME from the report.
file_get() { tr -d '\r' <"$1" | awk -v n="$2" '$0 == "@@KH end " n { on = 0 }
	on { print } $0 == "@@KH file " n { on = 1 }'; }

# count_re FILE ERE: the first number in the last match of ERE in FILE (empty when none).
count_re() { { grep -ohE -- "$2" "$1" 2>/dev/null || true; } | tail -n1 |
	{ grep -oE '[0-9]+' || true; } | head -n1; }

# count_sum FILE ERE: the sum of the first numbers of every match (empty when none).
count_sum() { { grep -ohE -- "$2" "$1" 2>/dev/null || true; } |
	awk '{ match($0, /[0-9]+/); n += substr($0, RSTART, RLENGTH); c++ } END { if (c) print n }'; }

# keyhole run's exit statistics, as it prints them:
#   keyhole: capture: W writes (B bytes) seen by the tap, R rebuilt, N lines from F file(s)
#   keyhole: capture: lost 0 writes | keyhole: capture: LOST N writes: ...
#   keyhole: capture: LOST N exec/exit records ...
#   keyhole: exec watch: R records, S sessions, lost N records (ring full), ...
# (plain captured=N / lost=N also accepted; KH_CAPTURED_RE and KH_LOST_RE override).
captured_re='[0-9]+ lines from [0-9]+ file|\bcaptured[=:] ?[0-9]+'
captured_re=${KH_CAPTURED_RE:-$captured_re}
lost_re='\b(lost|LOST) [0-9]+ writes|\blost[=:] ?[0-9]+'
lost_re=${KH_LOST_RE:-$lost_re}
# records other than the audit writes: the tap's exec/exit records, the exec watch's records
lost_other_re='\b(lost|LOST) [0-9]+ (exec/exit )?records'

# kernel_config SUITE UNAME: the kernel's build config, from the package or the running system.
kernel_config() {
	if [ "$1" != host ]; then
		cat "$KH_CACHE/kernels/$1/config" 2>/dev/null
	elif [ -r "/boot/config-$2" ]; then
		cat "/boot/config-$2"
	elif [ -r /proc/config.gz ]; then
		gzip -dc /proc/config.gz
	fi
}
config_opt() { awk -F= -v k="CONFIG_$2" '$1 == k { v = $2 } END { print v == "" ? "n" : v }' "$1"; }

# version_ge A B: kernel release A is at least B (major.minor).
version_ge() {
	local a=${1%%-*} b=$2
	[ "$(printf '%s\n%s\n' "$b" "${a%%+*}" | sort -V | head -n1)" = "$b" ]
}

# (Each helper succeeds when it finds nothing: run-matrix runs under set -e and pipefail.)

# verifier_complaints FILE...: names of BPF programs that failed to load, comma separated, from
# libbpf's own lines ("prog 'NAME': BPF program load failed", "failed to load program 'NAME'")
# or keyhole's ("program NAME ... rejected by the verifier" and the like).
verifier_complaints() {
	cat "$@" 2>/dev/null |
		grep -iE "verifier|rejected|load failed|failed to load" |
		grep -oiE "(prog|program) '?[A-Za-z_][A-Za-z0-9_.]*'?" |
		sed -E "s/^[A-Za-z]+ '?//; s/'\$//" | grep -vixE 'load(ed|ing)?|fail(ed)?|rejected|by|is|was|the|log' |
		sort -u | paste -sd, - || true
}

table_header() {
	echo "| suite | kernel | boot s | wall s | BPF | BTF | syscall tp | ringbuf | objs load | loaded | captured | alerts | exec watch | audit guard | uprobe | lost | verifier | result | notes |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
}

# judge_suite SUITE DIR: print the row for one kernel.
judge_suite() {
	local s=$1 d=$2 rep=$2/results.log rc wall
	rc=$(cat "$d/rc" 2>/dev/null || echo '?')
	wall=$(cat "$d/wall" 2>/dev/null || echo '?')
	local kernel=- boot=- bpf=- btf=- tp=- rb=- objs=- loaded=- captured=- alerts=- execw=- guard=- uprobe=- lost=-
	local verifier=-
	local result notes=""

	if [ ! -s "$rep" ] || ! grep -q '^@@KH begin' "$rep"; then
		case $rc in
		124) result=TIMEOUT notes="no report within ${boot_timeout}s" ;;
		4) result=SKIP notes="needs root" ;;
		*) result="BOOT FAIL" notes="no report (rc $rc)" ;;
		esac
		notes="$notes; console: $d/console.log"
		[ "$s" != host ] && kernel=$(awk '{ print $2 }' "$KH_CACHE/kernels/$s/version" 2>/dev/null || echo -)
		row
		return
	fi

	kernel=$(kv_get "$rep" uname)
	# Guest uptime when the test starts is the boot time; on the host it means nothing.
	[ "$s" = host ] || boot=$(kv_get "$rep" uptime)
	local cfg=$d/config
	kernel_config "$s" "$kernel" >"$cfg"
	if [ -s "$cfg" ]; then
		bpf=$(config_opt "$cfg" BPF_SYSCALL)
		if [ "$bpf" = y ] && version_ge "$kernel" 5.8; then rb=yes; else rb=no; fi
	else
		bpf='?'
		version_ge "$kernel" 5.8 && rb='5.8+' || rb=no
	fi
	# The suite's kernel series (suites, third column) guards against Debian moving a suite on.
	local series
	series=$(awk -v s="$s" '$1 == s { print $3 }' "$here/suites")
	if [ -n "$series" ] && [[ "$kernel" != "$series"* ]]; then
		result=FAIL notes="kernel is not the $series series that suites promises"
		row
		return
	fi
	btf=$(kv_get "$rep" btf)
	tp=$(kv_get "$rep" tp_write)

	if ! grep -q '^@@KH done' "$rep"; then
		result=FAIL notes="report cut off (rc $rc); console: $d/console.log"
		row
		return
	fi

	judge_bpf_objects "$rep" "$d"

	local missing
	missing=$(kv_get "$rep" missing)
	if [ -n "$missing" ]; then
		loaded="not built"
		if [ -n "$objs_failed" ]; then
			result=FAIL
		elif [ "$boot_only" = 1 ]; then
			result=BOOTED
		else
			result="NOT BUILT"
		fi
		notes="$notes; missing: $missing"
		notes=${notes#; }
		row
		return
	fi

	file_get "$rep" probe >"$d/probe.out"
	file_get "$rep" run >"$d/run.out"
	file_get "$rep" standin >"$d/standin.out"
	file_get "$rep" alerts >"$d/alerts.json"

	local probe_rc ready run_rc standin_rc sent written stop got other
	probe_rc=$(kv_get "$rep" probe_rc)
	ready=$(kv_get "$rep" run_ready)
	run_rc=$(kv_get "$rep" run_rc)
	standin_rc=$(kv_get "$rep" standin_rc)
	sent=$(kv_get "$rep" events_sent)
	written=$(kv_get "$rep" events_written)
	stop=$(kv_get "$rep" stop)
	result=PASS

	if [ "$probe_rc" = 0 ] && [ "$ready" = ready ]; then
		loaded=yes
	else
		loaded=no result=FAIL
		[ "$probe_rc" = 0 ] || notes="$notes; keyhole probe rc $probe_rc"
		case $ready in
		ready) ;;
		exited) notes="$notes; keyhole run exited before it was ready" ;;
		*) notes="$notes; keyhole run not ready in time (no line matching the ready pattern)" ;;
		esac
	fi
	file_get "$rep" uprobe_run >"$d/uprobe_run.out"
	verifier=$(verifier_complaints "$d/probe.out" "$d/run.out" "$d/uprobe_run.out" "$d"/bpfload_*.out)
	[ -n "$verifier" ] && result=FAIL || verifier=none
	[ -z "$objs_failed" ] || result=FAIL

	if [ "$ready" = ready ]; then
		local got
		got=$(count_re "$d/run.out" "$captured_re")
		captured="${got:-?}/$sent"
		[ "$got" = "$sent" ] || { result=FAIL; notes="$notes; captured $captured"; }
		lost=$(count_re "$d/run.out" "$lost_re")
		other=$(count_sum "$d/run.out" "$lost_other_re")
		[ "${lost:-?}" = 0 ] || { result=FAIL; notes="$notes; lost ${lost:-not reported}"; }
		[ "${other:-0}" = 0 ] || { result=FAIL; notes="$notes; lost $other other records"; }
		lost=${lost:-?}
		case $standin_rc in
		0 | running) ;;
		*) result=FAIL notes="$notes; stand-in rc $standin_rc" ;;
		esac
		[ "$written" = "$sent" ] || { result=FAIL; notes="$notes; stand-in wrote $written of $sent"; }
		[ "$run_rc" = 0 ] || { result=FAIL; notes="$notes; keyhole run rc $run_rc"; }
		[ -z "$stop" ] || { result=FAIL; notes="$notes; stop: $stop"; }
		compare_alerts "$d"
		judge_exec "$rep" "$d"
		judge_guard "$rep" "$d"
	fi
	judge_uprobe "$rep" "$d"
	notes=${notes#; }
	row
}

# judge_bpf_objects REPORT DIR: the bpftool load of each BPF object (columns "objs" and, for
# now, "verifier"); sets objs_failed to the objects that did not load.
judge_bpf_objects() {
	local rep=$1 d=$2 o ok=0 total=0 list
	objs_failed=
	list=$(kv_get "$rep" bpf_objects)
	for o in ${list//,/ }; do
		total=$((total + 1))
		file_get "$rep" "bpfload_$o" >"$d/bpfload_$o.out"
		if [ "$(kv_get "$rep" "bpfload_$o")" = 0 ]; then
			ok=$((ok + 1))
		else
			objs_failed="$objs_failed $o"
		fi
	done
	[ $total = 0 ] && return
	objs="$ok/$total"
	verifier=$(verifier_complaints "$d"/bpfload_*.out)
	verifier=${verifier:-none}
	if [ -n "$objs_failed" ]; then
		[ "$verifier" = none ] && verifier=?
		notes="$notes; bpftool could not load:$objs_failed (see $d/bpfload_*.out)"
	fi
}

# compare_alerts DIR: alerts of live capture against replay's, as multisets of lines. The exec
# watch's alerts (node-*; replay of an audit log has none) are judged by judge_exec instead.
compare_alerts() {
	local d=$1
	if [ ! -f "$expected" ]; then
		alerts="no oracle" result=FAIL notes="$notes; replay gave no expected alerts"
		return
	fi
	sort "$expected" >"$d/expected.sorted"
	{ grep -vF '"rule":{"id":"node-' "$d/alerts.json" || true; } | sort >"$d/alerts.sorted"
	local want common extra
	want=$(grep -c . "$d/expected.sorted" || true)
	common=$(comm -12 "$d/expected.sorted" "$d/alerts.sorted" | grep -c . || true)
	extra=$(comm -13 "$d/expected.sorted" "$d/alerts.sorted" | grep -c . || true)
	alerts="$common/$want"
	[ "$extra" = 0 ] || alerts="$alerts +$extra"
	if [ "$common" != "$want" ] || [ "$extra" != 0 ]; then
		result=FAIL notes="$notes; alerts differ from replay: $d/alerts.diff"
		diff "$d/expected.sorted" "$d/alerts.sorted" >"$d/alerts.diff" || true
	fi
}

# judge_exec REPORT DIR: the exec-watch test (column "exec watch"): a runc container dressed as
# a kubelet pod, whose init reads the service-account token (must stay silent), and a `runc exec`
# of `cat TOKEN` in it (must raise node-container-exec and node-secret-read-in-exec, each naming
# the pod: namespace, pod name and UID from the pods dir and the cgroup, container ID and name).
# Both must carry the KUBERNETES_EXEC_AUDIT_ID the exec was given (keyhole.attribution.
# session_audit_id: the kernel read it from the exec'd process's environment); the
# node-exec-without-audit alert the exec also raises (the stand-in logs no pods/exec for it) is
# expected, not required. The column counts the expected alerts found, "N/2", and "+N" for any
# other node alert about the container; a test that could not run says which step failed, and the notes say why.
judge_exec() {
	local rep=$1 d=$2 why
	local ns pod uid ctr id ipid tok
	file_get "$rep" pod_build >"$d/pod_build.out"
	file_get "$rep" pod_run >"$d/pod_run.out"
	file_get "$rep" pod_exec >"$d/pod_exec.out"
	file_get "$rep" runc_log >"$d/runc.log"
	if [ "$(kv_get "$rep" pod_build_rc)" != 0 ]; then
		execw="not run" result=FAIL
		why=$(last_line "$d/pod_build.out")
		notes="$notes; exec watch: the pod could not be built: ${why:-no report}"
		return
	fi
	# keyhole goes on without the exec watch when it cannot load it; say what probe found
	if grep -qE 'exec watch did not load|serve the exec watch' "$d/run.out"; then
		execw="not loaded" result=FAIL
		why=$(grep -m1 -E '^keyhole: exec watch: ' "$d/run.out" | sed 's/^keyhole: exec watch: //')
		notes="$notes; exec watch did not load: ${why:-see $d/run.out}"
		why=$(awk '$1 == "exec_watch" { $1 = ""; sub(/^ +/, ""); print }' "$d/probe.out")
		[ -z "$why" ] || notes="$notes (probe: $why)"
		return
	fi
	if ! grep -qE '^keyhole: exec watch: [0-9]+ records' "$d/run.out"; then
		execw="not running" result=FAIL
		notes="$notes; exec watch: keyhole run printed no exec-watch counters at exit (is it off in its arguments?)"
		return
	fi
	if [ "$(kv_get "$rep" pod_run_rc)" != 0 ] || [ -z "$(kv_get "$rep" pod_init_pid)" ]; then
		execw="no container" result=FAIL
		why=$(runc_error "$d/pod_run.out" "$d/runc.log")
		notes="$notes; exec watch: runc run rc $(kv_get "$rep" pod_run_rc): ${why:-no message}"
		return
	fi
	if [ "$(kv_get "$rep" pod_init_read)" != yes ]; then
		execw="no init" result=FAIL
		notes="$notes; exec watch: the container's init did not read the token in time"
		return
	fi
	if [ "$(kv_get "$rep" pod_exec_rc)" != 0 ] || [ "$(kv_get "$rep" pod_exec_read)" != yes ]; then
		execw="no exec" result=FAIL
		why=$(runc_error "$d/pod_exec.out" "$d/runc.log")
		notes="$notes; exec watch: runc exec rc $(kv_get "$rep" pod_exec_rc)"
		[ "$(kv_get "$rep" pod_exec_read)" = yes ] || notes="$notes, cat did not print the token"
		[ -z "$why" ] || notes="$notes: $why"
		return
	fi
	if ! command -v jq >/dev/null; then
		execw="no jq" result=FAIL notes="$notes; exec watch: jq is needed to read the alerts"
		return
	fi
	local aid
	aid=$(kv_get "$rep" pod_exec_audit_id)
	ns=$(kv_get "$rep" pod_ns) pod=$(kv_get "$rep" pod_name) uid=$(kv_get "$rep" pod_uid)
	ctr=$(kv_get "$rep" pod_container) id=$(kv_get "$rep" pod_id)
	ipid=$(kv_get "$rep" pod_init_pid) tok=$(kv_get "$rep" pod_token_path)
	# one line per node alert about the container or its init (whatever container it names):
	# "exec", "read" (as expected) or "other TEXT"
	grep -F '"rule":{"id":"node-' "$d/alerts.json" 2>/dev/null |
		jq -r --arg id "$id" --arg ns "$ns" --arg pod "$pod" --arg uid "$uid" \
			--arg ctr "$ctr" --argjson ipid "$ipid" --arg tok "$tok" --arg aid "$aid" '
		select(.container.id? == $id or .process.pid? == $ipid or .process.parent.pid? == $ipid) |
		((.orchestrator.namespace == $ns and .orchestrator.resource.name == $pod and
		  .orchestrator.resource.id == $uid and .container.name == $ctr) as $named |
		 (.process.pid == $ipid or .process.parent.pid == $ipid) as $init |
		 ((.process.session_leader.args // .process.args) == ["cat", $tok]) as $cat |
		 ($aid == "" or .keyhole.attribution.session_audit_id? == $aid) as $aidok |
		 if $named and $cat and ($init | not) and $aidok and
		    .rule.id == "node-container-exec" then "exec"
		 elif $named and $cat and ($init | not) and $aidok and
		      .rule.id == "node-secret-read-in-exec" and .file.path == $tok then "read"
		 elif $named and $cat and ($init | not) and .rule.id == "node-exec-without-audit" then
		      "noaudit"
		 else "other \(.rule.id)\(if $init then " for the init" else "" end)" +
		      "\(if $aidok then "" else " without the session'"'"'s auditID" end) (pid " +
		      "\(.process.pid), \(.orchestrator.namespace // "no namespace")/" +
		      "\(.orchestrator.resource.name // "no pod")/\(.container.name // "no name"), " +
		      "\(.file.path // (.process.args // [] | join(" "))))" end)' \
		>"$d/exec_alerts.txt" 2>"$d/exec_alerts.err" ||
		{ execw="unreadable" result=FAIL notes="$notes; exec watch: jq: $(last_line "$d/exec_alerts.err")"; return; }
	local nx nr no
	nx=$(grep -cx exec "$d/exec_alerts.txt" || true)
	nr=$(grep -cx read "$d/exec_alerts.txt" || true)
	no=$(grep -c '^other' "$d/exec_alerts.txt" || true)
	no=$((no + (nx > 1 ? nx - 1 : 0) + (nr > 1 ? nr - 1 : 0)))
	execw="$(((nx > 0) + (nr > 0)))/2"
	[ "$no" = 0 ] || execw="$execw +$no"
	[ "$nx" -gt 0 ] || { result=FAIL; notes="$notes; exec watch: no node-container-exec naming the pod for the exec'd cat"; }
	[ "$nr" -gt 0 ] || { result=FAIL; notes="$notes; exec watch: no node-secret-read-in-exec naming the pod for the exec'd cat"; }
	if [ "$no" != 0 ]; then
		result=FAIL
		notes="$notes; exec watch: $no unexpected: $(grep '^other' "$d/exec_alerts.txt" | head -n2 |
			sed 's/^other //' | paste -sd';' -)$([ "$nx" -le 1 ] && [ "$nr" -le 1 ] || echo ' (repeats)')"
	fi
}

# judge_guard REPORT DIR: the audit guard (column "audit guard"): after the stand-in wrote
# everything, `sh -c 'echo ... >> audit.log'` and `mv audit.log audit.moved` ran in the guest;
# each must raise node-audit-log-tamper naming that process and the operation. "N/2", and "+N"
# for any other tamper alert (nothing else touched the log).
judge_guard() {
	local rep=$1 d=$2 why
	if grep -qE 'audit guard did not load|serve the audit guard' "$d/run.out"; then
		guard="not loaded" result=FAIL
		why=$(grep -m1 -E 'audit guard' "$d/run.out" | cut -c1-160)
		notes="$notes; audit guard did not load: ${why:-see $d/run.out}"
		return
	fi
	if [ "$(kv_get "$rep" tamper_append_rc)" != 0 ] || [ "$(kv_get "$rep" tamper_mv_rc)" != 0 ]; then
		guard="not run" result=FAIL
		notes="$notes; audit guard: the append or the mv in the guest failed"
		return
	fi
	local no nm nx
	no=$(grep -F '"rule":{"id":"node-audit-log-tamper"' "$d/alerts.json" 2>/dev/null |
		jq -r 'select(.event.action == "audit-log-open-write" and .process.name == "sh") | 1' |
		grep -c . || true)
	nm=$(grep -F '"rule":{"id":"node-audit-log-tamper"' "$d/alerts.json" 2>/dev/null |
		jq -r 'select(.event.action == "audit-log-rename-away" and .process.name == "mv") | 1' |
		grep -c . || true)
	nx=$(grep -cF '"rule":{"id":"node-audit-log-tamper"' "$d/alerts.json" 2>/dev/null || true)
	nx=$((nx - no - nm))
	guard="$(((no > 0) + (nm > 0)))/2"
	[ "$nx" -le 0 ] || guard="$guard +$nx"
	[ "$no" -gt 0 ] || { result=FAIL; notes="$notes; audit guard: no audit-log-open-write for the append"; }
	[ "$nm" -gt 0 ] || { result=FAIL; notes="$notes; audit guard: no audit-log-rename-away for the mv"; }
	[ "$nx" -le 0 ] || { result=FAIL; notes="$notes; audit guard: $nx unexpected tamper alerts"; }
}

# judge_uprobe REPORT DIR: the uprobe capture test (column "uprobe"): a second keyhole run
# while the Go stand-in, started first, writes the attack log; then a copy of its binary (a new
# inode, first seen after keyhole dropped its privileges) writes it again. The column says which
# path each got and what was captured: "uprobe 744/744, late tracepoint". The first process must get the uprobe path (the write tracepoints detached) unless
# the kernel refused it (no uprobe PMU, the attach refused: reported in the notes, still a pass);
# the late one gets either, and the notes say why it took the tracepoints. Every line captured,
# none lost, no bytes unseen by the uprobe path, the alerts equal replay's of the attack log
# written twice ($expected_twice, computed by run-matrix). "-" when the test was
# turned off (KH_UPROBE_TEST=0), "not built" when the Go stand-in was missing.
judge_uprobe() {
	local rep=$1 d=$2 test why pid lpid via late sent lsent lwritten got want
	test=$(kv_get "$rep" uprobe_test)
	case $test in
	run) ;;
	missing) uprobe="not built" result=FAIL notes="$notes; uprobe: no Go stand-in in the guest" ;;
	*) return ;;
	esac
	[ "$test" = run ] || return
	file_get "$rep" uprobe_alerts >"$d/uprobe_alerts.json"
	file_get "$rep" uprobe_standin >"$d/uprobe_standin.out"
	file_get "$rep" uprobe_late >"$d/uprobe_late.out"
	if [ "$(kv_get "$rep" uprobe_ready)" != ready ]; then
		uprobe="not ready" result=FAIL
		notes="$notes; uprobe: keyhole run $(kv_get "$rep" uprobe_ready) before it was ready"
		return
	fi
	pid=$(kv_get "$rep" uprobe_standin_pid)
	lpid=$(kv_get "$rep" uprobe_late_pid)
	if grep -q "pid $pid: uprobe path:" "$d/uprobe_run.out"; then
		via=uprobe
		# detached once every apiserver is on its uprobe, unless keyhole said why they stay:
		# perf_event_paranoid 3 (Debian's kernels) would not let it attach them again later
		if grep -q 'write tracepoints stay attached' "$d/uprobe_run.out"; then
			notes="$notes; uprobe: write tracepoints kept attached ($(grep -o 'perf_event_paranoid is [0-9]*' "$d/uprobe_run.out" | head -n1))"
		elif ! grep -q 'write tracepoints detached' "$d/uprobe_run.out"; then
			result=FAIL notes="$notes; uprobe: the write tracepoints stayed attached"
		fi
	elif why=$(grep -m1 "pid $pid: tracepoint path: " "$d/uprobe_run.out"); then
		via=fallback
		why=${why#*tracepoint path: }
		notes="$notes; uprobe: fell back to the tracepoints: $(echo "$why" | cut -c1-160)"
		case $why in
		*kernel*) ;; # the kernel's refusal, reported: the tracepoint path is the design's answer
		*) result=FAIL ;;
		esac
	else
		via="?" result=FAIL notes="$notes; uprobe: keyhole run named no path for pid $pid"
	fi
	if grep -q "pid $lpid: uprobe path:" "$d/uprobe_run.out"; then
		late=uprobe
	elif why=$(grep -m1 "pid $lpid: tracepoint path: " "$d/uprobe_run.out"); then
		late=tracepoint
		notes="$notes; uprobe: the late binary: $(echo "${why#*tracepoint path: }" | cut -c1-200)"
	else
		late="?" result=FAIL notes="$notes; uprobe: keyhole run named no path for the late binary"
	fi
	sent=$(kv_get "$rep" events_sent)
	lsent=$(kv_get "$rep" uprobe_late_sent)
	lwritten=$(kv_get "$rep" uprobe_late_written)
	want=$((sent + ${lsent:-0}))
	got=$(count_re "$d/uprobe_run.out" "$captured_re")
	uprobe="$via ${got:-?}/$want, late $late"
	[ "$(kv_get "$rep" uprobe_events_written)" = "$sent" ] && [ "$lwritten" = "$lsent" ] ||
		{ result=FAIL; notes="$notes; uprobe: the stand-ins wrote $(kv_get "$rep" uprobe_events_written)+$lwritten of $sent+$lsent"; }
	[ "$(kv_get "$rep" uprobe_standin_rc)" = 0 ] && [ "$(kv_get "$rep" uprobe_late_rc)" = 0 ] ||
		{ result=FAIL; notes="$notes; uprobe: stand-in rc $(kv_get "$rep" uprobe_standin_rc), late $(kv_get "$rep" uprobe_late_rc)"; }
	[ "$got" = "$want" ] || { result=FAIL; notes="$notes; uprobe: captured ${got:-?} of $want"; }
	[ "$(count_re "$d/uprobe_run.out" "$lost_re")" = 0 ] ||
		{ result=FAIL; notes="$notes; uprobe: lost $(count_re "$d/uprobe_run.out" "$lost_re")"; }
	! grep -qE 'UNSEEN|the uprobe path did not see' "$d/uprobe_run.out" ||
		{ result=FAIL; notes="$notes; uprobe: bytes unseen by the uprobe path"; }
	[ "$(kv_get "$rep" uprobe_run_rc)" = 0 ] && [ -z "$(kv_get "$rep" uprobe_run_stop)" ] ||
		{ result=FAIL; notes="$notes; uprobe: keyhole run rc $(kv_get "$rep" uprobe_run_rc) $(kv_get "$rep" uprobe_run_stop)"; }
	if [ ! -f "${expected_twice:-}" ]; then
		result=FAIL notes="$notes; uprobe: replay gave no expected alerts"
	else
		sort "$expected_twice" >"$d/uprobe_expected.sorted"
		sort "$d/uprobe_alerts.json" >"$d/uprobe_alerts.sorted"
		if ! cmp -s "$d/uprobe_expected.sorted" "$d/uprobe_alerts.sorted"; then
			result=FAIL
			uprobe="$uprobe, alerts differ"
			notes="$notes; uprobe: alerts differ from replay: $d/uprobe_alerts.diff"
			diff "$d/uprobe_expected.sorted" "$d/uprobe_alerts.sorted" \
				>"$d/uprobe_alerts.diff" || true
		fi
	fi
}

# last_line FILE: its last non-empty line, trimmed for a table cell.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n1 | cut -c1-200 | tr '|' '/'; }

# runc_error FILE...: runc's own message about why it failed (its log holds msg="..." lines).
runc_error() {
	local m
	m=$(grep -h 'level=error' "$@" 2>/dev/null | tail -n1 | sed -n 's/.*msg="\(.*\)".*/\1/p')
	[ -n "$m" ] || m=$(last_line "$1")
	printf '%s\n' "$m" | cut -c1-200 | tr '|' '/'
}

row() {
	case $result in PASS | BOOTED) ;; *) failed=1 ;; esac
	echo "| $s | $kernel | $boot | $wall | $bpf | $btf | $tp | $rb | $objs | $loaded | $captured | $alerts | $execw | $guard | $uprobe | $lost | $verifier | $result | ${notes:--} |"
}
