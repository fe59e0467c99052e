// /v3/{project_id}/volume-transfers (3.55) and /os-volume-transfer: volume transfers, as
// cinder/api/v3/volume_transfer.py and its views.
#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

void WriteTransfer(JsonWriter& w, const ApiRequest& req, const Transfer& t, bool detail, bool with_key) {
  LinkPrefixes links(req, "os-volume-transfer");
  w.BeginObject();
  w.Key("id").String(t.id);
  if (detail || with_key) w.Key("created_at").String(t.created_at);
  w.Key("name");
  t.name ? w.String(*t.name) : w.Null();
  w.Key("volume_id").String(t.volume_id);
  if (with_key) w.Key("auth_key").String(t.auth_key);
  if (detail && req.version.AtLeast(3, 55)) w.Key("no_snapshots").Bool(t.no_snapshots);
  if (detail && req.version.AtLeast(3, 57)) {
    w.Key("destination_project_id");
    t.destination_project_id ? w.String(*t.destination_project_id) : w.Null();
    w.Key("source_project_id").String(t.source_project_id);
    w.Key("accepted").Bool(t.accepted);
  }
  WriteLinks(w, links, t.id);
  w.EndObject();
}

ApiResponse One(const ApiRequest& req, const Transfer& t, int status, bool detail, bool with_key) {
  JsonWriter w;
  w.BeginObject().Key("transfer");
  WriteTransfer(w, req, t, detail, with_key);
  w.EndObject();
  return Json(status, w.Take());
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto o = Member(*body, "transfer");
  if (!o.ok()) return FaultFrom(o.status());
  auto volume_id = OptString(**o, "volume_id", /*nullable=*/false);
  if (!volume_id.ok()) return FaultFrom(volume_id.status());
  if (!*volume_id) return Fault(400, "'volume_id' is a required property");
  auto name = OptString(**o, "name", /*nullable=*/true);
  if (!name.ok()) return FaultFrom(name.status());
  std::optional<std::string> trimmed;
  if (*name) trimmed = Trim(**name);
  bool no_snapshots = false;
  if (const json::Value* v = (*o)->Find("no_snapshots"); v && req.version.AtLeast(3, 55)) {
    if (v->is_bool()) {
      no_snapshots = v->as_bool();
    } else {
      auto b = ParseBool("no_snapshots", v->is_string() ? v->as_string() : PyRepr(*v));
      if (!b.ok()) return FaultFrom(b.status());
      no_snapshots = *b;
    }
  }
  auto t = volumes.CreateTransfer(req.ctx, **volume_id, trimmed, no_snapshots);
  return t.ok() ? One(req, *t, 202, false, /*with_key=*/true) : FaultFrom(t.status());
}

ApiResponse Accept(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto o = Member(*body, "accept");
  if (!o.ok()) return FaultFrom(o.status());
  auto key = OptString(**o, "auth_key", /*nullable=*/false);
  if (!key.ok()) return FaultFrom(key.status());
  if (!*key) return Fault(400, "'auth_key' is a required property");
  auto t = volumes.AcceptTransfer(req.ctx, id, **key);
  return t.ok() ? One(req, *t, 202, false, false) : FaultFrom(t.status());
}

}  // namespace

ApiResponse HandleTransfers(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest,
                            bool v355_path) {
  if (v355_path && !req.version.AtLeast(3, 55)) return Fault(404, "The resource could not be found.");
  const std::string& m = req.method;
  if (rest.empty() || (rest.size() == 1 && rest[0] == "detail")) {
    if (rest.empty() && m == "POST") return Create(volumes, req);
    if (m != "GET") return Fault(405, "The method is not allowed.");
    auto all_tenants = QueryBool(req, "all_tenants");
    if (!all_tenants.ok()) return FaultFrom(all_tenants.status());
    auto list = volumes.ListTransfers(req.ctx, *all_tenants);
    if (!list.ok()) return FaultFrom(list.status());
    const bool detail = !rest.empty();
    JsonWriter w;
    w.BeginObject().Key("transfers").BeginArray();
    for (const auto& t : *list) WriteTransfer(w, req, t, detail, false);
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  const std::string& id = rest[0];
  if (rest.size() == 2 && rest[1] == "accept") {
    return m == "POST" ? Accept(volumes, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest.size() != 1) return Fault(404, "The resource could not be found.");
  if (m == "GET") {
    auto t = volumes.GetTransfer(req.ctx, id);
    return t.ok() ? One(req, *t, 200, true, false) : FaultFrom(t.status());
  }
  if (m == "DELETE") {
    Status st = volumes.DeleteTransfer(req.ctx, id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(405, "The method is not allowed.");
}

}  // namespace cinder::api
