# Our HTTP library: cpp-httplib 0.54.1 as vendored in the pinned llama.cpp source (the server, the
# forwarding proxy and the client library all use it). Debian 12's cpp-httplib 0.11.4 is not
# used: it skips the body limit for chunked bodies (CVE-2025-46728), builds multi-range answers
# whole in memory and lets request lines and headers grow before any check.
#
# Compiled once here as a static library, so that its limits are ours: the node's connection
# gate (src/http/connection_gate.h) enforces the request line, header and Range limits with
# flags before httplib parses; these compile-time caps are only the outer bounds behind it.
set(LLAMANET_HTTPLIB_DIR ${llama_cpp_SOURCE_DIR}/vendor/cpp-httplib)
add_library(llamanet_httplib STATIC ${LLAMANET_HTTPLIB_DIR}/httplib.cpp)
target_include_directories(llamanet_httplib SYSTEM PUBLIC $<BUILD_INTERFACE:${LLAMANET_HTTPLIB_DIR}>)
target_compile_definitions(llamanet_httplib PUBLIC
  CPPHTTPLIB_LISTEN_BACKLOG=512
  CPPHTTPLIB_HEADER_MAX_COUNT=1024
  CPPHTTPLIB_REQUEST_URI_MAX_LENGTH=65536
  CPPHTTPLIB_RANGE_MAX_COUNT=1)
target_compile_options(llamanet_httplib PRIVATE -w)
target_compile_features(llamanet_httplib PUBLIC cxx_std_17)
set_target_properties(llamanet_httplib PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(llamanet_httplib PUBLIC Threads::Threads)
