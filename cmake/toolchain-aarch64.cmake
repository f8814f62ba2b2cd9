# SPDX-License-Identifier: Apache-2.0
# Cross-building keyhole for arm64 on an amd64 Debian machine: Debian's aarch64-linux-gnu gcc
# (package gcc-aarch64-linux-gnu, whose libc is libc6-dev-arm64-cross) plus a sysroot of the
# arm64 -dev packages unpacked by scripts/cross-arm64 (KH_ARM64_SYSROOT). pkg-config reads only
# the sysroot's .pc files and prefixes their paths with it, so every pkg_check_modules of the
# build finds the arm64 libraries and never the machine's own. The BPF objects stay
# clang -target bpf with the host's bpftool; cmake/bpf.cmake picks vmlinux/arm64/ from
# CMAKE_SYSTEM_PROCESSOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

if(NOT DEFINED KH_ARM64_SYSROOT)
	set(KH_ARM64_SYSROOT "$ENV{KH_ARM64_SYSROOT}")
endif()
if(NOT KH_ARM64_SYSROOT OR NOT IS_DIRECTORY "${KH_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
	message(FATAL_ERROR "toolchain-aarch64: KH_ARM64_SYSROOT (${KH_ARM64_SYSROOT}) is not an "
			    "arm64 sysroot; scripts/cross-arm64 makes one")
endif()
# try_compile projects see the variable too
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KH_ARM64_SYSROOT)

set(ENV{PKG_CONFIG_LIBDIR}
    "${KH_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${KH_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${KH_ARM64_SYSROOT}")

# find_library (the static relink) looks in the sysroot, programs on the host
set(CMAKE_FIND_ROOT_PATH "${KH_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)

# Debian keeps architecture-specific headers (openssl/opensslconf.h among them) in the multiarch
# directory, which the cross compiler does not search for a sysroot it was not built with.
set(CMAKE_C_FLAGS_INIT "-isystem ${KH_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu")
