// Writes Server-Sent Events to a cpp-httplib sink: "data: <payload>" and a blank line.
#pragma once

#include <httplib.h>

#include <string_view>

namespace llamanet::http {

class SseWriter {
 public:
  explicit SseWriter(httplib::DataSink& sink) : sink_(sink) {}
  // False once the client has gone away.
  bool Event(std::string_view data) {
    std::string frame;
    frame.reserve(data.size() + 8);
    frame.append("data: ").append(data).append("\n\n");
    ok_ = ok_ && sink_.write(frame.data(), frame.size());
    return ok_;
  }
  bool Writable() const { return ok_ && sink_.is_writable(); }
  void Done() {
    if (ok_) sink_.done();
  }

 private:
  httplib::DataSink& sink_;
  bool ok_ = true;
};

}  // namespace llamanet::http
