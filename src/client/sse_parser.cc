#include "client/sse_parser.h"

namespace llamanet::client {

Status SseParser::Feed(std::string_view bytes, const OnEvent& on_event) {
  for (char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      Status s = Line(line_, on_event);
      line_.clear();
      if (!s.ok()) return s;
      continue;
    }
    if (line_.size() + data_.size() >= max_event_bytes_) return Status::TooLarge("an SSE event is over the size limit");
    line_.push_back(c);
  }
  return Status::Ok();
}

Status SseParser::Line(std::string_view line, const OnEvent& on_event) {
  if (line.empty()) {
    if (!has_data_) return Status::Ok();
    std::string data = std::move(data_);
    data_.clear();
    has_data_ = false;
    return on_event(data);
  }
  if (line.front() == ':') return Status::Ok();  // a comment
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  if (field != "data") return Status::Ok();
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
  return Status::Ok();
}

}  // namespace llamanet::client
