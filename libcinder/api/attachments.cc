// /v3/{project_id}/attachments (3.27): Cinder's attachments API (cinder/api/v3/attachments.py,
// its views and its JSON schemas).
#include "api/common.h"
#include "api/filters.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

void WriteSummaryFields(JsonWriter& w, const Attachment& a) {
  w.Key("id").String(a.id);
  w.Key("status").String(a.attach_status);
  w.Key("instance").OptString(a.instance_uuid);
  w.Key("volume_id").String(a.volume_id);
}

void WriteSummary(JsonWriter& w, const Attachment& a) {
  w.BeginObject();
  WriteSummaryFields(w, a);
  w.EndObject();
}

// The stored connection_info object as it is (the host wrote it as JSON).
void WriteConnectionInfo(JsonWriter& w, const std::string& text) {
  if (json::Parse(text).ok()) {
    w.Raw(text);
  } else {
    w.BeginObject().EndObject();
  }
}

void WriteDetail(JsonWriter& w, const Attachment& a) {
  w.BeginObject();
  WriteSummaryFields(w, a);
  w.Key("attached_at").String(a.attach_time.value_or(""));
  w.Key("detached_at").String(a.detach_time.value_or(""));
  w.Key("attach_mode").OptString(a.attach_mode);
  w.Key("connection_info");
  if (a.connection_info) {
    WriteConnectionInfo(w, *a.connection_info);
  } else {
    w.Null();  // a legacy os-attach row has none
  }
  w.EndObject();
}

std::string DetailBody(const Attachment& a) {
  JsonWriter w;
  w.BeginObject().Key("attachment");
  WriteDetail(w, a);
  w.EndObject();
  return w.Take();
}

Status NotAUuid(const std::string& field, const json::Value& v) {
  return FieldError(field, v, PyRepr(v) + " is not a 'uuid'");
}

// {"attachment": {...}}: the body's one key.
Result<const json::Value*> AttachmentMember(const json::Value& body) {
  CINDER_ASSIGN_OR_RETURN(const json::Value* a, Member(body, "attachment"));
  if (!a->is_object()) return FieldError("attachment", *a, PyRepr(*a) + " is not of type 'object'");
  return a;
}

ApiResponse Create(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto member = AttachmentMember(*body);
  if (!member.ok()) return FaultFrom(member.status());
  const json::Value& a = **member;
  const bool v354 = req.version.AtLeast(3, 54);
  std::vector<std::string> extra;
  for (const auto& [k, v] : a.as_object()) {
    if (k != "volume_uuid" && k != "instance_uuid" && k != "connector" && !(v354 && k == "mode")) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("attachment", a, Unexpected(extra)));
  const json::Value* volume = a.Find("volume_uuid");
  if (!volume) return FaultFrom(FieldError("attachment", a, "'volume_uuid' is a required property"));
  if (!volume->is_string())
    return FaultFrom(FieldError("volume_uuid", *volume, PyRepr(*volume) + " is not of type 'string'"));
  if (!IsUuid(volume->as_string())) return FaultFrom(NotAUuid("volume_uuid", *volume));
  VolumeManager::AttachmentCreate c;
  c.volume_id = volume->as_string();
  if (const json::Value* inst = a.Find("instance_uuid")) {
    if (!inst->is_string())
      return FaultFrom(FieldError("instance_uuid", *inst, PyRepr(*inst) + " is not of type 'string'"));
    if (!IsUuid(inst->as_string())) return FaultFrom(NotAUuid("instance_uuid", *inst));
    c.instance_uuid = inst->as_string();
  }
  if (const json::Value* conn = a.Find("connector")) {
    if (!conn->is_object() && !conn->is_null()) {
      return FaultFrom(FieldError("connector", *conn, PyRepr(*conn) + " is not of type 'object', 'null'"));
    }
    if (conn->is_object()) c.connector = json::Serialize(*conn);
  }
  if (const json::Value* mode = a.Find("mode")) {
    if (!mode->is_string() || (mode->as_string() != "rw" && mode->as_string() != "ro")) {
      return FaultFrom(FieldError("mode", *mode, PyRepr(*mode) + " is not one of ['rw', 'ro']"));
    }
    c.mode = mode->as_string();
  }
  auto made = volumes.CreateAttachment(req.ctx, c);
  if (!made.ok()) return FaultFrom(made.status());
  return Json(200, DetailBody(*made));
}

ApiResponse Update(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto member = AttachmentMember(*body);
  if (!member.ok()) return FaultFrom(member.status());
  const json::Value& a = **member;
  std::vector<std::string> extra;
  for (const auto& [k, v] : a.as_object()) {
    if (k != "connector") extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("attachment", a, Unexpected(extra)));
  const json::Value* conn = a.Find("connector");
  if (!conn) return FaultFrom(FieldError("attachment", a, "'connector' is a required property"));
  if (!conn->is_object()) return FaultFrom(FieldError("connector", *conn, PyRepr(*conn) + " is not of type 'object'"));
  if (conn->size() == 0) return FaultFrom(FieldError("connector", *conn, "{} should be non-empty"));
  auto updated = volumes.UpdateAttachment(req.ctx, id, json::Serialize(*conn));
  if (!updated.ok()) return FaultFrom(updated.status());
  return Json(200, DetailBody(*updated));
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req, bool detail) {
  AttachmentListQuery q;
  PagingParams paging;
  paging.allow_offset = true;
  std::vector<std::string> invalid;
  std::vector<std::string> filters;  // the keys resource_query_filters_file governs (3.31)
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) continue;
    if (k != "all_tenants") filters.push_back(k);
    if (k == "all_tenants") {
      auto b = ParseBool(k, v);
      if (!b.ok()) return FaultFrom(b.status());
      q.all_tenants = *b;
    } else if (k == "project_id" && req.ctx.is_admin) {
      q.project_id = v;
    } else if (k == "volume_id") {
      q.volume_id = v;
    } else if (k == "instance_id" || k == "instance_uuid") {
      q.instance_uuid = v;
    } else if (k == "status" || k == "attach_status") {
      q.attach_status = v;
    } else {
      invalid.push_back(k);
    }
  }
  Status st = paging.Finish();
  if (!st.ok()) return FaultFrom(st);
  // From 3.31 a non-admin may use only the filters resource_query_filters_file enables for
  // "attachment". Another filter is dropped for a non-admin before 3.31 (Cinder's
  // allowed_filters) and matches nothing for an admin (no column the list knows), as in Cinder.
  if (Status c = CheckConfiguredFilters(options, req, "attachment", filters); !c.ok()) return FaultFrom(c);
  if (!invalid.empty() && req.ctx.is_admin) {
    JsonWriter w;
    w.BeginObject().Key("attachments").BeginArray().EndArray().EndObject();
    return Json(200, w.Take());
  }
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.offset = paging.offset;
  q.sort = paging.sort;
  auto list = volumes.ListAttachments(req.ctx, q);
  if (!list.ok()) return FaultFrom(list.status());
  JsonWriter w;
  w.BeginObject().Key("attachments").BeginArray();
  for (const auto& a : *list) detail ? WriteDetail(w, a) : WriteSummary(w, a);
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleAttachments(const Options& options, VolumeManager& volumes, ApiRequest& req,
                              const std::vector<std::string>& rest) {
  if (!req.version.AtLeast(3, 27)) return Fault(404, "The resource could not be found.");
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
      auto a = volumes.GetAttachment(req.ctx, id);
      return a.ok() ? Json(200, DetailBody(*a)) : FaultFrom(a.status());
    }
    if (m == "PUT") return Update(volumes, req, id);
    if (m == "DELETE") {
      auto remaining = volumes.DeleteAttachment(req.ctx, id);
      if (!remaining.ok()) return FaultFrom(remaining.status());
      JsonWriter w;
      w.BeginObject().Key("attachments").BeginArray();
      for (const auto& a : *remaining) WriteSummary(w, a);
      w.EndArray().EndObject();
      return Json(200, w.Take());
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 2 && rest[1] == "action") {
    if (m != "POST") return Fault(405, "The method is not allowed.");
    auto body = ParseBody(req);
    if (!body.ok()) return FaultFrom(body.status());
    if (body->size() != 1) return Fault(400, "Malformed request body");
    const std::string& action = body->as_object()[0].first;
    if (action != "os-complete" || !req.version.AtLeast(3, 44)) {
      if (!req.version.AtLeast(3, 44)) return Fault(404, "The resource could not be found.");
      return Fault(400, "There is no such action: " + action +
                            ". Verify the request body and Content-Type header and try again.");
    }
    Status st = volumes.CompleteAttachment(req.ctx, id);
    return st.ok() ? Json(204, "") : FaultFrom(st);
  }
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
