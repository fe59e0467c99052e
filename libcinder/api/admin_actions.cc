// Admin volume actions of cinder/api/contrib/admin_actions.py served here rather than in
// volumes.cc (os-migrate_volume), and workers/cleanup (cinder/api/v3/workers.py).
#include "api/admin_actions.h"

#include <regex>

#include "api/common.h"
#include "cinder/volume_manager.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

ApiResponse MigrateVolumeAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                const json::Value& arg) {
  // The schemas migrate_volume (before 3.16: `host` required) and migrate_volume_v316.
  const bool v316 = req.version.AtLeast(3, 16);
  if (!arg.is_object())
    return FaultFrom(FieldError("os-migrate_volume", arg, PyRepr(arg) + " is not of type 'object'"));
  std::vector<std::string> extra;
  for (const auto& [k, v] : arg.as_object()) {
    if (k != "host" && k != "force_host_copy" && k != "lock_volume" && !(v316 && k == "cluster")) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("os-migrate_volume", arg, Unexpected(extra)));
  if (!v316 && !arg.Find("host")) {
    return FaultFrom(FieldError("os-migrate_volume", arg, "'host' is a required property"));
  }
  auto host = OptString(arg, "host", v316);
  if (!host.ok()) return FaultFrom(host.status());
  std::optional<std::string> cluster;
  if (v316) {
    auto c = OptString(arg, "cluster", true);
    if (!c.ok()) return FaultFrom(c.status());
    cluster = *c;
  }
  bool flags[2] = {false, false};
  const char* names[2] = {"force_host_copy", "lock_volume"};
  for (int i = 0; i < 2; ++i) {
    if (const json::Value* f = arg.Find(names[i])) {
      auto b = BodyBool(names[i], *f);
      if (!b.ok()) return FaultFrom(b.status());
      flags[i] = *b;
    }
  }
  // common.get_cluster_host: exactly one of them, non-empty.
  const bool has_host = *host && !(*host)->empty();
  const bool has_cluster = cluster && !cluster->empty();
  if (has_host == has_cluster) {
    return Fault(400, std::string("Invalid input received: ") +
                          (v316 ? "One and only one of cluster and host must be set." : "Host field is missing."));
  }
  Status st = volumes.MigrateVolume(req.ctx, id, has_host ? *host : std::nullopt, has_cluster ? cluster : std::nullopt,
                                    flags[0], flags[1]);
  return st.ok() ? Json(202, "") : FaultFrom(st);
}

ApiResponse MigrateVolumeCompletionAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                          const json::Value& arg) {
  // The schema migrate_volume_completion: new_volume a UUID (required), error a string, null
  // or boolean, taken as Python takes it (a non-empty string is true).
  if (!arg.is_object()) {
    return FaultFrom(FieldError("os-migrate_volume_completion", arg, PyRepr(arg) + " is not of type 'object'"));
  }
  std::vector<std::string> extra;
  for (const auto& [k, v] : arg.as_object()) {
    if (k != "new_volume" && k != "error") extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("os-migrate_volume_completion", arg, Unexpected(extra)));
  const json::Value* nv = arg.Find("new_volume");
  if (!nv) return FaultFrom(FieldError("os-migrate_volume_completion", arg, "'new_volume' is a required property"));
  if (!nv->is_string()) return FaultFrom(FieldError("new_volume", *nv, PyRepr(*nv) + " is not of type 'string'"));
  if (!IsUuid(nv->as_string())) {
    return FaultFrom(FieldError("new_volume", *nv, PyRepr(*nv) + " is not a 'uuid'"));
  }
  bool error = false;
  if (const json::Value* e = arg.Find("error")) {
    if (e->is_bool()) {
      error = e->as_bool();
    } else if (e->is_string()) {
      error = !e->as_string().empty();
    } else if (!e->is_null()) {
      return FaultFrom(FieldError("error", *e, PyRepr(*e) + " is not of type 'string', 'null', 'boolean'"));
    }
  }
  auto kept = volumes.CompleteVolumeMigration(req.ctx, id, nv->as_string(), error);
  if (!kept.ok()) return FaultFrom(kept.status());
  JsonWriter w;
  w.BeginObject().Key("save_volume_id").String(*kept).EndObject();
  return Json(200, w.Take());
}

namespace {

// The schema cinder/api/schemas/workers.py's cleanup, then the filters.
Result<WorkCleanupFilters> ParseCleanup(const ApiRequest& req) {
  WorkCleanupFilters f;
  if (Trim(req.body).empty()) return f;
  CINDER_ASSIGN_OR_RETURN(json::Value body, ParseBody(req));
  static const std::set<std::string> kKeys = {"cluster_name", "disabled",    "host",          "is_up",
                                              "binary",       "resource_id", "resource_type", "service_id"};
  std::vector<std::string> extra;
  for (const auto& [k, v] : body.as_object()) {
    if (!kKeys.count(k)) extra.push_back(k);
  }
  if (!extra.empty()) return InvalidArgument(Unexpected(extra));
  static const std::regex kHostname("^[a-zA-Z0-9-._#@:/+]*$");
  for (const char* k : {"cluster_name", "host"}) {
    CINDER_ASSIGN_OR_RETURN(auto v, OptString(body, k, true));
    if (!v) continue;
    if (v->empty()) return FieldError(k, Get(body, k), PyRepr(Get(body, k)) + " is too short");
    if (!std::regex_match(*v, kHostname)) {
      return FieldError(k, Get(body, k), PyRepr(Get(body, k)) + " does not match '^[a-zA-Z0-9-._#@:/+]*$'");
    }
    (std::string(k) == "host" ? f.host : f.cluster_name) = *v;
  }
  for (const char* k : {"is_up", "disabled"}) {
    const json::Value* v = body.Find(k);
    if (!v) continue;
    std::optional<bool> b;  // null: not filtered
    if (!v->is_null()) {
      CINDER_ASSIGN_OR_RETURN(bool parsed, BodyBool(k, *v));
      b = parsed;
    }
    (std::string(k) == "is_up" ? f.is_up : f.disabled) = b;
  }
  if (const json::Value* v = body.Find("binary")) {
    if (!v->is_string() || (v->as_string() != "cinder-volume" && v->as_string() != "cinder-scheduler")) {
      return FieldError("binary", *v, PyRepr(*v) + " is not one of ['cinder-volume', 'cinder-scheduler']");
    }
    f.binary = v->as_string();
  }
  if (const json::Value* v = body.Find("resource_id"); v && !v->is_null()) {
    if (!v->is_string() || !IsUuid(v->as_string())) {
      return FieldError("resource_id", *v, PyRepr(*v) + " is not valid under any of the given schemas");
    }
    f.resource_id = v->as_string();
  }
  {
    CINDER_ASSIGN_OR_RETURN(auto v, OptString(body, "resource_type", true, 40));
    if (v && !v->empty()) f.resource_type = *v;
  }
  if (const json::Value* v = body.Find("service_id"); v && !v->is_null()) {
    std::string digits;
    if (v->is_number() && v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double()))) {
      digits = std::to_string(static_cast<int64_t>(v->as_double()));
    } else if (v->is_string()) {
      digits = v->as_string();
      if (digits.size() > 11) return FieldError("service_id", *v, PyRepr(*v) + " is too long");
      if (!std::regex_match(digits, std::regex("^[0-9]*$"))) {
        return FieldError("service_id", *v, PyRepr(*v) + " does not match '^[0-9]*$'");
      }
    } else {
      return FieldError("service_id", *v, PyRepr(*v) + " is not of type 'integer', 'string', 'null'");
    }
    if (!digits.empty()) f.service_id = std::stoll(digits);
  }
  return f;
}

void ServiceList(JsonWriter& w, const std::vector<WorkCleanupResult::Service>& services) {
  w.BeginArray();
  for (const auto& s : services) {
    w.BeginObject();
    w.Key("id").Int(s.id);
    w.Key("host").String(s.host);
    w.Key("binary").String(s.binary);
    w.Key("cluster_name").OptString(s.cluster_name);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

ApiResponse HandleWorkers(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  // Only POST /workers/cleanup, from 3.24.
  if (rest.size() != 1 || rest[0] != "cleanup" || req.method != "POST" || !req.version.AtLeast(3, 24)) {
    return Fault(404, "The resource could not be found.");
  }
  // The policy first, as Cinder's controller.
  Status allowed = volumes.Authorize(req.ctx, "workers:cleanup", {});
  if (!allowed.ok()) return FaultFrom(allowed);
  auto f = ParseCleanup(req);
  if (!f.ok()) return FaultFrom(f.status());
  auto r = volumes.WorkCleanup(req.ctx, *f);
  if (!r.ok()) return FaultFrom(r.status());
  JsonWriter w;
  w.BeginObject().Key("cleaning");
  ServiceList(w, r->cleaning);
  w.Key("unavailable");
  ServiceList(w, r->unavailable);
  w.EndObject();
  return Json(202, w.Take());
}

}  // namespace cinder::api
