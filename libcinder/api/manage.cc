// Manage existing: /manageable_volumes and /manageable_snapshots (3.8) and the extensions'
// /os-volume-manage and /os-snapshot-manage (cinder/api/contrib/volume_manage.py,
// snapshot_manage.py, resource_common_manage.py, cinder/api/v3/volume_manage.py,
// snapshot_manage.py, resource_common_manage.py, views/manageable_*.py).
#include <regex>
#include <set>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

const char kNotFound[] = "The resource could not be found.";
const char kNotAllowed[] = "The method is not allowed.";

// Keys of `o` outside `allowed`.
std::vector<std::string> ExtraKeys(const json::Value& o, const std::set<std::string>& allowed) {
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.as_object()) {
    if (!allowed.count(k)) extra.push_back(k);
  }
  return extra;
}

// A string-or-null field of at most `max_len` characters (parameter_types.description,
// name_allow_zero_min_length).
Result<std::optional<std::string>> NullableString(const json::Value& o, const std::string& key, size_t max_len = 255) {
  return OptString(o, key, /*nullable=*/true, max_len);
}

// The reference's source-name: {"source-name": "..."}; anything else names nothing the file
// driver can find (the volume or snapshot then fails on its host, as Cinder's drivers'
// ManageExistingInvalidReference).
std::string SourceName(const json::Value& ref) {
  if (!ref.is_object()) return "";
  const json::Value* name = ref.Find("source-name");
  return name && name->is_string() ? name->as_string() : "";
}

// common.get_cluster_host: exactly one of cluster and host (cluster only from `cluster_minor`).
Status ClusterHost(const ApiRequest& req, const std::optional<std::string>& host,
                   const std::optional<std::string>& cluster, int cluster_minor) {
  const bool clusters = req.version.AtLeast(3, cluster_minor);
  const bool has_cluster = clusters && cluster && !cluster->empty();
  const bool has_host = host && !host->empty();
  if (has_cluster == has_host) {
    return InvalidArgument(clusters ? "Invalid input received: One and only one of cluster and host must be set."
                                    : "Invalid input received: Host field is missing.");
  }
  return Status::OK();
}

ApiResponse ManageVolume(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  // schemas/volume_manage.py (cluster from 3.16).
  if (auto extra = ExtraKeys(*body, {"volume"}); !extra.empty()) {
    return FaultFrom(FieldError("", *body, Unexpected(extra)));
  }
  auto member = Member(*body, "volume");
  if (!member.ok()) return FaultFrom(member.status());
  const json::Value& o = **member;
  std::set<std::string> keys = {"description", "availability_zone", "bootable", "volume_type", "name", "host",
                                "ref",         "metadata"};
  if (req.version.AtLeast(3, 16)) keys.insert("cluster");
  if (auto extra = ExtraKeys(o, keys); !extra.empty()) return FaultFrom(FieldError("volume", o, Unexpected(extra)));
  if (!o.Find("ref")) return FaultFrom(FieldError("volume", o, "'ref' is a required property"));
  const json::Value& ref = Get(o, "ref");
  if (!ref.is_object() && !ref.is_string()) {
    return FaultFrom(FieldError("ref", ref, PyRepr(ref) + " is not of type 'object', 'string'"));
  }
  VolumeManager::ManageVolumeRequest r;
  for (const char* k : {"name", "description", "volume_type", "availability_zone", "host", "cluster"}) {
    auto s = NullableString(o, k);
    if (!s.ok()) return FaultFrom(s.status());
    if (!*s) continue;
    const std::string key = k;
    if (key == "host") {
      static const std::regex kHost(R"(^[a-zA-Z0-9\-._#@:/+\[\]]*$)");
      if (!std::regex_match(**s, kHost) || (*s)->empty()) {
        const json::Value& h = Get(o, "host");
        return FaultFrom(FieldError("host", h,
                                    (*s)->empty() ? PyRepr(h) + " is too short"
                                                  : PyRepr(h) + " does not match '^[a-zA-Z0-9-._#@:/+\\\\[\\\\]]*$'"));
      }
      r.host = **s;
    } else if (key == "cluster") {
      r.cluster = **s;
    } else if (key == "name") {
      // volume_manage.py: stripped, and only when not empty.
      if (!(*s)->empty()) r.name = Trim(**s);
    } else if (key == "description") {
      if (!(*s)->empty()) r.description = Trim(**s);
    } else if (key == "volume_type") {
      if (!(*s)->empty()) r.volume_type = **s;
    } else {
      r.availability_zone = **s;
    }
  }
  if (!Get(o, "metadata").is_null()) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    r.metadata = *md;
  }
  if (!Get(o, "bootable").is_null()) {
    auto b = BodyBool("bootable", Get(o, "bootable"));
    if (!b.ok()) return FaultFrom(b.status());
    r.bootable = *b;
  }
  // volume_manage.py: the rule, then the host or cluster.
  if (Status st = volumes.Authorize(req.ctx, "volume_extension:volume_manage", {}); !st.ok()) return FaultFrom(st);
  if (Status st = ClusterHost(req, r.host, r.cluster, 16); !st.ok()) return FaultFrom(st);
  // The one that names the backend (a cluster is no parameter before 3.16).
  if (!req.version.AtLeast(3, 16) || (r.cluster && r.cluster->empty())) r.cluster.reset();
  if (r.host && r.host->empty()) r.host.reset();
  r.source_name = SourceName(ref);
  auto v = volumes.ManageVolume(req.ctx, r);
  if (!v.ok()) return FaultFrom(v.status());
  return Json(202, LegacyVolumeBody(req, *v));
}

ApiResponse ManageSnapshot(VolumeManager& volumes, ApiRequest& req) {
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  if (auto extra = ExtraKeys(*body, {"snapshot", "type"}); !extra.empty()) {
    return FaultFrom(FieldError("", *body, Unexpected(extra)));
  }
  auto member = Member(*body, "snapshot");
  if (!member.ok()) return FaultFrom(member.status());
  const json::Value& o = **member;
  if (auto extra = ExtraKeys(o, {"description", "metadata", "name", "volume_id", "ref"}); !extra.empty()) {
    return FaultFrom(FieldError("snapshot", o, Unexpected(extra)));
  }
  if (!o.Find("ref")) return FaultFrom(FieldError("snapshot", o, "'ref' is a required property"));
  if (!o.Find("volume_id")) return FaultFrom(FieldError("snapshot", o, "'volume_id' is a required property"));
  const json::Value& ref = Get(o, "ref");
  if (!ref.is_object() && !ref.is_string() && !ref.is_null()) {
    return FaultFrom(FieldError("ref", ref, PyRepr(ref) + " is not of type 'object', 'null', 'string'"));
  }
  const json::Value& vol = Get(o, "volume_id");
  if (!vol.is_string() || !IsUuid(vol.as_string())) {
    return FaultFrom(FieldError("volume_id", vol, PyRepr(vol) + " is not a 'uuid'"));
  }
  VolumeManager::ManageSnapshotRequest r;
  r.volume_id = vol.as_string();
  for (const char* k : {"name", "description"}) {
    auto s = NullableString(o, k);
    if (!s.ok()) return FaultFrom(s.status());
    if (std::string(k) == "name") {
      r.name = *s;
    } else {
      r.description = *s;
    }
  }
  if (!Get(o, "metadata").is_null()) {
    auto md = ParseMetadata(Get(o, "metadata"), "metadata");
    if (!md.ok()) return FaultFrom(md.status());
    r.metadata = *md;
  }
  // The LVM driver takes a bare string as the source-name too.
  r.source_name = ref.is_string() ? ref.as_string() : SourceName(ref);
  auto sn = volumes.ManageSnapshot(req.ctx, r);
  if (!sn.ok()) return FaultFrom(sn.status());
  return Json(202, SnapshotCreatedBody(req, *sn));
}

// resource_common_manage.get_manageable_resources and views/manageable_*.py.
ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req, bool snapshots, bool detail) {
  (void)options;
  // The rule first (the contrib controllers authorize before they read the parameters).
  if (Status st = volumes.Authorize(
          req.ctx, snapshots ? "snapshot_extension:list_manageable" : "volume_extension:list_manageable", {});
      !st.ok()) {
    return FaultFrom(st);
  }
  VolumeManager::ManageableQuery q;
  std::optional<std::string> sort, sort_key, sort_dir;
  for (const auto& [k, v] : req.query) {
    if (k == "host") {
      q.host = v;
    } else if (k == "cluster") {
      q.cluster = v;
    } else if (k == "marker") {
      q.marker = v;
    } else if (k == "limit") {
      auto n = ParseLimit(v);
      if (!n.ok()) return FaultFrom(n.status());
      q.limit = *n;
    } else if (k == "offset") {
      auto n = ParseInt(v);
      if (!n) return Fault(400, "offset param must be an integer");
      if (*n < 0) return Fault(400, "offset param must be positive");
      q.offset = *n;
    } else if (k == "sort") {
      sort = v;
    } else if (k == "sort_key") {
      sort_key = v;
    } else if (k == "sort_dir") {
      sort_dir = v;
    }
  }
  if (Status st = ClusterHost(req, q.host, q.cluster, 17); !st.ok()) return FaultFrom(st);
  // common.get_sort_params (default key "reference", direction "desc"), then the keys and
  // directions these lists sort by.
  if (sort && (sort_key || sort_dir)) {
    return Fault(400,
                 "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' "
                 "parameter.");
  }
  std::vector<std::string> keys, dirs;
  if (sort) {
    for (const auto& item : Split(*sort, ',')) {
      auto parts = Split(item, ':');
      keys.push_back(Trim(parts[0]));
      dirs.push_back(parts.size() > 1 ? Trim(parts[1]) : "desc");
    }
  } else {
    keys.push_back(sort_key.value_or("reference"));
    dirs.push_back(sort_dir.value_or("desc"));
  }
  std::vector<std::string> bad_keys, bad_dirs;
  for (const auto& k : keys) {
    if (k != "reference" && k != "size") bad_keys.push_back(k);
  }
  for (const auto& d : dirs) {
    if (d != "asc" && d != "desc") bad_dirs.push_back(d);
  }
  if (!bad_keys.empty()) return Fault(400, "Invalid sort keys passed: " + Join(bad_keys, ", "));
  if (!bad_dirs.empty()) return Fault(400, "Invalid sort dirs passed: " + Join(bad_dirs, ", "));
  for (size_t i = 0; i < keys.size(); ++i) q.sort.push_back({keys[i], dirs[i] == "asc"});
  auto entries = volumes.ListManageable(req.ctx, q, snapshots);
  if (!entries.ok()) return FaultFrom(entries.status());
  JsonWriter w;
  w.BeginObject().Key(snapshots ? "manageable-snapshots" : "manageable-volumes").BeginArray();
  auto reference = [&w](const std::optional<std::string>& name) {
    if (!name) {
      w.Null();
      return;
    }
    w.BeginObject().Key("source-name").String(*name).EndObject();
  };
  for (const auto& e : *entries) {
    w.BeginObject();
    w.Key("reference");
    reference(e.reference);
    w.Key("size").Int(e.size);
    w.Key("safe_to_manage").Bool(e.safe_to_manage);
    if (detail) {
      w.Key("reason_not_safe").OptString(e.reason_not_safe);
      if (snapshots) {
        w.Key("extra_info").Null();
        w.Key("cinder_id").OptString(e.cinder_id);
      } else {
        w.Key("cinder_id").OptString(e.cinder_id);
        w.Key("extra_info").Null();
      }
    }
    if (snapshots) {
      w.Key("source_reference");
      reference(e.source_reference);
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleManageable(const Options& options, VolumeManager& volumes, ApiRequest& req,
                             const std::vector<std::string>& rest, bool snapshots, bool legacy) {
  // v3's controllers: MANAGE_EXISTING_LIST (3.8) for every method; looks as if not there below.
  if (!legacy && !req.version.AtLeast(3, 8)) return Fault(404, kNotFound);
  const std::string& m = req.method;
  if (rest.empty()) {
    if (m == "GET") return List(options, volumes, req, snapshots, /*detail=*/false);
    if (m == "POST") return snapshots ? ManageSnapshot(volumes, req) : ManageVolume(volumes, req);
    return Fault(405, kNotAllowed);
  }
  if (rest.size() == 1 && rest[0] == "detail") {
    return m == "GET" ? List(options, volumes, req, snapshots, /*detail=*/true) : Fault(405, kNotAllowed);
  }
  return Fault(404, kNotFound);
}

}  // namespace cinder::api
