#include "dht/record_signing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "dht/hex.h"
#include "dht/record_json.h"

namespace llamanet::dht {

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

Result<IdentityKey> IdentityKey::FromPkey(EVP_PKEY* pkey) {
  std::shared_ptr<EVP_PKEY> owned(pkey, PkeyFree());
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) return Status::InvalidArgument("identity key is not Ed25519");
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != sizeof pub) {
    return Status::Internal("cannot read the Ed25519 public key");
  }
  IdentityKey key;
  key.key_ = std::move(owned);
  key.public_key_hex_ = ToHex(std::string_view(reinterpret_cast<const char*>(pub), len));
  return key;
}

Result<IdentityKey> IdentityKey::Generate() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) return Status::Internal("Ed25519 key generation failed");
  return FromPkey(pkey);
}

Result<IdentityKey> IdentityKey::LoadOrCreate(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Status::IoError("cannot stat " + path + ": " + std::strerror(errno));
    }
    if ((st.st_mode & 077) != 0) {
      ::close(fd);
      return Status::InvalidArgument("identity key " + path + " is readable by others: chmod 600 it");
    }
    FilePtr file(::fdopen(fd, "r"));
    if (!file) {
      ::close(fd);
      return Status::IoError("cannot read " + path);
    }
    EVP_PKEY* pkey = PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr);
    if (pkey == nullptr) return Status::InvalidArgument("identity key " + path + " is not a PEM private key");
    return FromPkey(pkey);
  }
  if (errno != ENOENT) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  auto key = Generate();
  if (!key.ok()) return key.status();
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  FilePtr file(::fdopen(fd, "w"));
  if (!file) {
    ::close(fd);
    return Status::IoError("cannot write " + path);
  }
  if (PEM_write_PrivateKey(file.get(), key->key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fflush(file.get()) != 0) {
    return Status::IoError("cannot write " + path);
  }
  return key;
}

Result<std::string> IdentityKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, Bytes(message), message.size()) != 1) {
    return Status::Internal("Ed25519 signing failed");
  }
  return ToHex(std::string_view(reinterpret_cast<const char*>(sig), len));
}

Result<Record> SignRecord(const Record& record, const IdentityKey& key) {
  nlohmann::json object = RecordToJson(record);
  object.erase("sig");
  object["pubkey"] = key.public_key_hex();
  auto sig = key.Sign(CanonicalJson(object));
  if (!sig.ok()) return sig.status();
  object["sig"] = *sig;
  return RecordFromJson(object);
}

namespace {
// Signatures already found good, by signature, with what they sign (compared in full, so a hit
// is as good as a verification). A node reads the same peers' records again and again (every
// refresh, from every storing node); an Ed25519 verification costs ~100x a lookup here.
class VerifiedCache {
 public:
  bool Contains(std::string_view sig, std::string_view pub, std::string_view message) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = good_.find(std::string(sig));
    return it != good_.end() && it->second.size() == pub.size() + 1 + message.size() &&
           std::string_view(it->second).substr(0, pub.size()) == pub &&
           std::string_view(it->second).substr(pub.size() + 1) == message;
  }
  void Add(std::string_view sig, std::string_view pub, std::string_view message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (good_.size() >= kMaxEntries) good_.clear();  // bounded; refilled by the next reads
    good_[std::string(sig)] = std::string(pub) + '\n' + std::string(message);
  }

 private:
  static constexpr size_t kMaxEntries = 4096;  // ~3 MiB at most (a signed record is ~600 bytes)
  std::mutex mu_;
  std::unordered_map<std::string, std::string> good_;  // guarded by mu_
};

VerifiedCache& Verified() {
  static VerifiedCache cache;
  return cache;
}
}  // namespace

Status VerifySignature(std::string_view pubkey_hex, std::string_view message, std::string_view sig_hex) {
  if (Verified().Contains(sig_hex, pubkey_hex, message)) return Status::Ok();
  auto sig = FromHex(sig_hex);
  auto pub = FromHex(pubkey_hex);
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      pub && pub->size() == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(*pub), pub->size())
                               : nullptr);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!sig || sig->size() != 64 || !pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), Bytes(*sig), sig->size(), Bytes(message), message.size()) != 1) {
    return Status::InvalidArgument("bad signature");
  }
  Verified().Add(sig_hex, pubkey_hex, message);
  return Status::Ok();
}

Status VerifyRecordSignature(const Record& record) {
  if (!record.is_signed()) return Status::InvalidArgument("unsigned record");
  nlohmann::json object = RecordToJson(record);
  auto sig = object.find("sig");
  if (sig == object.end() || !sig->is_string()) return Status::InvalidArgument("unsigned record");
  const std::string sig_hex = sig->get<std::string>();
  object.erase("sig");
  return VerifySignature(record.pubkey, CanonicalJson(object), sig_hex);
}

Status CheckIdentityBinding(const Record& record) {
  constexpr size_t kDerivedIdDigits = 16;
  if (!record.is_signed() || record.node_id.size() != kDerivedIdDigits) return Status::Ok();
  const bool derived_form = std::all_of(record.node_id.begin(), record.node_id.end(),
                                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!derived_form) return Status::Ok();
  for (size_t i = 0; i < kDerivedIdDigits; ++i) {
    if (HexDigitValue(record.pubkey[i]) != HexDigitValue(record.node_id[i])) {
      return Status::InvalidArgument("node_id is not derived from the record's key");
    }
  }
  return Status::Ok();
}

}  // namespace llamanet::dht
