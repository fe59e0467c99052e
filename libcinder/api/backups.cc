// /v3/{project_id}/backups: Cinder's backup API (cinder/api/contrib/backups.py,
// cinder/api/v3/backups.py, the backup admin actions), with its views (cinder/api/views/backups.py
// and cinder/api/v3/views/backups.py) and validation (cinder/api/schemas/backups.py).
#include <algorithm>
#include <iterator>
#include <set>

#include "api/common.h"
#include "api/filters.h"
#include "api/metadata.h"
#include "api/router.h"
#include "cinder/backup_manager.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

constexpr char kNotSupported[] = "Backups are not served here: no BackupManager was configured.";

struct Attrs {
  bool project = false;  // os-backup-project-attr:project_id (3.18)
  bool user = false;     // user_id (3.56)
};

Attrs AttrsFor(const BackupManager& backups, const ApiRequest& req) {
  Attrs a;
  if (!req.version.AtLeast(3, 18)) return a;
  const bool allowed = backups.Authorize(req.ctx, "backup:backup_project_attribute", {}).ok();
  a.project = allowed;
  a.user = allowed && req.version.AtLeast(3, 56);
  return a;
}

void WriteSummary(JsonWriter& w, const LinkPrefixes& links, const Backup& b) {
  w.BeginObject();
  w.Key("id").String(b.id);
  w.Key("name").OptString(b.display_name);
  WriteLinks(w, links, b.id);
  w.EndObject();
}

void WriteDetail(JsonWriter& w, const ApiRequest& req, const LinkPrefixes& links, const Backup& b, const Attrs& a) {
  w.BeginObject();
  w.Key("id").String(b.id);
  w.Key("status").String(b.status);
  w.Key("size").Int(b.size);
  w.Key("object_count").Int(b.object_count.value_or(0));  // Cinder's column defaults to 0
  w.Key("availability_zone");
  b.availability_zone.empty() ? w.Null() : w.String(b.availability_zone);
  w.Key("container").OptString(b.container);
  w.Key("created_at").String(b.created_at);
  w.Key("updated_at").OptString(b.updated_at);
  w.Key("name").OptString(b.display_name);
  w.Key("description").OptString(b.display_description);
  w.Key("fail_reason").OptString(b.fail_reason);
  w.Key("volume_id").String(b.volume_id);
  WriteLinks(w, links, b.id);
  w.Key("is_incremental").Bool(b.parent_id.has_value());
  w.Key("has_dependent_backups").Bool(b.num_dependent_backups > 0);
  w.Key("snapshot_id").OptString(b.snapshot_id);
  w.Key("data_timestamp").OptString(b.data_timestamp);
  if (req.version.AtLeast(3, 43)) {
    w.Key("metadata");
    WriteStringMap(w, b.metadata);
  }
  if (req.version.AtLeast(3, 64) && b.encryption_key_id) w.Key("encryption_key_id").String(*b.encryption_key_id);
  if (a.project) w.Key("os-backup-project-attr:project_id").String(b.project_id);
  if (a.user) w.Key("user_id").String(b.user_id);
  w.EndObject();
}

std::string SummaryBody(const ApiRequest& req, const Backup& b) {
  JsonWriter w;
  w.BeginObject().Key("backup");
  WriteSummary(w, LinkPrefixes(req, "backups"), b);
  w.EndObject();
  return w.Take();
}

// A non-admin's list filters before 3.31 (Cinder's _get_backup_filter_options).
constexpr const char* kUserFilters[] = {"name", "status", "volume_id"};

Result<BackupListQuery> ParseListQuery(const Options& options, const ApiRequest& req) {
  BackupListQuery q;
  PagingParams paging;
  paging.allow_offset = true;
  // From 3.31 (Cinder's RESOURCE_FILTER) a non-admin may use only the filters
  // resource_query_filters_file enables for "backup", as for volumes and snapshots; before,
  // the others are dropped. all_tenants is let through: the client sends it (Cinder ignores it
  // for them too).
  std::vector<std::string> filters;
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) continue;
    if (k != "all_tenants" && !(k == "with_count" && req.version.AtLeast(3, 45))) {
      if (req.version.AtLeast(3, 31)) {
        filters.push_back(k);
      } else if (!req.ctx.is_admin &&
                 std::find(std::begin(kUserFilters), std::end(kUserFilters), k) == std::end(kUserFilters)) {
        continue;
      }
    }
    if (k == "all_tenants") {
      if (!ParseBool(k, v).ok())
        return InvalidArgument("Invalid input received: all_tenants must be a boolean, got '" + v + "'.");
      q.all_tenants = *ParseBool(k, v);
    } else if (k == "project_id" && req.ctx.is_admin) {
      q.project_id = v;
      q.filters[k] = v;
    } else if (k == "with_count" && req.version.AtLeast(3, 45)) {
      CINDER_ASSIGN_OR_RETURN(q.with_count, ParseBool(k, v));
    } else {
      q.filters[k == "display_name" ? "name" : k] = v;  // the manager keeps what the caller may use
    }
  }
  CINDER_RETURN_IF_ERROR(paging.Finish());
  CINDER_RETURN_IF_ERROR(CheckConfiguredFilters(options, req, "backup", filters));
  if (q.project_id && !q.all_tenants) q.filters.erase("project_id");
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.offset = paging.offset;
  q.sort = paging.sort;
  // "name" sorts by display_name from 3.37; before, it is no column of backups.
  if (!req.version.AtLeast(3, 37)) {
    for (const auto& s : q.sort) {
      if (s.key == "name") return InvalidArgument("Invalid input received: Invalid sort key name");
    }
  }
  return q;
}

ApiResponse List(const Options& options, BackupManager& backups, ApiRequest& req, bool detail) {
  auto q = ParseListQuery(options, req);
  if (!q.ok()) return FaultFrom(q.status());
  auto list = backups.ListBackups(req.ctx, *q);
  if (!list.ok()) return FaultFrom(list.status());
  JsonWriter w;
  LinkPrefixes links(req, "backups");
  const Attrs a = detail ? AttrsFor(backups, req) : Attrs{};
  w.BeginObject().Key("backups").BeginArray();
  for (const auto& b : list->backups) detail ? WriteDetail(w, req, links, b, a) : WriteSummary(w, links, b);
  w.EndArray();
  WriteListEnd(w, req, options.osapi_max_limit, "backups_links", detail ? "backups/detail" : "backups", q->limit,
               q->with_count, list->count, list->backups.size(), list->backups.empty() ? "" : list->backups.back().id);
  w.EndObject();
  return Json(200, w.Take());
}

// Cinder's boolean parameter type (strict bool_from_string for strings).
Result<bool> ParseBoolField(const std::string& field, const json::Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) {
    static const std::set<std::string> kTrue = {"1", "t", "true", "on", "y", "yes"};
    static const std::set<std::string> kFalse = {"0", "f", "false", "off", "n", "no"};
    const std::string s = ToLower(Trim(v.as_string()));
    if (kTrue.count(s)) return true;
    if (kFalse.count(s)) return false;
  }
  return FieldError(field, v, PyRepr(v) + " is not of type 'boolean', 'string'");
}

// name / description: strings or null of at most 255 characters, stripped
// (clean_name_and_description).
Status NameField(const json::Value& o, const char* key, std::optional<std::string>* out, bool* present = nullptr) {
  auto s = OptString(o, key, true);
  if (!s.ok()) return s.status();
  if (present) *present = o.Find(key) != nullptr;
  if (*s) {
    std::string t = Trim(**s);
    size_t chars = 0;
    for (unsigned char c : t) chars += (c & 0xC0) != 0x80;
    if (chars > 255) return FieldError(key, Get(o, key), PyRepr(Get(o, key)) + " is too long");
    *out = t;
  }
  return Status::OK();
}

ApiResponse Create(BackupManager& backups, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto bk = Member(*body, "backup");
  if (!bk.ok()) return FaultFrom(bk.status());
  const json::Value& o = **bk;
  std::set<std::string> keys = {"volume_id", "container", "description", "incremental", "force", "name", "snapshot_id"};
  if (req.version.AtLeast(3, 43)) keys.insert("metadata");
  if (req.version.AtLeast(3, 51)) keys.insert("availability_zone");
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (!keys.count(k)) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("backup", o, Unexpected(extra)));
  BackupCreate c;
  auto vol = OptString(o, "volume_id", false);
  if (!vol.ok()) return FaultFrom(vol.status());
  if (!*vol) return FaultFrom(FieldError("backup", o, "'volume_id' is a required property"));
  if (!IsUuid(**vol)) {
    return FaultFrom(FieldError("volume_id", Get(o, "volume_id"), PyRepr(Get(o, "volume_id")) + " is not a 'uuid'"));
  }
  c.volume_id = **vol;
  auto snap = OptString(o, "snapshot_id", true);
  if (!snap.ok()) return FaultFrom(snap.status());
  if (*snap && !IsUuid(**snap)) {
    return FaultFrom(
        FieldError("snapshot_id", Get(o, "snapshot_id"), PyRepr(Get(o, "snapshot_id")) + " is not a 'uuid'"));
  }
  c.snapshot_id = *snap;
  auto container = OptString(o, "container", true);
  if (!container.ok()) return FaultFrom(container.status());
  if (*container && (*container)->size() > 255) {
    return FaultFrom(FieldError("container", Get(o, "container"), PyRepr(Get(o, "container")) + " is too long"));
  }
  c.container = *container;
  if (Status st = NameField(o, "name", &c.name); !st.ok()) return FaultFrom(st);
  if (Status st = NameField(o, "description", &c.description); !st.ok()) return FaultFrom(st);
  for (const char* k : {"incremental", "force"}) {
    if (Get(o, k).is_null()) continue;
    auto b = ParseBoolField(k, Get(o, k));
    if (!b.ok()) return FaultFrom(b.status());
    (std::string(k) == "force" ? c.force : c.incremental) = *b;
  }
  if (!Get(o, "metadata").is_null()) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    c.metadata = *md;
  }
  auto az = OptString(o, "availability_zone", true);
  if (!az.ok()) return FaultFrom(az.status());
  c.availability_zone = *az;
  auto b = backups.CreateBackup(req.ctx, c);
  if (!b.ok()) return FaultFrom(b.status());
  return Json(202, SummaryBody(req, *b));
}

ApiResponse Update(BackupManager& backups, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto bk = Member(*body, "backup");
  if (!bk.ok()) return FaultFrom(bk.status());
  const json::Value& o = **bk;
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (k != "name" && k != "description" && !(k == "metadata" && req.version.AtLeast(3, 43))) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("backup", o, Unexpected(extra)));
  BackupUpdate u;
  std::optional<std::string> name, description;
  bool has_name = false, has_description = false;
  if (Status st = NameField(o, "name", &name, &has_name); !st.ok()) return FaultFrom(st);
  if (Status st = NameField(o, "description", &description, &has_description); !st.ok()) return FaultFrom(st);
  if (has_name) u.name = name;
  if (has_description) u.description = description;
  if (o.Find("metadata")) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    u.metadata = *md;
  }
  auto b = backups.UpdateBackup(req.ctx, id, u);
  if (!b.ok()) return FaultFrom(b.status());
  return Json(200, SummaryBody(req, *b));
}

ApiResponse Restore(BackupManager& backups, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto r = Member(*body, "restore");
  if (!r.ok()) return FaultFrom(r.status());
  const json::Value& o = **r;
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (k != "volume_id" && k != "name") extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("restore", o, Unexpected(extra)));
  auto vol = OptString(o, "volume_id", true);
  if (!vol.ok()) return FaultFrom(vol.status());
  if (*vol && !IsUuid(**vol)) {
    return FaultFrom(FieldError("volume_id", Get(o, "volume_id"), PyRepr(Get(o, "volume_id")) + " is not a 'uuid'"));
  }
  auto name = OptString(o, "name", true);
  if (!name.ok()) return FaultFrom(name.status());
  auto res = backups.RestoreBackup(req.ctx, id, *vol, *name);
  if (!res.ok()) return FaultFrom(res.status());
  JsonWriter w;
  w.BeginObject().Key("restore").BeginObject();
  w.Key("backup_id").String(res->backup_id);
  w.Key("volume_id").String(res->volume_id);
  w.Key("volume_name");
  res->volume_name.empty() ? w.Null() : w.String(res->volume_name);
  w.EndObject().EndObject();
  return Json(202, w.Take());
}

ApiResponse Export(BackupManager& backups, ApiRequest& req, const std::string& id) {
  auto rec = backups.ExportRecord(req.ctx, id);
  if (!rec.ok()) return FaultFrom(rec.status());
  JsonWriter w;
  w.BeginObject().Key("backup-record").BeginObject();
  w.Key("backup_service").String(rec->backup_service);
  w.Key("backup_url").String(rec->backup_url);
  w.EndObject().EndObject();
  return Json(200, w.Take());
}

ApiResponse Import(BackupManager& backups, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto r = Member(*body, "backup-record");
  if (!r.ok()) return FaultFrom(r.status());
  const json::Value& o = **r;
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (k != "backup_service" && k != "backup_url") extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("backup-record", o, Unexpected(extra)));
  BackupManager::Record rec;
  for (const char* k : {"backup_service", "backup_url"}) {
    auto s = OptString(o, k, false, /*max_len=*/std::string(k) == "backup_url" ? SIZE_MAX : 255);
    if (!s.ok()) return FaultFrom(s.status());
    if (!*s) return FaultFrom(FieldError("backup-record", o, std::string("'") + k + "' is a required property"));
    (std::string(k) == "backup_service" ? rec.backup_service : rec.backup_url) = **s;
  }
  auto b = backups.ImportRecord(req.ctx, rec);
  if (!b.ok()) return FaultFrom(b.status());
  return Json(201, SummaryBody(req, *b));
}

ApiResponse Action(BackupManager& backups, ApiRequest& req, const std::string& id) {
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
    const std::string s = ToLower(**status);
    if (s != "available" && s != "error") {
      return FaultFrom(FieldError("status", Get(arg, "status"),
                                  PyRepr(Get(arg, "status")) + " is not one of ['available', 'error']"));
    }
    Status st = backups.ResetStatus(req.ctx, id, s);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-force_delete") {
    Status st = backups.DeleteBackup(req.ctx, id, /*force=*/true);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(
      400, "There is no such action: " + action + ". Verify the request body and Content-Type header and try again.");
}

}  // namespace

ApiResponse HandleBackups(const Options& options, BackupManager* backups, ApiRequest& req,
                          const std::vector<std::string>& rest) {
  if (!backups) return Fault(404, "The resource could not be found.");
  (void)kNotSupported;
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, *backups, req, /*detail=*/false);
    if (m == "POST") return Create(*backups, req);
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 1 && rest[0] == "detail") {
    return m == "GET" ? List(options, *backups, req, /*detail=*/true) : Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 1 && rest[0] == "import_record") {
    return m == "POST" ? Import(*backups, req) : Fault(405, "The method is not allowed.");
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto b = backups->GetBackup(req.ctx, id);
      if (!b.ok()) return FaultFrom(b.status());
      JsonWriter w;
      w.BeginObject().Key("backup");
      WriteDetail(w, req, LinkPrefixes(req, "backups"), *b, AttrsFor(*backups, req));
      w.EndObject();
      return Json(200, w.Take());
    }
    if (m == "PUT") {
      if (!req.version.AtLeast(3, 9)) return Fault(404, "The resource could not be found.");
      return Update(*backups, req, id);
    }
    if (m == "DELETE") {
      Status st = backups->DeleteBackup(req.ctx, id, /*force=*/false);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 2 && rest[1] == "restore") {
    return m == "POST" ? Restore(*backups, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 2 && rest[1] == "progress") {
    // Our extension (Cinder has only its backup.createprogress notifications, and Tempest's
    // schema allows no extra key in the backup view): how far the backup or restore in flight
    // is, as its backup service records it every few seconds (docs/api.md). Rule backup:get.
    if (m != "GET") return Fault(405, "The method is not allowed.");
    auto b = backups->GetBackup(req.ctx, id);
    if (!b.ok()) return FaultFrom(b.status());
    const bool running = b->status == "creating" || b->status == "restoring";
    const int64_t total = b->size * (int64_t{1} << 30);
    const int64_t done = running ? std::min(b->progress_bytes, total) : 0;
    JsonWriter w;
    w.BeginObject().Key("backup_progress").BeginObject();
    w.Key("id").String(b->id);
    w.Key("status").String(b->status);
    w.Key("done_bytes").Int(done);
    w.Key("total_bytes").Int(total);
    w.Key("percent");
    running&& total > 0 ? w.Int(done * 100 / total) : w.Null();
    w.Key("updated_at").OptString(b->updated_at);
    w.EndObject().EndObject();
    return Json(200, w.Take());
  }
  if (rest.size() == 2 && rest[1] == "export_record") {
    return m == "GET" ? Export(*backups, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 2 && rest[1] == "action") {
    return m == "POST" ? Action(*backups, req, id) : Fault(405, "The method is not allowed.");
  }
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
