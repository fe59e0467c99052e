// /v3/{project_id}/clusters (3.7, admin): Cinder's clusters of volume services (list, detail,
// show, enable, disable), as cinder/api/v3/clusters.py and views/clusters.py.
#include <algorithm>
#include <set>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

const char kNotFound[] = "The resource could not be found.";
const char kNotAllowed[] = "The method is not allowed.";
const char kVolumeBinary[] = "cinder-volume";

// views/clusters.py: summary {name, binary, state, status[, replication_status]}; detail adds
// the counts, times and reason (replication fields from 3.26, REPLICATION_CLUSTER).
void WriteCluster(JsonWriter& w, const ApiRequest& req, const ClusterInfo& c, bool detail) {
  const bool replication = req.version.AtLeast(3, 26);
  w.BeginObject();
  w.Key("name").String(c.name);
  w.Key("binary").String(c.binary);
  w.Key("state").String(c.up ? "up" : "down");
  w.Key("status").String(c.disabled ? "disabled" : "enabled");
  if (replication) w.Key("replication_status").String("disabled");
  if (detail) {
    w.Key("num_hosts").Int(c.num_hosts);
    w.Key("num_down_hosts").Int(c.num_down_hosts);
    w.Key("last_heartbeat").String(c.last_heartbeat.value_or(""));
    w.Key("created_at").String(c.created_at);
    w.Key("updated_at").String(c.updated_at.value_or(""));
    w.Key("disabled_reason").OptString(c.disabled_reason);
    if (replication) {
      w.Key("frozen").Bool(c.frozen);
      w.Key("active_backend_id").Null();
    }
  }
  w.EndObject();
}

ApiResponse List(VolumeManager& volumes, ApiRequest& req, bool detail) {
  // Cinder's allowed_list_keys; the replication ones only from 3.26.
  static const std::set<std::string> kKeys = {"name", "binary", "is_up", "disabled", "num_hosts", "num_down_hosts"};
  static const std::set<std::string> kReplication = {"replication_status", "frozen", "active_backend_id"};
  const bool replication = req.version.AtLeast(3, 26);
  ClusterQuery q;
  std::vector<std::string> invalid;
  bool none = false;  // a replication filter no cluster here matches
  std::optional<bool> frozen;
  for (const auto& [k, v] : req.query) {
    if (replication && k == "frozen") {
      auto b = ParseBool(k, v);
      if (!b.ok()) return FaultFrom(b.status());
      frozen = *b;
      continue;
    }
    if (replication && kReplication.count(k)) {
      none = none || (k == "replication_status" && v != "disabled") || (k == "active_backend_id");
      continue;
    }
    if (!kKeys.count(k)) {
      invalid.push_back(k);
      continue;
    }
    if (k == "name") {
      q.name = v;
    } else if (k == "binary") {
      q.binary = v;
    } else if (k == "is_up" || k == "disabled") {
      auto b = ParseBool(k, v);
      if (!b.ok()) return Fault(400, "Value '" + v + "' for '" + k + "' is not a boolean.");
      (k == "is_up" ? q.is_up : q.disabled) = *b;
    } else {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 1000000) {
        return Fault(400, "Invalid input received: " + k + " must be a non-negative integer, got '" + v + "'.");
      }
      (k == "num_hosts" ? q.num_hosts : q.num_down_hosts) = static_cast<int>(n);
    }
  }
  if (!invalid.empty()) {
    std::sort(invalid.begin(), invalid.end());
    std::string names;
    for (const auto& n : invalid) names += (names.empty() ? "" : ", ") + n;
    return Fault(400, "Invalid input received: Invalid filter keys: " + names);
  }
  auto clusters = volumes.ListClusters(req.ctx, q);
  if (!clusters.ok()) return FaultFrom(clusters.status());
  JsonWriter w;
  w.BeginObject().Key("clusters").BeginArray();
  if (!none) {
    for (const auto& c : *clusters) {
      if (!frozen || c.frozen == *frozen) WriteCluster(w, req, c, detail);
    }
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

ApiResponse Show(VolumeManager& volumes, ApiRequest& req, const std::string& name) {
  const std::string binary = req.Query("binary").value_or(kVolumeBinary);
  auto c = volumes.GetCluster(req.ctx, name, binary);
  if (!c.ok()) return FaultFrom(c.status());
  JsonWriter w;
  w.BeginObject().Key("cluster");
  WriteCluster(w, req, *c, /*detail=*/true);
  w.EndObject();
  return Json(200, w.Take());
}

// PUT /clusters/enable | /clusters/disable {"name", "binary"[, "disabled_reason"]} (Cinder's
// enable_cluster / disable_cluster schemas): the summary view plus disabled_reason.
ApiResponse Update(VolumeManager& volumes, ApiRequest& req, bool disable) {
  auto parsed = ParseBody(req);
  if (!parsed.ok()) return FaultFrom(parsed.status());
  const json::Value& body = *parsed;
  std::vector<std::string> extra;
  for (const auto& [k, v] : body.as_object()) {
    if (k != "name" && k != "binary" && !(disable && k == "disabled_reason")) extra.push_back(k);
  }
  const json::Value* name = body.Find("name");
  if (!name) return Fault(400, "'name' is a required property");
  if (!extra.empty()) return Fault(400, Unexpected(extra));
  if (!name->is_string()) return FaultFrom(FieldError("name", *name, PyRepr(*name) + " is not of type 'string'"));
  if (name->as_string().empty() || name->as_string().size() > 255 || Trim(name->as_string()).empty()) {
    return Fault(400, name->as_string().size() > 255
                          ? "Invalid input for field/attribute name. Value: " + name->as_string() + ". '" +
                                name->as_string() + "' is too long"
                          : "Invalid name provided. The 'name' can not be empty.");
  }
  auto binary = OptString(body, "binary", /*nullable=*/true);
  if (!binary.ok()) return FaultFrom(binary.status());
  std::optional<std::string> reason;
  if (disable) {
    auto r = OptString(body, "disabled_reason", /*nullable=*/true);
    if (!r.ok()) return FaultFrom(r.status());
    if (*r) {
      const std::string trimmed = Trim(**r);
      if (trimmed.empty() || trimmed.size() > 255) {
        return Fault(400, "Invalid input received: disabled_reason has " + std::to_string(trimmed.size()) +
                              " characters, more than 255 or none.");
      }
      reason = trimmed;
    }
  }
  const json::Value* b = body.Find("binary");
  if (b && b->is_null()) {
    // Cinder looks the cluster up with binary None, which no cluster has.
    return Fault(404, "Cluster {'binary': None, 'name': '" + name->as_string() + "'} could not be found.");
  }
  auto c = volumes.SetClusterDisabled(req.ctx, name->as_string(), binary->value_or(kVolumeBinary), disable, reason);
  if (!c.ok()) return FaultFrom(c.status());
  JsonWriter w;
  w.BeginObject().Key("cluster").BeginObject();
  w.Key("name").String(c->name);
  w.Key("binary").String(c->binary);
  w.Key("state").String(c->up ? "up" : "down");
  w.Key("status").String(c->disabled ? "disabled" : "enabled");
  if (req.version.AtLeast(3, 26)) w.Key("replication_status").String("disabled");
  w.Key("disabled_reason").OptString(reason);
  w.EndObject().EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleClusters(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  // @api_version(3.7): below it Cinder answers as for no method at all.
  if (!req.version.AtLeast(3, 7)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) return m == "GET" ? List(volumes, req, /*detail=*/false) : Fault(405, kNotAllowed);
  if (rest.size() != 1) return Fault(404, kNotFound);
  if (rest[0] == "detail" && m == "GET") return List(volumes, req, /*detail=*/true);
  if ((rest[0] == "enable" || rest[0] == "disable") && m == "PUT") return Update(volumes, req, rest[0] == "disable");
  if (m == "GET") return Show(volumes, req, rest[0]);
  return Fault(405, kNotAllowed);
}

}  // namespace cinder::api
