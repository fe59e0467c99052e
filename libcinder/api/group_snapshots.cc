// /v3/{project_id}/group_snapshots (3.14): snapshots of generic volume groups
// (cinder/api/v3/group_snapshots.py, views/group_snapshots.py, schemas/group_snapshots.py),
// reset_status (3.19).
#include <set>

#include "api/common.h"
#include "api/filters.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

const char kNotFound[] = "The resource could not be found.";
const char kNotAllowed[] = "The method is not allowed.";

// Cinder's GroupSnapshotStatus.ALL, as its format checker prints the tuple.
const char kStatusTuple[] = "('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting')";

// views/group_snapshots.py summary (create; the index pops group_type_id).
void WriteSummary(JsonWriter& w, const GroupSnapshot& g, bool with_type) {
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("name").OptString(g.name);
  if (with_type) w.Key("group_type_id").String(g.group_type_id);
  w.EndObject();
}

// views/group_snapshots.py detail.
void WriteDetail(JsonWriter& w, VolumeManager& volumes, const ApiRequest& req, const GroupSnapshot& g) {
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("group_id").String(g.group_id);
  w.Key("group_type_id").String(g.group_type_id);
  w.Key("status").String(g.status);
  w.Key("created_at").String(g.created_at);
  w.Key("name").OptString(g.name);
  w.Key("description").OptString(g.description);
  if (req.version.AtLeast(3, 58) && volumes.Authorize(req.ctx, "group:group_snapshot_project_attribute", {}).ok()) {
    w.Key("project_id").String(g.project_id);
  }
  w.EndObject();
}

Status OnlyKeys(const json::Value& o, std::initializer_list<const char*> allowed) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) extra.push_back(k);
  }
  return extra.empty() ? Status::OK() : InvalidArgument(Unexpected(extra));
}

// name_allow_zero_min_length / description: strings or null up to 255.
Result<std::optional<std::string>> StringField(const json::Value& o, const std::string& key) {
  CINDER_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(o, key, /*nullable=*/true));
  if (v && v->size() > 255) return FieldError(key, Get(o, key), PyRepr(Get(o, key)) + " is too long");
  return v;
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (Status st = OnlyKeys(*body, {"group_snapshot"}); !st.ok()) return FaultFrom(st);
  auto snap = Member(*body, "group_snapshot");
  if (!snap.ok()) return FaultFrom(snap.status());
  const json::Value& o = **snap;
  if (Status st = OnlyKeys(o, {"group_id", "name", "description"}); !st.ok()) {
    return FaultFrom(FieldError("group_snapshot", o, st.message()));
  }
  if (!o.Find("group_id")) return FaultFrom(FieldError("group_snapshot", o, "'group_id' is a required property"));
  const json::Value& gid = Get(o, "group_id");
  if (!gid.is_string()) return FaultFrom(FieldError("group_id", gid, PyRepr(gid) + " is not of type 'string'"));
  if (!IsUuid(gid.as_string())) return FaultFrom(FieldError("group_id", gid, PyRepr(gid) + " is not a 'uuid'"));
  GroupSnapshotCreate c;
  c.group_id = gid.as_string();
  auto name = StringField(o, "name");
  if (!name.ok()) return FaultFrom(name.status());
  c.name = *name;
  auto desc = StringField(o, "description");
  if (!desc.ok()) return FaultFrom(desc.status());
  c.description = *desc;
  auto created = volumes.CreateGroupSnapshot(req.ctx, c);
  if (!created.ok()) return FaultFrom(created.status());
  JsonWriter w;
  w.BeginObject().Key("group_snapshot");
  WriteSummary(w, *created, /*with_type=*/true);
  w.EndObject();
  return Json(202, w.Take());
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req, bool detail) {
  GroupSnapshotListQuery q;
  // Filters, paging and sorting from 3.29 (GROUP_SNAPSHOT_PAGINATION); before, none.
  if (req.version.AtLeast(3, 29)) {
    PagingParams paging;
    paging.allow_offset = true;
    std::vector<std::string> filters;
    for (const auto& [k, v] : req.query) {
      if (paging.Take(k, v)) continue;
      if (k == "all_tenants" && req.ctx.is_admin) {
        q.all_tenants = true;
        continue;
      }
      filters.push_back(k);
      q.filters[k] = v;
    }
    if (Status st = paging.Finish(); !st.ok()) return FaultFrom(st);
    if (req.version.AtLeast(3, 31)) {
      if (Status st = CheckConfiguredFilters(options, req, "group_snapshot", filters); !st.ok()) return FaultFrom(st);
    }
    q.limit = paging.limit;
    q.marker = paging.marker;
    q.offset = paging.offset;
    q.sort = paging.sort;
  }
  auto snaps = volumes.ListGroupSnapshots(req.ctx, q);
  if (!snaps.ok()) return FaultFrom(snaps.status());
  JsonWriter w;
  w.BeginObject().Key("group_snapshots").BeginArray();
  for (const auto& g : *snaps) {
    if (detail) {
      WriteDetail(w, volumes, req, g);
    } else {
      WriteSummary(w, g, /*with_type=*/false);
    }
  }
  w.EndArray();
  const int64_t limit = q.limit < 0 ? options.osapi_max_limit : std::min<int64_t>(q.limit, options.osapi_max_limit);
  WriteNextLink(w, req, "group_snapshot_links", detail ? "group_snapshots/detail" : "group_snapshots", limit,
                snaps->size(), snaps->empty() ? "" : snaps->back().id);
  w.EndObject();
  return Json(200, w.Take());
}

ApiResponse Action(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (body->size() == 1 && body->Find("reset_status") && req.version.AtLeast(3, 19)) {
    const json::Value& r = Get(*body, "reset_status");
    if (!r.is_object()) return FaultFrom(FieldError("reset_status", r, PyRepr(r) + " is not of type 'object'"));
    if (Status st = OnlyKeys(r, {"status"}); !st.ok()) return FaultFrom(FieldError("reset_status", r, st.message()));
    const json::Value* status = r.Find("status");
    if (!status) return FaultFrom(FieldError("reset_status", r, "'status' is a required property"));
    if (!status->is_string()) {
      return FaultFrom(FieldError("status", *status, PyRepr(*status) + " is not of type 'string'"));
    }
    const std::string s = status->as_string();
    if (Trim(s).empty()) return Fault(400, "Invalid GroupSnapshot Status: The 'status' can not be empty.");
    static const std::set<std::string> kValid = {"error",   "available", "creating",      "deleting",
                                                 "deleted", "updating",  "error_deleting"};
    if (!kValid.count(ToLower(s))) {
      return Fault(400, "Invalid GroupSnapshot Status: Group snapshot status: " + s +
                            " is invalid, valid statuses are: " + kStatusTuple + ".");
    }
    Status st = volumes.ResetGroupSnapshotStatus(req.ctx, id, ToLower(s));
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  std::string action = body->size() ? body->as_object().begin()->first : "";
  if (action == "reset_status") return Fault(404, kNotFound);  // before 3.19
  return Fault(
      400, "There is no such action: " + action + ". Verify the request body and Content-Type header and try again.");
}

}  // namespace

ApiResponse HandleGroupSnapshots(const Options& options, VolumeManager& volumes, ApiRequest& req,
                                 const std::vector<std::string>& rest) {
  // @api_version(3.14): below it Cinder answers as for no method at all.
  if (!req.version.AtLeast(3, 14)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, volumes, req, /*detail=*/false);
    if (m == "POST") return Create(volumes, req);
    return Fault(405, kNotAllowed);
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (id == "detail" && m == "GET") return List(options, volumes, req, /*detail=*/true);
    if (m == "GET") {
      auto g = volumes.GetGroupSnapshot(req.ctx, id);
      if (!g.ok()) return FaultFrom(g.status());
      JsonWriter w;
      w.BeginObject().Key("group_snapshot");
      WriteDetail(w, volumes, req, *g);
      w.EndObject();
      return Json(200, w.Take());
    }
    if (m == "DELETE") {
      Status st = volumes.DeleteGroupSnapshot(req.ctx, id);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, kNotAllowed);
  }
  if (rest.size() == 2 && rest[1] == "action") {
    if (m == "POST") return Action(volumes, req, id);
    return Fault(405, kNotAllowed);
  }
  return Fault(404, kNotFound);
}

}  // namespace cinder::api
