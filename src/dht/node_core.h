// NodeCore: one DHT node's logic on a single thread: answers requests, runs lookups, keeps the
// routing table and the record store, refreshes buckets and bootstraps. It owns no thread and
// no socket: DhtNode (dht_node.h) drives it from its event loop or from a simulator, passing
// datagrams in (OnDatagram) and running timers (RunDueTimers at NextTimerMs).
//
// Incoming datagrams go: size cap -> rate limit (per source IP) -> bounded decode -> typed
// message, and every drop is counted by reason (wire_codec.h). A reply that does not decode
// fails its request at once (when its id and source match one).
//
// Reply-size rule (no reflection): a requester proves its address by echoing the address token
// of an earlier reply (address_token.h, wire_codec.h). A find_node or find_value reply to a
// requester that did not is cut to max(unproven_reply_factor x request, min_unproven_reply_bytes)
// (DhtOptions): records first, then the closest contacts, "truncated": true. Our own requests
// carry the token we hold for each responder (or "" to ask for one), and a find_value reply
// whose records were cut for want of a token is asked again once with the token it brought.
//
// Every lookup it runs (its callers', bucket refreshes, the join) is tracked until it
// completes, and finished with what it has at its deadline (DhtOptions::lookup.timeout_ms),
// when its caller cancels it (a set cancel flag, checked on every timer run), or on Stop().
// Not synchronized: every call on the driving thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "dht/clock.h"
#include "dht/address_token.h"
#include "dht/dht_options.h"
#include "dht/get_value.h"
#include "dht/rate_limiter.h"
#include "dht/routing_table.h"
#include "dht/spread.h"
#include "dht/rpc_manager.h"
#include "dht/storage.h"
#include "dht/transport.h"
#include "dht/wire_codec.h"

namespace llamanet::dht {

class NodeCore final : public TraversalHost {
 public:
  // `transport` and `clock` must outlive the core.
  NodeCore(const DhtOptions& options, NodeId self, Transport& transport, const Clock& clock);
  ~NodeCore() override;

  // Starts timers and the bootstrap (retried until a bootstrap node answers).
  void Start();
  // Fails every request in flight, so every pending Publish/Get completes; then answers nothing.
  void Stop();
  bool running() const { return running_; }

  void OnDatagram(const Endpoint& from, std::string_view datagram);
  void RunDueTimers();
  int64_t NextTimerMs() const;  // RpcManager::kNever when stopped

  // Set by the caller to end its lookup (LookupHandle); the lookup's callback may still run, so
  // the caller filters it (LookupHandle::State::Complete). Null: not cancellable.
  using CancelFlag = std::shared_ptr<const std::atomic<bool>>;
  // See DhtNode::PublishAsync / GetAsync. A lookup cancelled before it starts never starts.
  // `replicas`: how many of the closest nodes get the record (at most k; 0: this node only).
  void Publish(std::string key, Record record, std::function<void(Result<size_t>)> done, CancelFlag cancel = nullptr,
               size_t replicas = SIZE_MAX, std::optional<Spread> spread = std::nullopt);
  // `sample` > 0: see DhtNode::SampleAsync.
  void Get(std::string key, std::function<void(Result<GetResult>)> done, CancelFlag cancel = nullptr,
           size_t sample = 0, std::optional<Spread> spread = std::nullopt);
  // See DhtNode::AskAsync.
  void Ask(const Endpoint& at, std::string key, std::string known, std::function<void(Result<GetResult>)> done);
  // See DhtNode::Notify and DhtNode::SetStoreObserver.
  void Notify(std::string key, Record record);
  using StoreObserver = std::function<void(const std::string& key, const Record& record)>;
  void SetStoreObserver(StoreObserver observer) { store_observer_ = std::move(observer); }
  DhtSnapshot Snapshot() const;

  // TraversalHost
  const NodeId& self_id() const override { return self_; }
  std::string SendQuery(const ContactInfo& to, Request request, RpcCallbacks callbacks) override;
  void CancelQuery(const std::string& txid) override { rpc_.Cancel(txid); }
  void Misbehaved(const ContactInfo& who, const char* why) override;

  Endpoint local_endpoint() const { return transport_.local_endpoint(); }
  const RoutingTable& routing_table() const { return table_; }
  const Storage& storage() const { return storage_; }
  const DropCounters& drops() const { return drops_; }

 private:
  void Drop(DropReason reason, const Endpoint& from, const std::string& detail);
  void HandleRequest(const Endpoint& from, const Request& request, size_t request_bytes);
  // The most bytes a reply to `request` may have: a full datagram for a requester that proved
  // its address with a token, a small multiple of the request for any other.
  size_t ReplyBudget(const Endpoint& from, const Request& request, size_t request_bytes);
  void HandleResponse(const Endpoint& from, const Response& response);
  // Stores records a peer sent, charged to its address `source` (storage.h quotas).
  Status StoreLocal(const std::string& key, const std::vector<Record>& records, const std::string& source);
  // Drops the farthest contacts until the reply fits `budget`; whether any went.
  bool FitContacts(size_t budget, Response* response) const;
  // Fills a find_value reply within `budget`; whether records of the set were left out (more
  // than a page boundary would), and in `contacts_cut` whether contacts were.
  bool AnswerFindValue(const Request& request, size_t budget, bool contacts_first, Response* response,
                       bool* contacts_cut);
  std::vector<ContactInfo> ClosestContacts(const NodeId& target, const NodeId* exclude) const;
  // Where a lookup for a spread key (a publish or a sample that many nodes make) starts: 3 of
  // our contacts nearest the target drawn at random among the k nearest, not the 3 nearest.
  // Those are, in every node's table, the same few oldest nodes (the bootstrap node first),
  // and took a first hop of most such lookups: the hottest nodes of a 5,000-node swarm.
  std::vector<ContactInfo> SpreadSeeds(const NodeId& target);
  // Whether `closest` (this node's closest contacts to `target`) holds k nodes closer to it
  // than this node.
  bool KnowsKCloser(const std::vector<ContactInfo>& closest, const NodeId& target) const;
  bool AcceptRecord(const std::string& key, const Record& record) const;
  Status CheckKey(const std::string& key) const;

  void SendMessage(const Endpoint& to, const Message& message);
  // `expected`: the contact's id when known; its routing entry fails if no reply comes.
  // Adds the token we hold for `to` (or asks for one). A reply cut because we had none is asked
  // again once with the token it brought (`may_retry`), transparently to the callbacks.
  // Returns the txid of the first attempt; empty when the node is stopped (on_timeout has run).
  std::string SendRpc(const Endpoint& to, std::optional<NodeId> expected, Request request, RpcCallbacks callbacks,
                      bool may_retry = true);
  void Heard(const NodeId& id, const Endpoint& from);
  // Remembers that `from` polls `key` directly (value_only), so Notify sends it changes.
  void Watch(const std::string& key, const Endpoint& from);
  void Ping(const Endpoint& to, std::optional<NodeId> expected, RpcCallbacks callbacks = {});
  void FindNodeLookup(const NodeId& target);
  void Track(std::shared_ptr<Lookup> lookup, CancelFlag cancel);
  // Finishes the lookups past their deadline or cancelled, and forgets the finished ones.
  void EndLookups(int64_t now_ms);

  void Maintenance(int64_t now_ms);
  void Bootstrap();
  void BootstrapAttemptDone(bool answered);

  const DhtOptions options_;
  const NodeId self_;
  Transport& transport_;
  const Clock& clock_;
  std::mt19937_64 rng_;
  WireCodec codec_;
  RateLimiter rate_limiter_;
  RoutingTable table_;
  RpcManager rpc_;
  Storage storage_;
  AddressTokens tokens_;     // we issue, to our requesters
  TokenCache token_cache_;   // we got, from our responders

  bool running_ = false;
  bool joined_ = false;
  int bootstrap_in_flight_ = 0;
  int64_t bootstrap_backoff_ms_;
  int64_t next_bootstrap_ms_ = 0;
  std::optional<int64_t> second_join_lookup_ms_;  // when (DhtOptions::second_join_lookup_ms)
  int64_t next_maintenance_ms_ = 0;
  int64_t next_sweep_ms_ = 0;

  struct RunningLookup {
    std::shared_ptr<Lookup> lookup;
    int64_t deadline_ms = 0;
    CancelFlag cancel;
  };
  std::vector<RunningLookup> lookups_;
  // The closest nodes of keys published with few replicas, reused for a few publishes: a key
  // republished every other heartbeat need not pay a lookup (~20 KB of contacts) each time.
  struct KnownClosest {
    std::vector<ContactInfo> contacts;
    int uses_left = 0;
  };
  std::unordered_map<std::string, KnownClosest> known_closest_;
  // Who polled a `node:*` key of ours with value_only lately: they get its changes (Notify).
  struct Watcher {
    Endpoint endpoint;
    int64_t until_ms = 0;
  };
  std::unordered_map<std::string, std::vector<Watcher>> watchers_;
  StoreObserver store_observer_;

  DhtCounters counters_;
  DropCounters drops_;
};

}  // namespace llamanet::dht
