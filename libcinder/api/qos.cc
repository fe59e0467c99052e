// /v3/{project_id}/qos-specs: QoS specs and their associations (contrib/qos_specs_manage.py).
#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

void WriteQos(JsonWriter& w, const QosSpecs& q) {
  w.BeginObject();
  w.Key("id").String(q.id);
  w.Key("name").String(q.name);
  w.Key("consumer").String(q.consumer);
  w.Key("specs");
  WriteStringMap(w, q.specs);
  w.EndObject();
}

ApiResponse QosBody(const ApiRequest& req, const QosSpecs& q) {
  JsonWriter w;
  w.BeginObject().Key("qos_specs");
  WriteQos(w, q);
  WriteLinks(w, LinkPrefixes(req, "qos-specs"), q.id);
  w.EndObject();
  return Json(200, w.Take());
}

// {"qos_specs": {...}} with string values (and, for a create, "name").
Result<json::Value> QosMember(const ApiRequest& req) {
  CINDER_ASSIGN_OR_RETURN(json::Value body, ParseBody(req));
  CINDER_ASSIGN_OR_RETURN(const json::Value* specs, Member(body, "qos_specs"));
  return *specs;
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto o = QosMember(req);
  if (!o.ok()) return FaultFrom(o.status());
  auto name = OptString(*o, "name", /*nullable=*/false);
  if (!name.ok()) return FaultFrom(name.status());
  if (!*name) return Fault(400, "'name' is a required property");
  json::Value rest = json::Value::MakeObject();
  for (const auto& [k, v] : o->as_object()) {
    if (k != "name") rest.Set(k, v);
  }
  auto specs = ParseMetadata(rest, "qos_specs");
  if (!specs.ok()) return FaultFrom(specs.status());
  auto created = volumes.CreateQosSpecs(req.ctx, **name, *specs);
  return created.ok() ? QosBody(req, *created) : FaultFrom(created.status());
}

ApiResponse SetKeys(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto o = QosMember(req);
  if (!o.ok()) return FaultFrom(o.status());
  auto specs = ParseMetadata(*o, "qos_specs");
  if (!specs.ok()) return FaultFrom(specs.status());
  auto set = volumes.SetQosSpecsKeys(req.ctx, id, *specs);
  if (!set.ok()) return FaultFrom(set.status());
  JsonWriter w;
  w.BeginObject().Key("qos_specs");
  WriteStringMap(w, *set);
  w.EndObject();
  return Json(200, w.Take());
}

ApiResponse DeleteKeys(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  const json::Value* keys = body->Find("keys");
  if (!keys) return Fault(400, "'keys' is a required property");
  if (!keys->is_array()) return FaultFrom(FieldError("keys", *keys, PyRepr(*keys) + " is not of type 'array'"));
  std::vector<std::string> names;
  for (const auto& k : keys->as_array()) {
    if (!k.is_string()) return FaultFrom(FieldError("keys", *keys, PyRepr(k) + " is not of type 'string'"));
    names.push_back(k.as_string());
  }
  Status st = volumes.DeleteQosSpecsKeys(req.ctx, id, names);
  return st.ok() ? Json(202, "") : FaultFrom(st);
}

}  // namespace

ApiResponse HandleQosSpecs(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "POST") return Create(volumes, req);
    if (m != "GET") return Fault(405, "The method is not allowed.");
    auto all = volumes.ListQosSpecs(req.ctx);
    if (!all.ok()) return FaultFrom(all.status());
    JsonWriter w;
    w.BeginObject().Key("qos_specs").BeginArray();
    for (const auto& q : *all) WriteQos(w, q);
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto q = volumes.GetQosSpecs(req.ctx, id);
      return q.ok() ? QosBody(req, *q) : FaultFrom(q.status());
    }
    if (m == "PUT") return SetKeys(volumes, req, id);
    if (m == "DELETE") {
      auto force = QueryBool(req, "force");
      if (!force.ok()) return FaultFrom(force.status());
      Status st = volumes.DeleteQosSpecs(req.ctx, id, *force);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() != 2) return Fault(404, "The resource could not be found.");
  const std::string& what = rest[1];
  if (what == "delete_keys")
    return m == "PUT" ? DeleteKeys(volumes, req, id) : Fault(405, "The method is not allowed.");
  if (m != "GET") return Fault(405, "The method is not allowed.");
  if (what == "associations") {
    auto types = volumes.QosSpecsAssociations(req.ctx, id);
    if (!types.ok()) return FaultFrom(types.status());
    JsonWriter w;
    w.BeginObject().Key("qos_associations").BeginArray();
    for (const auto& [type_id, name] : *types) {
      w.BeginObject().Key("association_type").String("volume_type").Key("name").String(name).Key("id").String(type_id);
      w.EndObject();
    }
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  if (what == "associate" || what == "disassociate") {
    auto type_id = req.Query("vol_type_id");
    if (!type_id || type_id->empty()) return Fault(400, "Volume Type id must not be None.");
    Status st = what == "associate" ? volumes.AssociateQosSpecs(req.ctx, id, *type_id)
                                    : volumes.DisassociateQosSpecs(req.ctx, id, *type_id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (what == "disassociate_all") {
    Status st = volumes.DisassociateQosSpecs(req.ctx, id, std::nullopt);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
