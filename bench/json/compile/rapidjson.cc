// RapidJSON: read a body, write a reply.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#define RAPIDJSON_SSE2
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

std::string Work(std::string_view body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return "";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& m : d.GetObject()) {
    w.Key(m.name.GetString(), m.name.GetStringLength());
    w.String(m.value.IsString() ? m.value.GetString() : "");
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}
