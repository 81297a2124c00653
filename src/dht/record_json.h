// Internal: Record <-> nlohmann::json, for the wire codec, storage and signing only.
#pragma once

#include <nlohmann/json.hpp>

#include "dht/record.h"

namespace llamanet::dht {

// Compact JSON with sorted keys (nlohmann's std::map order); invalid UTF-8 is replaced, never
// thrown. This is the canonical form that signatures and MACs are computed over.
std::string CanonicalJson(const nlohmann::json& value);

// Checks `object` as ParseRecord does and fills a Record (json = CanonicalJson(object)).
Result<Record> RecordFromJson(const nlohmann::json& object);

// The record's object. REQUIRES: record.json came from RecordFromJson/ParseRecord.
nlohmann::json RecordToJson(const Record& record);

}  // namespace llamanet::dht
