# SPDX-License-Identifier: Apache-2.0
# Run by `cmake --install` (install(SCRIPT)): puts the systemd unit, the logrotate file and the
# example configuration in place for the prefix given at install time, not at configure time,
# so `cmake --install build --prefix DIR` yields a unit whose paths point into DIR. DESTDIR is
# honoured by file(INSTALL). An existing configuration is never overwritten: a changed example
# goes beside it as keyhole.yaml.new.
#   KH_SOURCE_DIR, KH_BINARY_DIR   the source and build trees
#   KH_BINDIR                      the binary directory, relative to the prefix
# (set by the install(CODE) line in CMakeLists.txt)
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
	set(etc "/etc") # /usr/etc is nobody's convention
else()
	set(etc "${prefix}/etc")
endif()
set(bindir "${prefix}/${KH_BINDIR}")
set(unitdir "${prefix}/lib/systemd/system")
set(stage "${KH_BINARY_DIR}/install-stage") # the build tree, wherever cmake --install runs
file(MAKE_DIRECTORY "${stage}")

file(READ "${KH_SOURCE_DIR}/deploy/systemd/keyhole.service" unit)
string(REPLACE "/usr/local/bin/keyhole" "${bindir}/keyhole" unit "${unit}")
string(REPLACE "/etc/keyhole/keyhole.yaml" "${etc}/keyhole/keyhole.yaml" unit "${unit}")
string(REPLACE "file:///usr/local/share/doc/keyhole/" "file://${prefix}/share/doc/keyhole/" unit
       "${unit}")
file(WRITE "${stage}/keyhole.service" "${unit}")
file(INSTALL "${stage}/keyhole.service" DESTINATION "${unitdir}" FILE_PERMISSIONS OWNER_READ
     OWNER_WRITE GROUP_READ WORLD_READ)
# the opt-in drop-in for the uprobe path (deploy/systemd/uprobe-tap.conf): beside the docs, to
# be copied into /etc/systemd/system/keyhole.service.d/ by an operator who wants it
file(READ "${KH_SOURCE_DIR}/deploy/systemd/uprobe-tap.conf" dropin)
string(REPLACE "/usr/local/bin/keyhole" "${bindir}/keyhole" dropin "${dropin}")
string(REPLACE "/etc/keyhole/keyhole.yaml" "${etc}/keyhole/keyhole.yaml" dropin "${dropin}")
file(WRITE "${stage}/uprobe-tap.conf" "${dropin}")
file(INSTALL "${stage}/uprobe-tap.conf" DESTINATION "${prefix}/share/keyhole/systemd"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${KH_SOURCE_DIR}/deploy/systemd/keyhole.logrotate" DESTINATION "${etc}/logrotate.d"
     RENAME keyhole FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${KH_SOURCE_DIR}/README.md" DESTINATION "${prefix}/share/doc/keyhole")

set(example "${KH_SOURCE_DIR}/deploy/keyhole.example.yaml")
set(config "$ENV{DESTDIR}${etc}/keyhole/keyhole.yaml")
set(name keyhole.yaml)
if(EXISTS "${config}")
	file(READ "${config}" have)
	file(READ "${example}" want)
	if(NOT have STREQUAL want)
		set(name keyhole.yaml.new)
		message(STATUS "Keeping your ${etc}/keyhole/keyhole.yaml; the new example is keyhole.yaml.new")
	endif()
endif()
# the configuration may name users and paths: root and the keyhole group only
file(INSTALL "${example}" DESTINATION "${etc}/keyhole" RENAME ${name} FILE_PERMISSIONS OWNER_READ
     OWNER_WRITE GROUP_READ)
