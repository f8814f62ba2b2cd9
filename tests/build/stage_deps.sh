#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The layering at link level: every symbol a stage library takes from another stage must come
# from a stage it is allowed to call (build/stage_deps.txt, written from cmake/stages.cmake),
# directly or through one of those. A call up or sideways (a cycle) is a FAIL line naming the
# caller's object, the callee stage and the symbol. Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
build=$1
graph=$build/stage_deps.txt

declare -A deps defs
stages=()
while IFS=: read -r stage list; do
	stages+=("$stage")
	deps[$stage]=$list
done <"$graph"

# every stage this one may reach, through its allowed stages
reach() {
	local todo=($1) seen=" " s
	while ((${#todo[@]})); do
		s=${todo[0]}
		todo=("${todo[@]:1}")
		[[ $seen == *" $s "* ]] && continue
		seen+="$s "
		todo+=(${deps[$s]})
	done
	echo "$seen"
}

for s in "${stages[@]}"; do
	while read -r sym; do
		defs[$sym]=$s
	done < <(nm --defined-only "$build/libkeyhole_$s.a" 2>/dev/null |
		awk 'NF == 3 && $2 ~ /[TDRBC]/ { print $3 }')
done

pass=0 fail=0
for s in "${stages[@]}"; do
	ok=$(reach "${deps[$s]}")
	while read -r obj sym; do
		d=${defs[$sym]:-}
		[[ -z $d || $d == "$s" || $ok == *" $d "* ]] && continue
		echo "FAIL: $s/$obj calls $sym of stage $d, which $s may not call"
		fail=$((fail + 1))
	done < <(nm -A --undefined-only "$build/libkeyhole_$s.a" |
		awk '{ split($1, p, ":"); print p[2], $NF }')
	pass=$((pass + 1))
done
((${#stages[@]} > 5)) || { echo "FAIL: only ${#stages[@]} stages in $graph"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
((fail == 0))
