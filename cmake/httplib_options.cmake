# cpp-httplib's compile-time caps, for every build of it (the main build and the fuzzers). The
# node's connection gate enforces the head limits with flags before httplib parses, so httplib's
# own line and header caps sit well above them: they must never cut a head the gate let in.
set(LLAMANET_HTTPLIB_DEFINITIONS
  CPPHTTPLIB_LISTEN_BACKLOG=512
  CPPHTTPLIB_HEADER_MAX_COUNT=4096
  CPPHTTPLIB_HEADER_MAX_LENGTH=65536
  CPPHTTPLIB_MAX_LINE_LENGTH=65536
  CPPHTTPLIB_REQUEST_URI_MAX_LENGTH=65536
  # A Range header may name one range; more are answered 416.
  CPPHTTPLIB_RANGE_MAX_COUNT=1)
# Used only inside httplib.cpp: a write to a peer that went away must fail, not raise SIGPIPE
# in the program that links us (the node ignores SIGPIPE; an application using the client
# library may not).
set(LLAMANET_HTTPLIB_PRIVATE_DEFINITIONS CPPHTTPLIB_SEND_FLAGS=MSG_NOSIGNAL)
