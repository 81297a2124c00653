#include "api/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace llamanet::api {
namespace {

[[maybe_unused]] bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(const std::string& s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  if (names.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"" + Escape(values[i], true) + '"';
  }
  return out + '}';
}

void Sample(std::string* out, const std::string& name, const std::string& labels, double value) {
  out->append(name).append(labels).append(" ").append(FormatMetricValue(value)).append("\n");
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// --- CounterFamily

void CounterFamily::Add(const std::vector<std::string>& values, double amount) {
  assert(values.size() == label_names_.size());
  assert(amount >= 0);
  std::lock_guard<std::mutex> lock(mu_);
  values_[values] += amount;
}

double CounterFamily::Value(const std::vector<std::string>& values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void CounterFamily::Render(const std::string& name, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, value] : values_) Sample(out, name, Labels(label_names_, values), value);
}

// --- Histogram

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1, 0) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    assert(std::isfinite(bounds_[i]));
    assert(i == 0 || bounds_[i - 1] < bounds_[i]);
  }
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  ++buckets_[i];
  sum_ += value;
  ++count_;
}

uint64_t Histogram::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

void Histogram::Render(const std::string& name, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i];
    Sample(out, name + "_bucket", "{le=\"" + FormatMetricValue(bounds_[i]) + "\"}", static_cast<double>(cumulative));
  }
  Sample(out, name + "_bucket", "{le=\"+Inf\"}", static_cast<double>(count_));
  Sample(out, name + "_sum", "", sum_);
  Sample(out, name + "_count", "", static_cast<double>(count_));
}

// --- MetricsRegistry

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  const char* type;
  std::unique_ptr<CounterFamily> counter;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> read;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::Add(const std::string& name, const std::string& help, const char* type) {
  assert(ValidName(name));
  for ([[maybe_unused]] const auto& f : families_) assert(f->name != name);
  families_.push_back(std::make_unique<Family>(Family{name, help, type, nullptr, nullptr, nullptr}));
  return *families_.back();
}

CounterFamily& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names) {
  for ([[maybe_unused]] const std::string& l : label_names) assert(ValidName(l) && l != "le");
  Family& f = Add(name, help, "counter");
  f.counter.reset(new CounterFamily(std::move(label_names)));
  return *f.counter;
}

Histogram& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
  Family& f = Add(name, help, "histogram");
  f.histogram.reset(new Histogram(std::move(bounds)));
  return *f.histogram;
}

void MetricsRegistry::AddCounterCallback(const std::string& name, const std::string& help, std::function<double()> read) {
  Add(name, help, "counter").read = std::move(read);
}

void MetricsRegistry::AddGaugeCallback(const std::string& name, const std::string& help, std::function<double()> read) {
  Add(name, help, "gauge").read = std::move(read);
}

std::string MetricsRegistry::Render() const {
  std::string out;
  for (const auto& f : families_) {
    out.append("# HELP ").append(f->name).append(" ").append(Escape(f->help, false)).append("\n");
    out.append("# TYPE ").append(f->name).append(" ").append(f->type).append("\n");
    if (f->counter) {
      f->counter->Render(f->name, &out);
    } else if (f->histogram) {
      f->histogram->Render(f->name, &out);
    } else {
      Sample(&out, f->name, "", f->read());
    }
  }
  return out;
}

// --- NodeMetrics

NodeMetrics::NodeMetrics(const engine::Engine& engine, const engine::Embedder* embedder)
    : requests_(registry_.AddCounter("llamanet_http_requests_total", "HTTP requests answered, by route and status.",
                                     {"route", "status"})),
      first_token_(registry_.AddHistogram(
          "llamanet_time_to_first_token_seconds", "Time from a generation's submission to its first token.",
          {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})),
      token_latency_(registry_.AddHistogram(
          "llamanet_token_latency_seconds", "Mean time per generated token after the first, per generation.",
          {0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1})) {
  const engine::Engine* e = &engine;
  registry_.AddCounterCallback("llamanet_prompt_tokens_total", "Prompt tokens processed.",
                               [e] { return static_cast<double>(e->Metrics().prompt_tokens_total); });
  registry_.AddCounterCallback("llamanet_completion_tokens_total", "Completion tokens generated.",
                               [e] { return static_cast<double>(e->Metrics().completion_tokens_total); });
  registry_.AddGaugeCallback("llamanet_slots_busy", "Slots generating now.",
                             [e] { return static_cast<double>(e->Metrics().slots_busy); });
  // Not "_total": promtool's lint keeps that suffix for counters.
  registry_.AddGaugeCallback("llamanet_slots_capacity", "Slots (requests decoded together).",
                             [e] { return static_cast<double>(e->Metrics().slots_total); });
  registry_.AddGaugeCallback("llamanet_queue_length", "Admitted requests waiting for a slot.",
                             [e] { return static_cast<double>(e->Metrics().queue_length); });
  registry_.AddCounterCallback("llamanet_prefix_cache_hits_total", "Requests that reused a cached prompt prefix.",
                               [e] { return static_cast<double>(e->Metrics().prefix_hits); });
  registry_.AddCounterCallback("llamanet_prefix_cache_misses_total", "Requests that found no cached prefix.",
                               [e] { return static_cast<double>(e->Metrics().prefix_misses); });
  registry_.AddCounterCallback("llamanet_prefix_cache_tokens_total", "Prompt tokens reused from a cache, not decoded.",
                               [e] { return static_cast<double>(e->Metrics().cached_tokens_total); });
  registry_.AddGaugeCallback("llamanet_prefix_cache_ram_bytes", "Host memory held by saved prefixes.",
                             [e] { return static_cast<double>(e->Metrics().cache_ram_bytes); });
  registry_.AddGaugeCallback("llamanet_prefix_cache_ram_capacity_bytes", "Host memory saved prefixes may hold (--cache-ram).",
                             [e] { return static_cast<double>(e->Metrics().cache_ram_capacity); });
  registry_.AddGaugeCallback("llamanet_prefix_cache_ram_entries", "Saved prefixes in host memory.",
                             [e] { return static_cast<double>(e->Metrics().cache_ram_entries); });
  registry_.AddGaugeCallback("llamanet_model_load_seconds", "Time the model took to load.",
                             [e] { return e->Model().load_seconds; });
  if (!embedder) return;
  registry_.AddCounterCallback("llamanet_embedding_requests_total", "Embedding requests answered.",
                               [embedder] { return static_cast<double>(embedder->Metrics().requests_total); });
  registry_.AddCounterCallback("llamanet_embedding_inputs_total", "Inputs embedded.",
                               [embedder] { return static_cast<double>(embedder->Metrics().inputs_total); });
  registry_.AddCounterCallback("llamanet_embedding_tokens_total", "Tokens of the inputs embedded.",
                               [embedder] { return static_cast<double>(embedder->Metrics().tokens_total); });
  registry_.AddCounterCallback("llamanet_embedding_decodes_total", "Decodes run for embeddings (inputs share them).",
                               [embedder] { return static_cast<double>(embedder->Metrics().decodes_total); });
  registry_.AddGaugeCallback("llamanet_embedding_queue_length", "Inputs waiting to be embedded.",
                             [embedder] { return static_cast<double>(embedder->Metrics().queue_length); });
}

void NodeMetrics::ObserveRequest(const std::string& route, int status) {
  requests_.Add({route.empty() ? "unmatched" : route, std::to_string(status)});
}

void NodeMetrics::ObserveGeneration(const engine::GenerationResult& result) {
  if (result.finish_reason == engine::FinishReason::kError || result.completion_tokens < 1) return;
  first_token_.Observe(result.first_token_seconds);
  if (result.completion_tokens >= 2) {
    token_latency_.Observe((result.generation_seconds - result.first_token_seconds) / (result.completion_tokens - 1));
  }
}

}  // namespace llamanet::api
