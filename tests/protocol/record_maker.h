// Test helper: DHT records carrying node records, signed or not.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dht/record.h"
#include "dht/record_signing.h"

namespace llamanet::protocol {

// A record of `node_id` dated `last_seen`, signed by `key` unless it is null. `fields` are
// extra JSON members ("\"load\":0.5").
inline dht::Record MakeRecord(const std::string& node_id, double last_seen, const dht::IdentityKey* key,
                              const std::string& fields = R"("load":0.5)") {
  std::string json = R"({"node_id":")" + node_id + R"(","ip":"10.0.0.2","port":8000,"model":"m","last_seen":)" +
                     std::to_string(last_seen) + (fields.empty() ? "" : "," + fields) + "}";
  Result<dht::Record> r = dht::ParseRecord(json);
  EXPECT_TRUE(r.ok()) << json << ": " << r.status().ToString();
  if (key == nullptr) return *r;
  Result<dht::Record> s = dht::SignRecord(*r, *key);
  EXPECT_TRUE(s.ok());
  return *s;
}

inline dht::IdentityKey NewKey() {
  Result<dht::IdentityKey> key = dht::IdentityKey::Generate();
  EXPECT_TRUE(key.ok());
  return *key;
}

}  // namespace llamanet::protocol
