// DhtNode: the Kademlia DHT that the rest of LlamaNet uses (PROTOCOL.md section 3).
//
// Two ways to run one:
// - Create(): a real node on a UDP socket with its own event-loop thread (after Start()).
//   Every public method is thread-safe: work is posted to the loop thread, and callbacks run
//   on it (so they must not block; they may call the node again).
// - CreateDriven(): a node on any Transport and Clock with no thread, driven by its owner
//   (tests, the simulator: see simulated_swarm.h) through HandleDatagram / RunDueTimers /
//   NextTimerMs. Every call, and every callback, happens on the driver's thread.
//
// Records (record.h): a node's record is a JSON object with node_id and last_seen; sign it with
// SignRecord (record_signing.h) before publishing. Keys are raw strings; the routing target of
// a key is sha1(key). `node:<id>` keys hold one record, the others (`model:*`, `all_nodes`) a
// set of records, one per node_id, each expiring on its own.
//
// Lookups are bounded (DhtOptions::lookup, lookup.h): each completes with what it has by its
// deadline, and the async calls return a LookupHandle that ends the lookup when the caller
// gives up (destroys or cancels it). Stop() (and so the destructor) completes every lookup.
//
// Graceful stop: publish MakeTombstone(record, now) (signed again when the record was signed)
// under each key the node published; storing nodes then drop the node's record from their
// answers at once instead of after its expiry. Then Stop().
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "dht/clock.h"
#include "dht/dht_options.h"
#include "dht/get_value.h"
#include "dht/lookup_handle.h"
#include "dht/node_id.h"
#include "dht/record.h"
#include "dht/spread.h"
#include "dht/transport.h"

namespace llamanet::dht {

class DhtNode {
 public:
  // Binds the UDP socket now (IoError when the port is taken). InvalidArgument for a bad
  // node_id. The loop thread starts with Start().
  static Result<std::unique_ptr<DhtNode>> Create(const DhtOptions& options);
  // A node without a thread on `transport` and `clock` (both must outlive the node); the
  // bind_host/bind_port options are unused.
  static Result<std::unique_ptr<DhtNode>> CreateDriven(const DhtOptions& options, Transport& transport,
                                                       const Clock& clock);
  ~DhtNode();  // Stop()s first
  DhtNode(const DhtNode&) = delete;
  DhtNode& operator=(const DhtNode&) = delete;

  // Starts the loop (UDP mode) and the bootstrap, which is retried in the background until a
  // bootstrap node answers. InvalidArgument when already started.
  Status Start();
  // Completes every pending operation (with what it has, or Unavailable), stops answering and
  // joins the loop thread. Idempotent.
  void Stop();

  const NodeId& id() const;
  Endpoint local_endpoint() const;

  // Stores `record` here (unless read-only) and at the k nodes closest to sha1(key). `done`
  // gets the number of nodes that hold it (this one included; at the deadline, those that
  // confirmed by then), or an error: InvalidArgument (bad key, or a record this node's store
  // refuses: see storage.h), TooLarge, Unavailable (no node stored it, or the node is
  // stopped). `done` runs on the loop thread, never after the handle is cancelled.
  // `replicas` < k stores at that many of the closest nodes only (0: here only, no lookup): a
  // key read often by few, or republished often, need not cost k stores each time. `spread`
  // (spread.h): those replicas drawn at random among the k closest of a random point of the
  // key's region, not the nearest of sha1(key), so that a key that very many nodes publish and
  // sample has many storing nodes sharing the load, not `replicas`.
  [[nodiscard]] LookupHandle PublishAsync(std::string key, Record record, std::function<void(Result<size_t>)> done,
                                          size_t replicas = SIZE_MAX, std::optional<Spread> spread = std::nullopt);
  // As PublishAsync, detached: ends by the lookup deadline at the latest.
  std::future<Result<size_t>> Publish(std::string key, Record record);

  // Iterative find_value: every live record of `key` that the reachable nodes hold, merged
  // (one per node_id and signing key, freshest wins: see get_value.h), with lookup statistics; what was found by the deadline
  // when it passes. An empty list when the key has no live record; Unavailable when the node
  // knows no other node and holds nothing itself. `done` as for PublishAsync.
  [[nodiscard]] LookupHandle GetAsync(std::string key, std::function<void(Result<GetResult>)> done);
  // As GetAsync, detached: ends by the lookup deadline at the latest. A caller that may give
  // up earlier should use GetAsync and drop its handle.
  std::future<Result<std::vector<Record>>> Get(std::string key);
  // As GetAsync, for a sample of a large set: the first page of each storing node reached, the
  // lookup ending as soon as it holds `count` records. Costs a lookup, not the whole set.
  // `spread`: the sample heads for a random point of the key's region (spread.h), where
  // publishers that spread the key placed it, and asks the nodes on the way for contacts near
  // that point ("near").
  [[nodiscard]] LookupHandle SampleAsync(std::string key, size_t count, std::function<void(Result<GetResult>)> done,
                                         std::optional<Spread> spread = std::nullopt);
  // One find_value of `key` to the node at `at` (no lookup), asking for its records only
  // ("value_only": no contacts): how a node polls a peer for its own `node:<id>` record, i.e.
  // its current load. `known`: the ContentDigest (record.h) of the copy the caller holds, or
  // "": a peer whose record still says the same answers GetResult::unchanged instead of
  // sending it again (never set for a poll without `known`, whatever the peer says).
  // Unavailable when it does not answer (after a resend).
  [[nodiscard]] LookupHandle AskAsync(Endpoint at, std::string key, std::string known,
                                      std::function<void(Result<GetResult>)> done);

  // Stores `record` under `key` here only (no lookup) and sends it at once to the nodes that
  // polled this node for `key` with AskAsync in the last 2.5 record TTLs (a `store` each): how
  // a node pushes a load change to the routers that hold it as a candidate.
  void Notify(std::string key, Record record);
  // Called on the loop thread with every `node:*` record a peer stored here (a pushed load
  // change among them). Set before Start().
  void SetStoreObserver(std::function<void(const std::string& key, const Record& record)> observer);

  // For /dht/status. Blocks until the loop answers (UDP mode).
  DhtSnapshot Snapshot();

  // Driven mode only (REQUIRES: created by CreateDriven).
  void HandleDatagram(const Endpoint& from, std::string_view datagram);
  void RunDueTimers();
  int64_t NextTimerMs() const;  // RpcManager::kNever when idle

 private:
  struct Impl;
  explicit DhtNode(std::unique_ptr<Impl> impl);
  void Post(std::function<void()> task);
  std::shared_ptr<LookupHandle::State> NewLookupState() const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llamanet::dht
