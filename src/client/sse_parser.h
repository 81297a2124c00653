// Splits a Server-Sent Events byte stream into the data of its events, incrementally: bytes
// arrive in whatever pieces the socket gives. Lines end with \n, \r\n or \r; an event ends
// with a blank line; its `data:` lines are joined with \n; comments and other fields are
// skipped. Memory is bounded by max_event_bytes.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "llamanet/status.h"

namespace llamanet::client {

class SseParser {
 public:
  // Gets each event's data; a non-OK Status stops the parse and is returned by Feed.
  using OnEvent = std::function<Status(std::string_view data)>;

  explicit SseParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // TooLarge when one event (or one line) grows past max_event_bytes.
  Status Feed(std::string_view bytes, const OnEvent& on_event);

 private:
  Status Line(std::string_view line, const OnEvent& on_event);

  const size_t max_event_bytes_;
  std::string line_;  // the unfinished line
  std::string data_;  // the data of the unfinished event
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte was \r: a \n right after it ends nothing more
};

}  // namespace llamanet::client
