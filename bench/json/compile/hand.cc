// common/json.h and common/json_writer.h: read a body, write a reply.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/json_writer.h"

std::string Work(std::string_view body) {
  auto v = cinder::json::Parse(body);
  if (!v.ok()) return "";
  cinder::JsonWriter w;
  w.BeginObject();
  for (const auto& [k, val] : v->as_object()) w.Key(k).String(val.as_string());
  w.EndObject();
  return w.Take();
}
