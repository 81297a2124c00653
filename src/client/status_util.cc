#include "client/status_util.h"

namespace llamanet::client {

Status WithMessage(const Status& s, std::string message) {
  using Code = Status::Code;
  switch (s.code()) {
    case Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Code::kMalformed: return Status::Malformed(std::move(message));
    case Code::kNotFound: return Status::NotFound(std::move(message));
    case Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Code::kTooLarge: return Status::TooLarge(std::move(message));
    case Code::kCancelled: return Status::Cancelled(std::move(message));
    case Code::kDeadlineExceeded: return Status::DeadlineExceeded(std::move(message));
    case Code::kIoError: return Status::IoError(std::move(message));
    case Code::kOk:
    case Code::kInternal: break;
  }
  return Status::Internal(std::move(message));
}

}  // namespace llamanet::client
