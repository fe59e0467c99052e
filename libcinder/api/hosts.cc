// GET /v3/{project_id}/extensions (Cinder's cinder/api/extensions.py over its contrib
// extensions) and /os-hosts (cinder/api/contrib/hosts.py).
#include <string>
#include <vector>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"

namespace cinder::api {

namespace {

struct Extension {
  const char* alias;
  const char* description;
  const char* name;
  const char* updated;
};

// Cinder's contrib extensions (the ExtensionDescriptor of each cinder/api/contrib module), in the
// order of its api-ref sample extensions-list-response.json.
constexpr Extension kExtensions[] = {
    {"os-hosts", "Admin-only host administration.", "Hosts", "2011-06-29T00:00:00+00:00"},
    {"os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume.", "VolumeTenantAttribute",
     "2011-11-03T00:00:00+00:00"},
    {"os-quota-sets", "Quota management support.", "Quotas", "2011-08-08T00:00:00+00:00"},
    {"os-availability-zone", "Describe Availability Zones.", "AvailabilityZones", "2013-06-27T00:00:00+00:00"},
    {"os-volume-encryption-metadata", "Volume encryption metadata retrieval support.", "VolumeEncryptionMetadata",
     "2013-07-10T00:00:00+00:00"},
    {"backups", "Backups support.", "Backups", "2012-12-12T00:00:00+00:00"},
    {"os-snapshot-actions", "Enable snapshot manager actions.", "SnapshotActions", "2013-07-16T00:00:00+00:00"},
    {"os-volume-actions", "Enable volume actions.", "VolumeActions", "2012-05-31T00:00:00+00:00"},
    {"os-snapshot-manage", "Allows existing backend storage to be 'managed' by Cinder.", "SnapshotManage",
     "2014-12-31T00:00:00+00:00"},
    {"os-volume-unmanage", "Enable volume unmanage operation.", "VolumeUnmanage", "2012-05-31T00:00:00+00:00"},
    {"consistencygroups", "consistency groups support.", "Consistencygroups", "2014-08-18T00:00:00+00:00"},
    {"os-vol-host-attr", "Expose host as an attribute of a volume.", "VolumeHostAttribute",
     "2011-11-03T00:00:00+00:00"},
    {"encryption", "Encryption support for volume types.", "VolumeTypeEncryption", "2013-07-01T00:00:00+00:00"},
    {"os-vol-image-meta", "Show image metadata associated with the volume.", "VolumeImageMetadata",
     "2012-12-07T00:00:00+00:00"},
    {"os-types-manage", "Types manage support.", "TypesManage", "2011-08-24T00:00:00+00:00"},
    {"capabilities", "Capabilities support.", "Capabilities", "2015-08-31T00:00:00+00:00"},
    {"cgsnapshots", "cgsnapshots support.", "Cgsnapshots", "2014-08-18T00:00:00+00:00"},
    {"os-types-extra-specs", "Type extra specs support.", "TypesExtraSpecs", "2011-08-24T00:00:00+00:00"},
    {"os-used-limits", "Provide data on limited resources that are being used.", "UsedLimits",
     "2013-10-03T00:00:00+00:00"},
    {"os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume.", "VolumeMigStatusAttribute",
     "2013-08-08T00:00:00+00:00"},
    {"os-volume-type-access", "Volume type access support.", "VolumeTypeAccess", "2014-06-26T00:00:00Z"},
    {"os-extended-services", "Extended services support.", "ExtendedServices", "2014-01-10T00:00:00-00:00"},
    {"os-extended-snapshot-attributes", "Extended SnapshotAttributes support.", "ExtendedSnapshotAttributes",
     "2012-06-19T00:00:00+00:00"},
    {"os-snapshot-unmanage", "Enable volume unmanage operation.", "SnapshotUnmanage", "2014-12-31T00:00:00+00:00"},
    {"qos-specs", "QoS specs support.", "Qos_specs_manage", "2013-08-02T00:00:00+00:00"},
    {"os-quota-class-sets", "Quota classes management support.", "QuotaClasses", "2012-03-12T00:00:00+00:00"},
    {"os-volume-transfer", "Volume transfer management support.", "VolumeTransfer", "2013-05-29T00:00:00+00:00"},
    {"os-volume-manage", "Allows existing backend storage to be 'managed' by Cinder.", "VolumeManage",
     "2014-02-10T00:00:00+00:00"},
    {"os-admin-actions", "Enable admin actions.", "AdminActions", "2012-08-25T00:00:00+00:00"},
    {"os-services", "Services support.", "Services", "2012-10-28T00:00:00-00:00"},
    {"scheduler-stats", "Scheduler stats support.", "Scheduler_stats", "2014-09-07T00:00:00+00:00"},
    {"OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler.", "SchedulerHints", "2013-04-18T00:00:00+00:00"},
};

void WriteExtension(JsonWriter& w, const Extension& e) {
  w.BeginObject();
  w.Key("alias").String(e.alias);
  w.Key("description").String(e.description);
  w.Key("links").BeginArray().EndArray();
  w.Key("name").String(e.name);
  w.Key("updated").String(e.updated);
  w.EndObject();
}

}  // namespace

ApiResponse HandleExtensions(ApiRequest& req, const std::vector<std::string>& rest) {
  if (req.method != "GET") return Fault(405, "The method is not allowed.");
  JsonWriter w;
  if (rest.empty()) {
    w.BeginObject().Key("extensions").BeginArray();
    for (const Extension& e : kExtensions) WriteExtension(w, e);
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  if (rest.size() == 1) {
    for (const Extension& e : kExtensions) {
      if (rest[0] != e.alias) continue;
      w.BeginObject().Key("extension");
      WriteExtension(w, e);
      w.EndObject();
      return Json(200, w.Take());
    }
  }
  return Fault(404, "The resource could not be found.");
}

ApiResponse HandleHosts(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest) {
  if (rest.size() > 1) return Fault(404, "The resource could not be found.");
  if (req.method != "GET") return Fault(405, "The method is not allowed.");
  if (Status st = volumes.Authorize(req.ctx, "volume_extension:hosts", {}); !st.ok()) return FaultFrom(st);
  JsonWriter w;
  if (rest.empty()) {
    // Cinder's _list_hosts: the enabled services (of the zone asked for), each with its topic.
    auto services = volumes.ListServices(req.ctx, std::nullopt, std::nullopt);
    if (!services.ok()) return FaultFrom(services.status());
    const std::string zone = req.Query("zone").value_or("");
    w.BeginObject().Key("hosts").BeginArray();
    for (const ServiceInfo& s : *services) {
      if (s.disabled || (!zone.empty() && s.availability_zone != zone)) continue;
      w.BeginObject();
      w.Key("host_name").String(s.host);
      w.Key("service").String(s.topic);
      w.Key("zone").String(s.availability_zone);
      w.Key("service-status").String(s.up ? "available" : "unavailable");
      w.Key("service-state").String("enabled");
      w.Key("last-update").OptString(s.updated_at);
      w.EndObject();
    }
    w.EndArray().EndObject();
    return Json(200, w.Take());
  }
  auto usage = volumes.GetHostUsage(req.ctx, rest[0]);
  if (!usage.ok()) return FaultFrom(usage.status());
  w.BeginObject().Key("host").BeginArray();
  for (const HostProjectUsage& u : *usage) {
    // Cinder sends the numbers as strings.
    w.BeginObject().Key("resource").BeginObject();
    w.Key("host").String(rest[0]);
    w.Key("project").String(u.project);
    w.Key("volume_count").String(std::to_string(u.volume_count));
    w.Key("total_volume_gb").String(std::to_string(u.total_volume_gb));
    w.Key("snapshot_count").String(std::to_string(u.snapshot_count));
    w.Key("total_snapshot_gb").String(std::to_string(u.total_snapshot_gb));
    w.EndObject().EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace cinder::api
