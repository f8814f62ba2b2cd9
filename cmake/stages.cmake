# SPDX-License-Identifier: Apache-2.0
# One static library per stage of src/, with one-way dependencies (docs/architecture.md).
#
# A stage's public interface is its headers in include/keyhole/ (the one public include path,
# shared by every stage). Its private headers stay in src/<stage>/ and are spelled
# "<stage>/name.h", as before; the stage reaches them through a private include directory
# build/private/<stage>/ that holds one symlink, <stage> -> src/<stage>. src/ itself is on no
# include path, so "rules/emit.h" from a file of another stage does not resolve: the compile
# fails (tests/build/ checks it). White-box tests, fuzzers and benches link keyhole_internals,
# which opens every stage's private headers to them, and only to them.
#
# kh_stages(SUFFIX) defines keyhole_<stage>${SUFFIX} for every stage, and keyhole_core${SUFFIX}
# (every stage) and keyhole_internals${SUFFIX} (every stage plus their private headers); the
# fuzz build calls it again with "_fuzz" to get a coverage-instrumented copy.

# The stages bottom-up (base calls nothing, cmd is the top), then for each the stages it may call
# directly. A new edge must point down; tests/build/stage_deps.sh checks the objects against it.
set(KH_STAGES base config parse state rules sigma correlate output report pipeline cluster capture
	source resume cmd)
set(KH_STAGE_DEPS_base "")
set(KH_STAGE_DEPS_config base)
set(KH_STAGE_DEPS_parse base)
set(KH_STAGE_DEPS_state base)
set(KH_STAGE_DEPS_rules parse config state base)
set(KH_STAGE_DEPS_sigma rules state parse base)
set(KH_STAGE_DEPS_correlate rules parse config base)
set(KH_STAGE_DEPS_output base)
set(KH_STAGE_DEPS_report parse base)
set(KH_STAGE_DEPS_pipeline sigma correlate rules state parse config output base)
set(KH_STAGE_DEPS_cluster pipeline correlate rules parse output config base)
set(KH_STAGE_DEPS_capture pipeline output config base)
set(KH_STAGE_DEPS_source pipeline base)
set(KH_STAGE_DEPS_resume pipeline source state parse output base)
set(KH_STAGE_DEPS_cmd capture source resume cluster pipeline report sigma correlate rules state config output
	base)

# the graph, for tests/build/stage_deps.sh: one line per stage, "stage: its allowed stages"
set(graph "")
foreach(stage ${KH_STAGES})
	list(JOIN KH_STAGE_DEPS_${stage} " " deps)
	string(APPEND graph "${stage}: ${deps}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/stage_deps.txt "${graph}")

# each stage's private include directory: build/private/<stage>/<stage> -> src/<stage>
foreach(stage ${KH_STAGES})
	set(dir ${CMAKE_BINARY_DIR}/private/${stage})
	file(MAKE_DIRECTORY ${dir})
	file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${stage} ${dir}/${stage} SYMBOLIC) # replaces an old one
endforeach()

function(kh_stages suffix)
	set(all "")
	set(private_dirs "")
	foreach(stage ${KH_STAGES})
		set(lib keyhole_${stage}${suffix})
		file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${stage}/*.c)
		add_library(${lib} STATIC ${srcs})
		target_include_directories(${lib} PUBLIC ${CMAKE_SOURCE_DIR}/include
					   PRIVATE ${CMAKE_BINARY_DIR}/private/${stage})
		target_compile_definitions(${lib} PUBLIC KEYHOLE_VERSION="${PROJECT_VERSION}")
		foreach(dep ${KH_STAGE_DEPS_${stage}})
			target_link_libraries(${lib} PUBLIC keyhole_${dep}${suffix})
		endforeach()
		list(APPEND all ${lib})
		list(APPEND private_dirs ${CMAKE_BINARY_DIR}/private/${stage})
	endforeach()
	# the outside libraries, each on the one stage that uses it
	target_link_libraries(keyhole_config${suffix} PUBLIC PkgConfig::YAML)
	target_link_libraries(keyhole_sigma${suffix} PUBLIC PkgConfig::YAML PkgConfig::PCRE2)
	target_link_libraries(keyhole_state${suffix} PUBLIC PkgConfig::ZLIB)
	target_link_libraries(keyhole_source${suffix} PUBLIC PkgConfig::ZLIB)
	target_link_libraries(keyhole_output${suffix} PUBLIC PkgConfig::EVENT m)
	target_link_libraries(keyhole_capture${suffix} PUBLIC PkgConfig::LIBBPF PkgConfig::LIBELF)
	target_link_libraries(keyhole_cluster${suffix} PUBLIC PkgConfig::HIREDIS PkgConfig::OPENSSL
			      Threads::Threads)
	target_include_directories(keyhole_capture${suffix} PRIVATE ${CMAKE_BINARY_DIR}/bpf)
	if(KH_BPF_SKELETONS)
		add_dependencies(keyhole_capture${suffix} keyhole_bpf_skels)
	endif()

	add_library(keyhole_core${suffix} INTERFACE)
	target_link_libraries(keyhole_core${suffix} INTERFACE ${all})
	add_library(keyhole_internals${suffix} INTERFACE)
	target_link_libraries(keyhole_internals${suffix} INTERFACE keyhole_core${suffix})
	target_include_directories(keyhole_internals${suffix} INTERFACE ${private_dirs})
endfunction()
