# SPDX-License-Identifier: Apache-2.0
# Sourced by the deploy tests: npm_modules BUILD_DIR SOURCE_DIR prints the node_modules directory
# holding the pinned packages of tests/deploy/package-lock.json, running `npm ci` under
# BUILD_DIR/deploy-npm the first time (and when the lock file changes), reusing it after.
npm_modules() {
	local build=$1 src=$2 cache=$1/deploy-npm
	if [ ! -d "$cache/node_modules/kubernetes-models" ] ||
		! cmp -s "$src/tests/deploy/package-lock.json" "$cache/package-lock.json"; then
		rm -rf "$cache"
		mkdir -p "$cache"
		cp "$src/tests/deploy/package.json" "$src/tests/deploy/package-lock.json" "$cache/"
		(cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
			echo "npm ci in $cache failed (it needs the npm registry once)" >&2
			return 1
		}
	fi
	echo "$cache/node_modules"
}
