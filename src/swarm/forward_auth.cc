#include "swarm/forward_auth.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "core/log.h"
#include "dht/hex.h"
#include "swarm/identity_proof.h"

namespace llamanet::swarm {
namespace {

constexpr const char* kKeyLabel = "llamanet-forward-v1";
constexpr size_t kMaxTimeDigits = 12;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  return dht::ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

// The key that signs forwarded requests: derived, so that it differs from the one that signs
// DHT datagrams.
std::string DerivedKey(const std::string& secret) {
  return dht::FromHex(dht::SwarmAuth(secret).Mac(kKeyLabel)).value_or(std::string());
}

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > kMaxTimeDigits) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

int64_t ForwardAuth::UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ForwardAuth::ForwardAuth(const std::string& swarm_secret, ForwardAuthOptions options, std::function<int64_t()> now)
    : mac_(DerivedKey(swarm_secret)), options_(options), now_(std::move(now)) {}

std::string ForwardAuth::Message(const std::string& method, const std::string& path, const std::string& time,
                                 const std::string& nonce, const std::string& body, const std::string& to) {
  return method + "\n" + path + "\n" + time + "\n" + nonce + "\n" + Sha256Hex(body) + "\n" + to;
}

std::string ForwardAuth::Credential(const std::string& method, const std::string& path, const std::string& body,
                                    const std::string& to) const {
  const std::string time = std::to_string(now_());
  const std::string nonce = NewIdentityNonce();
  return time + "." + nonce + "." + mac_.Mac(Message(method, path, time, nonce, body, to));
}

bool ForwardAuth::Accept(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& self, const std::string& header) {
  size_t dot1 = header.find('.');
  size_t dot2 = dot1 == std::string::npos ? std::string::npos : header.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return false;
  const std::string time = header.substr(0, dot1);
  const std::string nonce = header.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string mac = header.substr(dot2 + 1);
  if (!AllDigits(time) || !IsIdentityNonce(nonce)) return false;
  const int64_t t = std::strtoll(time.c_str(), nullptr, 10);
  const int64_t now = now_();
  const int64_t skew = options_.max_skew.count();
  if (t < now - skew || t > now + skew) return false;
  if (!mac_.Verify(Message(method, path, time, nonce, body, self), mac)) return false;

  std::lock_guard<std::mutex> lock(mu_);
  // A nonce older than the window can no longer pass the time check: forget it.
  while (!by_time_.empty() && by_time_.begin()->first < now - skew) {
    seen_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  if (seen_.count(nonce) > 0) return false;
  if (seen_.size() >= options_.max_remembered_nonces) {
    LN_WARN << "forwarded-request credentials refused: " << seen_.size() << " nonces in the last "
            << 2 * skew << " s";
    return false;
  }
  seen_.emplace(nonce, t);
  by_time_.emplace(t, nonce);
  return true;
}

}  // namespace llamanet::swarm
