# SPDX-License-Identifier: Apache-2.0
# Builds every bpf/*.bpf.c into an object with clang -target bpf and a libbpf skeleton with
# bpftool, so the agent embeds its programs (no .o files to ship or find at run time).
find_program(CLANG_BPF NAMES clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
	set(KH_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
	set(KH_BPF_ARCH arm64)
	# the arm64 header comes from a 7.x kernel, whose BTF has anonymous members of a named
	# struct type (`struct ns_tree;` inside a struct), as bpftool dumps them; clang takes them
	# as Microsoft extensions
	set(KH_BPF_ARCH_FLAGS -fms-extensions -Wno-microsoft-anon-tag)
else()
	message(FATAL_ERROR "keyhole: no BPF target for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

file(GLOB KH_BPF_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.bpf.c)
file(GLOB KH_BPF_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.bpf.h
     ${CMAKE_SOURCE_DIR}/include/keyhole/*.h)
set(KH_BPF_SKELETONS "")
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/bpf)
foreach(src ${KH_BPF_SOURCES})
	get_filename_component(name ${src} NAME_WE) # audit_tap.bpf.c -> audit_tap
	set(obj ${CMAKE_BINARY_DIR}/bpf/${name}.bpf.o)
	set(skel ${CMAKE_BINARY_DIR}/bpf/${name}.skel.h)
	add_custom_command(OUTPUT ${obj}
		COMMAND ${CLANG_BPF} -g -O2 -target bpf -D__TARGET_ARCH_${KH_BPF_ARCH}
			${KH_BPF_ARCH_FLAGS}
			-Wall -Werror
			-I${CMAKE_SOURCE_DIR}/vmlinux/${KH_BPF_ARCH} -I${CMAKE_SOURCE_DIR}/include
			-I${CMAKE_SOURCE_DIR}/bpf -c ${src} -o ${obj}
		DEPENDS ${src} ${KH_BPF_HEADERS}
		COMMENT "BPF ${name}.bpf.o")
	add_custom_command(OUTPUT ${skel}
		COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
		DEPENDS ${obj}
		COMMENT "skeleton ${name}.skel.h")
	list(APPEND KH_BPF_SKELETONS ${skel})
endforeach()
if(KH_BPF_SKELETONS)
	add_custom_target(keyhole_bpf_skels DEPENDS ${KH_BPF_SKELETONS})
endif()
