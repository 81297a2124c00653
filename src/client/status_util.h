// Status helpers of the client library.
#pragma once

#include <string>

#include "llamanet/status.h"

namespace llamanet::client {

// A Status with the code of `s` and another message. REQUIRES: !s.ok().
Status WithMessage(const Status& s, std::string message);

// "prefix: <message of s>", same code. REQUIRES: !s.ok().
inline Status Prefixed(const std::string& prefix, const Status& s) { return WithMessage(s, prefix + ": " + s.message()); }

}  // namespace llamanet::client
