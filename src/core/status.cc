#include "core/status.h"

namespace llamanet {

const char* Status::CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kMalformed: return "Malformed";
    case Code::kNotFound: return "NotFound";
    case Code::kUnavailable: return "Unavailable";
    case Code::kTooLarge: return "TooLarge";
    case Code::kCancelled: return "Cancelled";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kIoError: return "IoError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace llamanet
