#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The static build, one option away: -DKEYHOLE_STATIC=ON in its own build directory gives a
# build/keyhole with no interpreter and no shared library; it runs alone in an empty chroot
# (no libc, no -dev package, no file but its input), and its replay of the bundled audit logs
# gives byte for byte the alerts of the ordinary build.
#
# usage: static_build.sh BUILD_DIR SOURCE_DIR   (the static tree goes to BUILD_DIR/static)
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
sbuild=$build/static
t0=$(date +%s)
fail() {
	echo "static_build: FAIL: $*" >&2
	exit 1
}

cmake -S "$src" -B "$sbuild" -DKEYHOLE_STATIC=ON -DKEYHOLE_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/static-configure.log" ||
	fail "configure: see $build/static-configure.log"
cmake --build "$sbuild" -j "${JOBS:-2}" --target keyhole >"$build/static-build.log" 2>&1 ||
	{ tail -20 "$build/static-build.log"; fail "build: see $build/static-build.log"; }
bin=$sbuild/keyhole
t1=$(date +%s)

# ---- linked statically: no interpreter, no dynamic section ----
file -b "$bin" | grep -q 'statically linked' || fail "file says: $(file -b "$bin")"
readelf -lW "$bin" | grep -q 'Requesting program interpreter' && fail "$bin has an interpreter"
readelf -dW "$bin" | grep -q NEEDED && fail "$bin needs shared libraries"
lddout=$(ldd "$bin" 2>&1 || true)
grep -Eq 'not a dynamic executable|statically linked' <<<"$lddout" || fail "ldd says: $lddout"

# ---- alone in an empty root, it runs and replays ----
inputs=(attack.log benign-controlplane.log rapid-get.log secret-markers.log)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/data"
cp "$bin" "$root/keyhole"
for f in "${inputs[@]}"; do cp "$src/tests/data/$f" "$root/data/"; done
if [ "$(id -u)" = 0 ]; then
	in_root() { chroot "$root" "$@"; }
	where="in an empty chroot"
else
	echo "static_build: WARNING: not root, so no chroot: the static binary runs in place" >&2
	in_root() { (cd "$root" && ".$1" "${@:2}"); }
	where="in place (not root: no chroot)"
fi
in_root /keyhole --help | grep -q '^Usage: keyhole' || fail "keyhole --help $where"
in_root /keyhole --version | grep -q '^keyhole ' || fail "keyhole --version $where"
in_root /keyhole replay -q "${inputs[@]/#/data/}" >"$root/static.jsonl" ||
	fail "keyhole replay $where"

# ---- the same alerts as the ordinary build ----
[ -x "$build/keyhole" ] || fail "$build/keyhole not built (build the ordinary tree first)"
(cd "$src/tests/data" && "$build/keyhole" replay -q "${inputs[@]}") >"$root/dynamic.jsonl"
[ -s "$root/dynamic.jsonl" ] || fail "the ordinary build gave no alerts on the bundled logs"
cmp -s "$root/static.jsonl" "$root/dynamic.jsonl" || {
	diff <(head -c 2000 "$root/static.jsonl") <(head -c 2000 "$root/dynamic.jsonl") || true
	fail "static and ordinary builds disagree on the bundled logs"
}

echo "static_build: $(stat -c %s "$bin") bytes, statically linked, $(wc -l <"$root/static.jsonl")" \
	"alerts $where, identical to the ordinary build; built in $((t1 - t0)) s," \
	"checked in $(($(date +%s) - t1)) s"
