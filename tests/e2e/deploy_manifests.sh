#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/kubernetes, offline: `kubectl kustomize` renders the base, the legacy-kernel and the
# uprobe-tap variants (what `kubectl apply -k` sends), every object validates strictly against
# the Kubernetes 1.27 schemas (npm kubernetes-models, pinned by tests/deploy/package-lock.json, installed under the
# build directory), the DaemonSet keeps its promised privileges and placement
# (tests/deploy/policy.mjs), and the ConfigMap carries deploy/keyhole.example.yaml as it is. The
# checkers are first shown to fail on broken manifests, so a pass means something.
#
# usage: deploy_manifests.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
deploy=$src/deploy/kubernetes
t0=$(date +%s)
fail() {
	echo "deploy_manifests: FAIL: $*" >&2
	exit 1
}

for tool in node npm kubectl; do
	command -v $tool >/dev/null ||
		fail "$tool not found (node and npm come with the machine image or Debian's nodejs/npm; kubectl renders the kustomizations)"
done

# ---- the schemas: npm ci once per lock file ----
. "$src/tests/deploy/npm-cache.sh"
modules=$(npm_modules "$build" "$src") || fail "cannot install the pinned npm packages"
validate() { node "$src/tests/deploy/validate.mjs" "$modules" "$@"; }
policy() { node "$src/tests/deploy/policy.mjs" "$modules" "$@"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- render what kubectl apply -k would send ----
kubectl kustomize "$deploy" >"$tmp/base.yaml" || fail "kubectl kustomize $deploy"
kubectl kustomize "$deploy/legacy-kernel" >"$tmp/legacy.yaml" ||
	fail "kubectl kustomize $deploy/legacy-kernel"
kubectl kustomize "$deploy/uprobe-tap" >"$tmp/uprobe-tap.yaml" ||
	fail "kubectl kustomize $deploy/uprobe-tap"
kubectl kustomize "$deploy/cluster" >"$tmp/cluster.yaml" || fail "kubectl kustomize $deploy/cluster"
kubectl kustomize "$deploy/cluster-tls" >"$tmp/cluster-tls.yaml" ||
	fail "kubectl kustomize $deploy/cluster-tls"
grep -q 'rediss://' "$tmp/cluster-tls.yaml" || fail "cluster-tls does not reach Redis by rediss://"

# ---- the checkers can fail: a typo, a bad quantity, an extra capability, privileged ----
sed 's/readOnlyRootFilesystem/readOnlyRootFileSystem/' "$tmp/base.yaml" >"$tmp/typo.yaml"
sed 's/memory: 512Mi/memory: plenty/' "$tmp/base.yaml" >"$tmp/quantity.yaml"
for bad in typo quantity; do
	if validate "$tmp/$bad.yaml" >"$tmp/out" 2>&1; then
		cat "$tmp/out"
		fail "validate.mjs accepted a broken manifest ($bad)"
	fi
	grep FAIL "$tmp/out" | head -1
done
sed 's/- SYS_PTRACE/- SYS_PTRACE\n                - NET_ADMIN/' "$tmp/base.yaml" >"$tmp/cap.yaml"
sed 's/privileged: false/privileged: true/' "$tmp/base.yaml" >"$tmp/priv.yaml"
for bad in cap priv; do
	if policy "$tmp/$bad.yaml" base >"$tmp/out" 2>&1; then
		cat "$tmp/out"
		fail "policy.mjs accepted a broken DaemonSet ($bad)"
	fi
	grep FAIL "$tmp/out" | head -1
done

# ---- the real manifests ----
mapfile -t files < <(find "$deploy" -name '*.yaml' ! -name kustomization.yaml | sort)
validate "${files[@]}" || fail "manifest files do not validate"
validate "$tmp/base.yaml" "$tmp/legacy.yaml" "$tmp/uprobe-tap.yaml" "$tmp/cluster.yaml" \
	"$tmp/cluster-tls.yaml" ||
	fail "rendered kustomizations do not validate"
policy "$tmp/base.yaml" base || fail "the DaemonSet breaks its policy"
policy "$tmp/legacy.yaml" legacy-kernel || fail "the legacy-kernel DaemonSet breaks its policy"
policy "$tmp/uprobe-tap.yaml" uprobe-tap || fail "the uprobe-tap DaemonSet breaks its policy"
# and the check can fail: the overlay's grant without the flag that confines it
sed '/- --late-uprobes/d' "$tmp/uprobe-tap.yaml" >"$tmp/noflag.yaml"
if policy "$tmp/noflag.yaml" uprobe-tap >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	fail "policy.mjs accepted CAP_SYS_ADMIN without --late-uprobes"
fi

# ---- the ConfigMap is deploy/keyhole.example.yaml, byte for byte ----
cp -r "$src/deploy" "$tmp/deploy"
"$tmp/deploy/kubernetes/sync-config"
diff -u "$deploy/base/configmap.yaml" "$tmp/deploy/kubernetes/base/configmap.yaml" ||
	fail "deploy/kubernetes/base/configmap.yaml is stale: run deploy/kubernetes/sync-config"

echo "deploy_manifests: all checks passed in $(($(date +%s) - t0)) s"
