// libFuzzer target for the JSON code: the one parse path (simdjson's DOM read into
// json::Value by common/json.cc, with its fallback for integers past 64 bits), the writer
// (JsonWriter, which bench/json/ kept) and the RPC codec built on them. Run by scripts/fuzz.sh
// for a bounded time in `make test`; a finding aborts with the input saved. simdjson itself is
// the system library, not instrumented: the fuzzer steers by the code around it.
//
// 1. json::Parse never crashes and answers the same twice (the thread's parser is reused);
//    what it accepts, json::Serialize writes back and Parse reads equal, and writes the same
//    again.
// 2. JsonWriter writes any bytes as a key and a string as valid JSON, which reads back as what
//    json::Serialize makes of the same bytes (two writers checked against each other).
// 3. The RPC codec decodes any text without crashing, and what it decoded encodes and decodes
//    to the same message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/json_writer.h"
#include "rpc/codec.h"
#include "volume/volume_rpc.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cinder;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto parsed = json::Parse(in);
  auto twice = json::Parse(in);
  Check(parsed.ok() == twice.ok());
  if (parsed.ok()) {
    Check(*twice == *parsed);
    const std::string text = json::Serialize(*parsed);
    auto again = json::Parse(text);
    Check(again.ok() && *again == *parsed && json::Serialize(*again) == text);
  } else {
    Check(parsed.status().message() == twice.status().message());
  }

  JsonWriter w;
  w.BeginArray().BeginObject().Key(in).String(in).EndObject().Int(static_cast<int64_t>(size)).EndArray();
  auto back = json::Parse(w.str());
  Check(back.ok() && back->is_array() && back->size() == 2 && back->At(1)->as_int() == static_cast<int64_t>(size));
  const json::Value* object = back->At(0);
  Check(object->is_object() && object->size() == 1);
  auto reference = json::Parse(json::Serialize(json::Value(std::string(in))));
  Check(reference.ok());
  Check(object->as_object()[0].first == reference->as_string());
  Check(object->as_object()[0].second.as_string() == reference->as_string());

  auto message = rpc::Decode<HostCreateVolume>(in);
  if (message.ok()) {
    auto round = rpc::Decode<HostCreateVolume>(rpc::Encode(*message));
    Check(round.ok() && rpc::Encode(*round) == rpc::Encode(*message));
  }
  auto chunk = rpc::Decode<ChunkReply>(in);
  if (chunk.ok()) {
    auto round = rpc::Decode<ChunkReply>(rpc::Encode(*chunk));
    Check(round.ok() && round->data.data == chunk->data.data && round->offset == chunk->offset);
  }
  return 0;
}
