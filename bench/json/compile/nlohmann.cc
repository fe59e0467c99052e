// nlohmann-json (ordered_json): read a body, write a reply.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

std::string Work(std::string_view body) {
  auto d = nlohmann::ordered_json::parse(body, nullptr, false);
  if (d.is_discarded() || !d.is_object()) return "";
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [k, v] : d.items()) out[k] = v.is_string() ? v.get<std::string>() : "";
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}
