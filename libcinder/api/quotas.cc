// /v3/{project_id}/os-quota-sets, /os-quota-class-sets and /limits: quotas, as
// cinder/api/contrib/quotas.py, quota_classes.py, cinder/api/v3/limits.py with used_limits.py,
// and their schemas (cinder/api/schemas/quotas.py, quota_classes.py).
#include <set>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

constexpr int64_t kDbMaxInt = 0x7FFFFFFF;

ApiResponse NotFound404() { return Fault(404, "The resource could not be found."); }
ApiResponse BadMethod() { return Fault(405, "The method is not allowed."); }

// {"<wrapper>": {resource: limit | {"limit", "in_use", "reserved"}, ..., "id": id}}; no "id"
// when `id` is empty (the answers of the updates).
ApiResponse WriteSet(const char* wrapper, const QuotaSet& set, const std::string& id, bool usage) {
  JsonWriter w;
  w.BeginObject().Key(std::string_view(wrapper)).BeginObject();
  for (const auto& [name, d] : set) {
    w.Key(name);
    if (usage) {
      w.BeginObject().Key("limit").Int(d.limit).Key("in_use").Int(d.in_use).Key("reserved").Int(d.reserved).EndObject();
    } else {
      w.Int(d.limit);
    }
  }
  if (!id.empty()) w.Key("id").String(id);
  w.EndObject().EndObject();
  return Json(200, w.Take());
}

// The outer body may hold only `wrapper` (the schemas' additionalProperties: False).
Status OnlyMember(const json::Value& body, const std::string& wrapper) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : body.as_object()) {
    if (k != wrapper) extra.push_back(k);
  }
  return extra.empty() ? Status::OK() : InvalidArgument(Unexpected(extra));
}

// The names of every quota resource (those of the volume types change with them).
Result<std::set<std::string>> ResourceNames(VolumeManager& volumes, const ApiRequest& req) {
  CINDER_ASSIGN_OR_RETURN(auto set, volumes.GetQuotaSet(req.ctx, req.ctx.project_id, /*defaults=*/true));
  std::set<std::string> out;
  for (const auto& [name, d] : set) out.insert(name);
  return out;
}

// oslo's strutils.validate_integer(value, key, -1, DB_MAX_INT) as Cinder's quota_set format
// check runs it: int(str(value)), so integers (of any size) and strings of one, not booleans or
// floats.
Result<int64_t> QuotaSetValue(const std::string& key, const json::Value& v) {
  const Status not_int = InvalidArgument(key + " must be an integer");
  const Status too_small = InvalidArgument(key + " must be >= -1");
  const Status too_large = InvalidArgument(key + " must be <= " + std::to_string(kDbMaxInt));
  int64_t n = 0;
  if (v.is_int() || v.is_big_int()) {
    n = v.as_int();  // a big integer clamps, so fails the range checks below
  } else if (v.is_string()) {
    std::string s = Trim(v.as_string());
    std::string digits = s.empty() || (s[0] != '-' && s[0] != '+') ? s : s.substr(1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return not_int;
    auto parsed = ParseInt(s);
    if (!parsed) return s[0] == '-' ? too_small : too_large;
    n = *parsed;
  } else {
    return not_int;
  }
  if (n < -1) return too_small;
  if (n > kDbMaxInt) return too_large;
  return n;
}

// A value of Cinder's quota_class_set schema: an integer or a string of digits, -1 to
// DB_MAX_INT; its jsonschema messages.
Result<int64_t> QuotaClassValue(const std::string& key, const json::Value& v) {
  const std::string repr = PyRepr(v);
  int64_t n = 0;
  if (v.is_big_int()) {
    return FieldError(key, v,
                      repr + (v.as_int() < 0 ? " is less than the minimum of -1"
                                             : " is greater than the maximum of " + std::to_string(kDbMaxInt)));
  }
  if (v.is_int()) {
    n = v.as_int();
  } else if (v.is_string()) {
    const std::string& s = v.as_string();
    if (s.find_first_not_of("0123456789") != std::string::npos)
      return FieldError(key, v, repr + " does not match '^[0-9]*$'");
    if (s.empty()) return FieldError(key, v, repr + " is too short");
    auto parsed = ParseInt(s);
    if (!parsed) return FieldError(key, v, s + " is greater than the maximum of " + std::to_string(kDbMaxInt));
    n = *parsed;
  } else {
    return FieldError(key, v, repr + " is not of type 'integer', 'string'");
  }
  if (n < -1) return FieldError(key, v, std::to_string(n) + " is less than the minimum of -1");
  if (n > kDbMaxInt)
    return FieldError(key, v, std::to_string(n) + " is greater than the maximum of " + std::to_string(kDbMaxInt));
  return n;
}

ApiResponse ShowQuotaSet(VolumeManager& volumes, ApiRequest& req, const std::string& project) {
  bool usage = false;
  if (auto u = req.Query("usage")) {
    auto b = ParseBool("usage", *u);
    if (!b.ok()) return Fault(400, "Value '" + *u + "' for 'usage' is not a boolean.");
    usage = *b;
  }
  auto set = volumes.GetQuotaSet(req.ctx, project, /*defaults=*/false);
  return set.ok() ? WriteSet("quota_set", *set, project, usage) : FaultFrom(set.status());
}

ApiResponse UpdateQuotaSet(VolumeManager& volumes, ApiRequest& req, const std::string& project) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  // The schema: quota_set an object with at least one key, each key a resource (or id or
  // tenant_id) with an integer value (the first bad value of a resource wins over unknown
  // keys), then nothing else in the body.
  auto o = Member(*body, "quota_set");
  if (!o.ok()) return FaultFrom(o.status());
  if ((*o)->size() == 0) return FaultFrom(FieldError("quota_set", **o, "{} does not have enough properties"));
  auto known = ResourceNames(volumes, req);
  if (!known.ok()) return FaultFrom(known.status());
  std::vector<std::string> bad_keys;
  std::map<std::string, int64_t> limits;
  for (const auto& [key, value] : (*o)->as_object()) {
    if (key == "id" || key == "tenant_id") continue;
    if (!known->count(key)) {
      bad_keys.push_back(key);
      continue;
    }
    auto v = QuotaSetValue(key, value);
    if (!v.ok()) return FaultFrom(v.status());
    limits[key] = *v;
  }
  if (!bad_keys.empty()) return Fault(400, "Invalid input received: Bad key(s) in quota set: " + Join(bad_keys, ", "));
  Status extra = OnlyMember(*body, "quota_set");
  if (!extra.ok()) return FaultFrom(extra);
  auto set = volumes.UpdateQuotaSet(req.ctx, project, limits);
  return set.ok() ? WriteSet("quota_set", *set, "", false) : FaultFrom(set.status());
}

ApiResponse UpdateQuotaClass(VolumeManager& volumes, ApiRequest& req, const std::string& class_name) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto o = Member(*body, "quota_class_set");
  if (!o.ok()) return FaultFrom(o.status());
  auto known = ResourceNames(volumes, req);
  if (!known.ok()) return FaultFrom(known.status());
  // The schema: unknown keys first (its format check), then each value, then the body's keys.
  std::vector<std::string> bad_keys;
  for (const auto& [key, value] : (*o)->as_object()) {
    if (!known->count(key)) bad_keys.push_back(key);
  }
  if (!bad_keys.empty()) {
    return Fault(400, "Invalid input received: Bad key(s) in quota class set: " + Join(bad_keys, ", "));
  }
  std::map<std::string, int64_t> limits;
  for (const auto& [key, value] : (*o)->as_object()) {
    auto v = QuotaClassValue(key, value);
    if (!v.ok()) return FaultFrom(v.status());
    limits[key] = *v;
  }
  Status extra = OnlyMember(*body, "quota_class_set");
  if (!extra.ok()) return FaultFrom(extra);
  auto set = volumes.UpdateQuotaClass(req.ctx, class_name, limits);
  return set.ok() ? WriteSet("quota_class_set", *set, "", false) : FaultFrom(set.status());
}

}  // namespace

ApiResponse HandleQuotaSets(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.empty() || rest.size() > 2) return NotFound404();
  const std::string& project = rest[0];
  const std::string& m = req.method;
  if (rest.size() == 2) {
    if (rest[1] != "defaults") return NotFound404();
    if (m != "GET") return BadMethod();
    auto set = volumes.GetQuotaSet(req.ctx, project, /*defaults=*/true);
    return set.ok() ? WriteSet("quota_set", *set, project, false) : FaultFrom(set.status());
  }
  if (m == "GET") return ShowQuotaSet(volumes, req, project);
  if (m == "PUT") return UpdateQuotaSet(volumes, req, project);
  if (m == "DELETE") {
    Status st = volumes.DeleteQuotaSet(req.ctx, project);
    return st.ok() ? Json(200, "") : FaultFrom(st);
  }
  return BadMethod();
}

ApiResponse HandleQuotaClassSets(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.size() != 1) return NotFound404();
  const std::string& class_name = rest[0];
  if (req.method == "GET") {
    auto set = volumes.GetQuotaClass(req.ctx, class_name);
    return set.ok() ? WriteSet("quota_class_set", *set, class_name, false) : FaultFrom(set.status());
  }
  if (req.method == "PUT") return UpdateQuotaClass(volumes, req, class_name);
  return BadMethod();
}

ApiResponse HandleLimits(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (!rest.empty()) return NotFound404();
  if (req.method != "GET") return BadMethod();
  // From 3.39 an admin may ask for another project's (project_id, or the older tenant_id).
  std::string project = req.ctx.project_id;
  if (req.version.AtLeast(3, 39) && req.ctx.is_admin) {
    if (auto p = req.Query("project_id")) {
      project = *p;
    } else if (auto t = req.Query("tenant_id")) {
      project = *t;
    }
  }
  auto set = volumes.GetLimits(req.ctx, project);
  if (!set.ok()) return FaultFrom(set.status());
  auto limit = [&](const char* name) {
    auto it = set->find(name);
    return it == set->end() ? int64_t{-1} : it->second.limit;
  };
  auto used = [&](const char* name) {
    auto it = set->find(name);
    return it == set->end() ? int64_t{0} : it->second.in_use;
  };
  JsonWriter w;
  w.BeginObject().Key("limits").BeginObject();
  w.Key("rate").BeginArray().EndArray();
  w.Key("absolute").BeginObject();
  w.Key("maxTotalVolumes").Int(limit("volumes"));
  w.Key("maxTotalSnapshots").Int(limit("snapshots"));
  w.Key("maxTotalVolumeGigabytes").Int(limit("gigabytes"));
  w.Key("maxTotalBackups").Int(limit("backups"));
  w.Key("maxTotalBackupGigabytes").Int(limit("backup_gigabytes"));
  // The used_limits extension's keys, when its rule passes for the caller.
  if (volumes.Authorize(req.ctx, "limits_extension:used_limits", {}).ok()) {
    w.Key("totalVolumesUsed").Int(used("volumes"));
    w.Key("totalGigabytesUsed").Int(used("gigabytes"));
    w.Key("totalSnapshotsUsed").Int(used("snapshots"));
    w.Key("totalBackupsUsed").Int(used("backups"));
    w.Key("totalBackupGigabytesUsed").Int(used("backup_gigabytes"));
  }
  w.EndObject().EndObject().EndObject();
  return Json(200, w.Take());
}

}  // namespace cinder::api
