// RoutingTable: Kademlia k-buckets over XOR distance, for ids of any hex width.
//
// Departures from the paper (as libtorrent's routing_table.hpp lists its own):
// - Buckets are indexed by the highest differing bit (DistanceBit) and never split: bucket b
//   holds contacts whose distance lies in [2^b, 2^(b+1)). With ids read as integers this
//   works for mixed widths (a 16-digit Python id sits in the bucket of its integer distance).
// - Only contacts we heard from directly (a request to us, or a reply to our request) enter the
//   table, at the datagram's source address. Contacts named in replies are lookup candidates
//   only, until they answer.
// - A live contact keeps its address: a datagram with its id from another address is ignored
//   unless the contact is failing (no hijack of a working entry).
// - A full bucket keeps newcomers in a replacement cache (k per bucket) and asks the caller to
//   ping its least recently seen contact (Kademlia's rule); a contact is removed after
//   `max_failures` failed requests in a row, or after one when a replacement is waiting.
// - Per-address caps (like libtorrent's restrict_routing_ips, which allows one entry per IP
//   and one per /24 in a bucket): at most `max_per_ip` entries (live and replacements) per IP
//   and `max_per_subnet` per /24 (IPv4) or /64 (IPv6) in the whole table, so one host or one
//   rented subnet cannot fill the table with ids of its choice (a Sybil attack). A newcomer
//   over a cap is not added. Local networks get `max_per_local_network` for both caps instead:
//   loopback, and the /24 (/64) of each of `local_addresses` (this node's own addresses; the
//   UDP node adds its interfaces' addresses, see DhtNode::Create). A test swarm of 20 nodes
//   on 127.0.0.1, or a LAN swarm in this node's subnet, keeps working, while a remote host
//   still gets 2 entries and a remote subnet 8.
//
// Times are monotonic milliseconds passed in by the caller. Not synchronized: owned by the
// node's loop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "dht/endpoint.h"
#include "dht/node_id.h"

namespace llamanet::dht {

struct RoutingLimits {
  size_t max_per_ip = 2;
  size_t max_per_subnet = 8;
  size_t max_per_local_network = 64;       // per IP and per subnet for local networks
  std::vector<std::string> local_addresses;  // numeric IPs; their subnets count as local
};

struct Contact {
  NodeId id;
  Endpoint endpoint;
  int64_t last_seen_ms = 0;  // when we last heard from it
  int failures = 0;          // requests in a row that got no answer
  bool pinging = false;      // a liveness ping is in flight
};

class RoutingTable {
 public:
  RoutingTable(NodeId self, size_t k, int max_failures, RoutingLimits limits = {});

  struct HeardResult {
    bool added = false;            // a new contact entered the live table
    bool refused = false;          // a new contact (or address) over a per-address cap
    std::optional<Contact> ping;   // the bucket is full: ping this (its oldest) contact
  };
  // We heard from `id` at `from`: add it, or refresh it and move it to the fresh end.
  HeardResult Heard(const NodeId& id, const Endpoint& from, int64_t now_ms);
  // A request to `id` got no answer; true when the contact was removed.
  bool Failed(const NodeId& id);

  // Up to `n` live contacts, closest to `target` first.
  std::vector<Contact> Closest(const NodeId& target, size_t n) const;
  std::optional<Contact> Find(const NodeId& id) const;
  std::vector<Contact> Contacts() const;
  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_.size(); }
  // Entries (live and replacements) at `ip`.
  size_t CountAt(const std::string& ip) const;

  // Random lookup targets for the non-empty buckets that saw no lookup for `interval_ms`;
  // those buckets count as refreshed from now.
  std::vector<NodeId> RefreshTargets(int64_t now_ms, int64_t interval_ms, std::mt19937_64& rng);
  // A lookup toward `target` refreshes its bucket.
  void Touched(const NodeId& target, int64_t now_ms);
  // The least recently seen contact not heard from since `before_ms` and not being pinged
  // (marked as being pinged now), for a periodic liveness check.
  std::optional<Contact> TakeStalest(int64_t before_ms);

 private:
  struct Bucket {
    std::vector<Contact> live;          // least recently seen first
    std::vector<Contact> replacements;  // most recently seen last
    int64_t refreshed_ms = 0;
  };
  static std::vector<Contact>::iterator FindIn(std::vector<Contact>& list, const NodeId& id);
  bool IsLocal(const std::string& ip, const std::string& subnet) const;
  // Whether one more entry at `ip` stays within the caps.
  bool Admits(const std::string& ip) const;
  void Count(const Endpoint& e, int delta);  // an entry at `e` came (+1) or went (-1)

  const NodeId self_;
  const size_t k_;
  const int max_failures_;
  const RoutingLimits limits_;
  std::set<std::string> local_subnets_;
  std::map<int, Bucket> buckets_;  // by DistanceBit from self
  size_t size_ = 0;
  std::unordered_map<std::string, size_t> per_ip_;      // entries by IP
  std::unordered_map<std::string, size_t> per_subnet_;  // entries by SubnetOf(IP)
};

}  // namespace llamanet::dht
