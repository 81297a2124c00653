// Whether the address a peer's record advertises really is that peer, asked before the first
// request goes there and remembered. A signed record's address must answer GET /identity with
// a fresh nonce signed by the record's key for the record's node_id (identity_proof.h); an
// unsigned (Python) record's address must answer GET /info naming the record's node_id, and
// never when signed records are required. The address is resolved once and must pass the
// AddressPolicy; the request then goes to that resolved address. So a record pointing at some
// other service (an internal host, a plain TCP listener) gets at most one bodiless GET.
//
// Peers that stopped answering mid-request (MarkDown) are refused until a recheck, run every
// recheck interval in the background, finds them proving their identity again. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "swarm/address_policy.h"
#include "protocol/node_record.h"

namespace llamanet::swarm {

struct PeerVerifierOptions {
  std::chrono::milliseconds probe_timeout{1000};  // the whole probe: connect, ask, answer
  std::chrono::seconds success_ttl{300};          // a proven address is trusted this long
  std::chrono::seconds failure_ttl{10};           // a refused one is not asked again this long
  std::chrono::milliseconds recheck_interval{1000};  // how often down peers are asked again
  size_t max_entries = 1024;                      // peers remembered; the next expiring is dropped beyond
  size_t max_answer_bytes = 16384;                // of an /identity or /info answer
  bool require_signed = false;                    // unsigned records never pass
};

// Where a verified peer is reached: the resolved numeric address.
struct PeerTarget {
  std::string ip;
  int32_t port = 0;
};

class PeerVerifier {
 public:
  using Clock = std::chrono::steady_clock;
  PeerVerifier(PeerVerifierOptions options, AddressPolicy policy, std::function<Clock::time_point()> now = Clock::now);
  ~PeerVerifier();

  // The verified target for `peer`: from the cache, or by probing it now (blocks up to about
  // probe_timeout, plus DNS for a host name). kInvalidArgument says why the address is refused;
  // kUnavailable when the peer is down.
  Result<PeerTarget> Verify(const protocol::NodeRecord& peer);
  // Whether the cache already refuses `peer` (a failure not yet expired, or down). Never probes.
  bool Refused(const protocol::NodeRecord& peer) const;
  // `peer` stopped answering: refused until a recheck finds it answering again.
  void MarkDown(const protocol::NodeRecord& peer);

  // Asks every down peer once; those that prove their identity are usable again.
  void RecheckDown();
  // Runs RecheckDown every recheck_interval on a thread of its own, until Stop().
  void Start();
  void Stop();

 private:
  enum class State { kVerified, kFailed, kDown };
  struct Entry {
    State state = State::kFailed;
    Clock::time_point until;  // kVerified and kFailed: expiry; kDown: when it is forgotten
    protocol::NodeRecord peer;
    PeerTarget target;
    std::string why;  // kFailed: the reason
  };

  static std::string KeyOf(const protocol::NodeRecord& peer);
  // Resolves, checks the policy and probes, without the lock.
  Result<PeerTarget> Probe(const protocol::NodeRecord& peer) const;
  // REQUIRES: mu_ held.
  void Store(const std::string& key, Entry entry);

  const PeerVerifierOptions options_;
  const AddressPolicy policy_;
  const std::function<Clock::time_point()> now_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
  bool stopping_ = false;                 // guarded by mu_
  std::thread thread_;
};

}  // namespace llamanet::swarm
