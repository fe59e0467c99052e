// /v3/{project_id}/types: volume types and their extra specs (cinder/api/v3/types.py,
// contrib/types_manage.py, contrib/types_extra_specs.py).
#include <algorithm>

#include "api/common.h"
#include "api/filters.h"
#include "api/metadata.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// What the type views show the caller (cinder/api/v3/views/types.py and the type access
// extension), each as its rule says (asked with no target: the caller's own project).
struct TypeView {
  bool extra_specs = false;  // volume_extension:access_types_extra_specs
  bool sensitive = false;    // volume_extension:types_extra_specs:read_sensitive: all of them
  bool qos = false;          // volume_extension:access_types_qos_specs_id
  bool access = false;       // volume_extension:volume_type_access: os-volume-type-access:is_public
};

TypeView TypeViewFor(const VolumeManager& volumes, const ApiRequest& req) {
  auto allowed = [&](const char* rule) { return volumes.Authorize(req.ctx, rule, {}).ok(); };
  return {allowed("volume_extension:access_types_extra_specs"),
          allowed("volume_extension:types_extra_specs:read_sensitive"),
          allowed("volume_extension:access_types_qos_specs_id"), allowed("volume_extension:volume_type_access")};
}

// All of them, or (not `sensitive`) only those any user may read.
void WriteExtraSpecs(JsonWriter& w, const VolumeType& t, bool sensitive) {
  if (sensitive) {
    WriteStringMap(w, t.extra_specs);
    return;
  }
  Metadata visible;
  for (const char* key : kUserVisibleExtraSpecs) {
    if (auto it = t.extra_specs.find(key); it != t.extra_specs.end()) visible.insert(*it);
  }
  WriteStringMap(w, visible);
}

void WriteType(JsonWriter& w, const TypeView& view, const VolumeType& t) {
  w.BeginObject();
  w.Key("id").String(t.id);
  w.Key("name").String(t.name);
  w.Key("is_public").Bool(t.is_public);
  w.Key("description");
  t.description ? w.String(*t.description) : w.Null();
  if (view.extra_specs) {
    w.Key("extra_specs");
    WriteExtraSpecs(w, t, view.sensitive);
  }
  if (view.qos) {
    w.Key("qos_specs_id");
    t.qos_specs_id ? w.String(*t.qos_specs_id) : w.Null();
  }
  if (view.access) w.Key("os-volume-type-access:is_public").Bool(t.is_public);
  w.EndObject();
}

// What POST and PUT /types answer: types_manage.py's older view (cinder/api/views/types.py:
// every extra spec, no qos_specs_id), with os-volume-type-access:is_public on a create only
// (the access extension extends `create`, not `update`).
ApiResponse ManagedTypeBody(const VolumeManager& volumes, const ApiRequest& req, const VolumeType& t, bool created) {
  TypeView view;
  view.extra_specs = view.sensitive = true;
  view.access = created && volumes.Authorize(req.ctx, "volume_extension:volume_type_access", {}).ok();
  JsonWriter w;
  w.BeginObject().Key("volume_type");
  WriteType(w, view, t);
  w.EndObject();
  return Json(200, w.Take());
}

ApiResponse TypeBody(const VolumeManager& volumes, const ApiRequest& req, const VolumeType& t) {
  JsonWriter w;
  w.BeginObject().Key("volume_type");
  WriteType(w, TypeViewFor(volumes, req), t);
  w.EndObject();
  return Json(200, w.Take());
}

// Keys a resource body may hold; anything else is Cinder's additionalProperties error.
Status OnlyKeys(const json::Value& o, std::initializer_list<const char*> allowed) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) extra.push_back(k);
  }
  if (extra.empty()) return Status::OK();
  std::string list;
  for (const auto& k : extra) list += (list.empty() ? "'" : ", '") + k + "'";
  return InvalidArgument("Additional properties are not allowed (" + list + (extra.size() == 1 ? " was" : " were") +
                         " unexpected)");
}

// Whether type `t` has every extra spec of `wanted` (RESKEY:availability_zones as a substring
// of its comma-separated zones, as Cinder's LIKE).
bool HasExtraSpecs(const VolumeType& t, const Metadata& wanted) {
  for (const auto& [k, v] : wanted) {
    auto it = t.extra_specs.find(k);
    if (it == t.extra_specs.end()) return false;
    if (k == "RESKEY:availability_zones" ? it->second.find(v) == std::string::npos : it->second != v) return false;
  }
  return true;
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req) {
  // cinder/api/v3/types.py's _get_volume_types. From 3.52 the filters are Cinder's general
  // ones (a non-admin's limited to resource_query_filters_file's "volume_type": is_public,
  // extra_specs); before, a non-admin's other filters are dropped. An admin's filter on a
  // column (id, name, description, qos_specs_id) matches it exactly, on anything else nothing.
  const bool general = req.version.AtLeast(3, 52);
  PagingParams paging;
  paging.allow_offset = true;
  std::vector<std::string> filters;
  std::optional<Metadata> extra_specs;
  Metadata exact;
  bool match_nothing = false;
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) continue;
    filters.push_back(k);
    if (k == "is_public" || (!general && !req.ctx.is_admin)) continue;
    if (k == "extra_specs") {
      if (!general) continue;
      auto specs = ParseMetadataFilter(v);
      if (!specs.ok()) return FaultFrom(specs.status());
      extra_specs = *specs;
    } else if (k == "id" || k == "name" || k == "description" || k == "qos_specs_id") {
      exact[k] = v;
    } else {
      match_nothing = true;
    }
  }
  if (Status st = paging.Finish(); !st.ok()) return FaultFrom(st);
  if (general) {
    if (Status st = CheckConfiguredFilters(options, req, "volume_type", filters); !st.ok()) return FaultFrom(st);
  }
  auto is_public = ParseIsPublic(req);
  if (!is_public.ok()) return FaultFrom(is_public.status());
  const TypeView view = TypeViewFor(volumes, req);
  // A filter on extra specs the caller may not read finds nothing, as in Cinder (dropping it
  // would list types that may not match).
  if (extra_specs && !view.sensitive) {
    for (const auto& [k, v] : *extra_specs) {
      if (std::find(std::begin(kUserVisibleExtraSpecs), std::end(kUserVisibleExtraSpecs), k) ==
          std::end(kUserVisibleExtraSpecs)) {
        match_nothing = true;
      }
    }
  }
  std::vector<VolumeType> kept;
  if (!match_nothing) {
    auto types = volumes.ListVolumeTypes(req.ctx, *is_public);
    if (!types.ok()) return FaultFrom(types.status());
    for (VolumeType& t : *types) {
      if (extra_specs && !HasExtraSpecs(t, *extra_specs)) continue;
      auto column = [&t](const std::string& k) -> std::optional<std::string> {
        if (k == "id") return t.id;
        if (k == "name") return t.name;
        if (k == "description") return t.description;
        return t.qos_specs_id;
      };
      bool all = true;
      for (const auto& [k, v] : exact) all = all && column(k) == v;
      if (all) kept.push_back(std::move(t));
    }
  }
  auto value = [](const VolumeType& t, const std::string& k) -> std::optional<std::string> {
    if (k == "id") return t.id;
    if (k == "name") return t.name;
    if (k == "description") return t.description;
    if (k == "is_public") return std::string(t.is_public ? "1" : "0");
    if (k == "qos_specs_id") return t.qos_specs_id;
    return t.created_at;
  };
  auto page = PageInMemory(std::move(kept), paging, options.osapi_max_limit,
                           {"id", "name", "description", "is_public", "created_at", "qos_specs_id"}, value,
                           [&](const std::string& id) { return volumes.GetVolumeType(req.ctx, id); });
  if (!page.ok()) return FaultFrom(page.status());
  JsonWriter w;
  w.BeginObject().Key("volume_types").BeginArray();
  for (const auto& t : *page) WriteType(w, view, t);
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto type = Member(*body, "volume_type");
  if (!type.ok()) return FaultFrom(type.status());
  const json::Value& o = **type;
  Status st = OnlyKeys(o, {"name", "description", "extra_specs", "os-volume-type-access:is_public"});
  if (!st.ok()) return FaultFrom(st);
  auto fields = ParseTypeFields(o, "extra_specs", "os-volume-type-access:is_public");
  if (!fields.ok()) return FaultFrom(fields.status());
  VolumeType t;
  t.name = fields->name;
  t.description = fields->description;
  if (fields->specs) t.extra_specs = *fields->specs;
  if (fields->is_public) t.is_public = *fields->is_public;
  auto created = volumes.CreateVolumeType(req.ctx, t);
  return created.ok() ? ManagedTypeBody(volumes, req, *created, /*created=*/true) : FaultFrom(created.status());
}

ApiResponse Update(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto type = Member(*body, "volume_type");
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
  auto updated = volumes.UpdateVolumeType(req.ctx, id, *name, *desc, is_public);
  return updated.ok() ? ManagedTypeBody(volumes, req, *updated, /*created=*/false) : FaultFrom(updated.status());
}

// /types/{id}/extra_specs[/{key}]
ApiResponse ExtraSpecs(VolumeManager& volumes, ApiRequest& req, const std::string& id,
                       const std::optional<std::string>& key) {
  const std::string& m = req.method;
  if (m == "GET") {
    auto specs = volumes.GetVolumeTypeExtraSpecs(req.ctx, id, key);
    if (!specs.ok()) return FaultFrom(specs.status());
    if (!key) return Json(200, MetadataBody("extra_specs", *specs));
    JsonWriter w;
    w.BeginObject().Key(*key).String(specs->at(*key)).EndObject();
    return Json(200, w.Take());
  }
  if ((m == "POST" && !key) || (m == "PUT" && key)) {
    auto body = ParseBody(req);
    if (!body.ok()) return FaultFrom(body.status());
    const json::Value* specs_value;
    if (!key) {
      specs_value = body->Find("extra_specs");
      if (!specs_value) return Fault(400, "'extra_specs' is a required property");
    } else {
      if (body->size() > 1) return Fault(400, "Request body contains too many items");
      if (!body->Find(*key)) return Fault(400, "Request body and URI mismatch");
      specs_value = &*body;
    }
    auto specs = ParseMetadata(*specs_value, "extra_specs");
    if (!specs.ok()) return FaultFrom(specs.status());
    if (key) {
      Status st = volumes.UpdateVolumeTypeExtraSpec(req.ctx, id, *key, specs->at(*key));
      if (!st.ok()) return FaultFrom(st);
      JsonWriter w;
      w.BeginObject().Key(*key).String(specs->at(*key)).EndObject();
      return Json(200, w.Take());
    }
    auto set = volumes.SetVolumeTypeExtraSpecs(req.ctx, id, *specs);
    return set.ok() ? Json(200, MetadataBody("extra_specs", *set)) : FaultFrom(set.status());
  }
  if (m == "DELETE" && key) {
    Status st = volumes.DeleteVolumeTypeExtraSpec(req.ctx, id, *key);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(405, "The method is not allowed.");
}

// POST /types/{id}/action: addProjectAccess / removeProjectAccess {"project": P}.
ApiResponse TypeAction(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  for (const char* action : {"addProjectAccess", "removeProjectAccess"}) {
    if (!body->Find(action)) continue;
    auto arg = Member(*body, action);
    if (!arg.ok()) return FaultFrom(arg.status());
    auto project = OptString(**arg, "project", /*nullable=*/false);
    if (!project.ok()) return FaultFrom(project.status());
    if (!*project || Trim(**project).empty()) return Fault(400, "'project' is a required property");
    Status st = std::string(action) == "addProjectAccess" ? volumes.AddVolumeTypeAccess(req.ctx, id, **project)
                                                          : volumes.RemoveVolumeTypeAccess(req.ctx, id, **project);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(400, "Invalid input received: Unknown action");
}

ApiResponse TypeAccess(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  if (req.method != "GET") return Fault(405, "The method is not allowed.");
  auto projects = volumes.ListVolumeTypeAccess(req.ctx, id);
  if (!projects.ok()) return FaultFrom(projects.status());
  JsonWriter w;
  w.BeginObject().Key("volume_type_access").BeginArray();
  for (const auto& p : *projects) {
    w.BeginObject().Key("volume_type_id").String(id).Key("project_id").String(p).EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleTypes(const Options& options, VolumeManager& volumes, ApiRequest& req,
                        const std::vector<std::string>& rest) {
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, volumes, req);
    if (m == "POST") return Create(volumes, req);
    return Fault(405, "The method is not allowed.");
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto t = volumes.GetVolumeType(req.ctx, id);
      return t.ok() ? TypeBody(volumes, req, *t) : FaultFrom(t.status());
    }
    if (m == "PUT") return Update(volumes, req, id);
    if (m == "DELETE") {
      Status st = volumes.DeleteVolumeType(req.ctx, id);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "action" && rest.size() == 2) {
    return m == "POST" ? TypeAction(volumes, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "os-volume-type-access" && rest.size() == 2) return TypeAccess(volumes, req, id);
  if (rest[1] == "encryption" && rest.size() <= 3) {
    return HandleTypeEncryption(volumes, req, id,
                                rest.size() == 3 ? std::optional<std::string>(rest[2]) : std::nullopt);
  }
  if (rest[1] == "extra_specs" && rest.size() <= 3) {
    return ExtraSpecs(volumes, req, id, rest.size() == 3 ? std::optional<std::string>(rest[2]) : std::nullopt);
  }
  return Fault(404, "The resource could not be found.");
}

// /default-types[/{project_id}] (3.62): projects' own default types.
ApiResponse HandleDefaultTypes(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (!req.version.AtLeast(3, 62) || rest.size() > 1) return Fault(404, "The resource could not be found.");
  auto view = [](JsonWriter& w, const std::string& project, const std::string& type_id) {
    w.BeginObject().Key("project_id").String(project).Key("volume_type_id").String(type_id).EndObject();
  };
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m != "GET") return Fault(405, "The method is not allowed.");
    auto all = volumes.ListDefaultVolumeTypes(req.ctx);
    if (!all.ok()) return FaultFrom(all.status());
    JsonWriter w;
    w.BeginObject().Key("default_types").BeginArray();
    for (const auto& [project, type_id] : *all) view(w, project, type_id);
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  const std::string& project = rest[0];
  auto show = [&]() {
    auto type_id = volumes.GetDefaultVolumeType(req.ctx, project);
    if (!type_id.ok()) return FaultFrom(type_id.status());
    JsonWriter w;
    w.BeginObject().Key("default_type");
    view(w, project, *type_id);
    w.EndObject();
    return Json(200, w.Take());
  };
  if (m == "GET") return show();
  if (m == "PUT") {
    auto body = ParseBody(req);
    if (!body.ok()) return FaultFrom(body.status());
    auto o = Member(*body, "default_type");
    if (!o.ok()) return FaultFrom(o.status());
    auto type = OptString(**o, "volume_type", /*nullable=*/false);
    if (!type.ok()) return FaultFrom(type.status());
    if (!*type) return Fault(400, "'volume_type' is a required property");
    Status st = volumes.SetDefaultVolumeType(req.ctx, project, **type);
    return st.ok() ? show() : FaultFrom(st);
  }
  if (m == "DELETE") {
    Status st = volumes.UnsetDefaultVolumeType(req.ctx, project);
    return st.ok() ? Json(204, "") : FaultFrom(st);
  }
  return Fault(405, "The method is not allowed.");
}

}  // namespace cinder::api
