// Checks a request's head (request line and header lines) before cpp-httplib parses it, by RFC
// 9112's grammar: a head that a strict parser and a lenient one could read differently (request
// smuggling, desync) is refused, and so is a body the node would refuse anyway, before a byte of
// it is read. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llamanet::http {

struct HeadVerdict {
  int status = 0;       // 0: the head may be served; else the error status to answer
  std::string message;  // why, for the error body (never echoes the request)
};

// `head` is everything before the blank line that ends it. Refuses: a request line that is not
// `METHOD SP TARGET SP HTTP/1.x` with a token method and a visible-ASCII target (400), or whose
// method is not one httplib serves (501); header
// lines that are folded, lack a token name and colon, or carry control characters (400); a
// Content-Length that is not a number or differs between repeats (400), or is over
// `max_body_bytes` (413); a POST, PUT or PATCH with neither Content-Length nor
// Transfer-Encoding (411).
HeadVerdict CheckHead(std::string_view head, size_t max_body_bytes);

}  // namespace llamanet::http
