// /v3/{project_id}/snapshots: Cinder's snapshot API (cinder/api/v3/snapshots.py, the
// snapshot actions and the extended snapshot attributes), with its views and validation.
#include <set>

#include "api/common.h"
#include "api/filters.h"
#include "api/metadata.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// Cinder's snapshot view: the summary keys, then what show and detail add at req.version.
// `extended`: os-extended-snapshot-attributes (show and detail lists, not create).
void WriteSnapshot(JsonWriter& w, const ApiRequest& req, const Snapshot& s, bool detail, bool extended) {
  w.BeginObject();
  w.Key("id").String(s.id);
  w.Key("created_at").String(s.created_at);
  w.Key("updated_at").OptString(s.updated_at);
  w.Key("name").OptString(s.name);
  w.Key("description").OptString(s.description);
  w.Key("volume_id").String(s.volume_id);
  w.Key("status").String(s.status);
  w.Key("size").Int(s.size);
  w.Key("metadata");
  WriteStringMap(w, s.metadata);
  if (detail) {
    if (req.version.AtLeast(3, 14)) w.Key("group_snapshot_id").OptString(s.group_snapshot_id);
    if (req.version.AtLeast(3, 41)) w.Key("user_id").String(s.user_id);
    if (req.version.AtLeast(3, 65)) w.Key("consumes_quota").Bool(s.use_quota);
  }
  if (extended) {
    w.Key("os-extended-snapshot-attributes:progress").String(s.progress);
    w.Key("os-extended-snapshot-attributes:project_id").String(s.project_id);
  }
  w.EndObject();
}

// Whether show and detail add os-extended-snapshot-attributes:* for the caller (Cinder's
// extension asks with no target: the caller's own project).
bool Extended(const VolumeManager& volumes, const ApiRequest& req) {
  return volumes.Authorize(req.ctx, "volume_extension:extended_snapshot_attributes", {}).ok();
}

std::string SnapshotBody(const ApiRequest& req, const Snapshot& s, bool extended) {
  JsonWriter w;
  w.BeginObject().Key("snapshot");
  WriteSnapshot(w, req, s, /*detail=*/true, extended);
  w.EndObject();
  return w.Take();
}

Result<SnapshotListQuery> ParseListQuery(const Options& options, const ApiRequest& req) {
  SnapshotListQuery q;
  PagingParams paging;
  paging.allow_offset = true;
  std::vector<std::string> invalid;
  std::vector<std::string> filters;  // the keys resource_query_filters_file governs
  const bool like = req.version.AtLeast(3, 34);
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) {
      continue;
    } else if (k == "all_tenants") {
      CINDER_ASSIGN_OR_RETURN(q.all_tenants, ParseBool(k, v));
      continue;
    } else if (k == "project_id" && req.ctx.is_admin) {
      q.project_id = v;
    } else if (k == "with_count" && req.version.AtLeast(3, 45)) {
      CINDER_ASSIGN_OR_RETURN(q.with_count, ParseBool(k, v));
      continue;
    } else if (k == "name" || k == "display_name") {
      q.name = v;
    } else if (k == "status") {
      q.status = v;
    } else if (k == "volume_id") {
      q.volume_id = v;
    } else if (k == "availability_zone") {
      q.availability_zone = v;
    } else if (k == "consumes_quota" && req.version.AtLeast(3, 31)) {
      CINDER_ASSIGN_OR_RETURN(q.use_quota, UseQuotaFilter(v));
    } else if (k == "metadata" && req.version.AtLeast(3, 22)) {
      CINDER_ASSIGN_OR_RETURN(q.metadata, ParseMetadataFilter(v));
    } else if (like && (k == "name~" || k == "description~" || k == "status~")) {
      q.like[k.substr(0, k.size() - 1)] = v;
    } else {
      invalid.push_back(k);
      continue;
    }
    filters.push_back(k);
  }
  CINDER_RETURN_IF_ERROR(paging.Finish());
  if (!invalid.empty()) {
    return InvalidFilters(invalid, std::string("status, volume_id, name, metadata, availability_zone, consumes_quota") +
                                       (like ? ", name~, description~, status~" : ""));
  }
  CINDER_RETURN_IF_ERROR(CheckConfiguredFilters(options, req, "snapshot", filters));
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.offset = paging.offset;
  q.sort = paging.sort;
  return q;
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req, bool detail) {
  auto q = ParseListQuery(options, req);
  if (!q.ok()) return FaultFrom(q.status());
  auto list = volumes.ListSnapshots(req.ctx, *q);
  if (!list.ok()) return FaultFrom(list.status());
  JsonWriter w;
  const bool extended = detail && Extended(volumes, req);
  w.BeginObject().Key("snapshots").BeginArray();
  for (const auto& s : list->snapshots) WriteSnapshot(w, req, s, detail, extended);
  w.EndArray();
  WriteListEnd(w, req, options.osapi_max_limit, "snapshots_links", detail ? "snapshots/detail" : "snapshots", q->limit,
               q->with_count, list->count, list->snapshots.size(),
               list->snapshots.empty() ? "" : list->snapshots.back().id);
  w.EndObject();
  return Json(200, w.Take());
}

// Cinder's boolean parameter type: a JSON boolean or one of its boolean strings.
Result<bool> ParseBoolField(const std::string& field, const json::Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) {
    static const std::set<std::string> kTrue = {"1", "t", "true", "on", "y", "yes"};
    static const std::set<std::string> kFalse = {"0", "f", "false", "off", "n", "no"};
    const std::string s = ToLower(v.as_string());
    if (kTrue.count(s)) return true;
    if (kFalse.count(s)) return false;
  }
  return FieldError(field, v, PyRepr(v) + " is not of type 'boolean', 'string'");
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto snap = Member(*body, "snapshot");
  if (!snap.ok()) return FaultFrom(snap.status());
  const json::Value& o = **snap;
  static const std::set<std::string> kKeys = {"name",      "display_name", "description", "display_description",
                                              "volume_id", "force",        "metadata"};
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (!kKeys.count(k)) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("snapshot", o, Unexpected(extra)));
  SnapshotCreate c;
  auto vol = OptString(o, "volume_id", true);
  if (!vol.ok()) return FaultFrom(vol.status());
  if (!o.Find("volume_id")) return FaultFrom(FieldError("snapshot", o, "'volume_id' is a required property"));
  // uuid_allow_null: Cinder then looks up volume None.
  if (!*vol) return Fault(404, "Volume None could not be found.");
  if (!IsUuid(**vol)) {
    return FaultFrom(FieldError("volume_id", Get(o, "volume_id"), PyRepr(Get(o, "volume_id")) + " is not a 'uuid'"));
  }
  c.volume_id = **vol;
  for (const char* k : {"display_name", "name"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (*s) c.name = Trim(**s);
  }
  for (const char* k : {"display_description", "description"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (*s) c.description = Trim(**s);
  }
  if (!Get(o, "metadata").is_null()) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    c.metadata = *md;
  }
  if (!Get(o, "force").is_null()) {
    auto force = ParseBoolField("force", Get(o, "force"));
    if (!force.ok()) return FaultFrom(force.status());
    if (req.version.AtLeast(3, 66) && !*force) {
      return Fault(400,
                   "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward "
                   "compatability, however, when the 'force' flag is passed with a value evaluating to "
                   "True, it is silently ignored.");
    }
    c.force = *force;
  }
  // From 3.66 an in-use volume is snapshotted without force.
  if (req.version.AtLeast(3, 66)) c.force = true;
  auto s = volumes.CreateSnapshot(req.ctx, c);
  if (!s.ok()) return FaultFrom(s.status());
  return Json(202, SnapshotBody(req, *s, /*extended=*/false));
}

ApiResponse Update(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto snap = Member(*body, "snapshot");
  if (!snap.ok()) return FaultFrom(snap.status());
  const json::Value& o = **snap;
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (k != "name" && k != "display_name" && k != "description" && k != "display_description") extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("snapshot", o, Unexpected(extra)));
  if (o.size() == 0) return FaultFrom(FieldError("snapshot", o, "{} does not have enough properties"));
  std::optional<std::optional<std::string>> name, description;
  for (const char* k : {"display_name", "name"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (o.Find(k)) name = *s ? std::optional<std::string>(Trim(**s)) : std::nullopt;
  }
  for (const char* k : {"display_description", "description"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (o.Find(k)) description = *s ? std::optional<std::string>(Trim(**s)) : std::nullopt;
  }
  auto s = volumes.UpdateSnapshot(req.ctx, id, name, description);
  if (!s.ok()) return FaultFrom(s.status());
  return Json(200, SnapshotBody(req, *s, /*extended=*/false));
}

ApiResponse Action(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  const json::Value& o = *body;
  if (o.size() != 1) return Fault(400, "Malformed request body");
  const std::string& action = o.as_object()[0].first;
  const json::Value& arg = o.as_object()[0].second;
  if (action == "os-reset_status") {
    if (!arg.is_object()) {
      return FaultFrom(FieldError("os-reset_status", arg, PyRepr(arg) + " is not of type 'object'"));
    }
    auto status = OptString(arg, "status", false);
    if (!status.ok()) return FaultFrom(status.status());
    if (!*status) return FaultFrom(FieldError("os-reset_status", arg, "'status' is a required property"));
    Status st = volumes.ResetSnapshotStatus(req.ctx, id, ToLower(**status));
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-update_snapshot_status") {  // snapshot_actions.py (what Nova sends)
    if (!arg.is_object()) {
      return FaultFrom(FieldError(action, arg, PyRepr(arg) + " is not of type 'object'"));
    }
    std::vector<std::string> extra;
    for (const auto& [k, v] : arg.as_object()) {
      if (k != "status" && k != "progress") extra.push_back(k);
    }
    if (!extra.empty()) return FaultFrom(FieldError(action, arg, Unexpected(extra)));
    const json::Value* status = arg.Find("status");
    if (!status) return FaultFrom(FieldError(action, arg, "'status' is a required property"));
    if (!status->is_string()) {
      return FaultFrom(FieldError("status", *status, PyRepr(*status) + " is not of type 'string'"));
    }
    std::optional<std::string> progress;
    if (const json::Value* p = arg.Find("progress"); p && p->is_string() && !p->as_string().empty()) {
      // Cinder's 'progress' format: an integer percentage from 0 to 100.
      const std::string& v = p->as_string();
      int pct = -1;
      try {
        size_t used = 0;
        pct = std::stoi(v.substr(0, v.size() - 1), &used);
        if (used != v.size() - 1) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        return Fault(400, "Invalid input received: progress must be an integer percentage");
      }
      if (pct < 0 || pct > 100 || v.back() != '%') {
        return Fault(400, "Invalid input received: progress must be an integer percentage between 0 and 100");
      }
      progress = v;
    }
    Status st = volumes.UpdateSnapshotStatus(req.ctx, id, status->as_string(), progress);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-force_delete") {
    Status st = volumes.DeleteSnapshot(req.ctx, id, /*force=*/true);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-unmanage") {  // snapshot_unmanage.py: any value
    Status st = volumes.UnmanageSnapshot(req.ctx, id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(
      400, "There is no such action: " + action + ". Verify the request body and Content-Type header and try again.");
}

}  // namespace

std::string SnapshotCreatedBody(const ApiRequest& req, const Snapshot& s) {
  return SnapshotBody(req, s, /*extended=*/false);
}

ApiResponse HandleSnapshots(const Options& options, VolumeManager& volumes, ApiRequest& req,
                            const std::vector<std::string>& rest) {
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, volumes, req, /*detail=*/false);
    if (m == "POST") return Create(volumes, req);
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 1 && rest[0] == "detail") {
    return m == "GET" ? List(options, volumes, req, /*detail=*/true) : Fault(405, "The method is not allowed.");
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto s = volumes.GetSnapshot(req.ctx, id);
      return s.ok() ? Json(200, SnapshotBody(req, *s, Extended(volumes, req))) : FaultFrom(s.status());
    }
    if (m == "PUT") return Update(volumes, req, id);
    if (m == "DELETE") {
      Status st = volumes.DeleteSnapshot(req.ctx, id, /*force=*/false);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "action" && rest.size() == 2) {
    return m == "POST" ? Action(volumes, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "metadata") {
    MetadataOps ops;
    ops.resource = "Snapshot";
    ops.get = [&] { return volumes.GetSnapshotMetadata(req.ctx, id); };
    ops.update = [&](const Metadata& md, bool replace) {
      return volumes.UpdateSnapshotMetadata(req.ctx, id, md, replace);
    };
    ops.remove = [&](const std::string& key) { return volumes.DeleteSnapshotMetadataKey(req.ctx, id, key); };
    if (rest.size() == 2) return MetadataCollection(req, id, ops);
    if (rest.size() == 3) return MetadataItem(req, id, rest[2], ops);
  }
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
