#include "dht/node_core.h"

#include <algorithm>

#include "core/log.h"
#include "dht/find_node.h"
#include "dht/put_value.h"

namespace llamanet::dht {

namespace {

constexpr int64_t kMaxBootstrapBackoffMs = 30'000;
constexpr size_t kMaxKnownClosest = 256;  // keys whose closest nodes are remembered
constexpr int kKnownClosestUses = 16;     // publishes to them before a fresh lookup
constexpr size_t kMaxWatchedKeys = 16;    // keys with watchers (a node polls for its own)
constexpr size_t kMaxWatchers = 128;      // watchers per key

StorageOptions MakeStorageOptions(const DhtOptions& o) {
  StorageOptions s;
  s.limits = o.storage_limits;
  s.ttl_s = o.record_ttl_s;
  s.max_future_skew_s = o.max_future_skew_s;
  s.require_signed = o.require_signed;
  return s;
}

RpcOptions MakeRpcOptions(const DhtOptions& o) {
  RpcOptions r;
  r.timeout_ms = o.rpc_timeout_ms;
  r.retries = o.rpc_retries;
  r.min_soft_timeout_ms = o.min_soft_timeout_ms;
  return r;
}

WireLimits MakeWireLimits(const DhtOptions& o) {
  WireLimits w;
  w.max_datagram_bytes = o.max_datagram_bytes;
  return w;
}

std::vector<ContactInfo> ToInfos(const std::vector<Contact>& contacts) {
  std::vector<ContactInfo> out;
  out.reserve(contacts.size());
  for (const auto& c : contacts) out.push_back(ContactInfo{c.id, c.endpoint});
  return out;
}

}  // namespace

NodeCore::NodeCore(const DhtOptions& options, NodeId self, Transport& transport, const Clock& clock)
    : options_(options),
      self_(self),
      transport_(transport),
      clock_(clock),
      rng_(options.rng_seed != 0 ? options.rng_seed : std::random_device()()),
      codec_(MakeWireLimits(options), options.swarm_secret),
      rate_limiter_(options.rate_limit),
      table_(self, options.k, options.max_failures, options.routing_limits),
      rpc_(MakeRpcOptions(options), [this](const Endpoint& to, const Request& r) { SendMessage(to, r); }, rng_),
      storage_(MakeStorageOptions(options), clock),
      tokens_(options.token_rotation_ms, clock.NowMs()),
      token_cache_(options.token_cache_size),
      bootstrap_backoff_ms_(options.bootstrap_retry_ms) {}

NodeCore::~NodeCore() { Stop(); }

void NodeCore::Start() {
  if (running_) return;
  running_ = true;
  const int64_t now = clock_.NowMs();
  next_maintenance_ms_ = now + options_.maintenance_interval_ms;
  next_sweep_ms_ = now + options_.sweep_interval_ms;
  if (options_.bootstrap.empty()) {
    joined_ = true;  // the first node of a swarm
  } else {
    Bootstrap();
  }
}

void NodeCore::Stop() {
  if (!running_) return;
  running_ = false;
  std::vector<RunningLookup> lookups;
  lookups.swap(lookups_);
  for (RunningLookup& l : lookups) l.lookup->Finish();
  rpc_.CancelAll();
}

void NodeCore::Track(std::shared_ptr<Lookup> lookup, CancelFlag cancel) {
  if (lookup->finished()) return;
  lookups_.push_back(RunningLookup{std::move(lookup), clock_.NowMs() + options_.lookup.timeout_ms, std::move(cancel)});
}

void NodeCore::EndLookups(int64_t now_ms) {
  // Finishing runs callbacks that may start lookups: work on a copy of the list.
  std::vector<std::shared_ptr<Lookup>> due;
  for (const RunningLookup& l : lookups_) {
    if (!l.lookup->finished() && (now_ms >= l.deadline_ms || (l.cancel && l.cancel->load()))) due.push_back(l.lookup);
  }
  for (const auto& lookup : due) lookup->Finish();
  std::erase_if(lookups_, [](const RunningLookup& l) { return l.lookup->finished(); });
}

void NodeCore::Misbehaved(const ContactInfo& who, const char* why) {
  ++counters_.lookup_drops;
  LN_DEBUG << "dht: dropped " << who.endpoint.ToString() << " from a lookup: " << why;
}

// ---- incoming --------------------------------------------------------------------------

void NodeCore::Drop(DropReason reason, const Endpoint& from, const std::string& detail) {
  drops_.Add(reason);
  LN_DEBUG << "dht: dropped datagram from " << from.ToString() << ": " << DropReasonName(reason)
           << (detail.empty() ? "" : " (" + detail + ")");
}

void NodeCore::OnDatagram(const Endpoint& from, std::string_view datagram) {
  if (!running_) return;
  ++counters_.datagrams_in;
  counters_.bytes_in += datagram.size();
  if (datagram.size() > options_.max_datagram_bytes) return Drop(DropReason::kOversized, from, "");
  if (!rate_limiter_.Allow(from.ip, clock_.NowMs())) return Drop(DropReason::kRateLimited, from, "");
  DecodeResult decoded = codec_.Decode(datagram);
  if (!decoded.message) {
    if (decoded.is_response && rpc_.OnBadReply(from, decoded.txid)) ++counters_.bad_replies;
    return Drop(decoded.reason, from, decoded.detail);
  }
  if (auto* request = std::get_if<Request>(&*decoded.message)) {
    if (options_.read_only) return Drop(DropReason::kNotServing, from, "");
    HandleRequest(from, *request, datagram.size());
  } else {
    HandleResponse(from, std::get<Response>(*decoded.message));
  }
}

void NodeCore::HandleResponse(const Endpoint& from, const Response& response) {
  switch (rpc_.OnResponse(from, response, clock_.NowMs())) {
    case RpcManager::Match::kAccepted:
      ++counters_.replies_in;
      return;
    case RpcManager::Match::kUnknownTxid:
      return Drop(DropReason::kUnknownTxid, from, response.txid);
    case RpcManager::Match::kWrongSource:
      return Drop(DropReason::kWrongSource, from, response.txid);
  }
}

size_t NodeCore::ReplyBudget(const Endpoint& from, const Request& request, size_t request_bytes) {
  if (request.token && tokens_.Valid(from.ip, *request.token, clock_.NowMs())) return options_.max_datagram_bytes;
  const auto scaled = static_cast<size_t>(options_.unproven_reply_factor * static_cast<double>(request_bytes));
  return std::min(std::max(scaled, options_.min_unproven_reply_bytes), options_.max_datagram_bytes);
}

void NodeCore::HandleRequest(const Endpoint& from, const Request& request, size_t request_bytes) {
  ++counters_.requests_in;
  if (!request.read_only) Heard(request.sender, from);
  Response response;
  response.txid = request.txid;
  response.sender = self_;
  if (request.token) response.token = tokens_.Issue(from.ip, clock_.NowMs());
  const size_t budget = ReplyBudget(from, request, request_bytes);
  const bool proven = budget == options_.max_datagram_bytes;
  // Room for "truncated" and "unproven", set once we know whether the reply was cut.
  constexpr size_t kFlagBytes = sizeof(R"(,"truncated":true,"unproven":true)") - 1;
  const size_t fit = proven ? budget : budget - std::min(budget, kFlagBytes);
  bool contacts_cut = false;
  bool records_cut = false;
  switch (request.type) {
    case RequestType::kPing:
      response.pong = true;
      response.data_sender = self_;  // the Python node reads the responder's id here
      break;
    case RequestType::kStore: {
      Status s = StoreLocal(request.key, request.value.records, from.ip);
      response.stored = s.ok();
      if (!s.ok()) response.error = s.message();
      break;
    }
    case RequestType::kFindNode:
      response.contacts = ClosestContacts(request.target, &request.sender);
      contacts_cut = !proven && FitContacts(fit, &response);  // k contacts always fit a datagram
      break;
    case RequestType::kFindValue:
      records_cut = AnswerFindValue(request, fit, proven, &response, &contacts_cut);
      if (request.value_only && proven && (response.value || response.unchanged) && IsSingleRecordKey(request.key)) {
        Watch(request.key, from);
      }
      break;
  }
  if (!proven && (contacts_cut || records_cut)) {
    ++counters_.replies_cut;
    response.truncated = true;
    // Records left out are worth a second round trip with the token; the closest contacts
    // that fit are enough for a lookup to go on. Python peers never see the field.
    response.unproven = records_cut && request.token.has_value();
  }
  SendMessage(from, response);
}

Status NodeCore::StoreLocal(const std::string& key, const std::vector<Record>& records, const std::string& source) {
  if (records.empty()) return Status::InvalidArgument("empty value");
  Status first_error;
  for (const Record& r : records) {
    Status s = storage_.Put(key, r, source);
    if (s.ok() && store_observer_ && IsSingleRecordKey(key)) store_observer_(key, r);
    if (s.ok()) {
      ++counters_.stores_accepted;
    } else {
      ++counters_.stores_refused;
      if (first_error.ok()) first_error = s;
    }
  }
  return first_error;
}

bool NodeCore::KnowsKCloser(const std::vector<ContactInfo>& closest, const NodeId& target) const {
  return closest.size() >= options_.k && std::all_of(closest.begin(), closest.end(), [&](const ContactInfo& c) {
           return NodeId::Closer(target, c.id, self_);
         });
}

std::vector<ContactInfo> NodeCore::ClosestContacts(const NodeId& target, const NodeId* exclude) const {
  std::vector<Contact> closest = table_.Closest(target, options_.k + 1);
  if (exclude != nullptr) {
    std::erase_if(closest, [&](const Contact& c) { return c.id == *exclude; });
  }
  if (closest.size() > options_.k) closest.resize(options_.k);
  return ToInfos(closest);
}

bool NodeCore::FitContacts(size_t budget, Response* response) const {
  if (!response->contacts) return false;
  std::vector<ContactInfo>& contacts = *response->contacts;
  size_t size = codec_.Encode(*response).size();
  if (size <= budget) return false;
  while (!contacts.empty() && size > budget) {
    size -= EncodedContactSize(contacts.back()) + (contacts.size() > 1 ? 1 : 0);  // with its comma
    contacts.pop_back();  // the farthest first
  }
  // A miss answers "contacts" even when empty (the Python client reads it); a value does not.
  if (contacts.empty() && response->value) response->contacts.reset();
  return true;
}

bool NodeCore::AnswerFindValue(const Request& request, size_t budget, bool contacts_first, Response* response,
                               bool* contacts_cut) {
  std::vector<Record> live = storage_.Live(request.key);
  const auto set_size = static_cast<uint32_t>(live.size());
  // Pages echo the offset asked, even past the end of a set that shrank: lookups drop a
  // responder whose offsets differ (get_value.h).
  response->offset = request.offset;
  if (request.value_only && !request.known.empty() && IsSingleRecordKey(request.key) && !live.empty() &&
      ContentDigest(live.front()) == request.known) {
    response->unchanged = true;  // the asker's copy still says what this one does
    return false;
  }
  // The contacts toward the key, or toward "near": found once, when needed.
  std::optional<std::vector<ContactInfo>> closest;
  auto closest_contacts = [&]() -> const std::vector<ContactInfo>& {
    if (!closest) closest = ClosestContacts(request.near ? *request.near : KeyTarget(request.key), &request.sender);
    return *closest;
  };
  // "near": a lookup headed for a point of a spread key's region. A node that knows k nodes
  // closer to the point leads the way instead of answering: else the few nodes that are in
  // every routing table (the oldest) would answer almost every sample of the region.
  if (request.near && !live.empty() && KnowsKCloser(closest_contacts(), *request.near)) live.clear();
  // "limit": a sample, drawn at random (were it the first records, every sampler would get
  // the same few nodes, and those nodes every sampler's polls). It ends the sampler's read: no
  // contacts to go on with.
  const bool sampled = request.limit > 0 && live.size() > request.limit && !IsSingleRecordKey(request.key);
  if (sampled) {
    for (size_t i = 0; i < request.limit; ++i) std::swap(live[i], live[i + rng_() % (live.size() - i)]);
    live.resize(request.limit);
  }
  std::vector<ContactInfo> contacts;
  if ((request.offset == 0 && !request.value_only && !sampled) || live.empty()) contacts = closest_contacts();
  if (live.empty()) {
    response->contacts = std::move(contacts);
    *contacts_cut = FitContacts(budget, response);
    return false;
  }
  // A full-size reply keeps its contacts (a lookup goes on through them) and fills the rest
  // with records; a cut one (unproven requester) gives the records first, the contacts after.
  if (contacts_first && !contacts.empty()) response->contacts = std::move(contacts);
  response->value.emplace();
  RecordValue& value = *response->value;
  bool cut = false;
  if (IsSingleRecordKey(request.key)) {
    value.records.push_back(std::move(live.front()));
  } else {
    value.is_array = true;
    const size_t first = sampled ? 0 : request.offset;
    size_t rest = 0;
    for (size_t i = first; i < live.size(); ++i) rest += live[i].json.size() + 1;
    if (request.offset == 0 && !sampled && codec_.Encode(*response).size() + rest <= budget) {
      value.records = std::move(live);  // the whole set: a plain array, as the Python client expects
    } else {
      response->truncated = true;
      response->total = set_size;
      size_t used = codec_.Encode(*response).size();
      for (size_t i = first; i < live.size(); ++i) {
        if (used + live[i].json.size() + 1 > budget) break;
        used += live[i].json.size() + 1;
        value.records.push_back(std::move(live[i]));
      }
      cut = first + value.records.size() < live.size();  // by the budget, not the limit
    }
  }
  // Contacts measured first leave the records the rest (a record, max_record_bytes, and k
  // contacts always fit a datagram).
  if (contacts_first) return cut;
  if (!contacts.empty()) response->contacts = std::move(contacts);
  *contacts_cut = FitContacts(budget, response);
  if (codec_.Encode(*response).size() > budget) {
    // Not even one record fits: say how many there are, and leave them to a proven request.
    response->value.reset();
    response->truncated = true;
    response->total = set_size;
    *contacts_cut |= FitContacts(budget, response);
    return true;
  }
  return cut;
}

// ---- outgoing --------------------------------------------------------------------------

void NodeCore::SendMessage(const Endpoint& to, const Message& message) {
  std::string bytes = codec_.Encode(message);
  if (bytes.size() > options_.max_datagram_bytes || !transport_.Send(to, bytes)) {
    ++counters_.send_errors;
    return;
  }
  ++counters_.datagrams_out;
  counters_.bytes_out += bytes.size();
}

std::string NodeCore::SendRpc(const Endpoint& to, std::optional<NodeId> expected, Request request,
                              RpcCallbacks callbacks, bool may_retry) {
  if (!running_) {
    if (callbacks.on_timeout) callbacks.on_timeout();
    return {};
  }
  request.sender = self_;
  request.read_only = options_.read_only;
  request.token = token_cache_.Get(to.ToString());  // "" asks for one
  auto user = std::make_shared<RpcCallbacks>(std::move(callbacks));
  std::optional<Request> again;
  if (may_retry) again = request;
  RpcCallbacks wrapped;
  wrapped.on_reply = [this, to, expected, user, again = std::move(again)](const Response& r) mutable {
    Heard(r.sender, to);
    if (!r.token.empty()) token_cache_.Put(to.ToString(), r.token);
    if (r.unproven && again && !r.token.empty()) {
      // The reply was cut because we had no valid token; now we have one. The lookup's
      // soft timeout already ran its course on the first round trip.
      ++counters_.token_retries;
      RpcCallbacks retry = std::move(*user);
      retry.on_soft_timeout = nullptr;
      SendRpc(to, expected, std::move(*again), std::move(retry), /*may_retry=*/false);
      return;
    }
    if (user->on_reply) user->on_reply(r);
  };
  if (user->on_soft_timeout) wrapped.on_soft_timeout = [user] { user->on_soft_timeout(); };
  wrapped.on_timeout = [this, expected, user] {
    ++counters_.rpc_timeouts;
    if (expected) table_.Failed(*expected);
    if (user->on_timeout) user->on_timeout();
  };
  if (user->on_bad_reply) {
    wrapped.on_bad_reply = [this, expected, user] {
      if (expected) table_.Failed(*expected);
      user->on_bad_reply();
    };
  }
  return rpc_.Send(to, std::move(request), std::move(wrapped), clock_.NowMs());
}

std::string NodeCore::SendQuery(const ContactInfo& to, Request request, RpcCallbacks callbacks) {
  return SendRpc(to.endpoint, to.id, std::move(request), std::move(callbacks));
}

void NodeCore::Heard(const NodeId& id, const Endpoint& from) {
  RoutingTable::HeardResult result = table_.Heard(id, from, clock_.NowMs());
  if (result.refused) ++counters_.contacts_refused;
  if (result.ping) Ping(result.ping->endpoint, result.ping->id);  // ping-before-evict
}

void NodeCore::Ping(const Endpoint& to, std::optional<NodeId> expected, RpcCallbacks callbacks) {
  Request r;
  r.type = RequestType::kPing;
  SendRpc(to, expected, std::move(r), std::move(callbacks));
}

void NodeCore::FindNodeLookup(const NodeId& target) {
  table_.Touched(target, clock_.NowMs());
  auto lookup = std::make_shared<FindNode>(*this, target, options_.k, options_.alpha, nullptr);
  lookup->Start(ClosestContacts(target, nullptr));
  Track(std::move(lookup), nullptr);
}

// ---- public operations -----------------------------------------------------------------

Status NodeCore::CheckKey(const std::string& key) const {
  if (key.empty() || key.size() > codec_.limits().max_key_bytes) {
    return Status::InvalidArgument("key must have 1.." + std::to_string(codec_.limits().max_key_bytes) + " bytes");
  }
  return Status::Ok();
}

bool NodeCore::AcceptRecord(const std::string& key, const Record& record) const {
  return storage_.Validate(key, record).ok();
}

void NodeCore::Publish(std::string key, Record record, std::function<void(Result<size_t>)> done, CancelFlag cancel,
                       size_t replicas, std::optional<Spread> spread) {
  if (cancel && cancel->load()) return;
  if (!running_) return done(Status::Unavailable("DHT node is not running"));
  if (Status s = CheckKey(key); !s.ok()) return done(s);
  if (record.json.size() > options_.storage_limits.max_record_bytes) return done(Status::TooLarge("record too large"));
  size_t local = 0;
  if (!options_.read_only) {
    if (Status s = storage_.Put(key, record); !s.ok()) return done(s);
    local = 1;
  }
  if (replicas == 0) return local > 0 ? done(local) : done(Status::Unavailable("a read-only node stores nothing"));
  const NodeId target = spread ? spread->Target(key, rng_) : KeyTarget(key);
  const size_t n = std::min(replicas, options_.k);
  const bool reuse = n < options_.k;  // a full-k publish looks up every time, as before
  // A spread key's place (a random point of its region) is kept with its contacts: the same
  // key may also be published elsewhere (to its own closest nodes, or with another region).
  const std::string place = spread ? key + '\n' + std::to_string(spread->prefix_bits) : key;
  auto known = reuse ? known_closest_.find(place) : known_closest_.end();
  auto put = std::make_shared<PutValue>(
      *this, key, target, std::move(record), options_.k, options_.alpha, local,
      [this, place, reuse, n, local, done = std::move(done)](Result<size_t> r, const LookupStats&) {
        // Stores that went unanswered: look the key up again next time.
        if (reuse && (!r.ok() || *r < n + local)) known_closest_.erase(place);
        done(r);
      });
  // The lookup finds the k closest as for any key (so readers, who look up k, find the
  // stores); the record goes to the n nearest of them, or to n drawn at random when spread.
  put->StoreAtMost(n);
  if (spread) put->SpreadOver(rng_());
  if (known != known_closest_.end() && known->second.uses_left-- > 0) {
    put->StartAt(known->second.contacts);
  } else {
    table_.Touched(target, clock_.NowMs());
    if (reuse) {
      if (known_closest_.size() >= kMaxKnownClosest) known_closest_.clear();
      put->OnClosest([this, place](const std::vector<ContactInfo>& closest) {
        known_closest_[place] = KnownClosest{closest, kKnownClosestUses};
      });
    }
    put->Start(spread ? SpreadSeeds(target) : ClosestContacts(target, nullptr));
  }
  Track(std::move(put), std::move(cancel));
}

std::vector<ContactInfo> NodeCore::SpreadSeeds(const NodeId& target) {
  std::vector<ContactInfo> seeds = ClosestContacts(target, nullptr);
  if (seeds.size() > options_.alpha) {
    std::shuffle(seeds.begin(), seeds.end(), rng_);
    seeds.resize(options_.alpha);
  }
  return seeds;
}

void NodeCore::Get(std::string key, std::function<void(Result<GetResult>)> done, CancelFlag cancel, size_t sample,
                   std::optional<Spread> spread) {
  if (cancel && cancel->load()) return;
  if (!running_) return done(Status::Unavailable("DHT node is not running"));
  if (Status s = CheckKey(key); !s.ok()) return done(s);
  const NodeId target = spread ? spread->Target(key, rng_) : KeyTarget(key);
  std::vector<ContactInfo> seeds = spread ? SpreadSeeds(target) : ClosestContacts(target, nullptr);
  std::vector<Record> local = options_.read_only ? std::vector<Record>() : storage_.Live(key);
  if (seeds.empty() && local.empty()) return done(Status::Unavailable("no contacts: not joined to a swarm"));
  table_.Touched(target, clock_.NowMs());
  auto lookup = std::make_shared<GetValue>(
      *this, key, target, options_.k, options_.alpha, options_.lookup, std::move(local),
      [this, key](const Record& r) { return AcceptRecord(key, r); },
      [done = std::move(done)](GetResult result) { done(std::move(result)); }, sample);
  lookup->Start(seeds);
  Track(std::move(lookup), std::move(cancel));
}

void NodeCore::Watch(const std::string& key, const Endpoint& from) {
  const int64_t now = clock_.NowMs();
  // 2.5 TTLs: longer than the gap between two polls (every other heartbeat, jittered) by a
  // lost poll; at 1.5, subscriptions lapsed between polls and routers missed pushes.
  const auto until = now + static_cast<int64_t>(options_.record_ttl_s * 2500);
  if (!watchers_.count(key) && watchers_.size() >= kMaxWatchedKeys) return;
  std::vector<Watcher>& list = watchers_[key];
  std::erase_if(list, [&](const Watcher& w) { return w.until_ms < now || w.endpoint == from; });
  if (list.size() < kMaxWatchers) list.push_back(Watcher{from, until});
}

void NodeCore::Notify(std::string key, Record record) {
  if (!running_ || options_.read_only || !storage_.Put(key, record).ok()) return;
  auto it = watchers_.find(key);
  if (it == watchers_.end()) return;
  const int64_t now = clock_.NowMs();
  std::erase_if(it->second, [&](const Watcher& w) { return w.until_ms < now; });
  for (const Watcher& w : it->second) {
    Request r;
    r.type = RequestType::kStore;
    r.key = key;
    r.value.records.push_back(record);
    SendRpc(w.endpoint, std::nullopt, std::move(r), RpcCallbacks{});
  }
  if (it->second.empty()) watchers_.erase(it);
}

void NodeCore::Ask(const Endpoint& at, std::string key, std::string known,
                   std::function<void(Result<GetResult>)> done) {
  if (!running_) return done(Status::Unavailable("DHT node is not running"));
  if (Status s = CheckKey(key); !s.ok()) return done(s);
  Request r;
  r.type = RequestType::kFindValue;
  r.key = key;
  r.value_only = true;
  const bool sent_known = !known.empty();
  r.known = std::move(known);
  auto shared_done = std::make_shared<std::function<void(Result<GetResult>)>>(std::move(done));
  RpcCallbacks callbacks;
  callbacks.on_reply = [this, key, sent_known, shared_done](const Response& response) {
    GetResult result;
    result.stats.messages = 1;
    // "unchanged" answers a digest; to a poll that sent none it says nothing.
    result.unchanged = response.unchanged && !response.value && sent_known;
    if (response.value) {
      for (const Record& rec : response.value->records) {
        if (!rec.withdrawn && AcceptRecord(key, rec)) result.records.push_back(rec);
      }
    }
    (*shared_done)(std::move(result));
  };
  callbacks.on_timeout = [shared_done] { (*shared_done)(Status::Unavailable("no answer")); };
  SendRpc(at, std::nullopt, std::move(r), std::move(callbacks));
}

DhtSnapshot NodeCore::Snapshot() const {
  DhtSnapshot s;
  s.node_id = self_.ToHex();
  s.endpoint = transport_.local_endpoint();
  s.running = running_;
  s.joined = joined_;
  const int64_t now_ms = clock_.NowMs();
  const double wall = clock_.WallSeconds();
  for (const Contact& c : table_.Contacts()) {
    s.contacts.push_back(DhtContact{c.id.ToHex(), c.endpoint.ip, c.endpoint.port,
                                    wall - static_cast<double>(now_ms - c.last_seen_ms) / 1000.0, c.failures});
  }
  s.storage_keys = storage_.Keys();
  s.stored_records = storage_.record_count();
  s.bootstrap = options_.bootstrap;
  s.counters = counters_;
  s.counters.rpc_resends = rpc_.resends();
  for (size_t i = 0; i < drops_.counts.size(); ++i) {
    if (drops_.counts[i] > 0) s.counters.drops[DropReasonName(static_cast<DropReason>(i))] = drops_.counts[i];
  }
  return s;
}

// ---- timers ----------------------------------------------------------------------------

int64_t NodeCore::NextTimerMs() const {
  if (!running_) return RpcManager::kNever;
  int64_t next = std::min({rpc_.NextDeadlineMs(), next_maintenance_ms_, next_sweep_ms_});
  for (const RunningLookup& l : lookups_) {
    next = std::min(next, l.cancel && l.cancel->load() ? clock_.NowMs() : l.deadline_ms);
  }
  return next;
}

void NodeCore::RunDueTimers() {
  if (!running_) return;
  const int64_t now = clock_.NowMs();
  rpc_.Tick(now);
  EndLookups(now);
  if (now >= next_maintenance_ms_) {
    next_maintenance_ms_ = now + options_.maintenance_interval_ms;
    Maintenance(now);
  }
  if (now >= next_sweep_ms_) {
    next_sweep_ms_ = now + options_.sweep_interval_ms;
    storage_.Sweep();
  }
}

void NodeCore::Maintenance(int64_t now_ms) {
  rate_limiter_.Sweep(now_ms);
  if (!options_.bootstrap.empty() && (!joined_ || table_.size() == 0) && bootstrap_in_flight_ == 0 &&
      now_ms >= next_bootstrap_ms_) {
    Bootstrap();
  }
  if (second_join_lookup_ms_ && now_ms >= *second_join_lookup_ms_) {
    second_join_lookup_ms_.reset();
    FindNodeLookup(self_);
  }
  for (const NodeId& target : table_.RefreshTargets(now_ms, options_.bucket_refresh_ms, rng_)) FindNodeLookup(target);
  if (auto stale = table_.TakeStalest(now_ms - options_.contact_ping_ms)) Ping(stale->endpoint, stale->id);
}

void NodeCore::Bootstrap() {
  joined_ = false;
  for (const std::string& entry : options_.bootstrap) {
    auto endpoints = ResolveHostPort(entry);
    if (!endpoints.ok()) {
      LN_WARN << "dht: bootstrap node " << entry << ": " << endpoints.status().ToString();
      continue;
    }
    for (const Endpoint& e : *endpoints) {
      ++bootstrap_in_flight_;
      RpcCallbacks callbacks;
      callbacks.on_reply = [this](const Response&) { BootstrapAttemptDone(true); };
      callbacks.on_timeout = [this] { BootstrapAttemptDone(false); };
      Ping(e, std::nullopt, std::move(callbacks));
    }
  }
  if (bootstrap_in_flight_ == 0) BootstrapAttemptDone(false);
}

void NodeCore::BootstrapAttemptDone(bool answered) {
  if (bootstrap_in_flight_ > 0) --bootstrap_in_flight_;
  if (!running_) return;
  if (answered && !joined_) {
    joined_ = true;
    bootstrap_backoff_ms_ = options_.bootstrap_retry_ms;
    FindNodeLookup(self_);  // the join lookup fills the table around our id
    if (options_.second_join_lookup_ms > 0) second_join_lookup_ms_ = clock_.NowMs() + options_.second_join_lookup_ms;
    return;
  }
  if (bootstrap_in_flight_ == 0 && !joined_) {
    LN_DEBUG << "dht: no bootstrap node answered; retrying in " << bootstrap_backoff_ms_ << " ms";
    next_bootstrap_ms_ = clock_.NowMs() + bootstrap_backoff_ms_;
    bootstrap_backoff_ms_ = std::min(bootstrap_backoff_ms_ * 2, kMaxBootstrapBackoffMs);
  }
}

}  // namespace llamanet::dht
