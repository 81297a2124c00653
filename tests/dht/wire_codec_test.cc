#include "dht/wire_codec.h"

#include <gtest/gtest.h>

namespace llamanet::dht {
namespace {

const std::string kId16 = "0123456789abcdef";
const std::string kId40 = std::string(40, 'a');
const std::string kRecord = R"({"node_id":"n1","last_seen":100,"load":0.5,"model":"m"})";

struct BadCase {
  const char* name;
  std::string datagram;
  DropReason reason;
};

std::string Req(const std::string& rest) { return R"({"type":"find_value","id":"t1","sender_id":")" + kId16 + R"(")" + rest + "}"; }
std::string Resp(const std::string& data) {
  return R"({"type":"response","id":"t1","sender_id":")" + kId16 + R"(","data":)" + data + "}";
}

TEST(WireCodecTest, DropsMalformedDatagramsWithExactReasons) {
  const std::vector<BadCase> cases = {
      {"empty", "", DropReason::kNotJson},
      {"garbage", "hello", DropReason::kNotJson},
      {"truncated json", R"({"type":"ping")", DropReason::kNotJson},
      {"invalid utf8", "{\"type\":\"p\xff\"}", DropReason::kNotJson},
      {"array", "[1,2]", DropReason::kNotObject},
      {"string", "\"ping\"", DropReason::kNotObject},
      {"too deep", std::string(40, '[') + std::string(40, ']'), DropReason::kTooDeep},
      {"oversized", R"({"type":"ping","pad":")" + std::string(9000, 'x') + "\"}", DropReason::kOversized},
      {"no type", R"({"id":"t","sender_id":")" + kId16 + "\"}", DropReason::kUnknownType},
      {"type not string", R"({"type":5,"id":"t","sender_id":")" + kId16 + "\"}", DropReason::kUnknownType},
      {"unknown type", R"({"type":"announce_peer","id":"t","sender_id":")" + kId16 + "\"}", DropReason::kUnknownType},
      {"no id", R"({"type":"ping","sender_id":")" + kId16 + "\"}", DropReason::kBadTxid},
      {"id number", R"({"type":"ping","id":7,"sender_id":")" + kId16 + "\"}", DropReason::kBadTxid},
      {"id empty", R"({"type":"ping","id":"","sender_id":")" + kId16 + "\"}", DropReason::kBadTxid},
      {"id too long", R"({"type":"ping","id":")" + std::string(65, 't') + R"(","sender_id":")" + kId16 + "\"}",
       DropReason::kBadTxid},
      {"no sender", R"({"type":"ping","id":"t"})", DropReason::kBadSenderId},
      {"sender not hex", R"({"type":"ping","id":"t","sender_id":"zzzzzzzzzzzzzzzz"})", DropReason::kBadSenderId},
      {"sender too short", R"({"type":"ping","id":"t","sender_id":"abc"})", DropReason::kBadSenderId},
      {"sender too long", R"({"type":"ping","id":"t","sender_id":")" + std::string(65, 'a') + "\"}",
       DropReason::kBadSenderId},
      {"ro not bool", R"({"type":"ping","id":"t","ro":1,"sender_id":")" + kId16 + "\"}", DropReason::kBadFlag},
      {"token not string", R"({"type":"ping","id":"t","token":5,"sender_id":")" + kId16 + "\"}", DropReason::kBadToken},
      {"token too long",
       R"({"type":"ping","id":"t","token":")" + std::string(65, 'a') + R"(","sender_id":")" + kId16 + "\"}",
       DropReason::kBadToken},
      {"find_value no key", Req(""), DropReason::kBadKey},
      {"find_value key number", Req(R"(,"key":3)"), DropReason::kBadKey},
      {"find_value key too long", Req(R"(,"key":")" + std::string(513, 'k') + "\""), DropReason::kBadKey},
      {"find_value negative offset", Req(R"(,"key":"k","offset":-1)"), DropReason::kBadOffset},
      {"find_value value_only not bool", Req(R"(,"key":"node:a","value_only":"yes")"), DropReason::kBadFlag},
      {"find_value float offset", Req(R"(,"key":"k","offset":1.5)"), DropReason::kBadOffset},
      {"find_value negative limit", Req(R"(,"key":"k","limit":-2)"), DropReason::kBadOffset},
      {"find_value known not hex", Req(R"(,"key":"node:a","value_only":true,"known":"xyz")"), DropReason::kBadKnown},
      {"find_value known empty", Req(R"(,"key":"node:a","known":"")"), DropReason::kBadKnown},
      {"find_value known too long", Req(R"(,"key":"node:a","known":")" + std::string(65, 'a') + "\""),
       DropReason::kBadKnown},
      {"find_value known number", Req(R"(,"key":"node:a","known":12)"), DropReason::kBadKnown},
      {"find_value near not hex", Req(R"(,"key":"model:a","near":"xyz")"), DropReason::kBadTarget},
      {"find_value near number", Req(R"(,"key":"model:a","near":7)"), DropReason::kBadTarget},
      {"find_value near too short", Req(R"(,"key":"model:a","near":"abc")"), DropReason::kBadTarget},
      {"find_value near too long", Req(R"(,"key":"model:a","near":")" + std::string(65, 'a') + "\""),
       DropReason::kBadTarget},
      {"find_value near null", Req(R"(,"key":"model:a","near":null)"), DropReason::kBadTarget},
      {"find_node no target", R"({"type":"find_node","id":"t","sender_id":")" + kId16 + "\"}", DropReason::kBadTarget},
      {"find_node bad target",
       R"({"type":"find_node","id":"t","target_id":"xyz","sender_id":")" + kId16 + "\"}", DropReason::kBadTarget},
      {"store no value", R"({"type":"store","id":"t","key":"k","sender_id":")" + kId16 + "\"}", DropReason::kBadValue},
      {"store value string",
       R"({"type":"store","id":"t","key":"k","value":"x","sender_id":")" + kId16 + "\"}", DropReason::kBadValue},
      {"store record without node_id",
       R"({"type":"store","id":"t","key":"k","value":{"last_seen":1},"sender_id":")" + kId16 + "\"}",
       DropReason::kBadValue},
      {"store record bad last_seen",
       R"({"type":"store","id":"t","key":"k","value":{"node_id":"n","last_seen":"now"},"sender_id":")" + kId16 + "\"}",
       DropReason::kBadValue},
      {"store record sig without pubkey",
       R"({"type":"store","id":"t","key":"k","value":{"node_id":"n","last_seen":1,"sig":"00"},"sender_id":")" + kId16 +
           "\"}",
       DropReason::kBadValue},
      {"store array with a bad record",
       R"({"type":"store","id":"t","key":"k","value":[)" + kRecord + R"(,5],"sender_id":")" + kId16 + "\"}",
       DropReason::kBadValue},
      {"response no data", R"({"type":"response","id":"t","sender_id":")" + kId16 + "\"}", DropReason::kBadData},
      {"response data array", Resp("[]"), DropReason::kBadData},
      {"response pong string", Resp(R"({"pong":"yes"})"), DropReason::kBadData},
      {"response bad data sender", Resp(R"({"pong":true,"sender_id":"nothex"})"), DropReason::kBadData},
      {"response total negative", Resp(R"({"total":-3})"), DropReason::kBadData},
      {"response contacts object", Resp(R"({"contacts":{}})"), DropReason::kBadContacts},
      {"response contact bad ip", Resp(R"({"contacts":[{"node_id":")" + kId16 + R"(","ip":"evil.example","port":1}]})"),
       DropReason::kBadContacts},
      {"response contact port 0", Resp(R"({"contacts":[{"node_id":")" + kId16 + R"(","ip":"1.2.3.4","port":0}]})"),
       DropReason::kBadContacts},
      {"response contact port too big",
       Resp(R"({"contacts":[{"node_id":")" + kId16 + R"(","ip":"1.2.3.4","port":70000}]})"), DropReason::kBadContacts},
      {"response contact bad id", Resp(R"({"contacts":[{"node_id":"12","ip":"1.2.3.4","port":1}]})"),
       DropReason::kBadContacts},
      {"response value number", Resp(R"({"value":42})"), DropReason::kBadValue},
  };
  ASSERT_GE(cases.size(), 20u);
  WireCodec codec;
  for (const auto& c : cases) {
    DecodeResult r = codec.Decode(c.datagram);
    EXPECT_FALSE(r.message) << c.name;
    EXPECT_EQ(DropReasonName(r.reason), std::string(DropReasonName(c.reason))) << c.name << ": " << r.detail;
  }
}

TEST(WireCodecTest, AcceptsTheDocumentedPythonDatagrams) {
  WireCodec codec;
  auto ping = codec.Decode(R"({"type": "ping", "id": "abc-1", "sender_id": ")" + kId16 + R"("})");
  ASSERT_TRUE(ping.message) << ping.detail;
  const auto& req = std::get<Request>(*ping.message);
  EXPECT_EQ(req.type, RequestType::kPing);
  EXPECT_EQ(req.txid, "abc-1");
  EXPECT_EQ(req.sender.ToHex(), kId16);
  EXPECT_FALSE(req.read_only);

  auto store = codec.Decode(R"({"type":"store","id":"s","sender_id":")" + kId16 + R"(","key":"model:m","value":)" +
                            kRecord + R"(,"extra":1})");
  ASSERT_TRUE(store.message) << store.detail;
  const auto& s = std::get<Request>(*store.message);
  EXPECT_EQ(s.key, "model:m");
  ASSERT_EQ(s.value.records.size(), 1u);
  EXPECT_FALSE(s.value.is_array);
  EXPECT_EQ(s.value.records[0].node_id, "n1");
  EXPECT_EQ(s.value.records[0].last_seen, 100);
  EXPECT_EQ(s.value.records[0].load, 0.5);

  auto reply = codec.Decode(Resp(R"({"contacts":[{"node_id":")" + kId40 + R"(","ip":"::1","port":8001,"x":1}]})"));
  ASSERT_TRUE(reply.message) << reply.detail;
  const auto& r = std::get<Response>(*reply.message);
  ASSERT_TRUE(r.contacts);
  ASSERT_EQ(r.contacts->size(), 1u);
  EXPECT_EQ((*r.contacts)[0].endpoint, (Endpoint{"::1", 8001}));
}

TEST(WireCodecTest, RoundTripsEveryMessage) {
  WireCodec codec;
  auto id = *NodeId::FromHex(kId40);
  Request find;
  find.type = RequestType::kFindValue;
  find.txid = "x1";
  find.sender = id;
  find.read_only = true;
  find.key = "all_nodes";
  find.offset = 17;
  std::string bytes = codec.Encode(find);
  EXPECT_NE(bytes.find(R"("ro":true)"), std::string::npos);
  auto back = codec.Decode(bytes);
  ASSERT_TRUE(back.message) << back.detail;
  const auto& f = std::get<Request>(*back.message);
  EXPECT_TRUE(f.read_only);
  EXPECT_EQ(f.offset, 17u);
  EXPECT_EQ(f.key, "all_nodes");
  EXPECT_FALSE(f.token);  // absent stays absent: the reply then carries no token
  EXPECT_FALSE(f.value_only);
  EXPECT_EQ(bytes.find("value_only"), std::string::npos);  // what Python peers see, unchanged
  Request poll = find;
  poll.value_only = true;
  auto polled = codec.Decode(codec.Encode(poll));
  ASSERT_TRUE(polled.message);
  EXPECT_TRUE(std::get<Request>(*polled.message).value_only);
  EXPECT_TRUE(std::get<Request>(*polled.message).known.empty());
  EXPECT_EQ(std::get<Request>(*polled.message).limit, 0u);
  EXPECT_FALSE(std::get<Request>(*polled.message).near);
  poll.known = "0123456789abcdef";
  poll.limit = 16;
  poll.near = NodeId::Sha1("somewhere");
  const std::string poll_bytes = codec.Encode(poll);
  EXPECT_NE(poll_bytes.find(R"("known":"0123456789abcdef")"), std::string::npos);
  EXPECT_NE(poll_bytes.find(R"("limit":16)"), std::string::npos);
  polled = codec.Decode(poll_bytes);
  ASSERT_TRUE(polled.message) << polled.detail;
  EXPECT_EQ(std::get<Request>(*polled.message).known, "0123456789abcdef");
  EXPECT_EQ(std::get<Request>(*polled.message).limit, 16u);
  EXPECT_EQ(std::get<Request>(*polled.message).near, NodeId::Sha1("somewhere"));
  find.token = "";
  auto asking = codec.Decode(codec.Encode(find));
  ASSERT_TRUE(asking.message);
  EXPECT_EQ(std::get<Request>(*asking.message).token, std::optional<std::string>(""));

  Response resp;
  resp.txid = "x1";
  resp.sender = id;
  resp.pong = true;
  resp.data_sender = id;
  resp.value = RecordValue{{*ParseRecord(kRecord)}, true};
  resp.truncated = true;
  resp.total = 9;
  resp.offset = 3;
  resp.contacts = std::vector<ContactInfo>{{id, Endpoint{"10.0.0.1", 9}}};
  resp.token = std::string(32, 'c');
  resp.unproven = true;
  bytes = codec.Encode(resp);
  EXPECT_NE(bytes.find(R"("data":{"contacts":)"), std::string::npos);
  back = codec.Decode(bytes);
  ASSERT_TRUE(back.message) << back.detail;
  const auto& r = std::get<Response>(*back.message);
  EXPECT_TRUE(r.pong);
  EXPECT_EQ(*r.data_sender, id);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(*r.total, 9u);
  EXPECT_EQ(r.offset, 3u);
  EXPECT_EQ(r.token, std::string(32, 'c'));
  EXPECT_TRUE(r.unproven);
  ASSERT_TRUE(r.value);
  EXPECT_TRUE(r.value->is_array);
  EXPECT_EQ(r.value->records[0].json, ParseRecord(kRecord)->json);
  EXPECT_FALSE(r.unchanged);

  Response same;
  same.txid = "x2";
  same.sender = id;
  same.unchanged = true;
  bytes = codec.Encode(same);
  EXPECT_NE(bytes.find(R"("unchanged":true)"), std::string::npos);
  back = codec.Decode(bytes);
  ASSERT_TRUE(back.message) << back.detail;
  EXPECT_TRUE(std::get<Response>(*back.message).unchanged);
  EXPECT_FALSE(std::get<Response>(*back.message).value);
  EXPECT_FALSE(codec.Decode(R"({"type":"response","id":"x","sender_id":")" + kId16 + R"(","data":{"unchanged":1}})")
                   .message);
}

TEST(WireCodecTest, EncodedContactSizeIsExact) {
  WireCodec codec;
  Response resp;
  resp.txid = "x";
  resp.contacts.emplace();
  size_t last = codec.Encode(resp).size();
  for (auto [ip, port, hex] : {std::tuple{"10.0.0.1", 9, kId16}, std::tuple{"2001:db8::1", 65535, kId40},
                               std::tuple{"127.0.0.1", 8001, std::string(64, 'f')}}) {
    ContactInfo c{*NodeId::FromHex(hex), Endpoint{ip, static_cast<uint16_t>(port)}};
    const bool first = resp.contacts->empty();
    resp.contacts->push_back(c);
    const size_t now = codec.Encode(resp).size();
    EXPECT_EQ(now - last, EncodedContactSize(c) + (first ? 0 : 1)) << ip;
    last = now;
  }
}

TEST(WireCodecTest, GarbageRepliesStillNameTheirRequest) {
  WireCodec codec;
  DecodeResult bad = codec.Decode(Resp(R"({"value":[{"node_id":7}]})"));
  EXPECT_FALSE(bad.message);
  EXPECT_TRUE(bad.is_response);
  EXPECT_EQ(bad.txid, "t1");
  DecodeResult request = codec.Decode(Req(R"(,"key":3)"));
  EXPECT_FALSE(request.is_response);
}

TEST(WireCodecTest, PingReplyCarriesSenderIdInData) {
  WireCodec codec;
  Response pong;
  pong.txid = "p";
  pong.sender = *NodeId::FromHex(kId40);
  pong.pong = true;
  pong.data_sender = pong.sender;
  EXPECT_EQ(codec.Encode(pong), R"({"data":{"pong":true,"sender_id":")" + kId40 + R"("},"id":"p","sender_id":")" +
                                    kId40 + R"(","type":"response"})");
}

TEST(WireCodecTest, SwarmSecretRequiresAValidMac) {
  WireCodec sealed({}, "s3cret");
  WireCodec other({}, "other");
  WireCodec open;
  Request ping;
  ping.txid = "t";
  ping.sender = *NodeId::FromHex(kId16);
  const std::string bytes = sealed.Encode(ping);
  EXPECT_NE(bytes.find(R"("mac":")"), std::string::npos);
  EXPECT_TRUE(sealed.Decode(bytes).message);
  EXPECT_TRUE(open.Decode(bytes).message);  // no secret: the mac is ignored
  EXPECT_EQ(other.Decode(bytes).reason, DropReason::kBadMac);
  EXPECT_EQ(sealed.Decode(open.Encode(ping)).reason, DropReason::kBadMac);
  std::string tampered = bytes;
  tampered.replace(tampered.find("\"t\""), 3, "\"u\"");
  EXPECT_EQ(sealed.Decode(tampered).reason, DropReason::kBadMac);
}

TEST(WireCodecTest, NestingDepthSkipsStrings) {
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[[{{{{","b":[1,{"c":2}]})", 16), 3);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"\"[[["})", 16), 1);
}

}  // namespace
}  // namespace llamanet::dht
