# ccache speeds up rebuilds, above all of llama.cpp. CCACHE_BASEDIR makes paths relative so
# that sibling build folders (build/, build-asan/) share cache entries.
find_program(LLAMANET_CCACHE ccache)
if(LLAMANET_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(_launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1 ${LLAMANET_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${_launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_launcher})
endif()
