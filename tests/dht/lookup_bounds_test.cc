// Bounded lookups against rogue responders on the in-memory network: a responder that always
// answers `offset: 0, total: 1000`, one that pages one record at a time forever, one that
// floods records, and one that answers garbage. Every lookup ends in bounded time and
// messages with the honest records. Also: deadlines, and cancelling a lookup.
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "dht/record_signing.h"
#include "dht/simulated_swarm.h"
#include "test_peer.h"

namespace llamanet::dht {
namespace {

using nlohmann::json;

constexpr size_t kHonestRecords = 40;

// A node that answers pings and find_node like a peer, and find_value by its `mode`.
class Rogue final : public MemoryNetwork::Host {
 public:
  enum class Mode {
    kStallOffset,   // every find_value: one record, "offset": 0, "total": 1000
    kEndlessPages,  // correct offsets, one record per page, "total": 1000000
    kFlood,         // correct offsets, 40 tiny records per page, "total": 1000000
    kGarbagePages,  // a valid first page (total 1000), then undecodable pages
    kGarbage,       // every find_value: an undecodable reply with the right id
    kFixed,         // every find_value: `fixed` as the whole set
    kUnchanged,     // every find_value: "unchanged", whether or not it was sent a digest
  };
  Rogue(MemoryNetwork& net, Endpoint at, std::string id, Mode mode)
      : transport_(net.Attach(at, this)), id_(std::move(id)), mode_(mode), clock_(net.clock()) {}

  void Ping(const Endpoint& node) {
    transport_->Send(node, json{{"type", "ping"}, {"id", "hello"}, {"sender_id", id_}}.dump());
  }
  void OnDatagram(const Endpoint& from, std::string_view d) override {
    json m = json::parse(d, nullptr, false);
    if (!m.is_object() || m.value("type", "") == "response") return;
    ++requests;
    json data;
    const std::string type = m.value("type", "");
    if (type == "ping") {
      data = {{"pong", true}, {"sender_id", id_}};
    } else if (type != "find_value") {
      data = {{"contacts", json::array()}};
    } else {
      ++find_values;
      const uint32_t offset = m.value("offset", 0u);
      if (offset > 0) ++pages;
      data = FindValue(offset);
      if (data.is_null()) {
        transport_->Send(from, R"({"type":"response","id":")" + m["id"].get<std::string>() +
                                   R"(","sender_id":")" + id_ + R"(","data":{"value":[{"node_id":7}]}})");
        return;
      }
    }
    transport_->Send(from, json{{"type", "response"}, {"id", m["id"]}, {"sender_id", id_}, {"data", data}}.dump());
  }
  void OnWakeup() override {}
  int64_t NextWakeupMs() const override { return MemoryNetwork::kNever; }

  size_t requests = 0;
  size_t find_values = 0;
  size_t pages = 0;
  json fixed;

 private:
  json Fake(int i) const {
    return {{"node_id", "fake-" + id_.substr(0, 4) + "-" + std::to_string(i)}, {"last_seen", clock_.WallSeconds()}};
  }
  json FindValue(uint32_t offset) {
    json value = json::array();
    switch (mode_) {
      case Mode::kStallOffset:
        value.push_back(Fake(static_cast<int>(pages)));
        return {{"value", value}, {"truncated", true}, {"total", 1000}};
      case Mode::kEndlessPages:
        value.push_back(Fake(static_cast<int>(offset)));
        return {{"value", value}, {"truncated", true}, {"total", 1000000}, {"offset", offset}};
      case Mode::kFlood:
        for (int i = 0; i < 40; ++i) value.push_back(Fake(static_cast<int>(offset) + i));
        return {{"value", value}, {"truncated", true}, {"total", 1000000}, {"offset", offset}};
      case Mode::kGarbagePages:
        if (offset > 0) return nullptr;
        value.push_back(Fake(0));
        return {{"value", value}, {"truncated", true}, {"total", 1000}};
      case Mode::kGarbage:
        return nullptr;
      case Mode::kFixed:
        return {{"value", fixed}};
      case Mode::kUnchanged:
        return {{"unchanged", true}};
    }
    return nullptr;
  }

  std::unique_ptr<Transport> transport_;
  std::string id_;
  Mode mode_;
  const ManualClock& clock_;
};

class LookupBoundsTest : public ::testing::Test {
 protected:
  LookupBoundsTest() : swarm_(LinkModel{.latency_ms = 10}, 7), peer_(swarm_.network(), Endpoint{"192.168.1.7", 5555}) {}

  // Five honest nodes, each holding the same 40 records (~450 bytes: 3 pages) under model:m.
  void SetUpSwarm(DhtOptions o = {}) {
    options_ = o;
    for (size_t i = 0; i < 5; ++i) {
      DhtOptions n = o;
      n.rng_seed = 100 + i;
      n.node_id = NodeId::Sha1("honest" + std::to_string(i)).ToHex();
      if (i > 0) n.bootstrap = {SimulatedSwarm::EndpointOf(0).ToString()};
      ASSERT_TRUE(swarm_.AddNode(n).ok());
    }
    swarm_.network().RunFor(2000);
    for (size_t i = 0; i < 5; ++i) {
      for (size_t r = 0; r < kHonestRecords; ++r) {
        json rec = {{"node_id", "honest-" + std::to_string(r)},
                    {"last_seen", swarm_.network().clock().WallSeconds()},
                    {"pad", std::string(400, 'h')}};
        const json store = {{"type", "store"}, {"id", "s"}, {"sender_id", "00000000000000ab"},
                            {"key", "model:m"}, {"value", rec}};
        peer_.Send(SimulatedSwarm::EndpointOf(i), store);
      }
    }
    swarm_.network().RunFor(100);
  }
  Rogue& AddRogue(Rogue::Mode mode) {
    const size_t i = rogues_.size();
    auto id = NodeId::Sha1("rogue" + std::to_string(i)).ToHex();
    const Endpoint at{"203.0.113." + std::to_string(i + 1), 6666};
    rogues_.push_back(std::make_unique<Rogue>(swarm_.network(), at, id, mode));
    rogues_.back()->Ping(SimulatedSwarm::EndpointOf(kAsker));
    swarm_.network().RunFor(50);
    return *rogues_.back();
  }
  struct Outcome {
    bool done = false;
    int64_t ms = 0;
    GetResult result;
  };
  Outcome Get(int64_t limit_ms = 20'000) {
    auto out = std::make_shared<Outcome>();
    const int64_t t0 = swarm_.network().clock().NowMs();
    swarm_.Get(kAsker, "model:m", [&, out, t0](Result<GetResult> r) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      out->done = true;
      out->ms = swarm_.network().clock().NowMs() - t0;
      out->result = std::move(r).value();
    });
    swarm_.RunUntil([&] { return out->done; }, limit_ms);
    return *out;
  }
  static size_t HonestIn(const GetResult& r) {
    std::set<std::string> ids;
    for (const Record& rec : r.records) {
      if (rec.node_id.rfind("honest-", 0) == 0) ids.insert(rec.node_id);
    }
    return ids.size();
  }
  static size_t FakeIn(const GetResult& r) {
    size_t n = 0;
    for (const Record& rec : r.records) n += rec.node_id.rfind("fake-", 0) == 0 ? 1 : 0;
    return n;
  }

  static constexpr size_t kAsker = 4;
  SimulatedSwarm swarm_;
  TestPeer peer_;
  DhtOptions options_;
  std::vector<std::unique_ptr<Rogue>> rogues_;
};

TEST_F(LookupBoundsTest, HonestSwarmPagesThroughTheWholeSet) {
  SetUpSwarm();
  Outcome o = Get();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(HonestIn(o.result), kHonestRecords);
  EXPECT_EQ(o.result.stats.dropped, 0);
  std::printf("honest lookup: %lld ms, %d messages\n", static_cast<long long>(o.ms), o.result.stats.messages);
}

TEST_F(LookupBoundsTest, ARequesterWithoutTokensGetsCutRepliesThenAsksAgainWithTheToken) {
  SetUpSwarm();
  // Node 0, the bootstrap node, was queried by the others but never queried them: it holds no
  // token, so their first replies are cut to the unproven size.
  bool done = false;
  GetResult result;
  swarm_.Get(0, "model:m", [&](Result<GetResult> r) {
    ASSERT_TRUE(r.ok());
    result = std::move(r).value();
    done = true;
  });
  ASSERT_TRUE(swarm_.RunUntil([&] { return done; }, 10'000));
  EXPECT_EQ(HonestIn(result), kHonestRecords);
  EXPECT_GE(swarm_.node(0).Snapshot().counters.token_retries, 1u);
  EXPECT_GE(swarm_.node(1).Snapshot().counters.replies_cut, 1u);
}

TEST_F(LookupBoundsTest, AResponderThatAlwaysAnswersOffsetZeroIsDroppedAtItsFirstPage) {
  SetUpSwarm();
  Rogue& rogue = AddRogue(Rogue::Mode::kStallOffset);
  Outcome o = Get();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(HonestIn(o.result), kHonestRecords);
  EXPECT_EQ(FakeIn(o.result), 0u);  // what it sent is discarded with it
  EXPECT_EQ(o.result.stats.dropped, 1);
  EXPECT_EQ(rogue.find_values, 2u);  // the first query and one page
  EXPECT_EQ(swarm_.node(kAsker).Snapshot().counters.lookup_drops, 1u);
  EXPECT_LT(o.ms, 1000);
  std::printf("offset-0 staller: lookup %lld ms, %d messages, rogue asked %zu times\n", static_cast<long long>(o.ms),
              o.result.stats.messages, rogue.find_values);
}

TEST_F(LookupBoundsTest, PagesPerResponderAreCapped) {
  DhtOptions o;
  o.lookup.max_pages_per_responder = 10;
  SetUpSwarm(o);
  Rogue& rogue = AddRogue(Rogue::Mode::kEndlessPages);
  Outcome out = Get();
  ASSERT_TRUE(out.done);
  EXPECT_EQ(HonestIn(out.result), kHonestRecords);
  EXPECT_EQ(rogue.pages, 10u);
  EXPECT_LE(FakeIn(out.result), 11u);
  std::printf("endless pager (cap 10): lookup %lld ms, %d messages, rogue asked %zu pages\n",
              static_cast<long long>(out.ms), out.result.stats.messages, rogue.pages);
}

TEST_F(LookupBoundsTest, RecordsPerResponderAndPerLookupAreCapped) {
  DhtOptions o;
  o.lookup.max_records_per_responder = 100;
  SetUpSwarm(o);
  Rogue& rogue = AddRogue(Rogue::Mode::kFlood);
  Outcome out = Get();
  ASSERT_TRUE(out.done);
  EXPECT_EQ(HonestIn(out.result), kHonestRecords);
  EXPECT_EQ(rogue.pages, 2u);  // 40 + 40 + 40 records reach the cap of 100
  EXPECT_LE(FakeIn(out.result), 100u);

  options_.lookup.max_records_per_lookup = 60;  // a second asker with a small lookup cap
  DhtOptions small = options_;
  small.node_id = NodeId::Sha1("small").ToHex();
  small.bootstrap = {SimulatedSwarm::EndpointOf(0).ToString()};
  small.lookup.max_records_per_lookup = 60;
  size_t asker = *swarm_.AddNode(small);
  swarm_.network().RunFor(1000);
  rogue.Ping(SimulatedSwarm::EndpointOf(asker));
  swarm_.network().RunFor(50);
  bool done = false;
  size_t got = 0;
  swarm_.Get(asker, "model:m", [&](Result<GetResult> r) {
    done = true;
    got = r.ok() ? r->records.size() : 0;
  });
  ASSERT_TRUE(swarm_.RunUntil([&] { return done; }, 20'000));
  EXPECT_EQ(got, 60u);
}

TEST_F(LookupBoundsTest, GarbageRepliesDropTheResponderAtOnce) {
  SetUpSwarm();
  Rogue& pages = AddRogue(Rogue::Mode::kGarbagePages);
  Rogue& garbage = AddRogue(Rogue::Mode::kGarbage);
  Outcome o = Get();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(HonestIn(o.result), kHonestRecords);
  EXPECT_EQ(FakeIn(o.result), 0u);
  EXPECT_EQ(o.result.stats.dropped, 2);
  EXPECT_EQ(pages.find_values, 2u);
  EXPECT_EQ(garbage.find_values, 1u);  // no resend: the garbage reply failed the request
  DhtSnapshot s = swarm_.node(kAsker).Snapshot();
  EXPECT_EQ(s.counters.bad_replies, 2u);
  EXPECT_LT(o.ms, 1000);  // no timeout was waited for
}

TEST_F(LookupBoundsTest, EveryKindOfRogueAtOnceStillEndsWithTheHonestRecords) {
  SetUpSwarm();
  for (auto mode : {Rogue::Mode::kStallOffset, Rogue::Mode::kEndlessPages, Rogue::Mode::kFlood,
                    Rogue::Mode::kGarbagePages, Rogue::Mode::kGarbage}) {
    AddRogue(mode);
  }
  Outcome o = Get();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(HonestIn(o.result), kHonestRecords);
  const LookupLimits defaults;
  EXPECT_LE(o.ms, defaults.timeout_ms);
  // Per rogue at most 1 + max_pages_per_responder queries; honest nodes 3 pages each.
  EXPECT_LE(static_cast<size_t>(o.result.stats.messages), 5 * (1 + defaults.max_pages_per_responder) + 5 * 3 + 10);
  std::printf("five rogues: lookup %lld ms, %d messages, %d dropped, %zu records (%zu honest)\n",
              static_cast<long long>(o.ms), o.result.stats.messages, o.result.stats.dropped, o.result.records.size(),
              HonestIn(o.result));
}

TEST_F(LookupBoundsTest, RecordsFromTheFutureOrSignedForAnotherKeysIdAreFilteredOut) {
  SetUpSwarm();
  Rogue& rogue = AddRogue(Rogue::Mode::kFixed);
  const double now = swarm_.network().clock().WallSeconds();
  auto victim = IdentityKey::Generate();
  auto thief = IdentityKey::Generate();
  ASSERT_TRUE(victim.ok() && thief.ok());
  const std::string victim_id = victim->public_key_hex().substr(0, 16);
  const std::string claim = R"({"node_id":")" + victim_id + R"(","last_seen":)" + std::to_string(now) + "}";
  Record stolen = *SignRecord(*ParseRecord(claim), *thief);
  rogue.fixed = json::array({{{"node_id", "fake-future"}, {"last_seen", now + 3600}},
                             json::parse(stolen.json),
                             {{"node_id", "fake-plain"}, {"last_seen", now}}});
  Outcome o = Get();
  ASSERT_TRUE(o.done);
  EXPECT_EQ(HonestIn(o.result), kHonestRecords);
  std::set<std::string> ids;
  for (const Record& r : o.result.records) ids.insert(r.node_id);
  EXPECT_EQ(ids.count("fake-future"), 0u);
  EXPECT_EQ(ids.count(victim_id), 0u);
  EXPECT_EQ(ids.count("fake-plain"), 1u);  // unsigned and well-formed: indistinguishable from a Python node's
}

TEST_F(LookupBoundsTest, ALookupEndsAtItsDeadlineWithWhatItHas) {
  DhtOptions o;
  o.lookup.timeout_ms = 300;
  SetUpSwarm(o);
  // Every datagram now takes 200 ms one way: the first replies come back at 400 ms.
  swarm_.network().set_link(LinkModel{.latency_ms = 200});
  Outcome out = Get();
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.ms, 300);
  EXPECT_EQ(HonestIn(out.result), kHonestRecords);  // the asker's own copy
  EXPECT_EQ(out.result.stats.responded, 0);
  // Publish too.
  bool put_done = false;
  swarm_.Publish(kAsker, "model:x", swarm_.NodeRecord(kAsker), [&](Result<size_t> r) {
    put_done = true;
    EXPECT_EQ(*r, 1u);  // only the local copy by the deadline
  });
  const int64_t t0 = swarm_.network().clock().NowMs();
  ASSERT_TRUE(swarm_.RunUntil([&] { return put_done; }, 5000));
  EXPECT_EQ(swarm_.network().clock().NowMs() - t0, 300);
}

TEST_F(LookupBoundsTest, ACancelledLookupStopsAtOnceAndNeverCallsBack) {
  SetUpSwarm();
  swarm_.network().set_link(LinkModel{.latency_ms = 100});
  DhtNode& asker = swarm_.node(kAsker);
  bool called = false;
  LookupHandle handle = asker.GetAsync("model:m", [&](Result<GetResult>) { called = true; });
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(kAsker));
  swarm_.network().RunFor(50);
  const uint64_t sent = asker.Snapshot().counters.datagrams_out;
  EXPECT_GT(sent, 0u);
  handle.Cancel();
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(kAsker));
  swarm_.network().RunFor(5000);
  EXPECT_FALSE(called);
  // Replies that were in flight arrive and are ignored; nothing more is sent for the lookup
  // (no next query, no page, no resend): only maintenance pings may follow.
  EXPECT_LE(asker.Snapshot().counters.datagrams_out, sent + 5);
  // A handle that goes out of scope cancels too; a cancelled-before-start lookup never starts.
  {
    LookupHandle dropped = asker.GetAsync("model:m", [&](Result<GetResult>) { called = true; });
  }
  swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(kAsker));
  swarm_.network().RunFor(5000);
  EXPECT_FALSE(called);
}

TEST_F(LookupBoundsTest, StoppingTheNodeCompletesItsLookups) {
  SetUpSwarm();
  swarm_.network().set_link(LinkModel{.latency_ms = 100});
  bool called = false;
  swarm_.Get(kAsker, "model:m", [&](Result<GetResult> r) {
    called = true;
    EXPECT_TRUE(r.ok());
  });
  swarm_.network().RunFor(50);
  swarm_.node(kAsker).Stop();
  EXPECT_TRUE(called);
}

TEST_F(LookupBoundsTest, AnUnchangedAnswerCountsOnlyForAPollThatNamedADigest) {
  SetUpSwarm();
  Rogue& rogue = AddRogue(Rogue::Mode::kUnchanged);
  auto ask = [&](std::string known) {
    std::optional<Result<GetResult>> got;
    swarm_.node(kAsker).AskAsync(Endpoint{"203.0.113.1", 6666}, "node:" + std::string(16, 'a'), known,
                                 [&](Result<GetResult> r) { got = std::move(r); }).Detach();
    swarm_.network().Reschedule(SimulatedSwarm::EndpointOf(kAsker));
    EXPECT_TRUE(swarm_.RunUntil([&] { return got.has_value(); }, 5'000));
    return got.value_or(Result<GetResult>(Status::Unavailable("no answer")));
  };
  // A lying peer says "unchanged" to a poll that named no copy: nothing is vouched for.
  Result<GetResult> blind = ask("");
  ASSERT_TRUE(blind.ok());
  EXPECT_FALSE(blind->unchanged);
  EXPECT_TRUE(blind->records.empty());
  Result<GetResult> named = ask("0123456789abcdef");
  ASSERT_TRUE(named.ok());
  EXPECT_TRUE(named->unchanged);
  EXPECT_EQ(rogue.find_values, 2u);
}

}  // namespace
}  // namespace llamanet::dht
