#include "swarm/swarm.h"


#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>


#include "core/log.h"
#include "dht/node_id.h"
#include "http/http_errors.h"
#include "protocol/affinity.h"
#include "protocol/identity.h"
#include "protocol/rules.h"
#include "swarm/host_facts.h"

namespace llamanet::swarm {

using http::SetNativeError;
using http::SetOpenAiError;
namespace {

constexpr const char* kVersion = "0.1.0";
// A request for a model no node in the view serves waits for at most one refresh of the
// directory (none when one ended this recently) and one look for the model's candidates.
constexpr std::chrono::milliseconds kFreshEnoughForNotFound{500};
constexpr std::chrono::milliseconds kNotFoundRefreshWait{2000};
// /nodes and /v1/models after the directory was idle wait this long at most for a read.
constexpr std::chrono::milliseconds kDirectoryWait{1000};

std::string DefaultKeyPath(int32_t dht_port) {
  const char* state = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path dir = state && *state ? std::filesystem::path(state) / "llamanet"
                              : home && *home ? std::filesystem::path(home) / ".local/state/llamanet"
                                              : std::filesystem::path(".llamanet");
  return (dir / ("node-" + std::to_string(dht_port) + ".key")).string();
}

}  // namespace

std::string Swarm::NodeIdFromKey(const dht::IdentityKey& key) { return protocol::NodeIdFromPublicKey(key.public_key_hex()); }

Result<dht::IdentityKey> Swarm::LoadKey(const std::string& key_file, int32_t dht_port) {
  std::string path = key_file.empty() ? DefaultKeyPath(dht_port) : key_file;
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return Status::IoError("cannot create " + parent.string() + ": " + ec.message());
  }
  return dht::IdentityKey::LoadOrCreate(path);
}

Result<std::unique_ptr<Swarm>> Swarm::Create(const SwarmOptions& config, const std::string& node_id,
                                             dht::IdentityKey key) {
  std::unique_ptr<Swarm> s(new Swarm());
  s->options_ = config;
  s->node_id_ = node_id;
  s->key_ = std::move(key);
  dht::DhtOptions o;
  o.bind_host = IsWildcard(config.host) ? "0.0.0.0" : config.host;
  o.bind_port = static_cast<uint16_t>(config.dht_port);
  o.node_id = dht::NodeId::Sha1(node_id).ToHex();
  o.record_ttl_s = 3.0 * config.heartbeat_interval;
  o.swarm_secret = config.swarm_secret;
  o.require_signed = config.require_signed;
  o.bootstrap = config.bootstrap_nodes;
  Result<std::unique_ptr<dht::DhtNode>> dht = dht::DhtNode::Create(o);
  if (!dht.ok()) {
    if (dht.status().code() == Status::Code::kIoError) {
      return Status::Unavailable("DHT port " + o.bind_host + ":" + std::to_string(config.dht_port) +
                                 " cannot be bound: " + dht.status().message());
    }
    return dht.status();
  }
  s->dht_ = std::move(dht).value();
  s->public_host_ = AdvertisedHost(config);
  auto heartbeat = std::chrono::seconds(config.heartbeat_interval);
  protocol::IdentityOptions identity;
  identity.require_signed = config.require_signed;
  auto self = [raw = s.get()] { return raw->SelfRecord(); };
  s->view_ = std::make_unique<SwarmView>(*s->dht_, self, SwarmViewOptions::ForHeartbeat(heartbeat), identity);
  s->candidates_ = std::make_unique<CandidateView>(*s->dht_, self, CandidateViewOptions::ForHeartbeat(heartbeat), identity);
  s->view_->SetListener([c = s->candidates_.get()](const std::vector<protocol::NodeRecord>& records) { c->Offer(records); });
  s->publisher_ = std::make_unique<Publisher>(*s->dht_, s->key_, self, heartbeat, dht::SystemClock::Instance(),
                                              PublishPlan::Scalable());
  PeerVerifierOptions vo;
  vo.require_signed = config.require_signed;
  s->verifier_ = std::make_unique<PeerVerifier>(vo, AddressPolicy({s->public_host_}, config.allow_private_peers));
  s->router_ = std::make_unique<Router>(std::chrono::seconds(10), [v = s->verifier_.get()](const protocol::NodeRecord& p) {
    return v->Refused(p);
  });
  if (!config.swarm_secret.empty()) s->forward_auth_ = std::make_unique<ForwardAuth>(config.swarm_secret);
  ProxyOptions po;
  po.self_node_id = node_id;
  s->proxy_ = std::make_unique<Proxy>(po, *s->router_, *s->verifier_, s->forward_auth_.get());
  s->affinity_ = std::make_unique<CacheAffinity>(CacheAffinityOptions{}, *s->verifier_, s->forward_auth_.get());
  return s;
}

Swarm::~Swarm() { Leave(std::chrono::milliseconds(0)); }

Status Swarm::Start(std::function<LocalNodeState()> local, CachedTokensFn cached, int32_t http_port) {
  local_ = std::move(local);
  cached_ = std::move(cached);
  http_port_ = http_port;
  hasher_ = std::thread([this, path = options_.model_path] {
    *model_sha256_ = Sha256OfFile(path);
    hashed_ = true;
  });
  if (Status s = dht_->Start(); !s.ok()) return s;
  publisher_->Start();
  view_->Start();
  candidates_->Start();
  verifier_->Start();
  started_ = true;
  LN_INFO << "joined the DHT on UDP " << dht_->local_endpoint().ToString() << " as " << node_id_ << ", advertising "
          << public_host_ << ":" << http_port_
          << (options_.bootstrap_nodes.empty() ? " (first node: no bootstrap)" : "");
  return Status::Ok();
}

void Swarm::Leave(std::chrono::milliseconds timeout) {
  if (left_.exchange(true)) return;
  if (publisher_) publisher_->Withdraw(timeout);
  if (view_) view_->Stop();
  if (candidates_) candidates_->Stop();
  if (verifier_) verifier_->Stop();
  if (dht_) dht_->Stop();
  if (hasher_.joinable()) hasher_.join();
}

protocol::NodeRecord Swarm::SelfRecord() const {
  protocol::NodeRecord r;
  r.node_id = node_id_;
  r.ip = public_host_;
  r.port = http_port_;
  r.dht_port = dht_->local_endpoint().port;
  r.last_seen = EpochNow();
  r.version = kVersion;
  if (hashed_) r.model_sha256 = *model_sha256_;
  if (local_) {
    LocalNodeState e = local_();
    r.model = e.model;
    r.n_ctx = e.n_ctx;
    r.uptime = e.uptime;
    r.slots = e.slots;
    r.queue = e.queue;
    r.free_slots = e.accepting ? std::max(0, e.slots - e.busy - e.queue) : 0;
    r.load = e.slots > 0 ? static_cast<double>(e.busy) / e.slots : 0;
    r.tps = e.tps;
    r.generation = e.generation;
    r.embeddings = e.embeddings;
  }
  return r;
}

httplib::Server::Handler Swarm::Routed(httplib::Server::Handler local, bool openai_errors, Service service) {
  return [this, local = std::move(local), openai_errors, service](const httplib::Request& req, httplib::Response& res) {
    // The route's own parser reports what is wrong with a body this cannot read.
    protocol::RoutingFacts facts = protocol::ReadRoutingFacts(req.body);
    const std::string& model = facts.model;
    protocol::NodeRecord self = SelfRecord();
    LocalState here{node_id_, self.model, self.free_slots, self.generation, self.embeddings};
    const bool forwarded = req.has_header(protocol::kForwardedHeader);
    // A forwarded request is never forwarded again: it needs no peers.
    std::vector<protocol::NodeRecord> peers = forwarded ? std::vector<protocol::NodeRecord>() : PeersFor(model, nullptr);
    RouteDecision d = router_->Decide(model, forwarded, here, peers, service);
    auto found = [&](const std::vector<protocol::NodeRecord>& candidates) {
      return router_->Decide(model, forwarded, here, candidates, service).kind != RouteDecision::Kind::kNotFound;
    };
    if (d.kind == RouteDecision::Kind::kNotFound && !forwarded) {
      // The model's first request here, or a view out of date (this node was frozen and its
      // records aged out): one fresh look before answering 404.
      peers = PeersFor(model, found);
      d = router_->Decide(model, forwarded, here, peers, service);
    }
    if (!forwarded && service == Service::kGeneration && facts.conversation != 0) {
      // A conversation's node is ranked among every node this one knows for the model, not its
      // candidates only: the entry nodes of its turns must rank the same set to agree, and a
      // candidate is added only once it answered a poll.
      view_->Demand(std::chrono::milliseconds(0));
      for (protocol::NodeRecord& p : view_->Peers()) {
        if (std::none_of(peers.begin(), peers.end(), [&](const protocol::NodeRecord& c) { return c.node_id == p.node_id; })) {
          peers.push_back(std::move(p));
        }
      }
      d = PlaceConversation(std::move(d), facts, self, here, peers);
    }
    auto fail = [&](int status, const std::string& msg, const std::string& code) {
      if (openai_errors) {
        SetOpenAiError(res, status, msg, "model", code);
      } else {
        SetNativeError(res, status, msg);
      }
    };
    switch (d.kind) {
      case RouteDecision::Kind::kLocal:
        return local(req, res);
      case RouteDecision::Kind::kNotFound:
        if (service == Service::kEmbeddings) {
          return fail(404, "no node in the swarm serves embeddings for the model '" + model + "'", "model_not_found");
        }
        return fail(404, "no node in the swarm serves the model '" + model + "'", "model_not_found");
      case RouteDecision::Kind::kForward: {
        ForwardResult r = proxy_->Forward(req, res, d.peers);
        if (r == ForwardResult::kFailed) {
          // Every peer tried failed, and is now avoided: the model's other nodes, candidates
          // that had not answered a poll yet or found now, get the request once.
          RouteDecision again = router_->Decide(model, forwarded, here, PeersFor(model, found), service);
          if (again.kind == RouteDecision::Kind::kForward) r = proxy_->Forward(req, res, again.peers);
        }
        switch (r) {
          case ForwardResult::kAnswered:
            return;
          case ForwardResult::kClientGone:
            res.status = 499;  // nobody reads it; the request log and metrics do
            return;
          case ForwardResult::kFailed:
            break;
        }
        if (d.local_fallback) return local(req, res);
        return fail(503, "every node serving '" + model + "' failed; try again", "");
      }
    }
  };
}

std::vector<protocol::NodeRecord> Swarm::PeersFor(const std::string& model, const Enough& wait) {
  if (protocol::IsAnyModel(model)) {
    // Any model: among the candidates of the models this node routes to, or of its own (each
    // asked for again, so that resting ones are polled).
    std::vector<std::string> models = candidates_->Models();
    if (models.empty()) models.push_back(SelfRecord().model);
    for (const std::string& m : models) candidates_->Want(m);
    return candidates_->Peers();
  }
  if (!candidates_->Wanted(model) && !DirectoryServes(model)) {
    if (!wait) return {};
    view_->RefreshAndWait(kFreshEnoughForNotFound, kNotFoundRefreshWait);
    if (!DirectoryServes(model)) {
      // A whole directory lists every model: this one is served nowhere. A sampled one may lack
      // a model that few nodes serve.
      const int64_t now = dht::SystemClock::Instance().NowMs();
      int64_t last = last_unlisted_ms_.load();
      if (!view_->Sampled() || now - last < kFreshEnoughForNotFound.count() ||
          !last_unlisted_ms_.compare_exchange_strong(last, now)) {
        return {};
      }
    }
  }
  if (candidates_->Want(model)) candidates_->Offer(view_->Peers());  // the directory's nodes, untried yet
  std::vector<protocol::NodeRecord> peers = candidates_->Candidates(model);
  if (wait && !wait(peers)) {
    candidates_->WaitForCandidates(model, kNotFoundRefreshWait, wait);
    peers = candidates_->Candidates(model);
  }
  return peers;
}

bool Swarm::DirectoryServes(const std::string& model) const {
  std::vector<std::string> models = view_->Models();
  return std::find(models.begin(), models.end(), model) != models.end();
}

std::vector<protocol::NodeRecord> Swarm::Nodes() const {
  view_->Demand(kDirectoryWait);
  std::vector<protocol::NodeRecord> nodes = view_->Nodes();
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < nodes.size(); ++i) at[nodes[i].node_id] = i;
  for (protocol::NodeRecord& c : candidates_->Peers()) {
    auto it = at.find(c.node_id);
    if (it == at.end()) {
      at[c.node_id] = nodes.size();
      nodes.push_back(std::move(c));
    } else if (it->second > 0 && c.last_seen > nodes[it->second].last_seen) {
      nodes[it->second] = std::move(c);
    }
  }
  return nodes;
}

std::vector<std::string> Swarm::Models() const {
  std::set<std::string> models;
  for (const protocol::NodeRecord& n : Nodes()) models.insert(n.model);
  return {models.begin(), models.end()};
}

SwarmSize Swarm::Size(size_t listed) {
  if (!view_->Sampled()) return SwarmSize{listed, false};
  SwarmSize size = EstimateSwarmSize(dht_->Snapshot());
  size.nodes = std::max(size.nodes, listed);
  size.estimated = true;
  return size;
}

RouteDecision Swarm::PlaceConversation(RouteDecision d, const protocol::RoutingFacts& facts,
                                       const protocol::NodeRecord& self, const LocalState& here,
                                       const std::vector<protocol::NodeRecord>& peers) const {
  if (facts.conversation == 0 || d.kind == RouteDecision::Kind::kNotFound) return d;
  const bool serves_here = protocol::IsAnyModel(facts.model) || facts.model == self.model;
  std::vector<protocol::NodeRecord> eligible = router_->Eligible(facts.model, here, peers);
  if (eligible.empty()) return d;
  std::optional<protocol::CacheReport> mine;
  if (serves_here) {
    mine = protocol::CacheReport{node_id_, cached_ ? cached_(facts.conversation) : 0, self.free_slots,
                                 local_ ? local_().conversations : 0};
  }
  std::string chosen = affinity_->Choose(facts.conversation, mine, eligible);
  RouteDecision placed;
  if (chosen == node_id_) return placed;  // kLocal
  placed.kind = RouteDecision::Kind::kForward;
  placed.local_fallback = serves_here;
  for (protocol::NodeRecord& p : eligible) {
    if (p.node_id == chosen) placed.peers.push_back(std::move(p));
  }
  // Should the chosen node fail, the usual order takes over.
  for (protocol::NodeRecord& p : d.peers) {
    if (p.node_id != chosen) placed.peers.push_back(std::move(p));
  }
  return placed;
}

Result<IdentityProof> Swarm::ProveIdentity(const std::string& nonce) const {
  return swarm::ProveIdentity(key_, node_id_, nonce);
}

bool Swarm::AcceptForwarded(const httplib::Request& req) {
  if (!forward_auth_ || !req.has_header(kForwardAuthHeader)) return false;
  return forward_auth_->Accept(req.method, req.path, req.body, node_id_, req.get_header_value(kForwardAuthHeader));
}

}  // namespace llamanet::swarm
