// /v3/{project_id}/volumes: Cinder's volume API, its views and its request validation.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "api/admin_actions.h"
#include "api/common.h"
#include "api/filters.h"
#include "api/metadata.h"
#include "api/router.h"
#include "cinder/backup_manager.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// ---- views -----------------------------------------------------------------------------------

void WriteSummary(JsonWriter& w, const LinkPrefixes& links, const Volume& v) {
  w.BeginObject();
  w.Key("id").String(v.id);
  w.Key("name");
  v.has_name ? w.String(v.name) : w.Null();
  WriteLinks(w, links, v.id);
  w.EndObject();
}

// The os-vol-* keys show and detail add, each when its rule passes for the caller (Cinder's
// API extensions ask with no target: the caller's own project). Asked once per request.
struct Extensions {
  bool tenant = false;  // os-vol-tenant-attr:tenant_id
  bool host = false;    // os-vol-host-attr:host
  bool mig = false;     // os-vol-mig-status-attr:*
  // volume_image_metadata (os-vol-image-meta): volume id -> its image metadata, when
  // volume_extension:volume_image_metadata:show passes.
  std::map<std::string, Metadata> image_metadata;
};

Extensions ExtensionsFor(const VolumeManager& volumes, const ApiRequest& req) {
  auto allowed = [&](const char* rule) { return volumes.Authorize(req.ctx, rule, {}).ok(); };
  return {allowed("volume_extension:volume_tenant_attribute"),
          allowed("volume_extension:volume_host_attribute"),
          allowed("volume_extension:volume_mig_status_attribute"),
          {}};
}

// Adds the image metadata of `volumes` to `ext` when the caller may see it (Cinder's
// VolumeImageMetadataController: a failed read only leaves it out).
void AddImageMetadata(VolumeManager& volumes, const ApiRequest& req, const std::vector<std::string>& ids,
                      Extensions* ext) {
  if (ids.empty() || !volumes.Authorize(req.ctx, "volume_extension:volume_image_metadata:show", {}).ok()) return;
  auto md = volumes.ListImageMetadata(req.ctx, ids);
  if (md.ok()) ext->image_metadata = *std::move(md);
}

// Cinder's detail view (cinder/api/v2/views/volumes.py + v3/views/volumes.py) at req.version,
// in Cinder's key order, with the extensions' keys `ext` allows (none for create and update).
void WriteDetail(JsonWriter& w, const ApiRequest& req, const LinkPrefixes& links, const Volume& v,
                 const Extensions& ext) {
  const bool admin = req.ctx.is_admin;
  const ApiVersion& ver = req.version;
  w.BeginObject();
  w.Key("id").String(v.id);
  // views/volumes.py _get_volume_status: the manage statuses as the ones clients know.
  const std::string& status = v.status == "managing"                  ? volume_status::kCreating
                              : v.status == "error_managing"          ? volume_status::kError
                              : v.status == "error_managing_deleting" ? volume_status::kDeleting
                                                                      : v.status;
  w.Key("status").String(status);
  w.Key("size").Int(v.size);
  w.Key("availability_zone").String(v.availability_zone);
  w.Key("created_at").String(v.created_at);
  w.Key("updated_at").OptString(v.updated_at);
  w.Key("name");
  v.has_name ? w.String(v.name) : w.Null();
  w.Key("description");
  v.has_description ? w.String(v.description) : w.Null();
  w.Key("volume_type");
  v.volume_type_name.empty() ? w.Null() : w.String(v.volume_type_name);
  w.Key("snapshot_id").OptString(v.snapshot_id);
  w.Key("source_volid").OptString(v.source_volid);
  w.Key("metadata");
  if (v.readonly || v.attached_mode) {
    // Cinder shows the admin metadata "readonly" and "attached_mode" among the metadata.
    Metadata md = v.metadata;
    if (v.readonly) md["readonly"] = *v.readonly;
    if (v.attached_mode) md["attached_mode"] = *v.attached_mode;
    WriteStringMap(w, md);
  } else {
    WriteStringMap(w, v.metadata);
  }
  WriteLinks(w, links, v.id);
  w.Key("user_id").String(v.user_id);
  w.Key("bootable").String(v.bootable ? "true" : "false");
  w.Key("encrypted").Bool(false);
  // The volume service sets "disabled" for a volume type without replication.
  w.Key("replication_status");
  v.status == volume_status::kCreating || v.status == "managing" ? w.Null() : w.String("disabled");
  w.Key("consistencygroup_id").Null();
  w.Key("multiattach").Bool(v.multiattach);
  w.Key("attachments").BeginArray();
  for (const Attachment& a : v.attachments) {
    w.BeginObject();
    w.Key("id").String(v.id);
    w.Key("attachment_id").String(a.id);
    w.Key("volume_id").String(v.id);
    w.Key("server_id").OptString(a.instance_uuid);
    w.Key("host_name");
    admin ? w.OptString(a.attached_host) : w.Null();
    w.Key("device").OptString(a.mountpoint);
    w.Key("attached_at").OptString(a.attach_time);
    w.EndObject();
  }
  w.EndArray();
  if (admin) w.Key("migration_status").OptString(v.migration_status);
  if (ver.AtLeast(3, 13)) w.Key("group_id").OptString(v.group_id);
  if (admin && ver.AtLeast(3, 21)) w.Key("provider_id").Null();
  if (ver.AtLeast(3, 48)) {
    // Unset shared_targets reads true before 3.69 and null from 3.69 (SHARED_TARGETS_TRISTATE).
    w.Key("shared_targets");
    ver.AtLeast(3, 69) ? w.Null() : w.Bool(true);
    w.Key("service_uuid").Null();
  }
  if (admin && ver.AtLeast(3, 61)) w.Key("cluster_name").OptString(v.cluster_name);
  if (ver.AtLeast(3, 63)) {
    w.Key("volume_type_id");
    v.volume_type_id.empty() ? w.Null() : w.String(v.volume_type_id);
  }
  if (ver.AtLeast(3, 65)) w.Key("consumes_quota").Bool(true);
  if (ext.tenant) w.Key("os-vol-tenant-attr:tenant_id").String(v.project_id);
  if (ext.host) {
    w.Key("os-vol-host-attr:host");
    v.host.empty() ? w.Null() : w.String(v.host);
  }
  if (ext.mig) {
    w.Key("os-vol-mig-status-attr:migstat").OptString(v.migration_status);
    w.Key("os-vol-mig-status-attr:name_id").Null();
  }
  if (auto it = ext.image_metadata.find(v.id); it != ext.image_metadata.end()) {
    w.Key("volume_image_metadata");
    WriteStringMap(w, it->second);
  }
  w.EndObject();
}

std::string VolumeBody(const ApiRequest& req, const Volume& v, const Extensions& ext = {}) {
  JsonWriter w;
  w.BeginObject().Key("volume");
  WriteDetail(w, req, LinkPrefixes(req, "volumes"), v, ext);
  w.EndObject();
  return w.Take();
}

// ---- list ------------------------------------------------------------------------------------

// Cinder's boolean list filters (check_volume_filters): from 3.2 strictly a boolean
// ("Invalid input received: 'bootable = x'"); before, anything but False/false/FALSE is true.
Result<bool> BoolFilter(const ApiRequest& req, const std::string& k, const std::string& v) {
  if (!req.version.AtLeast(3, 2)) return !(v == "False" || v == "false" || v == "FALSE" || v.empty());
  auto b = ParseBool(k, v);
  if (!b.ok()) return InvalidArgument("Invalid input received: '" + k + " = " + v + "'");
  return *b;
}

Result<VolumeListQuery> ParseListQuery(const Options& options, const ApiRequest& req) {
  VolumeListQuery q;
  PagingParams paging;
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
    } else if (k == "availability_zone") {
      q.availability_zone = v;
    } else if (k == "metadata") {
      CINDER_ASSIGN_OR_RETURN(q.metadata, ParseMetadataFilter(v));
    } else if (k == "glance_metadata") {
      // 3.4. Cinder drops it before, and (before 3.31) for a non-admin when the configured
      // filters do not name it; from 3.31 CheckConfiguredFilters answers for those.
      if (!req.version.AtLeast(3, 4) ||
          (!req.ctx.is_admin && !req.version.AtLeast(3, 31) && !FilterConfigured(options, "volume", k))) {
        continue;
      }
      CINDER_ASSIGN_OR_RETURN(q.glance_metadata, ParseMetadataFilter(v));
    } else if (k == "bootable") {
      CINDER_ASSIGN_OR_RETURN(q.bootable, BoolFilter(req, k, v));
    } else if (k == "consumes_quota" && req.version.AtLeast(3, 31)) {
      CINDER_ASSIGN_OR_RETURN(q.use_quota, UseQuotaFilter(v));
    } else if (k == "migration_status") {
      q.migration_status = v;
    } else if (k == "size") {
      q.size = v;
    } else if (k == "group_id") {
      // 3.10 (VOLUME_LIST_GROUP): Cinder drops the filter before it.
      if (!req.version.AtLeast(3, 10)) continue;
      q.group_id = v;
    } else if ((k == "created_at" || k == "updated_at") && req.version.AtLeast(3, 31)) {
      // Cinder drops them before 3.31 (3.60 documents them; from 3.31 its configured filters
      // already let them through).
      CINDER_ASSIGN_OR_RETURN(auto times, ParseTimeComparisons(v));
      (k == "created_at" ? q.created_at : q.updated_at) = std::move(times);
    } else if (like && k.size() > 1 && k.back() == '~' &&
               std::set<std::string>{"name~", "description~", "status~", "availability_zone~", "migration_status~"}
                   .count(k)) {
      q.like[k.substr(0, k.size() - 1)] = v;
    } else {
      invalid.push_back(k);
      continue;
    }
    filters.push_back(k);
  }
  CINDER_RETURN_IF_ERROR(paging.Finish());
  if (!invalid.empty()) {
    return InvalidFilters(invalid,
                          "name, status, availability_zone, metadata, bootable, migration_status, size, created_at, "
                          "updated_at, group_id, consumes_quota" +
                              std::string(like ? ", name~, description~, status~, availability_zone~, "
                                                 "migration_status~"
                                               : ""));
  }
  CINDER_RETURN_IF_ERROR(CheckConfiguredFilters(options, req, "volume", filters));
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.sort = paging.sort;
  return q;
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req, bool detail) {
  auto q = ParseListQuery(options, req);
  if (!q.ok()) return FaultFrom(q.status());
  auto list = volumes.ListVolumes(req.ctx, *q);
  if (!list.ok()) return FaultFrom(list.status());
  JsonWriter w(list->volumes.size() > 16 ? TakeSpareBuffer() : std::string());
  w.Reserve(256 + list->volumes.size() * (detail ? 1536 : 256));
  LinkPrefixes links(req, "volumes");
  Extensions ext = detail ? ExtensionsFor(volumes, req) : Extensions{};
  if (detail) {
    std::vector<std::string> ids;
    ids.reserve(list->volumes.size());
    for (const auto& v : list->volumes) ids.push_back(v.id);
    AddImageMetadata(volumes, req, ids, &ext);
  }
  w.BeginObject().Key("volumes").BeginArray();
  for (const auto& v : list->volumes) {
    detail ? WriteDetail(w, req, links, v, ext) : WriteSummary(w, links, v);
  }
  w.EndArray();
  WriteListEnd(w, req, options.osapi_max_limit, "volumes_links", detail ? "volumes/detail" : "volumes", q->limit,
               q->with_count, list->count, list->volumes.size(), list->volumes.empty() ? "" : list->volumes.back().id);
  w.EndObject();
  return Json(200, w.Take());
}

// ---- create / update -------------------------------------------------------------------------

// Keys create_volume_v353 allows inside "volume".
bool CreateKeyAllowed(const std::string& k) {
  static const std::set<std::string> kKeys = {"size",
                                              "name",
                                              "description",
                                              "display_name",
                                              "display_description",
                                              "volume_type",
                                              "availability_zone",
                                              "metadata",
                                              "snapshot_id",
                                              "source_volid",
                                              "consistencygroup_id",
                                              "imageRef",
                                              "multiattach",
                                              "backup_id",
                                              "group_id"};
  return kKeys.count(k) > 0;
}

// Cinder's scheduler_hints schema: same_host / different_host a volume id or a list of them,
// query a JSON string (or the JSON itself). Other hints are accepted and unused, as Cinder's
// filters ignore hints they do not know.
Result<SchedulerHints> ParseHints(const json::Value& o) {
  SchedulerHints h;
  auto ids = [&o](const char* key, std::vector<std::string>* out) -> Status {
    const json::Value& v = Get(o, key);
    if (v.is_null()) return Status::OK();
    if (v.is_string()) {
      out->push_back(v.as_string());
    } else if (v.is_array()) {
      for (const auto& item : v.as_array()) {
        if (!item.is_string()) return FieldError(key, v, PyRepr(item) + " is not of type 'string'");
        out->push_back(item.as_string());
      }
    } else {
      return FieldError(key, v, PyRepr(v) + " is not of type 'string', 'array'");
    }
    return Status::OK();
  };
  CINDER_RETURN_IF_ERROR(ids("same_host", &h.same_host));
  CINDER_RETURN_IF_ERROR(ids("different_host", &h.different_host));
  const json::Value& q = Get(o, "query");
  if (q.is_string()) {
    h.query = q.as_string();
  } else if (!q.is_null()) {
    h.query = json::Serialize(q);  // JsonFilter parses it again
  }
  return h;
}

ApiResponse Create(VolumeManager& volumes, BackupManager* backups, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto vol = Member(*body, "volume");
  if (!vol.ok()) return FaultFrom(vol.status());
  const json::Value& o = **vol;
  if (req.version.AtLeast(3, 53)) {
    std::vector<std::string> extra;
    for (const auto& [k, v] : o.as_object()) {
      if (!CreateKeyAllowed(k)) extra.push_back(k);
    }
    if (!extra.empty()) return FaultFrom(FieldError("volume", o, Unexpected(extra)));
  }
  VolumeCreate c;
  // From a backup (3.47, with a backup API served here): restored into the new volume once its
  // host has made it.
  std::optional<Backup> backup;
  if (const json::Value& bv = Get(o, "backup_id"); !bv.is_null() && backups && req.version.AtLeast(3, 47)) {
    auto id = OptString(o, "backup_id", true);
    if (!id.ok()) return FaultFrom(id.status());
    if (!IsUuid(**id)) return FaultFrom(FieldError("backup_id", bv, PyRepr(bv) + " is not a 'uuid'"));
    auto b = backups->GetBackup(req.ctx, **id);
    if (!b.ok()) return FaultFrom(b.status());
    if (b->status != backup_status::kAvailable) {
      return Fault(400, "Invalid backup: Originating backup status must be one of 'available' values");
    }
    backup = *b;
  }
  for (const char* k : {"snapshot_id", "source_volid"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (*s && !IsUuid(**s)) return FaultFrom(FieldError(k, Get(o, k), PyRepr(Get(o, k)) + " is not a 'uuid'"));
    (std::string(k) == "snapshot_id" ? c.snapshot_id : c.source_volid) = *s;
  }
  if (Get(o, "size").is_null()) {
    // A new volume from a snapshot or volume is the size of its source unless given.
    if (backup) {
      c.size = backup->size;
    } else if (!c.snapshot_id && !c.source_volid) {
      return Fault(400,
                   "Invalid input received: Volume size 'None' must be an integer and greater "
                   "than 0.");
    }
  } else {
    auto size = ParseSize(Get(o, "size"), "size", "'integer', 'string', 'null'");
    if (!size.ok()) return FaultFrom(size.status());
    if (*size <= 0) {
      return Fault(400, "Invalid input received: Volume size '" + std::to_string(*size) +
                            "' must be an integer and greater than 0.");
    }
    c.size = *size;
    if (backup && c.size < backup->size) {
      return Fault(400, "Invalid input received: Volume size " + std::to_string(c.size) +
                            "GB cannot be smaller than the backup size " + std::to_string(backup->size) +
                            "GB. It must be >= backup size.");
    }
  }
  // The v3 names win over the v2 display_* ones when both are given, as in Cinder.
  for (const char* k : {"display_name", "name"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (*s) c.name = *s;
  }
  for (const char* k : {"display_description", "description"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (*s) c.description = *s;
  }
  auto type = OptString(o, "volume_type", true);
  if (!type.ok()) return FaultFrom(type.status());
  c.volume_type = *type;
  auto az = OptString(o, "availability_zone", true);
  if (!az.ok()) return FaultFrom(az.status());
  c.availability_zone = *az;
  if (!Get(o, "metadata").is_null()) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    c.metadata = *md;
  }
  if (const json::Value& m = Get(o, "multiattach"); !m.is_null()) {
    if (!m.is_bool()) return FaultFrom(FieldError("multiattach", m, PyRepr(m) + " is not of type 'boolean'"));
    if (m.as_bool()) {
      return Fault(400,
                   "multiattach parameter has been removed. The default behavior is to use "
                   "multiattach enabled volume types. Contact your administrator to create a "
                   "multiattach enabled volume type and use it to create multiattach volumes.");
    }
  }
  // Sources this service does not offer yet are refused, never ignored.
  auto group_id = OptString(o, "group_id", true);
  if (!group_id.ok()) return FaultFrom(group_id.status());
  c.group_id = *group_id;
  for (const char* k : {"imageRef", "backup_id", "consistencygroup_id"}) {
    if (std::string(k) == "backup_id" && backup) continue;
    if (!Get(o, k).is_null()) {
      return Fault(400, std::string("Invalid input received: creating a volume with '") + k +
                            "' is not supported by this service yet.");
    }
  }
  // Scheduler hints, beside "volume" (cinder create --hint k=v).
  for (const char* key : {"OS-SCH-HNT:scheduler_hints", "scheduler_hints"}) {
    const json::Value& hints = Get(*body, key);
    if (hints.is_null()) continue;
    if (!hints.is_object()) return FaultFrom(FieldError(key, hints, PyRepr(hints) + " is not of type 'object'"));
    auto h = ParseHints(hints);
    if (!h.ok()) return FaultFrom(h.status());
    c.hints = *h;
  }
  if (backup) {
    // Checked before a volume is made for nothing (restore policy, status, size).
    auto ok = backups->CheckRestorable(req.ctx, backup->id);
    if (!ok.ok()) return FaultFrom(ok.status());
  }
  auto v = volumes.CreateVolume(req.ctx, c);
  if (!v.ok()) return FaultFrom(v.status());
  if (backup) {
    Status st = backups->RestoreIntoNewVolume(req.ctx, backup->id, v->id);
    if (!st.ok()) {
      (void)volumes.DeleteVolume(RequestContext::Admin(req.ctx.user_id, req.ctx.project_id), v->id, /*force=*/true,
                                 /*cascade=*/false);
      return FaultFrom(st);
    }
  }
  return Json(202, VolumeBody(req, *v));
}

ApiResponse Update(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  auto vol = Member(*body, "volume");
  if (!vol.ok()) return FaultFrom(vol.status());
  const json::Value& o = **vol;
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (k != "name" && k != "display_name" && k != "description" && k != "display_description" && k != "metadata") {
      extra.push_back(k);
    }
  }
  if (!extra.empty()) return FaultFrom(FieldError("volume", o, Unexpected(extra)));
  if (o.size() == 0 && req.version.AtLeast(3, 53)) {
    return FaultFrom(FieldError("volume", o, "{} is not valid under any of the given schemas"));
  }
  VolumeUpdate u;
  // null clears the field; the v3 names win over display_* when both are given.
  for (const char* k : {"display_name", "name"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (o.Find(k)) u.name = *s;
  }
  for (const char* k : {"display_description", "description"}) {
    auto s = OptString(o, k, true);
    if (!s.ok()) return FaultFrom(s.status());
    if (o.Find(k)) u.description = *s;
  }
  if (const json::Value* md_value = o.Find("metadata")) {
    auto md = ParseMetadata(*md_value, "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    u.metadata = *md;
  }
  auto v = volumes.UpdateVolume(req.ctx, id, u);
  if (!v.ok()) return FaultFrom(v.status());
  return Json(200, VolumeBody(req, *v));
}

// ---- actions ---------------------------------------------------------------------------------

// The connector of os-initialize_connection / os-terminate_connection / os-force_detach: an
// object (or, as Cinder's schema allows, a string or null).
Result<std::optional<std::string>> ConnectorArg(const json::Value& arg, const char* action, bool required,
                                                bool nullable = false) {
  if (!arg.is_object()) return FieldError(action, arg, PyRepr(arg) + " is not of type 'object'");
  const json::Value* c = arg.Find("connector");
  if (!c) {
    if (required) return FieldError(action, arg, "'connector' is a required property");
    return std::optional<std::string>();
  }
  if (c->is_object()) return std::optional<std::string>(json::Serialize(*c));
  if (c->is_string()) return std::optional<std::string>(c->as_string());
  if (c->is_null() && (nullable || !required)) return std::optional<std::string>();
  return FieldError("connector", *c, PyRepr(*c) + " is not of type 'object', 'string'");
}

// os-attach's body (Cinder's schema: mountpoint required, instance_uuid or host_name).
Result<VolumeManager::LegacyAttach> ParseLegacyAttach(const json::Value& arg) {
  if (!arg.is_object()) return FieldError("os-attach", arg, PyRepr(arg) + " is not of type 'object'");
  std::vector<std::string> extra;
  for (const auto& [k, v] : arg.as_object()) {
    if (k != "instance_uuid" && k != "host_name" && k != "mountpoint" && k != "mode") extra.push_back(k);
  }
  if (!extra.empty()) return FieldError("os-attach", arg, Unexpected(extra));
  VolumeManager::LegacyAttach a;
  CINDER_ASSIGN_OR_RETURN(a.instance_uuid, OptString(arg, "instance_uuid", false));
  if (a.instance_uuid && !IsUuid(*a.instance_uuid)) {
    return FieldError("instance_uuid", Get(arg, "instance_uuid"),
                      PyRepr(Get(arg, "instance_uuid")) + " is not a 'uuid'");
  }
  CINDER_ASSIGN_OR_RETURN(a.host_name, OptString(arg, "host_name", false));
  CINDER_ASSIGN_OR_RETURN(auto mountpoint, OptString(arg, "mountpoint", false));
  CINDER_ASSIGN_OR_RETURN(auto mode, OptString(arg, "mode", false));
  if (mode && *mode != "rw" && *mode != "ro") {
    return FieldError("mode", Get(arg, "mode"), PyRepr(Get(arg, "mode")) + " is not one of ['rw', 'ro']");
  }
  if (!mountpoint) return FieldError("os-attach", arg, "'mountpoint' is a required property");
  if (!a.instance_uuid && !a.host_name) {
    return FieldError("os-attach", arg, PyRepr(arg) + " is not valid under any of the given schemas");
  }
  a.mountpoint = *mountpoint;
  a.mode = mode.value_or("rw");
  return a;
}

// os-update_readonly_flag's body: {"readonly": a boolean, or a string Cinder reads as one}.
Result<bool> ParseReadonlyFlag(const json::Value& arg) {
  if (!arg.is_object()) return FieldError("os-update_readonly_flag", arg, PyRepr(arg) + " is not of type 'object'");
  const json::Value* r = arg.Find("readonly");
  if (!r) return FieldError("os-update_readonly_flag", arg, "'readonly' is a required property");
  if (r->is_bool()) return r->as_bool();
  if (r->is_string()) return ParseBool("readonly", r->as_string());
  return FieldError("readonly", *r, PyRepr(*r) + " is not of type 'boolean', 'string'");
}

// os-set_bootable's body (Cinder's schema set_bootable): {"bootable": Cinder's boolean}.
Result<bool> ParseSetBootable(const json::Value& arg) {
  if (!arg.is_object()) return FieldError("os-set_bootable", arg, PyRepr(arg) + " is not of type 'object'");
  std::vector<std::string> extra;
  for (const auto& [k, v] : arg.as_object()) {
    if (k != "bootable") extra.push_back(k);
  }
  const json::Value* b = arg.Find("bootable");
  if (!b) return FieldError("os-set_bootable", arg, "'bootable' is a required property");
  if (!extra.empty()) return FieldError("os-set_bootable", arg, Unexpected(extra));
  if (b->is_bool()) return b->as_bool();
  if (b->is_string()) {
    // The strings of Cinder's parameter_types.boolean.
    static const std::set<std::string> kTrue = {"True", "TRUE", "true", "1",   "ON", "On",
                                                "on",   "YES",  "Yes",  "yes", "y",  "t"};
    static const std::set<std::string> kFalse = {"False", "FALSE", "false", "0",  "OFF", "Off",
                                                 "off",   "NO",    "No",    "no", "n",   "f"};
    if (kTrue.count(b->as_string())) return true;
    if (kFalse.count(b->as_string())) return false;
    return FieldError("bootable", *b,
                      PyRepr(*b) +
                          " is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', "
                          "'y', 't', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', "
                          "'n', 'f']");
  }
  return FieldError("bootable", *b, PyRepr(*b) + " is not of type 'boolean', 'string'");
}

// The attach actions Nova and older tools drive (Cinder's volume_actions.py and
// admin_actions.py force_detach). False when `action` is none of them.
bool LegacyAttachAction(VolumeManager& volumes, ApiRequest& req, const std::string& id, const std::string& action,
                        const json::Value& arg, ApiResponse* out) {
  auto status = [&](const Status& st) { *out = st.ok() ? Json(202, "") : FaultFrom(st); };
  if (action == "os-reserve") {
    status(volumes.ReserveVolume(req.ctx, id));
  } else if (action == "os-unreserve") {
    status(volumes.UnreserveVolume(req.ctx, id));
  } else if (action == "os-begin_detaching") {
    status(volumes.BeginDetaching(req.ctx, id));
  } else if (action == "os-roll_detaching") {
    status(volumes.RollDetaching(req.ctx, id));
  } else if (action == "os-initialize_connection") {
    auto c = ConnectorArg(arg, "os-initialize_connection", true);
    if (!c.ok()) {
      *out = FaultFrom(c.status());
      return true;
    }
    auto info = volumes.InitializeConnection(req.ctx, id, c->value_or("{}"));
    if (!info.ok()) {
      *out = FaultFrom(info.status());
      return true;
    }
    JsonWriter w;
    w.BeginObject().Key("connection_info").Raw(*info).EndObject();
    *out = Json(200, w.Take());
  } else if (action == "os-terminate_connection") {
    auto c = ConnectorArg(arg, "os-terminate_connection", true, /*nullable=*/true);
    if (!c.ok()) {
      *out = FaultFrom(c.status());
      return true;
    }
    status(volumes.TerminateConnection(req.ctx, id));
  } else if (action == "os-attach") {
    auto a = ParseLegacyAttach(arg);
    status(a.ok() ? volumes.AttachVolume(req.ctx, id, *a) : a.status());
  } else if (action == "os-detach" || action == "os-force_detach") {
    std::optional<std::string> attachment_id;
    if (arg.is_object()) {
      auto v = OptString(arg, "attachment_id", true);
      if (!v.ok()) {
        *out = FaultFrom(v.status());
        return true;
      }
      attachment_id = *v;
    } else if (!arg.is_null()) {
      *out = FaultFrom(FieldError(action, arg, PyRepr(arg) + " is not of type 'object'"));
      return true;
    }
    status(action == "os-detach" ? volumes.DetachVolume(req.ctx, id, attachment_id)
                                 : volumes.ForceDetach(req.ctx, id, attachment_id));
  } else if (action == "os-update_readonly_flag") {
    auto flag = ParseReadonlyFlag(arg);
    status(flag.ok() ? volumes.UpdateReadonlyFlag(req.ctx, id, *flag) : flag.status());
  } else {
    return false;
  }
  return true;
}

// os-set_image_metadata's metadata (Cinder's parameter_types.image_metadata: the metadata key
// pattern, string values up to 65535 bytes).
Result<Metadata> ParseImageMetadata(const json::Value& v) {
  if (!v.is_object()) return FieldError("metadata", v, PyRepr(v) + " is not of type 'object'");
  Metadata md;
  for (const auto& [k, val] : v.as_object()) {
    if (!ValidMetadataKey(k)) {
      return FieldError("metadata", v, "'" + k + "' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'");
    }
  }
  for (const auto& [k, val] : v.as_object()) {
    if (!val.is_string()) return FieldError(k, val, PyRepr(val) + " is not of type 'string'");
    if (val.as_string().size() > 65535) return FieldError(k, val, PyRepr(val) + " is not a 'mysql_text'");
    md[k] = val.as_string();
  }
  return md;
}

// The image metadata actions (Cinder's volume_image_metadata.py). False when `action` is none.
bool ImageMetadataAction(VolumeManager& volumes, ApiRequest& req, const std::string& id, const std::string& action,
                         const json::Value& arg, ApiResponse* out) {
  auto answer = [&](const Result<Metadata>& md) {
    if (!md.ok()) {
      *out = FaultFrom(md.status());
      return;
    }
    JsonWriter w;
    w.BeginObject().Key("metadata");
    WriteStringMap(w, *md);
    w.EndObject();
    *out = Json(200, w.Take());
  };
  auto only = [&](const char* key) -> Status {
    if (!arg.is_object()) return FieldError(action, arg, PyRepr(arg) + " is not of type 'object'");
    std::vector<std::string> extra;
    for (const auto& [k, v] : arg.as_object()) {
      if (k != key) extra.push_back(k);
    }
    if (!arg.Find(key)) return FieldError(action, arg, "'" + std::string(key) + "' is a required property");
    if (!extra.empty()) return FieldError(action, arg, Unexpected(extra));
    return Status::OK();
  };
  if (action == "os-set_image_metadata") {
    if (Status st = only("metadata"); !st.ok()) {
      *out = FaultFrom(st);
      return true;
    }
    auto md = ParseImageMetadata(Get(arg, "metadata"));
    answer(md.ok() ? volumes.SetImageMetadata(req.ctx, id, *md) : Result<Metadata>(md.status()));
  } else if (action == "os-unset_image_metadata") {
    if (Status st = only("key"); !st.ok()) {
      *out = FaultFrom(st);
      return true;
    }
    const json::Value& key = Get(arg, "key");
    Status st;
    if (!key.is_string()) {
      st = FieldError("key", key, PyRepr(key) + " is not of type 'string'");
    } else if (key.as_string().empty()) {
      st = FieldError("key", key, PyRepr(key) + " should be non-empty");
    } else if (key.as_string().size() > 255) {
      st = FieldError("key", key, PyRepr(key) + " is too long");
    } else {
      st = volumes.DeleteImageMetadataKey(req.ctx, id, key.as_string());
    }
    *out = st.ok() ? Json(200, "") : FaultFrom(st);
  } else if (action == "os-show_image_metadata") {
    answer(volumes.GetImageMetadata(req.ctx, id));
  } else {
    return false;
  }
  return true;
}

ApiResponse Action(VolumeManager& volumes, ApiRequest& req, const std::string& id) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  const json::Value& o = *body;
  if (o.size() != 1) return Fault(400, "Malformed request body");
  const std::string& action = o.as_object()[0].first;
  const json::Value& arg = o.as_object()[0].second;
  if (action == "os-extend") {
    if (!arg.is_object()) return FaultFrom(FieldError("os-extend", arg, PyRepr(arg) + " is not of type 'object'"));
    std::vector<std::string> extra;
    for (const auto& [k, v] : arg.as_object()) {
      if (k != "new_size") extra.push_back(k);
    }
    if (!arg.Find("new_size")) {
      return FaultFrom(FieldError("os-extend", arg, "'new_size' is a required property"));
    }
    if (!extra.empty()) return FaultFrom(FieldError("os-extend", arg, Unexpected(extra)));
    auto n = ParseSize(Get(arg, "new_size"), "new_size", "'integer', 'string'");
    if (!n.ok()) return FaultFrom(n.status());
    Status st = req.version.AtLeast(3, 42) ? volumes.ExtendAttachedVolume(req.ctx, id, *n)
                                           : volumes.ExtendVolume(req.ctx, id, *n);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-reset_status") {
    if (!arg.is_object()) {
      return FaultFrom(FieldError("os-reset_status", arg, PyRepr(arg) + " is not of type 'object'"));
    }
    std::optional<std::string> fields[3];
    const char* names[3] = {"status", "attach_status", "migration_status"};
    for (int i = 0; i < 3; ++i) {
      auto s = OptString(arg, names[i], false);
      if (!s.ok()) return FaultFrom(s.status());
      if (*s) fields[i] = ToLower(**s);
    }
    Status st = volumes.ResetStatus(req.ctx, id, fields[0], fields[1], fields[2]);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-force_delete") {
    Status st = volumes.ForceDeleteVolume(req.ctx, id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-retype") {
    if (!arg.is_object()) return FaultFrom(FieldError("os-retype", arg, PyRepr(arg) + " is not of type 'object'"));
    std::vector<std::string> extra;
    for (const auto& [k, v] : arg.as_object()) {
      if (k != "new_type" && k != "migration_policy") extra.push_back(k);
    }
    if (!extra.empty()) return FaultFrom(FieldError("os-retype", arg, Unexpected(extra)));
    auto type = OptString(arg, "new_type", false);
    if (!type.ok()) return FaultFrom(type.status());
    if (!*type) return FaultFrom(FieldError("os-retype", arg, "'new_type' is a required property"));
    auto policy = OptString(arg, "migration_policy", true);
    if (!policy.ok()) return FaultFrom(policy.status());
    if (*policy && **policy != "never" && **policy != "on-demand") {
      const json::Value& p = Get(arg, "migration_policy");
      return FaultFrom(FieldError("migration_policy", p, PyRepr(p) + " is not one of ['on-demand', 'never']"));
    }
    Status st = volumes.RetypeVolume(req.ctx, id, **type, policy->value_or("never"));
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-unmanage") {  // volume_unmanage.py: any value
    Status st = volumes.UnmanageVolume(req.ctx, id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  if (action == "os-set_bootable") {
    auto bootable = ParseSetBootable(arg);
    if (!bootable.ok()) return FaultFrom(bootable.status());
    VolumeUpdate u;
    u.bootable = *bootable;
    auto v = volumes.UpdateVolume(req.ctx, id, u);
    return v.ok() ? Json(200, "") : FaultFrom(v.status());
  }
  if (action == "os-migrate_volume") return MigrateVolumeAction(volumes, req, id, arg);
  if (action == "os-migrate_volume_completion") return MigrateVolumeCompletionAction(volumes, req, id, arg);
  if (ApiResponse r; LegacyAttachAction(volumes, req, id, action, arg, &r)) return r;
  if (ApiResponse r; ImageMetadataAction(volumes, req, id, action, arg, &r)) return r;
  if (action == "revert" && req.version.AtLeast(3, 40)) {
    if (!arg.is_object()) return FaultFrom(FieldError("revert", arg, PyRepr(arg) + " is not of type 'object'"));
    auto snap = OptString(arg, "snapshot_id", false);
    if (!snap.ok()) return FaultFrom(snap.status());
    if (*snap && !IsUuid(**snap)) {
      const json::Value& id_value = Get(arg, "snapshot_id");
      return FaultFrom(FieldError("snapshot_id", id_value, PyRepr(id_value) + " is not a 'uuid'"));
    }
    if (!*snap) return FaultFrom(FieldError("revert", arg, "'snapshot_id' is a required property"));
    Status st = volumes.RevertToSnapshot(req.ctx, id, **snap);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(
      400, "There is no such action: " + action + ". Verify the request body and Content-Type header and try again.");
}

}  // namespace

// views/volumes.py legacy_detail: the detail view as at 3.0, without the extensions' keys.
std::string LegacyVolumeBody(const ApiRequest& req, const Volume& v) {
  ApiRequest legacy = req;
  legacy.version = ApiVersion{3, 0};
  return VolumeBody(legacy, v);
}

ApiResponse HandleVolumes(const Options& options, VolumeManager& volumes, BackupManager* backups, ApiRequest& req,
                          const std::vector<std::string>& rest) {
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, volumes, req, /*detail=*/false);
    if (m == "POST") return Create(volumes, backups, req);
    return Fault(405, "The method is not allowed.");
  }
  if (rest.size() == 1 && rest[0] == "summary" && req.version.AtLeast(3, 12)) {
    if (m != "GET") return Fault(405, "The method is not allowed.");
    auto all_tenants = QueryBool(req, "all_tenants");
    if (!all_tenants.ok()) return FaultFrom(all_tenants.status());
    auto sum = volumes.GetVolumeSummary(req.ctx, *all_tenants);
    if (!sum.ok()) return FaultFrom(sum.status());
    JsonWriter w;
    w.BeginObject().Key("volume-summary").BeginObject();
    w.Key("total_count").Int(sum->total_count);
    w.Key("total_size").Int(sum->total_size);
    if (req.version.AtLeast(3, 36)) {
      w.Key("metadata").BeginObject();
      for (const auto& [k, values] : sum->metadata) {
        w.Key(k).BeginArray();
        for (const auto& v : values) w.String(v);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndObject().EndObject();
    return Json(200, w.Take());
  }
  if (rest.size() == 1 && rest[0] == "detail") {
    return m == "GET" ? List(options, volumes, req, /*detail=*/true) : Fault(405, "The method is not allowed.");
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (m == "GET") {
      auto v = volumes.GetVolume(req.ctx, id);
      if (!v.ok()) return FaultFrom(v.status());
      Extensions ext = ExtensionsFor(volumes, req);
      AddImageMetadata(volumes, req, {v->id}, &ext);
      return Json(200, VolumeBody(req, *v, ext));
    }
    if (m == "PUT") return Update(volumes, req, id);
    if (m == "DELETE") {
      bool force = false, cascade = false;
      for (const auto& [k, v] : req.query) {
        if (k != "cascade" && k != "force") continue;
        auto b = ParseBool(k, v);
        if (!b.ok()) return FaultFrom(b.status());
        if (k == "force" && req.version.AtLeast(3, 23)) force = *b;  // ignored before 3.23
        if (k == "cascade") cascade = *b;
      }
      Status st = volumes.DeleteVolume(req.ctx, id, force, cascade);
      return st.ok() ? Json(202, "") : FaultFrom(st);
    }
    return Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "action" && rest.size() == 2) {
    return m == "POST" ? Action(volumes, req, id) : Fault(405, "The method is not allowed.");
  }
  if (rest[1] == "metadata") {
    MetadataOps ops;
    ops.resource = "Volume";
    ops.etags = req.version.AtLeast(3, 15);
    ops.get = [&] { return volumes.GetMetadata(req.ctx, id); };
    ops.update = [&](const Metadata& md, bool replace) { return volumes.UpdateMetadata(req.ctx, id, md, replace); };
    ops.create = [&](const Metadata& md) { return volumes.CreateMetadata(req.ctx, id, md); };
    ops.remove = [&](const std::string& key) { return volumes.DeleteMetadataKey(req.ctx, id, key); };
    if (rest.size() == 2) return MetadataCollection(req, id, ops);
    if (rest.size() == 3) return MetadataItem(req, id, rest[2], ops);
  }
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
