// /v3/{project_id}/os-services: Cinder's services extension (list, enable, disable, freeze,
// thaw).

#include <set>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

ApiResponse List(VolumeManager& volumes, ApiRequest& req) {
  // Only host and binary filter; Cinder ignores any other parameter.
  auto services = volumes.ListServices(req.ctx, req.Query("host"), req.Query("binary"));
  if (!services.ok()) return FaultFrom(services.status());
  JsonWriter w;
  w.BeginObject().Key("services").BeginArray();
  for (const auto& s : *services) {
    const bool volume = s.binary == "cinder-volume";
    w.BeginObject();
    w.Key("binary").String(s.binary);
    w.Key("host").String(s.host);
    w.Key("zone").String(s.availability_zone);
    w.Key("status").String(s.disabled ? "disabled" : "enabled");
    w.Key("state").String(s.up ? "up" : "down");
    w.Key("updated_at").OptString(s.updated_at);
    if (volume && req.version.AtLeast(3, 49)) w.Key("backend_state").String(s.up ? "up" : "down");
    if (req.version.AtLeast(3, 7)) w.Key("cluster").OptString(s.cluster_name);
    w.Key("disabled_reason").OptString(s.disabled_reason);
    if (volume) {
      w.Key("replication_status").String("disabled");
      w.Key("active_backend_id").Null();
      w.Key("frozen").Bool(s.frozen);
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

// PUT freeze | thaw with {"host": H} or (3.26) {"cluster": C}: 200 with no body, as Cinder's
// (its controller returns None).
ApiResponse Freeze(VolumeManager& volumes, ApiRequest& req, bool frozen) {
  json::Value body = json::Value::MakeObject();
  if (!req.body.empty()) {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return FaultFrom(parsed.status());
    body = std::move(parsed).value();
  }
  if (!body.is_object()) return Fault(400, PyRepr(body) + " is not of type 'object'");
  std::vector<std::string> extra;
  for (const auto& [k, v] : body.as_object()) {
    if (k != "cluster" && k != "host") extra.push_back(k);
  }
  if (!extra.empty()) return Fault(400, Unexpected(extra));
  auto host = OptString(body, "host", /*nullable=*/true);
  if (!host.ok()) return FaultFrom(host.status());
  if (*host && (*host)->empty()) return FaultFrom(FieldError("host", Get(body, "host"), "'' is too short"));
  auto cluster = OptString(body, "cluster", /*nullable=*/true);
  if (!cluster.ok()) return FaultFrom(cluster.status());
  // common.get_cluster_host: a cluster only from 3.26 (REPLICATION_CLUSTER).
  const bool clustered = req.version.AtLeast(3, 26);
  std::optional<std::string> c = clustered && *cluster && !(*cluster)->empty() ? *cluster : std::nullopt;
  std::optional<std::string> h = *host;
  if (c.has_value() == h.has_value()) {
    return Fault(400, std::string("Invalid input received: ") +
                          (clustered ? "One and only one of cluster and host must be set." : "Host field is missing."));
  }
  Status st = volumes.FreezeBackend(req.ctx, h, c, frozen);
  return st.ok() ? Json(200, "") : FaultFrom(st);
}

// PUT enable | disable | disable-log-reason with {"host": ..., "binary": ...[, "disabled_reason"]}.
ApiResponse Update(VolumeManager& volumes, ApiRequest& req, const std::string& action) {
  const bool with_reason = action == "disable-log-reason";
  if (action != "enable" && action != "disable" && !with_reason) {
    return Fault(400, "Invalid input received: Unknown action");
  }
  json::Value body = json::Value::MakeObject();
  if (!req.body.empty()) {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return FaultFrom(parsed.status());
    body = std::move(parsed).value();
  }
  auto text = [&body](const char* key) -> std::optional<std::string> {
    const json::Value& v = Get(body, key);
    if (!v.is_string()) return std::nullopt;
    return v.as_string();
  };
  auto host = text("host");
  if (!host) return Fault(400, "Invalid input received: Host field is missing.");
  auto binary = text("binary");
  if (!binary) binary = text("service");  // the deprecated name
  if (!binary) {
    return Fault(400, "Invalid input received: 'binary' (or the deprecated 'service') is required.");
  }
  std::optional<std::string> reason;
  if (with_reason) {
    reason = text("disabled_reason");
    if (!reason || Trim(*reason).empty() || reason->size() > 255) {
      return Fault(400, "Invalid input for field/attribute disabled_reason. Value: " + reason.value_or("None") +
                            ". It must be a non-blank string of at most 255 characters.");
    }
  }
  const bool disable = action != "enable";
  Status st = volumes.SetServiceDisabled(req.ctx, *host, *binary, disable, reason);
  if (!st.ok()) return FaultFrom(st);
  JsonWriter w;
  w.BeginObject();
  if (with_reason) w.Key("disabled_reason").String(*reason);
  w.Key("disabled").Bool(disable);
  w.Key("host").String(*host);
  w.Key("service").String("");
  w.Key("binary").String(*binary);
  w.Key("status").String(disable ? "disabled" : "enabled");
  w.EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleServices(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.empty()) {
    return req.method == "GET" ? List(volumes, req) : Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 1) {
    // Cinder's log levels and replication actions are not served here (docs/api.md).
    static const std::set<std::string> kNotServed = {"get-log", "set-log", "failover_host", "failover"};
    if (kNotServed.count(rest[0])) return Fault(404, "The resource could not be found.");
    if (rest[0] == "freeze" || rest[0] == "thaw") {
      return req.method == "PUT" ? Freeze(volumes, req, rest[0] == "freeze") : Fault(405, "The method is not allowed.");
    }
    return req.method == "PUT" ? Update(volumes, req, rest[0]) : Fault(405, "The method is not allowed.");
  }
  return Fault(404, "The resource could not be found.");
}

// GET /os-availability-zone: the zones of the volume services (contrib/availability_zones.py).
ApiResponse HandleAvailabilityZones(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (!rest.empty()) return Fault(404, "The resource could not be found.");
  if (req.method != "GET") return Fault(405, "The method is not allowed.");
  auto zones = volumes.ListAvailabilityZones(req.ctx);
  if (!zones.ok()) return FaultFrom(zones.status());
  JsonWriter w;
  w.BeginObject().Key("availabilityZoneInfo").BeginArray();
  for (const auto& [name, available] : *zones) {
    w.BeginObject().Key("zoneName").String(name);
    w.Key("zoneState").BeginObject().Key("available").Bool(available).EndObject();
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace cinder::api
