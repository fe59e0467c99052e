// /v3/{project_id}/scheduler-stats/get_pools and /capabilities/{host} (admin), as Cinder's
// contrib/scheduler_stats.py and contrib/capabilities.py.
#include <cstdlib>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// A reported capability as JSON: Cinder's capabilities are Python values; ours are kept as
// their str(). Sizes and counts go back to numbers, True/False/None to JSON, the rest (names,
// versions, functions, ratios such as "20.0", which Cinder reports as a string) stays text.
void WriteCapability(JsonWriter& w, const std::string& key, const std::string& value) {
  if (value == "True" || value == "False") {
    w.Bool(value == "True");
    return;
  }
  if (value == "None") {
    w.Null();
    return;
  }
  const bool numeric_key = key.size() > 12 && key.compare(key.size() - 12, 12, "_capacity_gb") == 0;
  if (numeric_key || key == "reserved_percentage" || key == "total_volumes") {
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (!value.empty() && *end == '\0') {
      if (d == static_cast<double>(static_cast<int64_t>(d)) && value.find('.') == std::string::npos) {
        w.Int(static_cast<int64_t>(d));
      } else {
        w.Double(d);
      }
      return;
    }
  }
  w.String(value);
}

ApiResponse GetPools(VolumeManager& volumes, ApiRequest& req) {
  bool detail = false;
  std::optional<std::string> name, volume_type;
  std::vector<std::string> invalid;
  for (const auto& [k, v] : req.query) {
    if (k == "detail") {
      auto b = ParseBool("detail", v);
      if (!b.ok()) return Fault(400, "Value '" + v + "' for 'detail' is not a boolean.");
      detail = *b;
    } else if (!req.version.AtLeast(3, 28)) {
      continue;  // filters arrived in 3.28
    } else if (k == "name") {
      name = v;
    } else if (k == "volume_type") {
      if (req.version.AtLeast(3, 35)) volume_type = v;
    } else if (k != "all_tenants" && req.version.AtLeast(3, 31)) {
      invalid.push_back(k);
    }
  }
  if (!invalid.empty()) return FaultFrom(InvalidFilters(invalid, "name, volume_type"));
  auto pools = volumes.ListPools(req.ctx, name, volume_type);
  if (!pools.ok()) return FaultFrom(pools.status());
  JsonWriter w;
  w.BeginObject().Key("pools").BeginArray();
  for (const auto& p : *pools) {
    w.BeginObject().Key("name").String(p.name);
    if (detail) {
      w.Key("capabilities").BeginObject();
      for (const auto& [k, v] : p.capabilities) {
        w.Key(k);
        WriteCapability(w, k, v);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

void WriteProperty(JsonWriter& w, const char* key, const char* title, const char* description) {
  w.Key(key).BeginObject();
  w.Key("title").String(title);
  w.Key("description").String(description);
  w.Key("type").String("boolean");
  w.EndObject();
}

ApiResponse GetCapabilities(VolumeManager& volumes, ApiRequest& req, const std::string& host) {
  auto info = volumes.GetBackendCapabilities(req.ctx, host);
  if (!info.ok()) return FaultFrom(info.status());
  auto cap = [&info](const char* key, JsonWriter& w) {
    auto it = info->capabilities.find(key);
    it == info->capabilities.end() ? w.Null() : w.String(it->second);
  };
  JsonWriter w;
  w.BeginObject();
  w.Key("namespace").String("OS::Storage::Capabilities::" + info->backend_host);
  w.Key("vendor_name");
  cap("vendor_name", w);
  w.Key("volume_backend_name");
  cap("volume_backend_name", w);
  w.Key("pool_name");
  cap("pool_name", w);
  w.Key("driver_version");
  cap("driver_version", w);
  w.Key("storage_protocol");
  cap("storage_protocol", w);
  w.Key("display_name").Null();
  w.Key("description").Null();
  w.Key("visibility").Null();
  w.Key("replication_targets").BeginArray().EndArray();
  // Cinder's standard capabilities (volume/driver.py _init_standard_capabilities).
  w.Key("properties").BeginObject();
  WriteProperty(w, "thin_provisioning", "Thin Provisioning", "Sets thin provisioning.");
  WriteProperty(w, "compression", "Compression", "Enables compression.");
  WriteProperty(w, "qos", "QoS", "Enables QoS.");
  WriteProperty(w, "replication_enabled", "Replication", "Enables replication.");
  w.EndObject();
  w.EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleSchedulerStats(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.size() != 1 || rest[0] != "get_pools") return Fault(404, "The resource could not be found.");
  return req.method == "GET" ? GetPools(volumes, req) : Fault(405, "The method is not allowed.");
}

ApiResponse HandleCapabilities(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.size() != 1) return Fault(404, "The resource could not be found.");
  return req.method == "GET" ? GetCapabilities(volumes, req, rest[0]) : Fault(405, "The method is not allowed.");
}

}  // namespace cinder::api
