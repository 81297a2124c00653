# Brings in llama.cpp's source at the pinned commit (always: its vendored cpp-httplib is our
# HTTP library, see cmake/httplib.cmake), from
#   1. the git bundle inside the npm package node-llama-cpp@3.21.1, which works offline once npm
#      can reach its registry (the package is cached in .deps/);
#   2. llama.cpp's public git repository.
# With LLAMANET_WITH_LLAMA the libraries are built from that source, with the parts of llama.cpp's
# `common` library the engine uses (cmake/llama_common.cmake), which have no installed form and
# must match the llama library they were written against.
set(LLAMANET_LLAMA_COMMIT 80fb11ac73e66d89eae2c6a91d8a77428fa733ed)
set(LLAMANET_NODE_LLAMA_CPP node-llama-cpp@3.21.1)
set(LLAMANET_DEPS_DIR ${CMAKE_SOURCE_DIR}/.deps CACHE PATH "Where downloaded dependency archives are kept")
set(LLAMANET_LLAMA_BUNDLE "" CACHE FILEPATH "A git bundle holding llama.cpp's pinned commit")

if(NOT LLAMANET_LLAMA_BUNDLE)
  set(_pkg_dir ${LLAMANET_DEPS_DIR}/node-llama-cpp-3.21.1)
  set(_bundle ${_pkg_dir}/package/llama/gitRelease.bundle)
  if(NOT EXISTS ${_bundle})
    find_program(LLAMANET_NPM npm)
    if(LLAMANET_NPM)
      message(STATUS "llama.cpp: fetching ${LLAMANET_NODE_LLAMA_CPP} from npm for its git bundle")
      file(MAKE_DIRECTORY ${_pkg_dir})
      execute_process(COMMAND ${LLAMANET_NPM} pack ${LLAMANET_NODE_LLAMA_CPP} --silent
                      WORKING_DIRECTORY ${_pkg_dir} RESULT_VARIABLE _rc OUTPUT_VARIABLE _tgz
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(_rc EQUAL 0)
        execute_process(COMMAND ${CMAKE_COMMAND} -E tar xzf ${_tgz} package/llama/gitRelease.bundle
                        WORKING_DIRECTORY ${_pkg_dir} RESULT_VARIABLE _rc)
        file(REMOVE ${_pkg_dir}/${_tgz})
      endif()
      if(NOT _rc EQUAL 0)
        message(WARNING "llama.cpp: npm pack ${LLAMANET_NODE_LLAMA_CPP} failed; falling back to git")
      endif()
    endif()
  endif()
  if(EXISTS ${_bundle})
    set(LLAMANET_LLAMA_BUNDLE ${_bundle})
  endif()
endif()

if(LLAMANET_LLAMA_BUNDLE)
  set(_repo ${LLAMANET_LLAMA_BUNDLE})
else()
  set(_repo https://github.com/ggml-org/llama.cpp.git)
endif()
message(STATUS "llama.cpp: ${LLAMANET_LLAMA_COMMIT} from ${_repo}")

include(FetchContent)
FetchContent_Declare(llama_cpp
  GIT_REPOSITORY ${_repo}
  GIT_TAG ${LLAMANET_LLAMA_COMMIT}
  GIT_SHALLOW FALSE
  GIT_PROGRESS FALSE)
FetchContent_GetProperties(llama_cpp)
if(NOT llama_cpp_POPULATED)
  FetchContent_Populate(llama_cpp)
endif()

if(NOT LLAMANET_WITH_LLAMA)
  return()
endif()
# Benchmarks compare the node with llama.cpp's own llama-server and llama-batched-bench; built
# here they share the node's ggml and llama libraries, compiled once with the same settings
# (on a GPU build, one CUDA compile instead of two).
option(LLAMANET_LLAMA_TOOLS "Also build llama.cpp's llama-server and llama-batched-bench (for benchmarks)" OFF)
set(LLAMA_BUILD_COMMON ${LLAMANET_LLAMA_TOOLS} CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TOOLS ${LLAMANET_LLAMA_TOOLS} CACHE BOOL "" FORCE)
set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER ${LLAMANET_LLAMA_TOOLS} CACHE BOOL "" FORCE)
set(LLAMA_BUILD_APP OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_UI OFF CACHE BOOL "" FORCE)
set(LLAMA_USE_PREBUILT_UI OFF CACHE BOOL "" FORCE)
set(LLAMA_OPENSSL OFF CACHE BOOL "" FORCE)
set(LLAMA_CURL OFF CACHE BOOL "" FORCE)
# A portable build (the container image) loads ggml's backends at run time (GGML_BACKEND_DL, with
# GGML_CPU_ALL_VARIANTS: the best CPU variant for the machine it runs on), which ggml builds only
# as shared libraries; every other build links llama.cpp statically.
option(LLAMANET_LLAMA_SHARED "Build llama.cpp and ggml as shared libraries (GGML_BACKEND_DL needs them)" OFF)
set(BUILD_SHARED_LIBS ${LLAMANET_LLAMA_SHARED} CACHE BOOL "" FORCE)
set(GGML_NATIVE ON CACHE BOOL "Tune ggml for this CPU (turn off for portable images)")
# ggml's own thread pool, not OpenMP: idle OpenMP teams spin, which costs a process with more
# than one llama context (bench/engine: raw decoding at 49.7 instead of 38.9 tokens/s on this
# 2-core machine) and the HTTP threads that share a node's cores; a node with one context
# measured the same either way against llama-server (bench/server).
set(GGML_OPENMP OFF CACHE BOOL "Use OpenMP for ggml's CPU threads")

if(LLAMANET_LLAMA_TOOLS)
  # llama.cpp's tools are built only when named (the benchmarks want two of them); its libraries
  # still build with everything that links them.
  set(llamanet_llama_exclude EXCLUDE_FROM_ALL)
endif()
# llama.cpp's own warnings are not ours to fix; keep our flags off its targets.
add_subdirectory(${llama_cpp_SOURCE_DIR} ${llama_cpp_BINARY_DIR} ${llamanet_llama_exclude})

include(${CMAKE_CURRENT_LIST_DIR}/llama_common.cmake)
