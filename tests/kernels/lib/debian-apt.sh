# SPDX-License-Identifier: Apache-2.0
# debian-apt.sh: an apt of our own for fetching Debian packages of any suite and architecture
# without touching the machine's apt sources or state (lists, archives and status all live
# under one directory of ours). Sourced by fetch-kernel (kernels) and scripts/cross-arm64 (the
# arm64 sysroot and guest binaries).
#
#   debian_apt_init DIR ARCH SUITES   sets the array APT_OPTS and runs apt-get update
#   SUITES is comma separated (bookworm,bookworm-security); the mirror is the one this machine's
#   apt already uses (KEYHOLE_DEBIAN_MIRROR / KEYHOLE_DEBIAN_SECURITY_MIRROR override it).

# The Debian mirror this machine already uses: the first URIs:/deb entry ending in /debian,
# and the one ending in /debian-security for security suites.
debian_apt_uris() {
	{
		grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources |
			sed -E 's/^[[:space:]]*URIs:[[:space:]]*//' | tr ' ' '\n'
		grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			sed -E 's/\[[^]]*\]//' | awk '{ print $2 }'
	} | sed -E 's#/+$##'
}

debian_apt_init() { # DIR ARCH SUITES
	local apt=$1 arch=$2 suites=$3 mirror security uri s
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mirror=${KEYHOLE_DEBIAN_MIRROR:-$(debian_apt_uris | grep -E '/debian$' | head -n1 || true)}
	[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt; set KEYHOLE_DEBIAN_MIRROR" >&2; return 1; }
	security=${KEYHOLE_DEBIAN_SECURITY_MIRROR:-$(debian_apt_uris | grep -E '/debian-security$' | head -n1 || true)}
	security=${security:-$mirror-security}
	[ -r "$keyring" ] || { echo "$keyring missing: apt-get install debian-archive-keyring" >&2; return 1; }

	mkdir -p "$apt/lists/partial" "$apt/archives/partial"
	: >"$apt/sources.list"
	for s in ${suites//,/ }; do
		uri=$mirror
		case $s in *-security) uri=$security ;; esac
		echo "deb [signed-by=$keyring] $uri $s main" >>"$apt/sources.list"
	done
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$apt/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=/dev/null"
		-o "Dir::State::Lists=$apt/lists"
		-o "Dir::State::status=/dev/null"
		-o "Dir::Cache=$apt"
		-o "Dir::Cache::archives=$apt/archives"
		-o "APT::Architecture=$arch"
		-o "APT::Architectures=$arch"
		-o "Acquire::Languages=none"
		-q
	)
	apt-get "${APT_OPTS[@]}" update >"$apt/update.log" 2>&1 ||
		{ echo "apt-get update failed (log: $apt/update.log)" >&2; return 1; }
}
