// Lookup: what a node knows of a lookup it runs (find_node, get_value, put_value), so that
// every lookup ends: at its deadline, when its caller cancels it (LookupHandle), or when the
// node stops; and the limits that bound what one lookup may ask of the swarm. Single-threaded:
// runs on the node's loop.
#pragma once

#include <cstddef>
#include <cstdint>

namespace llamanet::dht {

// Bounds of one lookup. A lookup of a responsive swarm takes a few round trips (under a second
// on the Internet) and a record set of a few pages, so these only bind a lookup that a rogue
// responder tries to stall or flood.
struct LookupLimits {
  // The lookup completes with what it has after this long: two failed RPCs in a row (1 s and a
  // resend each) still fit, and it ends before the 5 s that its callers wait (the node's swarm
  // view, the client's discovery), so they get what was found rather than nothing. libp2p
  // allows a query 10 s.
  int64_t timeout_ms = 4500;
  // find_value pages asked of one responder after its first reply. An 8 KiB page holds ~18
  // signed node records of ~450 bytes, so 64 pages cover ~1150 records, a bit more than
  // max_records_per_responder.
  size_t max_pages_per_responder = 64;
  // Records taken from one responder (all pages together); paging stops there.
  size_t max_records_per_responder = 1024;
  // Distinct records a lookup returns (and, separately, records it holds from responders still
  // paging): the storage's max_records_per_key, so a whole key set still fits.
  size_t max_records_per_lookup = 4096;
};

class Lookup {
 public:
  virtual ~Lookup() = default;
  // Completes the lookup now with what it has; its callback runs before this returns. No-op
  // once complete. Replies that arrive later are ignored.
  virtual void Finish() = 0;
  virtual bool finished() const = 0;
};

}  // namespace llamanet::dht
