// Failover: runs one request attempt by attempt. Each attempt reads the view (discovery.h),
// filters and ranks it and draws a node by two choices (selection.h), or for a turn of a
// conversation asks its ranked nodes what they hold of it (protocol/affinity.h, the rule the
// nodes use), then sends the request
// (transport.h). A failure before anything reached the caller that the swarm's retry rule
// (protocol::TryAnotherNode: connection, timeout, 5xx/429, a malformed answer) blames on the
// node marks the node failed (node_health.h), waits a
// backoff, and moves on to another node; the nodes this request tried are never tried again,
// and nodes that failed lately are used only when no other is left. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>

#include "client/discovery.h"
#include "client/node_health.h"
#include "client/selection.h"
#include "client/transport.h"

namespace llamanet::client {

struct FailoverOptions {
  SelectionCriteria criteria;
  size_t candidate_pool = 4;
  int max_attempts = 3;
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
};

class Failover {
 public:
  // Waits for the given time; false when the client closed meanwhile.
  using SleepFn = std::function<bool(std::chrono::milliseconds)>;

  // `source`, `transport` and `health` must outlive the Failover. `seed` drives the choices.
  Failover(FailoverOptions options, NodeSource& source, Transport& transport, NodeHealth& health, SleepFn sleep,
           uint64_t seed)
      : options_(std::move(options)),
        source_(source),
        transport_(transport),
        health_(health),
        sleep_(std::move(sleep)),
        rng_(seed) {}

  // The answer (Completion::attempts lists the nodes tried), or: NotFound when no node was
  // available before any attempt; the error of a non-retryable failure, or of a stream that
  // failed after its first piece; Cancelled; after the last attempt, the last failure's code
  // with a message naming every node tried.
  Result<Completion> Run(const Call& call, const TextSink& on_text);

  // The wait before retry n >= 1, for u drawn uniformly from [0, 1]: in [d/2, d] with
  // d = min(initial * 2^(n-1), max).
  static std::chrono::milliseconds Backoff(int retry, double u, std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max);

 private:
  // The node for the next attempt among `candidates` (not empty): for a conversation, by
  // cache-aware routing (protocol/affinity.h), else by two choices.
  NodeInfo Choose(std::vector<NodeInfo> candidates, const Call& call);
  // The conversation's node among `pool` (at least two), after asking the first ranked.
  NodeInfo ChooseForConversation(const std::vector<NodeInfo>& pool, uint64_t conversation);
  Status NoNode(const std::string& why) const;
  void NoteRelaxed(bool relaxed, size_t count);

  const FailoverOptions options_;
  NodeSource& source_;
  Transport& transport_;
  NodeHealth& health_;
  const SleepFn sleep_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
  std::atomic<bool> relaxed_said_{false};  // the last fallback has been logged
};

}  // namespace llamanet::client
