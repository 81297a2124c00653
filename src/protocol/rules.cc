#include "protocol/rules.h"

namespace llamanet::protocol {

bool IsAnyModel(std::string_view model) { return model.empty() || model == "llamanet"; }

Status::Code CodeOfHttpStatus(int http_status) {
  if (http_status >= 200 && http_status < 400) return Status::Code::kOk;
  if (http_status == 404) return Status::Code::kNotFound;
  if (http_status == 413) return Status::Code::kTooLarge;
  if (http_status == 429 || (http_status >= 500 && http_status < 600)) return Status::Code::kUnavailable;
  if (http_status >= 400 && http_status < 500) return Status::Code::kInvalidArgument;
  return Status::Code::kMalformed;
}

bool TryAnotherNode(Status::Code failure) {
  switch (failure) {
    case Status::Code::kUnavailable:
    case Status::Code::kDeadlineExceeded:
    case Status::Code::kIoError:
    case Status::Code::kMalformed:
      return true;
    default:
      return false;
  }
}

}  // namespace llamanet::protocol
