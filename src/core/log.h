// Process-wide logging: one line per event on stderr, prefixed with the time, the level and
// the node's name, so that the logs of a local swarm can be told apart. Thread-safe.
#pragma once

#include <sstream>
#include <string>

namespace llamanet::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Set once at start-up, before other threads log.
void SetNodeName(std::string name);
void SetVerbose(bool verbose);  // shows kDebug lines
bool Verbose();

void Write(Level level, const std::string& line);

// Collects one line and writes it when destroyed: log::Line(Level::kInfo) << "x=" << x;
class Line {
 public:
  explicit Line(Level level) : level_(level) {}
  ~Line() { Write(level_, out_.str()); }
  template <typename T>
  Line& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream out_;
};

}  // namespace llamanet::log

#define LN_LOG(level) \
  if (::llamanet::log::Level::level == ::llamanet::log::Level::kDebug && !::llamanet::log::Verbose()) {} \
  else ::llamanet::log::Line(::llamanet::log::Level::level)
#define LN_DEBUG LN_LOG(kDebug)
#define LN_INFO LN_LOG(kInfo)
#define LN_WARN LN_LOG(kWarn)
#define LN_ERROR LN_LOG(kError)
