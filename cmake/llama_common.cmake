# llamanet_llama_common: llama.cpp's `common` library, the parts the engine uses: chat templates
# (its Jinja engine), tool-call parsing, JSON schema to grammar, the sampler with grammars.
# Built here without its download code (arg, download, hf-cache, preset), which links llama.cpp's
# own cpp-httplib: beside ours (cmake/httplib.cmake) the linker would take some of httplib's
# functions from that copy, built without our limits (a 12 KiB header then split one request
# into two answers). llama.cpp's own tools (LLAMANET_LLAMA_TOOLS) build the whole library apart.
set(_common ${llama_cpp_SOURCE_DIR}/common)
file(GLOB _common_sources CONFIGURE_DEPENDS ${_common}/*.cpp ${_common}/jinja/*.cpp)
list(REMOVE_ITEM _common_sources ${_common}/arg.cpp ${_common}/download.cpp ${_common}/hf-cache.cpp
     ${_common}/preset.cpp ${_common}/subproc.cpp ${_common}/console.cpp)

set(LLAMA_BUILD_NUMBER 0)
set(LLAMA_BUILD_COMMIT ${LLAMANET_LLAMA_COMMIT})
set(BUILD_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
set(BUILD_TARGET ${CMAKE_SYSTEM_PROCESSOR})
configure_file(${_common}/build-info.cpp.in ${CMAKE_BINARY_DIR}/llamanet_llama_common/build-info.cpp)

add_library(llamanet_llama_common STATIC ${_common_sources} ${CMAKE_BINARY_DIR}/llamanet_llama_common/build-info.cpp)
target_include_directories(llamanet_llama_common SYSTEM PUBLIC ${_common} PRIVATE ${llama_cpp_SOURCE_DIR}/vendor)
target_link_libraries(llamanet_llama_common PUBLIC llama)
target_compile_features(llamanet_llama_common PUBLIC cxx_std_17)
target_compile_options(llamanet_llama_common PRIVATE -w)
if(LLAMANET_LLAMA_SHARED)
  set_target_properties(llamanet_llama_common PROPERTIES POSITION_INDEPENDENT_CODE ON)
endif()
