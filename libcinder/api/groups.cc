// /v3/{project_id}/group_types (3.11): group types and their group specs
// (cinder/api/v3/group_types.py, group_specs.py, views/group_types.py); /groups (3.13):
// generic volume groups (cinder/api/v3/groups.py, views/groups.py).
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

// views/group_types.py: group_specs only for group:access_group_types_specs.
void WriteGroupType(JsonWriter& w, bool specs, const GroupType& t) {
  w.BeginObject();
  w.Key("id").String(t.id);
  w.Key("name").String(t.name);
  w.Key("description");
  t.description ? w.String(*t.description) : w.Null();
  w.Key("is_public").Bool(t.is_public);
  if (specs) {
    w.Key("group_specs");
    WriteStringMap(w, t.group_specs);
  }
  w.EndObject();
}

bool MayReadSpecs(VolumeManager& volumes, const ApiRequest& req) {
  return volumes.Authorize(req.ctx, "group:access_group_types_specs", {}).ok();
}

ApiResponse GroupTypeBody(VolumeManager& volumes, const ApiRequest& req, int status, const GroupType& t) {
  JsonWriter w;
  w.BeginObject().Key("group_type");
  WriteGroupType(w, MayReadSpecs(volumes, req), t);
  w.EndObject();
  return Json(status, w.Take());
}

// Keys outside `allowed`: jsonschema's additionalProperties message.
Status OnlyKeys(const json::Value& o, std::initializer_list<const char*> allowed) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) extra.push_back(k);
  }
  return extra.empty() ? Status::OK() : InvalidArgument(Unexpected(extra));
}

// schemas/group_specs.py: keys ^[a-zA-Z0-9-_:.]{1,255}$ (no spaces), values strings up to
// 255 characters (a null is kept as an empty string). `field` is the object's name in its
// body, empty when it is the body (jsonschema's messages then name no field).
Result<Metadata> ParseGroupSpecs(const json::Value& v, const std::string& field) {
  if (!v.is_object()) return FieldError(field, v, PyRepr(v) + " is not of type 'object'");
  std::vector<std::string> bad;
  for (const auto& [k, val] : v.as_object()) {
    if (!ValidMetadataKey(k) || k.find_first_of(" /") != std::string::npos) bad.push_back(k);
  }
  if (!bad.empty()) return field.empty() ? InvalidArgument(Unexpected(bad)) : FieldError(field, v, Unexpected(bad));
  Metadata md;
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_null()) {
      md[k] = "";
      continue;
    }
    if (!val.is_string()) return FieldError(k, val, PyRepr(val) + " is not of type 'string', 'null'");
    if (val.as_string().size() > 255) return FieldError(k, val, PyRepr(val) + " is too long");
    md[k] = val.as_string();
  }
  return md;
}

ApiResponse ListGroupTypes(const Options& options, VolumeManager& volumes, ApiRequest& req) {
  // cinder/api/v3/group_types.py's _get_group_types: is_public (admins only), paging and
  // sorting; no other filter.
  PagingParams paging;
  paging.allow_offset = true;
  for (const auto& [k, v] : req.query) paging.Take(k, v);
  if (Status st = paging.Finish(); !st.ok()) return FaultFrom(st);
  auto is_public = ParseIsPublic(req);
  if (!is_public.ok()) return FaultFrom(is_public.status());
  auto types = volumes.ListGroupTypes(req.ctx, *is_public);
  if (!types.ok()) return FaultFrom(types.status());
  auto value = [](const GroupType& t, const std::string& k) -> std::optional<std::string> {
    if (k == "id") return t.id;
    if (k == "name") return t.name;
    if (k == "description") return t.description;
    if (k == "is_public") return std::string(t.is_public ? "1" : "0");
    return t.created_at;
  };
  auto page = PageInMemory(std::move(*types), paging, options.osapi_max_limit,
                           {"id", "name", "description", "is_public", "created_at"}, value,
                           [&](const std::string& id) { return volumes.GetGroupType(req.ctx, id); });
  if (!page.ok()) return FaultFrom(page.status());
  const bool specs = MayReadSpecs(volumes, req);
  JsonWriter w;
  w.BeginObject().Key("group_types").BeginArray();
  for (const auto& t : *page) WriteGroupType(w, specs, t);
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

ApiResponse CreateGroupType(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto type = Member(*body, "group_type");
  if (!type.ok()) return FaultFrom(type.status());
  const json::Value& o = **type;
  Status st = OnlyKeys(o, {"name", "description", "is_public", "group_specs"});
  if (!st.ok()) return FaultFrom(st);
  auto fields = ParseTypeFields(o, "group_specs", "is_public");
  if (!fields.ok()) return FaultFrom(fields.status());
  GroupType t;
  t.name = fields->name;
  t.description = fields->description;
  if (fields->specs) t.group_specs = *fields->specs;
  if (fields->is_public) t.is_public = *fields->is_public;
  auto created = volumes.CreateGroupType(req.ctx, t);
  return created.ok() ? GroupTypeBody(volumes, req, 202, *created) : FaultFrom(created.status());
}

ApiResponse UpdateGroupType(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto type = Member(*body, "group_type");
  if (!type.ok()) return FaultFrom(type.status());
  const json::Value& o = **type;
  Status st = OnlyKeys(o, {"name", "description", "is_public"});
  if (!st.ok()) return FaultFrom(st);
  auto name = OptString(o, "name", /*nullable=*/true);
  if (!name.ok()) return FaultFrom(name.status());
  auto desc = OptString(o, "description", /*nullable=*/true);
  if (!desc.ok()) return FaultFrom(desc.status());
  std::optional<bool> is_public;
  if (!Get(o, "is_public").is_null()) {
    auto b = BodyBool("is_public", Get(o, "is_public"));
    if (!b.ok()) return FaultFrom(b.status());
    is_public = *b;
  }
  auto updated = volumes.UpdateGroupType(req.ctx, id, *name, *desc, is_public);
  return updated.ok() ? GroupTypeBody(volumes, req, 200, *updated) : FaultFrom(updated.status());
}

// /group_types/{id}/group_specs[/{key}]
ApiResponse GroupSpecs(VolumeManager& volumes, ApiRequest& req, const std::string& id,
                       const std::optional<std::string>& key) {
  const std::string& m = req.method;
  if (m == "GET") {
    auto specs = volumes.GetGroupTypeSpecs(req.ctx, id, key);
    if (!specs.ok()) return FaultFrom(specs.status());
    if (key) {
      JsonWriter w;
      w.BeginObject().Key(*key).String(specs->at(*key)).EndObject();
      return Json(200, w.Take());
    }
    JsonWriter w;
    w.BeginObject().Key("group_specs");
    WriteStringMap(w, *specs);
    w.EndObject();
    return Json(200, w.Take());
  }
  if ((m == "POST" && !key) || (m == "PUT" && key)) {
    auto body = ParseBody(req);
    if (!body.ok()) return FaultFrom(body.status());
    Result<Metadata> specs = Metadata{};
    if (!key) {
      Status st = OnlyKeys(*body, {"group_specs"});
      if (!st.ok()) return FaultFrom(st);
      const json::Value* v = body->Find("group_specs");
      if (!v) return Fault(400, "'group_specs' is a required property");
      specs = ParseGroupSpecs(*v, "group_specs");
    } else {
      if (body->size() > 1) return Fault(400, PyRepr(*body) + " has too many properties");
      if (body->size() == 0) return Fault(400, "{} does not have enough properties");
      specs = ParseGroupSpecs(*body, "");
      if (specs.ok() && !specs->count(*key)) return Fault(400, "Request body and URI mismatch");
    }
    if (!specs.ok()) return FaultFrom(specs.status());
    Status st = volumes.SetGroupTypeSpecs(req.ctx, id, *specs, /*update=*/key.has_value());
    if (!st.ok()) return FaultFrom(st);
    JsonWriter w;  // the body as it came (Cinder returns it)
    if (!key) w.BeginObject().Key("group_specs");
    WriteStringMap(w, *specs);
    if (!key) w.EndObject();
    return Json(key ? 200 : 202, w.Take());
  }
  if (m == "DELETE" && key) {
    Status st = volumes.DeleteGroupTypeSpec(req.ctx, id, *key);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(405, kNotAllowed);
}

}  // namespace

ApiResponse HandleGroupTypes(const Options& options, VolumeManager& volumes, ApiRequest& req,
                             const std::vector<std::string>& rest) {
  // Every method is @api_version(3.11): below it Cinder answers as for no method at all.
  if (!req.version.AtLeast(3, 11)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return ListGroupTypes(options, volumes, req);
    if (m == "POST") return CreateGroupType(volumes, req);
    return Fault(405, kNotAllowed);
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto t = volumes.GetGroupType(req.ctx, id);
      return t.ok() ? GroupTypeBody(volumes, req, 200, *t) : FaultFrom(t.status());
    }
    if (m == "PUT") return UpdateGroupType(volumes, req, id);
    if (m == "DELETE") {
      Status st = volumes.DeleteGroupType(req.ctx, id);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, kNotAllowed);
  }
  if (rest[1] == "group_specs" && rest.size() <= 3) {
    return GroupSpecs(volumes, req, id, rest.size() == 3 ? std::optional<std::string>(rest[2]) : std::nullopt);
  }
  return Fault(404, kNotFound);
}

// ---- groups (3.13) ---------------------------------------------------------------------------

namespace {

// Cinder's GroupStatus.ALL, as its reset_status message prints the tuple.
const char kGroupStatusTuple[] =
    "('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting')";

void WriteGroupSummary(JsonWriter& w, const VolumeGroup& g) {
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("name").OptString(g.name);
  w.EndObject();
}

// views/groups.py detail.
void WriteGroupDetail(JsonWriter& w, VolumeManager& volumes, const ApiRequest& req, const VolumeGroup& g) {
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("status").String(g.status);
  w.Key("availability_zone").String(g.availability_zone);
  w.Key("created_at").String(g.created_at);
  w.Key("name").OptString(g.name);
  w.Key("description").OptString(g.description);
  w.Key("group_type").String(g.group_type_id);
  w.Key("volume_types").BeginArray();
  for (const auto& t : g.volume_type_ids) w.String(t);
  w.EndArray();
  if (req.version.AtLeast(3, 14)) {
    w.Key("group_snapshot_id").OptString(g.group_snapshot_id);
    w.Key("source_group_id").OptString(g.source_group_id);
  }
  if (req.version.AtLeast(3, 25)) {
    auto lv = req.Query("list_volume");
    auto on = lv ? ParseBool("list_volume", *lv) : Result<bool>(false);
    if (on.ok() && *on) {
      w.Key("volumes").BeginArray();
      for (const auto& v : g.volume_ids) w.String(v);
      w.EndArray();
    }
  }
  if (req.version.AtLeast(3, 38)) w.Key("replication_status").String("disabled");
  if (req.version.AtLeast(3, 58) && volumes.Authorize(req.ctx, "group:group_project_attribute", {}).ok()) {
    w.Key("project_id").String(g.project_id);
  }
  w.EndObject();
}

ApiResponse GroupSummaryBody(int status, const VolumeGroup& g) {
  JsonWriter w;
  w.BeginObject().Key("group");
  WriteGroupSummary(w, g);
  w.EndObject();
  return Json(status, w.Take());
}

// The string fields of a group body (parameter_types.name_allow_zero_min_length and
// description: strings or null up to 255), stripped as the controller does.
Result<std::optional<std::string>> GroupString(const json::Value& o, const std::string& key) {
  CINDER_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(o, key, /*nullable=*/true));
  if (v && !v->empty()) v = Trim(*v);
  return v;
}

ApiResponse CreateGroup(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (Status st = OnlyKeys(*body, {"group"}); !st.ok()) return FaultFrom(st);
  auto group = Member(*body, "group");
  if (!group.ok()) return FaultFrom(group.status());
  const json::Value& o = **group;
  if (Status st = OnlyKeys(o, {"name", "description", "group_type", "volume_types", "availability_zone"}); !st.ok()) {
    return FaultFrom(FieldError("group", o, st.message()));
  }
  for (const char* k : {"group_type", "volume_types"}) {
    if (!o.Find(k)) return FaultFrom(FieldError("group", o, std::string("'") + k + "' is a required property"));
  }
  GroupCreate c;
  auto name = GroupString(o, "name");
  if (!name.ok()) return FaultFrom(name.status());
  c.name = *name;
  auto desc = GroupString(o, "description");
  if (!desc.ok()) return FaultFrom(desc.status());
  c.description = *desc;
  const json::Value& gt = Get(o, "group_type");
  if (!gt.is_string()) return FaultFrom(FieldError("group_type", gt, PyRepr(gt) + " is not of type 'string'"));
  c.group_type = gt.as_string();
  const json::Value& vts = Get(o, "volume_types");
  if (!vts.is_array()) return FaultFrom(FieldError("volume_types", vts, PyRepr(vts) + " is not of type 'array'"));
  if (vts.as_array().empty()) return FaultFrom(FieldError("volume_types", vts, "[] is too short"));
  std::set<std::string> seen;
  for (const auto& t : vts.as_array()) {
    if (!t.is_string()) return FaultFrom(FieldError("volume_types", vts, PyRepr(t) + " is not of type 'string'"));
    if (t.as_string().size() > 255) return FaultFrom(FieldError("volume_types", vts, PyRepr(t) + " is too long"));
    if (!seen.insert(t.as_string()).second) {
      return FaultFrom(FieldError("volume_types", vts, PyRepr(vts) + " has non-unique elements"));
    }
    c.volume_types.push_back(t.as_string());
  }
  auto az = OptString(o, "availability_zone", /*nullable=*/true);
  if (!az.ok()) return FaultFrom(az.status());
  c.availability_zone = *az;
  auto created = volumes.CreateGroup(req.ctx, c);
  return created.ok() ? GroupSummaryBody(202, *created) : FaultFrom(created.status());
}

// POST /groups/action {"create-from-src": {...}} (3.14, schemas/groups.py create_from_source).
ApiResponse CreateGroupFromSource(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (Status st = OnlyKeys(*body, {"create-from-src"}); !st.ok()) return FaultFrom(st);
  auto src = Member(*body, "create-from-src");
  if (!src.ok()) return FaultFrom(src.status());
  const json::Value& o = **src;
  if (Status st = OnlyKeys(o, {"name", "description", "group_snapshot_id", "source_group_id"}); !st.ok()) {
    return FaultFrom(FieldError("create-from-src", o, st.message()));
  }
  GroupCreateFromSource c;
  for (auto [key, out] :
       {std::pair<const char*, std::optional<std::string>*>{"name", &c.name}, {"description", &c.description}}) {
    auto v = GroupString(o, key);
    if (!v.ok()) return FaultFrom(v.status());
    *out = *v;
  }
  for (auto [key, out] :
       {std::pair<const char*, std::optional<std::string>*>{"group_snapshot_id", &c.group_snapshot_id},
        {"source_group_id", &c.source_group_id}}) {
    const json::Value* v = o.Find(key);
    if (!v) continue;
    if (!v->is_string()) return FaultFrom(FieldError(key, *v, PyRepr(*v) + " is not of type 'string'"));
    if (!IsUuid(v->as_string())) return FaultFrom(FieldError(key, *v, PyRepr(*v) + " is not a 'uuid'"));
    *out = v->as_string();
  }
  if (c.group_snapshot_id && c.source_group_id) {
    return FaultFrom(FieldError("create-from-src", o,
                                PyRepr(o) + " is valid under each of {'required': ['group_snapshot_id']}, "
                                            "{'required': ['source_group_id']}"));
  }
  if (!c.group_snapshot_id && !c.source_group_id) {
    return FaultFrom(FieldError("create-from-src", o, PyRepr(o) + " is not valid under any of the given schemas"));
  }
  auto created = volumes.CreateGroupFromSource(req.ctx, c);
  return created.ok() ? GroupSummaryBody(202, *created) : FaultFrom(created.status());
}

ApiResponse ListGroups(const Options& options, VolumeManager& volumes, ApiRequest& req, bool detail) {
  GroupListQuery q;
  PagingParams paging;
  std::vector<std::string> filters;
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) continue;
    if (k == "list_volume") continue;
    if (k == "all_tenants") {
      if (req.ctx.is_admin) {
        q.all_tenants = true;
        continue;
      }
    }
    filters.push_back(k);
    q.filters[k] = v;
  }
  if (Status st = paging.Finish(); !st.ok()) return FaultFrom(st);
  if (Status st = CheckConfiguredFilters(options, req, "group", filters); !st.ok()) return FaultFrom(st);
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.sort = paging.sort;
  auto groups = volumes.ListGroups(req.ctx, q);
  if (!groups.ok()) return FaultFrom(groups.status());
  JsonWriter w;
  w.BeginObject().Key("groups").BeginArray();
  for (const auto& g : *groups) {
    if (!detail) {
      WriteGroupSummary(w, g);
      continue;
    }
    // The detail view lists a group's volumes (3.25, list_volume): read them per group.
    if (req.version.AtLeast(3, 25) && req.Query("list_volume")) {
      auto full = volumes.GetGroup(req.ctx, g.id);
      WriteGroupDetail(w, volumes, req, full.ok() ? *full : g);
    } else {
      WriteGroupDetail(w, volumes, req, g);
    }
  }
  w.EndArray();
  const int64_t limit = q.limit < 0 ? options.osapi_max_limit : std::min<int64_t>(q.limit, options.osapi_max_limit);
  WriteNextLink(w, req, "group_links", detail ? "groups/detail" : "groups", limit, groups->size(),
                groups->empty() ? "" : groups->back().id);
  w.EndObject();
  return Json(200, w.Take());
}

ApiResponse UpdateGroup(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (Status st = OnlyKeys(*body, {"group"}); !st.ok()) return FaultFrom(st);
  auto group = Member(*body, "group");
  if (!group.ok()) return FaultFrom(group.status());
  const json::Value& o = **group;
  if (Status st = OnlyKeys(o, {"name", "description", "add_volumes", "remove_volumes"}); !st.ok()) {
    return FaultFrom(FieldError("group", o, st.message()));
  }
  if (!o.Find("name") && !o.Find("description") && !o.Find("add_volumes") && !o.Find("remove_volumes")) {
    return FaultFrom(FieldError("group", o, PyRepr(o) + " is not valid under any of the given schemas"));
  }
  GroupUpdate u;
  for (auto [key, out] : {std::pair<const char*, std::optional<std::string>*>{"name", &u.name},
                          {"description", &u.description},
                          {"add_volumes", &u.add_volumes},
                          {"remove_volumes", &u.remove_volumes}}) {
    auto v = GroupString(o, key);
    if (!v.ok()) return FaultFrom(v.status());
    *out = *v;
  }
  Status st = volumes.UpdateGroup(req.ctx, id, u);
  return st.ok() ? Json(202, "") : FaultFrom(st);
}

ApiResponse GroupAction(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (body->size() == 1 && body->Find("delete")) {
    const json::Value& d = Get(*body, "delete");
    if (!d.is_object()) return FaultFrom(FieldError("delete", d, PyRepr(d) + " is not of type 'object'"));
    if (Status st = OnlyKeys(d, {"delete-volumes"}); !st.ok()) return FaultFrom(FieldError("delete", d, st.message()));
    bool delete_volumes = false;
    if (const json::Value* dv = d.Find("delete-volumes")) {
      auto b = BodyBool("delete-volumes", *dv);
      if (!b.ok()) return FaultFrom(b.status());
      delete_volumes = *b;
    }
    Status st = volumes.DeleteGroup(req.ctx, id, delete_volumes);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (body->size() == 1 && body->Find("reset_status")) {
    if (!req.version.AtLeast(3, 20)) return Fault(404, kNotFound);
    const json::Value& r = Get(*body, "reset_status");
    if (!r.is_object()) return FaultFrom(FieldError("reset_status", r, PyRepr(r) + " is not of type 'object'"));
    if (Status st = OnlyKeys(r, {"status"}); !st.ok()) return FaultFrom(FieldError("reset_status", r, st.message()));
    const json::Value* status = r.Find("status");
    if (!status) return FaultFrom(FieldError("reset_status", r, "'status' is a required property"));
    if (status->is_null()) return Fault(400, "The 'status' can not be None.");
    if (!status->is_string()) {
      return FaultFrom(FieldError("status", *status, PyRepr(*status) + " is not of type 'string'"));
    }
    const std::string s = status->as_string();
    if (Trim(s).empty()) return Fault(400, "Invalid Group Status: The 'status' can not be empty.");
    // Cinder's format checker takes GroupSnapshotStatus.ALL (no in-use) and names GroupStatus.ALL.
    static const std::set<std::string> kValid = {"error",   "available", "creating",      "deleting",
                                                 "deleted", "updating",  "error_deleting"};
    if (!kValid.count(ToLower(s))) {
      return Fault(400, "Invalid Group Status: Group status: " + s +
                            " is invalid, valid status are: " + kGroupStatusTuple + ".");
    }
    Status st = volumes.ResetGroupStatus(req.ctx, id, ToLower(s));
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  std::string action = body->size() ? body->as_object().begin()->first : "";
  if (action == "enable_replication" || action == "disable_replication" || action == "failover_replication" ||
      action == "list_replication_targets") {
    return Fault(404, kNotFound);  // 3.38: not offered
  }
  return Fault(
      400, "There is no such action: " + action + ". Verify the request body and Content-Type header and try again.");
}

}  // namespace

ApiResponse HandleGroups(const Options& options, VolumeManager& volumes, ApiRequest& req,
                         const std::vector<std::string>& rest) {
  // @api_version(3.13): below it Cinder answers as for no method at all.
  if (!req.version.AtLeast(3, 13)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return ListGroups(options, volumes, req, /*detail=*/false);
    if (m == "POST") return CreateGroup(volumes, req);
    return Fault(405, kNotAllowed);
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (id == "detail" && m == "GET") return ListGroups(options, volumes, req, /*detail=*/true);
    if (id == "action") {
      if (!req.version.AtLeast(3, 14)) return Fault(404, kNotFound);  // create-from-src is 3.14
      if (m != "POST") return Fault(405, kNotAllowed);
      return CreateGroupFromSource(volumes, req);
    }
    if (m == "GET") {
      auto g = volumes.GetGroup(req.ctx, id);
      if (!g.ok()) return FaultFrom(g.status());
      JsonWriter w;
      w.BeginObject().Key("group");
      WriteGroupDetail(w, volumes, req, *g);
      w.EndObject();
      return Json(200, w.Take());
    }
    if (m == "PUT") return UpdateGroup(volumes, req, id);
    return Fault(405, kNotAllowed);
  }
  if (rest.size() == 2 && rest[1] == "action") {
    if (m == "POST") return GroupAction(volumes, req, id);
    return Fault(405, kNotAllowed);
  }
  return Fault(404, kNotFound);
}

}  // namespace cinder::api
