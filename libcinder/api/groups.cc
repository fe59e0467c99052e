// /v3/{project_id}/group_types (3.11): group types and their group specs
// (cinder/api/v3/group_types.py, group_specs.py, views/group_types.py).
#include "api/common.h"
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

ApiResponse ListGroupTypes(VolumeManager& volumes, ApiRequest& req) {
  // api_utils._parse_is_public, read for admins only (others see the public types).
  std::optional<bool> is_public = true;
  if (auto p = req.Query("is_public"); p && req.ctx.is_admin) {
    if (ToLower(*p) == "none") {
      is_public.reset();
    } else {
      auto b = ParseBool("is_public", *p);
      if (!b.ok()) return Fault(400, "Invalid is_public filter [" + *p + "]");
      is_public = *b;
    }
  }
  auto types = volumes.ListGroupTypes(req.ctx, is_public);
  if (!types.ok()) return FaultFrom(types.status());
  const bool specs = MayReadSpecs(volumes, req);
  JsonWriter w;
  w.BeginObject().Key("group_types").BeginArray();
  for (const auto& t : *types) WriteGroupType(w, specs, t);
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

ApiResponse HandleGroupTypes(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  // Every method is @api_version(3.11): below it Cinder answers as for no method at all.
  if (!req.version.AtLeast(3, 11)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return ListGroupTypes(volumes, req);
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

}  // namespace cinder::api
