# BpfAbi.cmake: check BPF objects with bpfabi from CMake
# (docs/integration.md, "Make and CMake").
#
#   include(path/to/BpfAbi.cmake)
#   bpfabi_check(TARGET bpfabi-check
#                OBJECTS ${CMAKE_BINARY_DIR}/a.bpf.o ${CMAKE_BINARY_DIR}/b.bpf.o
#                DEPENDS bpf-objects
#                KERNELS debian:bookworm debian:trixie
#                MANIFEST ${CMAKE_SOURCE_DIR}/bpfabi-policy.toml)
#
# adds a target (default name `bpfabi-check`) that runs
#   bpfabi check --format gnu [--config C] [--policy M] [--kernel K]... OBJECTS
# and fails when bpfabi exits non-zero (a program that fails to load on a
# target kernel, a `deny` policy finding). Options:
#   TARGET    target name (default bpfabi-check)
#   OBJECTS   BPF objects (required)
#   DEPENDS   targets or files building them
#   KERNELS   target kernels (default: CONFIG's, else the running kernel)
#   MANIFEST  stability manifest (default: bpfabi-policy.toml in the source
#             directory when present)
#   CONFIG    project configuration (default: .bpfabi.toml in the source
#             directory when present)
#   FORMAT    gnu (default), table, json, sarif
#   FLAGS     further `check` options
#   ALL       also run it with the default build (`cmake --build`)
# The bpfabi binary: BPFABI_EXECUTABLE (found on PATH by default).

find_program(BPFABI_EXECUTABLE bpfabi)

function(bpfabi_check)
  cmake_parse_arguments(ARG "ALL" "TARGET;MANIFEST;CONFIG;FORMAT" "OBJECTS;DEPENDS;KERNELS;FLAGS" ${ARGN})
  if(NOT ARG_OBJECTS)
    message(FATAL_ERROR "bpfabi_check: OBJECTS is required")
  endif()
  if(NOT BPFABI_EXECUTABLE)
    message(FATAL_ERROR "bpfabi_check: bpfabi not found (set BPFABI_EXECUTABLE)")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET bpfabi-check)
  endif()
  if(NOT ARG_FORMAT)
    set(ARG_FORMAT gnu)
  endif()
  if(NOT ARG_MANIFEST AND EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/bpfabi-policy.toml")
    set(ARG_MANIFEST "${CMAKE_CURRENT_SOURCE_DIR}/bpfabi-policy.toml")
  endif()
  if(NOT ARG_CONFIG AND EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/.bpfabi.toml")
    set(ARG_CONFIG "${CMAKE_CURRENT_SOURCE_DIR}/.bpfabi.toml")
  endif()
  set(args check --format ${ARG_FORMAT})
  if(ARG_CONFIG)
    list(APPEND args --config ${ARG_CONFIG})
  endif()
  if(ARG_MANIFEST)
    list(APPEND args --policy ${ARG_MANIFEST})
  endif()
  foreach(k IN LISTS ARG_KERNELS)
    list(APPEND args --kernel ${k})
  endforeach()
  set(all)
  if(ARG_ALL)
    set(all ALL)
  endif()
  add_custom_target(${ARG_TARGET} ${all}
    COMMAND ${BPFABI_EXECUTABLE} ${args} ${ARG_FLAGS} ${ARG_OBJECTS}
    DEPENDS ${ARG_DEPENDS} ${ARG_OBJECTS}
    COMMENT "bpfabi: checking BPF objects"
    VERBATIM)
endfunction()
