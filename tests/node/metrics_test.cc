// The Prometheus registry's text format, and the metrics a node exposes on GET /metrics.
#include "api/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "node_test_support.h"

namespace llamanet::node {
namespace {

using api::CounterFamily;
using api::FormatMetricValue;
using api::Histogram;
using api::kPrometheusContentType;
using api::MetricsRegistry;

TEST(MetricsRegistryTest, RendersTheTextFormatExactly) {
  MetricsRegistry r;
  CounterFamily& requests = r.AddCounter("app_requests_total", "Requests,\nby route.", {"route", "status"});
  requests.Add({"/a", "200"});
  requests.Add({"/a", "200"}, 2);
  requests.Add({"/b\"\\\n", "404"});
  Histogram& latency = r.AddHistogram("app_latency_seconds", "Latency.", {0.1, 0.5, 1});
  latency.Observe(0.05);
  latency.Observe(0.1);  // a bound is inclusive
  latency.Observe(0.7);
  latency.Observe(9);
  r.AddGaugeCallback("app_busy", "Busy.", [] { return 3.0; });
  r.AddCounterCallback("app_tokens_total", "Tokens.", [] { return 1e6; });

  EXPECT_EQ(r.Render(),
            "# HELP app_requests_total Requests,\\nby route.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{route=\"/a\",status=\"200\"} 3\n"
            "app_requests_total{route=\"/b\\\"\\\\\\n\",status=\"404\"} 1\n"
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{le=\"0.1\"} 2\n"
            "app_latency_seconds_bucket{le=\"0.5\"} 2\n"
            "app_latency_seconds_bucket{le=\"1\"} 3\n"
            "app_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum 9.85\n"
            "app_latency_seconds_count 4\n"
            "# HELP app_busy Busy.\n"
            "# TYPE app_busy gauge\n"
            "app_busy 3\n"
            "# HELP app_tokens_total Tokens.\n"
            "# TYPE app_tokens_total counter\n"
            "app_tokens_total 1000000\n");
  EXPECT_EQ(requests.Value({"/a", "200"}), 3);
  EXPECT_EQ(requests.Value({"/c", "200"}), 0);
  EXPECT_EQ(latency.Count(), 4u);
}

TEST(MetricsRegistryTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(FormatMetricValue(123456789012), "123456789012");
}

TEST(MetricsRegistryTest, CountsFromManyThreads) {
  MetricsRegistry r;
  CounterFamily& c = r.AddCounter("hits_total", "Hits.", {"k"});
  Histogram& h = r.AddHistogram("h_seconds", "H.", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Add({"x"});
        h.Observe(0.5);
        if (i % 1000 == 0) r.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value({"x"}), 40000);
  EXPECT_EQ(h.Count(), 40000u);
}

double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// httplib counts a request after its response is sent; over one kept-alive connection it
// does so before it reads the next request, so a scrape sees every earlier request.
std::unique_ptr<httplib::Client> KeepAliveClient(TestNode& node) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", node.port());
  c->set_keep_alive(true);
  c->set_read_timeout(60, 0);
  return c;
}

TEST(NodeMetricsTest, MetricsCountRequestsByRouteTokensAndLatencies) {
  TestNode node;
  auto client = KeepAliveClient(node);
  httplib::Client& c = *client;
  ASSERT_EQ(c.Post("/v1/completions", R"({"prompt":"a","max_tokens":4,"ignore_eos":true})", "application/json")->status, 200);
  ASSERT_EQ(c.Post("/generate", R"({"prompt":"a","max_tokens":3})", "application/json")->status, 200);
  ASSERT_EQ(c.Post("/v1/completions", "oops", "application/json")->status, 400);
  ASSERT_EQ(c.Get("/no/such/route/42")->status, 404);

  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), kPrometheusContentType);
  const std::string m = "\n" + r->body;
  EXPECT_EQ(Sample(m, R"(llamanet_http_requests_total{route="/v1/completions",status="200"})"), 1);
  EXPECT_EQ(Sample(m, R"(llamanet_http_requests_total{route="/v1/completions",status="400"})"), 1);
  EXPECT_EQ(Sample(m, R"(llamanet_http_requests_total{route="/generate",status="200"})"), 1);
  // An unknown path is counted without its raw path becoming a label.
  EXPECT_EQ(Sample(m, R"(llamanet_http_requests_total{route="unmatched",status="404"})"), 1);
  EXPECT_EQ(m.find("/no/such/route"), std::string::npos);

  EXPECT_GE(Sample(m, "llamanet_prompt_tokens_total"), 2);
  EXPECT_GE(Sample(m, "llamanet_completion_tokens_total"), 5);
  EXPECT_EQ(Sample(m, "llamanet_slots_capacity"), 2);
  EXPECT_EQ(Sample(m, "llamanet_slots_busy"), 0);
  EXPECT_EQ(Sample(m, "llamanet_queue_length"), 0);
  EXPECT_GT(Sample(m, "llamanet_model_load_seconds"), 0);
  // Both generations, native and OpenAI, went into the latency histograms.
  EXPECT_EQ(Sample(m, "llamanet_time_to_first_token_seconds_count"), 2);
  EXPECT_EQ(Sample(m, "llamanet_token_latency_seconds_count"), 2);
  EXPECT_EQ(Sample(m, R"(llamanet_time_to_first_token_seconds_bucket{le="+Inf"})"), 2);

  // A scrape counts itself once it is answered.
  auto again = c.Get("/metrics");
  EXPECT_EQ(Sample("\n" + again->body, R"(llamanet_http_requests_total{route="/metrics",status="200"})"), 1);
}

TEST(NodeMetricsTest, StreamsAreCountedWithTheirStatusOnceTheyEnd) {
  TestNode node;
  auto client = KeepAliveClient(node);
  httplib::Client& c = *client;
  auto s = c.Post("/v1/chat/completions",
                  R"({"messages":[{"role":"user","content":"a"}],"max_tokens":3,"stream":true})", "application/json");
  ASSERT_EQ(s->status, 200);
  std::string m = "\n" + c.Get("/metrics")->body;
  EXPECT_EQ(Sample(m, R"(llamanet_http_requests_total{route="/v1/chat/completions",status="200"})"), 1);
  EXPECT_EQ(Sample(m, "llamanet_time_to_first_token_seconds_count"), 1);
}

}  // namespace
}  // namespace llamanet::node
