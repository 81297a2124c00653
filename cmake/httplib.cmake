# Our HTTP library: cpp-httplib 0.54.1 as vendored in the pinned llama.cpp source (the server, the
# forwarding proxy and the client library all use it). Debian 12's cpp-httplib 0.11.4 is not
# used: it skips the body limit for chunked bodies (CVE-2025-46728), builds multi-range answers
# whole in memory and lets request lines and headers grow before any check.
#
# Compiled once here as a static library, with the caps of cmake/httplib_options.cmake.
set(LLAMANET_HTTPLIB_DIR ${llama_cpp_SOURCE_DIR}/vendor/cpp-httplib)
add_library(llamanet_httplib STATIC ${LLAMANET_HTTPLIB_DIR}/httplib.cpp)
target_include_directories(llamanet_httplib SYSTEM PUBLIC $<BUILD_INTERFACE:${LLAMANET_HTTPLIB_DIR}>)
include(${CMAKE_CURRENT_LIST_DIR}/httplib_options.cmake)
target_compile_definitions(llamanet_httplib PUBLIC ${LLAMANET_HTTPLIB_DEFINITIONS}
                           PRIVATE ${LLAMANET_HTTPLIB_PRIVATE_DEFINITIONS})
target_compile_options(llamanet_httplib PRIVATE -w)
target_compile_features(llamanet_httplib PUBLIC cxx_std_17)
set_target_properties(llamanet_httplib PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(llamanet_httplib PUBLIC Threads::Threads)
