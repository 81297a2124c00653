// Where the next turn of a conversation runs, by the shared rule of protocol/affinity.h: the
// conversation's first ranked nodes among those serving its model are asked in parallel what
// they hold of it (GET /cache?conversation=...), under a short deadline, at the address the
// verifier proved is theirs; a node that does not answer in time counts with what its record
// says (nothing cached), one that cannot be verified as full. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "protocol/affinity.h"
#include "protocol/node_record.h"
#include "swarm/forward_auth.h"
#include "swarm/peer_verifier.h"

namespace llamanet::swarm {

struct CacheAffinityOptions {
  size_t candidates = protocol::kAffinityCandidates;
  // A probe costs the request this much at most; on a LAN it takes about a millisecond.
  std::chrono::milliseconds probe_timeout{250};
  size_t max_answer_bytes = 4096;
};

class CacheAffinity {
 public:
  // `auth` vouches for the probes in a private swarm (peers with an API key accept it); null
  // without a swarm secret. Both must outlive this object.
  CacheAffinity(CacheAffinityOptions options, PeerVerifier& verifier, const ForwardAuth* auth)
      : options_(options), verifier_(verifier), auth_(auth) {}

  // The node_id that should serve `conversation`: this node (`self`, when it serves the
  // model) or one of `peers` (the model's eligible peers; not all empty).
  std::string Choose(uint64_t conversation, const std::optional<protocol::CacheReport>& self,
                     const std::vector<protocol::NodeRecord>& peers) const;

 private:
  protocol::CacheReport Ask(uint64_t conversation, const protocol::NodeRecord& peer) const;

  const CacheAffinityOptions options_;
  PeerVerifier& verifier_;
  const ForwardAuth* auth_;
};

}  // namespace llamanet::swarm
