// libFuzzer target on the DHT datagram decoder (wire_codec.h): any bytes, with and without a
// swarm secret. A datagram that decodes must re-encode to one that decodes to the same kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dht/wire_codec.h"

using llamanet::dht::Request;
using llamanet::dht::WireCodec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const WireCodec open_codec;
  static const WireCodec sealed_codec({}, "fuzz-secret");
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  for (const WireCodec* codec : {&open_codec, &sealed_codec}) {
    auto decoded = codec->Decode(datagram);
    if (!decoded.message) continue;
    auto again = codec->Decode(codec->Encode(*decoded.message));
    if (!again.message || again.message->index() != decoded.message->index()) std::abort();
  }
  return 0;
}
