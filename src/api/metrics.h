// A small Prometheus registry and the metrics of one node, exposed by GET /metrics in the
// text exposition format 0.0.4.
//
// Written by hand because no C++ Prometheus client is packaged in Debian (prometheus-cpp and
// its civetweb/zlib stack would have to be vendored); the exposition format is small and
// stable, and a node needs only counters with labels, gauges and fixed-bucket histograms.
//
// Thread safety: every metric may be updated from any thread; Render() may run concurrently
// with updates and sees each metric at one point in time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/embedder.h"
#include "engine/engine.h"

namespace llamanet::api {

// A counter per combination of label values, e.g. requests by {route, status}.
class CounterFamily {
 public:
  // REQUIRES: values.size() equals the family's label names.
  void Add(const std::vector<std::string>& values, double amount = 1);
  // 0 for a combination never counted.
  double Value(const std::vector<std::string>& values) const;

 private:
  friend class MetricsRegistry;
  explicit CounterFamily(std::vector<std::string> label_names) : label_names_(std::move(label_names)) {}
  void Render(const std::string& name, std::string* out) const;

  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> values_;  // guarded by mu_
};

// Observations counted into fixed upper bounds (seconds, bytes, ...), plus their sum and count.
class Histogram {
 public:
  void Observe(double value);
  uint64_t Count() const;

 private:
  friend class MetricsRegistry;
  explicit Histogram(std::vector<double> bounds);
  void Render(const std::string& name, std::string* out) const;

  const std::vector<double> bounds_;  // ascending; +Inf is implicit
  mutable std::mutex mu_;
  std::vector<uint64_t> buckets_;     // guarded by mu_; per bound, not cumulative; last is +Inf
  double sum_ = 0;                    // guarded by mu_
  uint64_t count_ = 0;                // guarded by mu_
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and be unique (checked with assert). The
  // returned references live as long as the registry.
  CounterFamily& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> label_names);
  // REQUIRES: `bounds` ascending and finite.
  Histogram& AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds);
  // A counter or gauge whose value another component keeps: `read` runs at each Render().
  // A counter's `read` must never decrease.
  void AddCounterCallback(const std::string& name, const std::string& help, std::function<double()> read);
  void AddGaugeCallback(const std::string& name, const std::string& help, std::function<double()> read);

  // The text exposition format 0.0.4, families in the order they were added.
  std::string Render() const;

 private:
  struct Family;
  Family& Add(const std::string& name, const std::string& help, const char* type);

  std::vector<std::unique_ptr<Family>> families_;  // constant after registration
};

// The Content-Type of Render()'s output.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// "0.25", "1e-06", "+Inf": how the format writes a number.
std::string FormatMetricValue(double v);

// The metrics of one node: HTTP requests by route and status, generation latencies, and the
// engine's and embedder's own counters and gauges (read from their Metrics() at each scrape).
class NodeMetrics {
 public:
  // `engine` and `embedder` (null: the node serves no embeddings) must outlive this object.
  explicit NodeMetrics(const engine::Engine& engine, const engine::Embedder* embedder = nullptr);

  // One answered HTTP request. `route` is the registered route pattern, or "" when no route
  // matched (never the raw path: clients must not be able to grow the label set).
  void ObserveRequest(const std::string& route, int status);
  // One finished generation: time to first token and mean time per later token.
  void ObserveGeneration(const engine::GenerationResult& result);

  std::string Render() const { return registry_.Render(); }

 private:
  MetricsRegistry registry_;
  CounterFamily& requests_;
  Histogram& first_token_;
  Histogram& token_latency_;
};

}  // namespace llamanet::api
