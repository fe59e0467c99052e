// simdjson (DOM and On-Demand): read a body (no writer in the library).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

std::string Work(std::string_view body) {
  static thread_local simdjson::dom::parser dom;
  static thread_local simdjson::ondemand::parser od;
  simdjson::padded_string padded(body);
  std::string out;
  simdjson::dom::object o;
  if (dom.parse(padded).get_object().get(o)) return "";
  for (auto [k, v] : o) out.append(k);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (od.iterate(padded).get(doc) || doc.get_object().get(root)) return "";
  for (auto m : root) {
    std::string_view k;
    if (!m.unescaped_key().get(k)) out.append(k);
  }
  return out;
}
