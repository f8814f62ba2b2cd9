#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container image, built and run the way the DaemonSet runs it:
#  1. the static build (BUILD_DIR/static, shared with static_build.sh) and
#     deploy/container/build-image: buildah, offline, FROM scratch; the image holds one file,
#     /keyhole, in one layer, with the OCI labels;
#  2. podman runs it with the arguments tests/deploy/podman-args.mjs derives from the rendered
#     DaemonSet (user, the four capabilities and nothing else, no_new_privs, seccomp, read-only
#     root, hostPID, limits, the host mounts remapped to test directories, the ConfigMap, the
#     metrics port published on loopback);
#  3. /healthz answers, /readyz is 503 until an apiserver appears; the stand-in kube-apiserver
#     on the host writes the bundled attack log; /readyz turns 200, /metrics counts every line
#     and loses none; the process inside has exactly the DaemonSet's capability bounding set;
#  4. after TERM the alerts the container printed equal `keyhole replay` of the same log, and
#     the state file is in the writable mount. docs/deployment.md's metric table is checked
#     against the series served, both ways.
# Machine notes: podman here needs `default_ulimits = []` (no CAP_SYS_RESOURCE for the runtime
# itself) and the vfs storage driver; both are set for this test's private store only.
#
# usage: container_image.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
t0=$(date +%s)
fail() {
	echo "container_image: FAIL: $*" >&2
	exit 1
}
skip() {
	if [ "${KEYHOLE_REQUIRE_BPF:-0}" = 1 ]; then
		fail "$* (KEYHOLE_REQUIRE_BPF=1: a skip is a failure)"
	fi
	echo "container_image: SKIP: $*" >&2
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (BPF, podman with hostPID)"
[ -e /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux: this kernel has no BTF"
for tool in buildah podman node kubectl curl; do
	command -v $tool >/dev/null || fail "$tool not found (scripts/install-deps installs it)"
done
if [ ! -e /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing || skip "tracefs is not mounted and cannot be"
fi

# ---- a private container store and configuration under the build directory ----
store=$build/containers
mkdir -p "$store"
printf '[containers]\ndefault_ulimits = []\n' >"$store/containers.conf"
export CONTAINERS_CONF=$store/containers.conf STORAGE_DRIVER=vfs
export BUILDAH_ROOT=$store/root BUILDAH_RUNROOT=$store/runroot
pm() { podman --root "$BUILDAH_ROOT" --runroot "$BUILDAH_RUNROOT" --storage-driver vfs "$@"; }
image=localhost/keyhole:e2e
name=keyhole-e2e-$$

# ---- 1. static build and image ----
cmake -S "$src" -B "$build/static" -DKEYHOLE_STATIC=ON -DKEYHOLE_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || fail "configure the static build"
cmake --build "$build/static" -j "${JOBS:-2}" --target keyhole >"$build/static-build.log" 2>&1 ||
	fail "static build: see $build/static-build.log"
pm rmi -f "$image" >/dev/null 2>&1 || true
"$src/deploy/container/build-image" "$build/static" "$image" || fail "build-image"
t1=$(date +%s)
version=$("$build/static/keyhole" --version | awk '{print $2}')
label() { pm image inspect "$image" --format "{{index .Labels \"org.opencontainers.image.$1\"}}"; }
[ "$(label version)" = "$version" ] || fail "version label '$(label version)', binary $version"
for l in source revision created description licenses; do
	[ -n "$(label $l)" ] || fail "no org.opencontainers.image.$l label"
done
[ "$(pm image inspect "$image" --format '{{len .RootFS.Layers}}')" = 1 ] || fail "not one layer"
cid=$(pm create "$image")
files=$(pm export "$cid" | tar -t)
pm rm "$cid" >/dev/null
# /keyhole and the Sigma rule pack, nothing else
want=$( (echo keyhole; cd "$src" && find rules/sigma -name '*.yml' | sed 's|^|usr/share/keyhole/|') | sort)
have=$(echo "$files" | grep -v '/$' | sort)
[ "$have" = "$want" ] || fail "the image holds other than /keyhole and the rule pack: $files"

# ---- 2. run it as the DaemonSet does ----
. "$src/tests/deploy/npm-cache.sh"
modules=$(npm_modules "$build" "$src") || fail "cannot install the pinned npm packages"
tmp=$(mktemp -d)
cleanup() {
	pkill -TERM -x "$api" 2>/dev/null || true
	pm rm -f -t 5 "$name" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp"/{audit,pods,state,cm}
kubectl kustomize "$src/deploy/kubernetes" >"$tmp/rendered.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mapfile -t args < <(node "$src/tests/deploy/podman-args.mjs" "$modules" "$tmp/rendered.yaml" \
	"$tmp/cm" "$port" /var/log/kubernetes/audit="$tmp/audit" /var/log/pods="$tmp/pods" \
	/var/lib/keyhole="$tmp/state")
[ ${#args[@]} -gt 5 ] || fail "podman-args.mjs gave no arguments"
args=("${args[@]/#localhost\/keyhole:*/$image}") # the image under test, not the manifest's tag
# the stand-in apiserver under a name of this run's own, so keyhole follows it and not those of
# other tests that may run on this machine at the same time
api=khapi$$
cp "$build/tests/kube-apiserver" "$tmp/$api"
args+=(--comm "$api")
echo "container_image: podman run ${args[*]}"
pm run -d --name "$name" "${args[@]}" >/dev/null || fail "podman run"

url=http://127.0.0.1:$port
code() { curl -s -o /dev/null -w '%{http_code}' -m 2 "$url$1" || true; }
wait_for() { # PATH CODE SECONDS
	for _ in $(seq $((${3} * 10))); do
		[ "$(code "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	pm logs "$name" 2>&1 | tail -20
	fail "$1 did not answer $2 within $3 s (last: $(code "$1"))"
}

# ---- 3. health, readiness, capture ----
wait_for /healthz 200 30
# attached (the programs load after the endpoint is up), no apiserver yet: 503 with that reason
for _ in $(seq 300); do
	curl -s -m 2 "$url/readyz" | grep -q 'no kube-apiserver' && break
	sleep 0.1
done
[ "$(code /readyz)" = 503 ] && curl -s -m 2 "$url/readyz" | grep -q 'no kube-apiserver' ||
	fail "/readyz did not report attached-but-no-apiserver: $(curl -s -m 2 "$url/readyz")"
# the container got exactly the DaemonSet's capabilities, less any this machine withholds from
# us all (here: CAP_SYS_RESOURCE); the process inside holds no other (it may drop some itself)
caps=$(pm inspect "$name" --format '{{.EffectiveCaps}}')
ours=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
want="[CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_SYS_RESOURCE]"
[ $((0x$ours >> 24 & 1)) = 1 ] || {
	want="[CAP_BPF CAP_PERFMON CAP_SYS_PTRACE]"
	echo "container_image: note: this machine withholds CAP_SYS_RESOURCE; the container runs without it"
}
[ "$caps" = "$want" ] || fail "the container's capabilities are $caps, the DaemonSet's $want"
pid=$(pm inspect "$name" --format '{{.State.Pid}}')
allowed=$(( (1 << 39) | (1 << 38) | (1 << 19) | (1 << 24) ))
for set in CapBnd CapPrm CapEff; do
	v=0x$(awk -v s="$set:" '$1 == s {print $2}' "/proc/$pid/status")
	[ $((v & ~allowed)) = 0 ] || fail "keyhole inside holds $set $v, beyond the DaemonSet's"
done
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || fail "no_new_privs is not set"

input=$src/tests/data/attack.log
lines=$(grep -c . "$input")
"$tmp/$api" --audit-log-path "$tmp/audit/audit.log" --input "$input" \
	>"$tmp/apiserver.log" 2>&1 &
wait_for /readyz 200 20
metric() { curl -s -m 2 "$url/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
for _ in $(seq 200); do
	[ "$(metric keyhole_events_total)" = "$lines" ] && break
	sleep 0.1
done
[ "$(metric keyhole_events_total)" = "$lines" ] ||
	fail "keyhole_events_total $(metric keyhole_events_total), the apiserver wrote $lines lines"
[ "$(metric keyhole_capture_lost_writes_total)" = 0 ] || fail "writes lost on the way"
[ "$(metric keyhole_capture_lines_total)" = "$lines" ] ||
	fail "keyhole_capture_lines_total $(metric keyhole_capture_lines_total), not $lines"

# docs/deployment.md's metric table lists exactly the series served
diff <(curl -s -m 2 "$url/metrics" | awk '$1 == "#" && $2 == "TYPE" {print $3}' | sort) \
	<(sed -n 's/^| `\(keyhole_[a-z_]*\)` |.*/\1/p' "$src/docs/deployment.md" | sort) ||
	fail "docs/deployment.md's metrics table and /metrics disagree (< served, > documented)"

# ---- 4. stop, then the alerts equal replay's ----
pkill -TERM -x "$api" || true
pm stop -t 20 "$name" >/dev/null
pm logs "$name" 2>"$tmp/stderr.log" >"$tmp/live.jsonl"
grep -q 'lost 0 writes' "$tmp/stderr.log" || fail "the container's summary does not say lost 0"
if grep -qi 'exec watch did not load\|cannot serve the exec watch' "$tmp/stderr.log"; then
	grep -i -B3 'exec watch' "$tmp/stderr.log" | head
	fail "the exec watch did not run under the DaemonSet's privileges"
fi
# the DaemonSet's configuration, its history kept apart
sed "s|/var/lib/keyhole/|$tmp/replay-|" "$tmp/cm/config/keyhole.yaml" >"$tmp/replay.yaml"
"$build/keyhole" replay -q --config "$tmp/replay.yaml" "$input" >"$tmp/replay.jsonl"
[ -s "$tmp/replay.jsonl" ] || fail "replay gave no alerts on $input"
# node-* alerts come from the exec watch, which sees every container exec on this host (other
# tests' runc containers too): the audit alerts are the ones to compare
audit_alerts() { grep -v '"rule":{"id":"node-' "$1" | sort; }
diff <(audit_alerts "$tmp/live.jsonl") <(audit_alerts "$tmp/replay.jsonl") >"$tmp/diff" || {
	head -20 "$tmp/diff"
	fail "the container's alerts differ from replay's"
}
[ -n "$(ls -A "$tmp/state")" ] || fail "no state file in the writable mount"

echo "container_image: image $(pm image inspect "$image" --format '{{.Size}}') bytes," \
	"$lines lines captured in the container, $(wc -l <"$tmp/live.jsonl") alerts = replay;" \
	"build $((t1 - t0)) s, run $(($(date +%s) - t1)) s"
