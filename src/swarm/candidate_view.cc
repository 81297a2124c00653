#include "swarm/candidate_view.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "core/log.h"
#include "protocol/lookup_records.h"

namespace llamanet::swarm {
namespace {
constexpr auto kTickInterval = std::chrono::milliseconds(250);
constexpr int64_t kSubscribeAfterMs = 500;

// The router's order (router.cc): free before full, fewer busy slots, then faster.
bool Better(const protocol::NodeRecord& a, const protocol::NodeRecord& b) {
  if ((a.free_slots > 0) != (b.free_slots > 0)) return a.free_slots > 0;
  if (a.free_slots != b.free_slots) return a.free_slots > b.free_slots;
  return a.tps > b.tps;
}
}  // namespace

struct CandidateView::Core {
  struct Candidate {
    protocol::NodeRecord record;
    int64_t next_poll_ms = 0;
    int failures = 0;
    bool polling = false;
    int answered = 0;  // polls answered
    // The ContentDigest of the DHT record behind `record` once a poll or a push brought it
    // (sampled records have none): sent with each poll, so that an unchanged record is not
    // sent again.
    std::string digest;
    double confirmed = 0;  // wall seconds: when the node last said `record` still holds
  };
  struct Model {
    std::vector<Candidate> candidates;
    std::map<std::string, protocol::NodeRecord> pool;  // by node_id: sampled, not yet tried
    int64_t next_sample_ms = 0;
    int64_t next_rotate_ms = 0;
    int64_t wanted_ms = 0;  // last asked for
    bool sampling = false;
    int samples_done = 0;
    // The last sample named no node not known already: the model has no more nodes to find
    // (a small swarm), so being short of candidates is no reason to sample again early.
    bool exhausted = false;
  };
  struct Poll {
    std::string model;
    dht::Endpoint at;
    std::string node_id;
    std::string known;  // the digest of the copy held
  };
  // What a poll brought back: nothing (no answer), "unchanged", or a fresh record.
  struct Answer {
    bool answered = false;
    bool unchanged = false;
    std::optional<protocol::NodeRecord> record;
    std::string digest;
  };

  Core(std::function<protocol::NodeRecord()> s, CandidateViewOptions o, protocol::IdentityOptions identity,
       const dht::Clock& c, uint64_t seed)
      : self(std::move(s)), options(o), identities(identity), clock(c), rng(seed != 0 ? seed : std::random_device()()) {}

  int64_t HeartbeatMs() const { return std::chrono::milliseconds(options.heartbeat).count(); }
  bool Resting(const Model& m, int64_t now) const { return now - m.wanted_ms > options.rest_after * HeartbeatMs(); }
  int64_t Jitter(int64_t span_ms) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(std::max<int64_t>(span_ms, 1))); }
  double Oldest() const { return clock.WallSeconds() - static_cast<double>(options.max_age.count()); }

  // Moves the best untried records into free candidate places; once a heartbeat, the worst
  // candidate gives way to the best untried record, so the set keeps exploring.
  void Fill(Model& m, int64_t now) {
    const double oldest = Oldest();
    for (auto it = m.pool.begin(); it != m.pool.end();) {
      it = it->second.last_seen < oldest ? m.pool.erase(it) : std::next(it);
    }
    // Ties drawn at random: by the pool's order (node ids) every router would pick the same
    // nodes, and those nodes would answer every router's polls.
    auto best_untried = [&]() {
      auto best = m.pool.end();
      size_t ties = 0;
      for (auto it = m.pool.begin(); it != m.pool.end(); ++it) {
        if (best == m.pool.end() || Better(it->second, best->second)) {
          best = it;
          ties = 1;
        } else if (!Better(best->second, it->second) && rng() % ++ties == 0) {
          best = it;
        }
      }
      return best;
    };
    if (now >= m.next_rotate_ms && !m.candidates.empty() && m.candidates.size() >= options.per_model && !m.pool.empty()) {
      m.next_rotate_ms = now + HeartbeatMs() / 4;
      auto worst = std::min_element(m.candidates.begin(), m.candidates.end(), [](const Candidate& a, const Candidate& b) {
        return Better(b.record, a.record);
      });
      auto top = std::max_element(m.candidates.begin(), m.candidates.end(), [](const Candidate& a, const Candidate& b) {
        return Better(b.record, a.record);
      });
      if (!worst->polling && Better(top->record, worst->record)) m.candidates.erase(worst);
    }
    while (m.candidates.size() < options.per_model && !m.pool.empty()) {
      auto it = best_untried();
      m.candidates.push_back(Candidate{std::move(it->second), now, 0, false});
      m.pool.erase(it);
    }
  }

  // Returns how many of `records` name a node neither a candidate nor in the pool.
  size_t AddSample(const std::string& model, const std::vector<protocol::NodeRecord>& records) {
    Model& m = models.at(model);
    const std::string self_id = self().node_id;
    const double oldest = Oldest();
    size_t unknown = 0;
    for (const protocol::NodeRecord& r : records) {
      if (r.node_id == self_id || r.model != model || r.last_seen < oldest) continue;
      if (std::any_of(m.candidates.begin(), m.candidates.end(),
                      [&](const Candidate& c) { return c.record.node_id == r.node_id; })) {
        continue;
      }
      unknown += m.pool.count(r.node_id) == 0 ? 1 : 0;
      m.pool[r.node_id] = r;
    }
    while (m.pool.size() > options.pool) {  // keep the freshest
      auto stalest = std::min_element(m.pool.begin(), m.pool.end(), [](const auto& a, const auto& b) {
        return a.second.last_seen < b.second.last_seen;
      });
      m.pool.erase(stalest);
    }
    return unknown;
  }

  void PollDone(const Poll& p, const Answer& answer) {
    auto mit = models.find(p.model);
    if (mit == models.end()) return;
    std::vector<Candidate>& cs = mit->second.candidates;
    auto it = std::find_if(cs.begin(), cs.end(), [&](const Candidate& c) { return c.record.node_id == p.node_id; });
    if (it == cs.end()) return;
    it->polling = false;
    // "unchanged" (only ever the answer to a poll that sent a digest: DhtNode::AskAsync)
    // vouches for the copy held only when it answers that copy's digest (a push may have
    // replaced the copy while the poll was out).
    const bool unchanged = answer.unchanged && p.known == it->digest;
    if (!answer.answered || (!answer.unchanged && !answer.record)) {
      if (++it->failures >= options.max_failures) cs.erase(it);
      return;
    }
    if (answer.record && answer.record->model != p.model) {
      cs.erase(it);
      return;
    }
    it->failures = 0;
    // A peer takes a poller as a subscriber only once it has proved its address (a token from
    // an earlier reply: no pushes to a spoofed address), so the first poll is followed by
    // another at once.
    if (++it->answered == 1) it->next_poll_ms = clock.NowMs() + kSubscribeAfterMs;
    if (unchanged) {
      it->confirmed = clock.WallSeconds();
    } else if (answer.record && answer.record->last_seen >= it->record.last_seen) {
      it->record = *answer.record;
      it->digest = answer.digest;
    }
  }

  // Whether discovery of `model` has no other node to try: sampled, and every candidate
  // answered or failed. REQUIRES: mu held.
  bool Explored(const std::string& model) const {
    auto it = models.find(model);
    if (it == models.end()) return true;
    const Model& m = it->second;
    if (m.sampling || m.samples_done == 0 || !m.pool.empty()) return false;
    return std::none_of(m.candidates.begin(), m.candidates.end(),
                        [](const Candidate& c) { return c.polling || (c.answered == 0 && c.failures == 0); });
  }

  std::mutex mu;
  std::condition_variable cv;  // signalled when a sample or a poll ends
  bool stopped = false;  // guarded by mu
  std::function<protocol::NodeRecord()> self;
  const CandidateViewOptions options;
  protocol::IdentityBook identities;  // thread-safe
  const dht::Clock& clock;
  std::mt19937_64 rng;                  // guarded by mu
  std::map<std::string, Model> models;  // guarded by mu
};

CandidateViewOptions CandidateViewOptions::ForHeartbeat(std::chrono::seconds heartbeat) {
  CandidateViewOptions o;
  o.heartbeat = heartbeat;
  o.max_age = 3 * heartbeat;
  return o;
}

CandidateView::CandidateView(dht::DhtNode& dht, std::function<protocol::NodeRecord()> self,
                             CandidateViewOptions options, protocol::IdentityOptions identity, const dht::Clock& clock,
                             uint64_t seed)
    : dht_(dht),
      swarm_size_(dht, clock, std::chrono::milliseconds(options.heartbeat)),
      core_(std::make_shared<Core>(std::move(self), options, identity, clock, seed)) {
  dht_.SetStoreObserver([weak = std::weak_ptr<Core>(core_)](const std::string&, const dht::Record& record) {
    if (std::shared_ptr<Core> core = weak.lock()) Pushed(core, record);
  });
}

void CandidateView::Pushed(const std::shared_ptr<Core>& core, const dht::Record& record) {
  std::vector<protocol::NodeRecord> read = protocol::ReadNodeRecords(core->identities, {record}, core->clock.WallSeconds());
  if (read.empty()) return;
  std::lock_guard<std::mutex> lock(core->mu);
  if (core->stopped) return;
  for (auto& [name, m] : core->models) {
    for (Core::Candidate& c : m.candidates) {
      if (c.record.node_id == read.front().node_id && read.front().last_seen > c.record.last_seen &&
          read.front().model == name) {
        c.record = read.front();
        c.digest = dht::ContentDigest(record);  // only for a candidate's push
      }
    }
  }
}

void CandidateView::Sample(const std::shared_ptr<Core>& core, dht::DhtNode& dht, const std::string& model,
                           bool in_region) {
  const size_t count = core->options.sample;
  auto done = [weak = std::weak_ptr<Core>(core), &dht, model, in_region, count](Result<dht::GetResult> r) {
    std::shared_ptr<Core> core = weak.lock();
    if (!core) return;
    // Too few in the region (a model few nodes serve, a swarm too small to spread the key):
    // every record is also among the key's own closest nodes.
    if (in_region && (!r.ok() || r->records.size() < count)) return Sample(core, dht, model, false);
    std::vector<protocol::NodeRecord> records;
    if (r.ok()) records = protocol::ReadNodeRecords(core->identities, r->records, core->clock.WallSeconds());
    {
      std::lock_guard<std::mutex> lock(core->mu);
      if (core->stopped) return;
      auto it = core->models.find(model);  // it may have been forgotten meanwhile
      if (it == core->models.end()) return;
      it->second.sampling = false;
      ++it->second.samples_done;
      it->second.exhausted = core->AddSample(model, records) == 0;
    }
    core->cv.notify_all();
  };
  dht.SampleAsync(ModelKey(model), count, std::move(done),
                  in_region ? std::optional<dht::Spread>(core->options.sample_region) : std::nullopt)
      .Detach();
}

CandidateView::~CandidateView() { Stop(); }

void CandidateView::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void CandidateView::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->stopped = true;
}

void CandidateView::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    cv_.wait_for(lock, kTickInterval, [&] { return stopping_; });
  }
}

bool CandidateView::Want(const std::string& model) {
  std::lock_guard<std::mutex> lock(core_->mu);
  const int64_t now = core_->clock.NowMs();
  if (auto it = core_->models.find(model); it != core_->models.end()) {
    if (core_->Resting(it->second, now)) {
      for (Core::Candidate& c : it->second.candidates) c.next_poll_ms = std::min(c.next_poll_ms, now);
    }
    it->second.wanted_ms = now;
    return false;
  }
  if (core_->models.size() >= core_->options.max_models) {
    auto stalest = std::min_element(core_->models.begin(), core_->models.end(), [](const auto& a, const auto& b) {
      return a.second.wanted_ms < b.second.wanted_ms;
    });
    core_->models.erase(stalest);
  }
  Core::Model& m = core_->models[model];
  m.next_sample_ms = now;
  m.wanted_ms = now;
  return true;
}

bool CandidateView::Wanted(const std::string& model) const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->models.count(model) > 0;
}

void CandidateView::WaitForCandidates(const std::string& model, std::chrono::milliseconds timeout,
                                      const std::function<bool(const std::vector<protocol::NodeRecord>&)>& enough) {
  // Tick() at once and again after each answer: a sample's records become candidates, and
  // candidates are polled, in Tick(), which the view's own thread runs only every 250 ms.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    Tick();
    if (enough(Candidates(model))) return;
    std::unique_lock<std::mutex> lock(core_->mu);
    if (core_->stopped || core_->Explored(model) || std::chrono::steady_clock::now() >= deadline) return;
    core_->cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
  }
}

void CandidateView::Offer(const std::vector<protocol::NodeRecord>& records) {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (core_->stopped) return;
  for (auto& [name, m] : core_->models) core_->AddSample(name, records);
}

std::vector<std::string> CandidateView::Models() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::vector<std::string> out;
  for (const auto& [name, m] : core_->models) out.push_back(name);
  return out;
}

void CandidateView::Tick() {
  std::vector<Core::Poll> polls;
  std::vector<std::string> samples;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->stopped) return;
    const int64_t now = core_->clock.NowMs();
    const int64_t beat = core_->HeartbeatMs();
    std::erase_if(core_->models, [&](const auto& entry) {
      return now - entry.second.wanted_ms > core_->options.forget_after * beat;
    });
    for (auto& [name, m] : core_->models) {
      if (core_->Resting(m, now)) continue;
      core_->Fill(m, now);
      const bool short_of = !m.exhausted && m.candidates.size() + m.pool.size() < core_->options.per_model;
      if (!m.sampling && (now >= m.next_sample_ms || (short_of && now >= m.next_sample_ms - (core_->options.discover_every - 1) * beat))) {
        m.sampling = true;
        // A model whose nodes are all known is sampled half as often: new nodes of it still
        // come, from the directory (Offer) and, sooner or later, from these samples.
        const int64_t every = (m.exhausted ? 2 : 1) * core_->options.discover_every * beat;
        m.next_sample_ms = now + every - beat / 4 + core_->Jitter(beat / 2);
        samples.push_back(name);
      }
      for (Core::Candidate& c : m.candidates) {
        if (c.polling || now < c.next_poll_ms) continue;
        c.polling = true;
        const int64_t every = core_->options.poll_every * beat;
        c.next_poll_ms = now + every - every / 8 + core_->Jitter(every / 4);
        const int32_t port = c.record.dht_port > 0 ? c.record.dht_port : 8001;
        polls.push_back(
            Core::Poll{name, dht::Endpoint{c.record.ip, static_cast<uint16_t>(port)}, c.record.node_id, c.digest});
      }
    }
  }
  // Outside the lock: a driven DHT node may answer inside the call.
  std::weak_ptr<Core> weak = core_;
  if (!samples.empty()) {
    const bool in_region = swarm_size_.Nodes() > core_->options.sample_region_above;
    for (const std::string& model : samples) Sample(core_, dht_, model, in_region);
  }
  for (Core::Poll& p : polls) {
    dht_.AskAsync(p.at, "node:" + p.node_id, p.known, [weak, p](Result<dht::GetResult> r) {
          std::shared_ptr<Core> core = weak.lock();
          if (!core) return;
          Core::Answer answer;
          answer.answered = r.ok();
          answer.unchanged = r.ok() && r->unchanged;
          if (r.ok()) {
            for (const dht::Record& raw : r->records) {
              for (protocol::NodeRecord& rec : protocol::ReadNodeRecords(core->identities, {raw}, core->clock.WallSeconds())) {
                if (rec.node_id != p.node_id) continue;
                answer.record = std::move(rec);
                answer.digest = dht::ContentDigest(raw);
              }
            }
          }
          {
            std::lock_guard<std::mutex> lock(core->mu);
            if (!core->stopped) core->PollDone(p, answer);
          }
          core->cv.notify_all();
        }).Detach();
  }
}

std::vector<protocol::NodeRecord> CandidateView::Candidates(const std::string& model) const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::vector<protocol::NodeRecord> out;
  auto it = core_->models.find(model);
  if (it == core_->models.end()) return out;
  const double oldest = core_->Oldest();
  for (const Core::Candidate& c : it->second.candidates) {
    // Not before it answered a poll: a sampled record can be many seconds old, and a stale
    // "all slots free" would win the router's choice until the poll came back.
    if (c.answered == 0 || std::max(c.record.last_seen, c.confirmed) < oldest) continue;
    out.push_back(c.record);
    // A copy, never signed again: it says when the node last vouched for it.
    out.back().last_seen = std::max(c.record.last_seen, c.confirmed);
  }
  return out;
}

std::vector<protocol::NodeRecord> CandidateView::Peers() const {
  std::vector<protocol::NodeRecord> out;
  for (const std::string& name : Models()) {
    for (protocol::NodeRecord& r : Candidates(name)) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace llamanet::swarm
