// VolumeManagerImpl (manager_impl.h): manage existing, as cinder/volume/api.py's
// manage_existing, manage_existing_snapshot, get_manageable_volumes / _snapshots and delete /
// delete_snapshot with unmanage_only, and cinder/volume/flows/api/manage_existing.py.
#include <algorithm>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "db/directory.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;

// The backend part of host@backend#pool (Cinder's extract_host(host, 'backend')).
std::string BackendOf(const std::string& host) { return host.substr(0, host.find('#')); }

}  // namespace

// Cinder's _get_service_by_host_cluster: the cinder-volume service of `host` (host@backend;
// a bare host names its first backend) or of `cluster`: NotFound "Service cinder-volume could
// not be found[ on host H]."; FailedPrecondition "Service is unavailable at this time." when
// it is disabled or down.
Result<ServiceInfo> VolumeManagerImpl::ManageService(const std::optional<std::string>& host,
                                                     const std::optional<std::string>& cluster) {
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
  std::optional<ServiceInfo> found;
  if (host) {
    const std::string backend = BackendOf(*host);
    for (const auto& svc : services) {
      if (svc.host == backend || (backend.find('@') == std::string::npos && svc.host.rfind(backend + "@", 0) == 0)) {
        found = svc;
        break;
      }
    }
    if (!found) return NotFound("Service cinder-volume could not be found on host " + backend + ".");
  } else {
    // A service of the cluster (NAME@backend, a pool after '#' ignored), one that is up first.
    const std::string name = cluster ? BackendOf(*cluster) : std::string();
    for (const auto& svc : services) {
      if (svc.cluster_name != name) continue;
      if (!found || (!ServiceIsUp(*found, options_.service_down_time, options_.env) &&
                     ServiceIsUp(svc, options_.service_down_time, options_.env))) {
        found = svc;
      }
    }
    if (!found) return NotFound("Service cinder-volume could not be found.");
  }
  if (ServiceDisabled(*found) || !ServiceIsUp(*found, options_.service_down_time, options_.env)) {
    CINDER_LOG(kError, "cinder-api") << "Unable to manage existing resource on a service that is disabled or down: "
                                     << found->host;
    return FailedPrecondition("Service is unavailable at this time.");
  }
  return *found;
}

Result<Volume> VolumeManagerImpl::ManageVolume(const RequestContext& ctx, const ManageVolumeRequest& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_manage", {}));
  if ((request.host && !request.host->empty()) == (request.cluster && !request.cluster->empty())) {
    return InvalidArgument("Invalid input received: One and only one of cluster and host must be set.");
  }
  // volume_manage.py: the type by name or id, else the default.
  VolumeType type;
  if (request.volume_type && !request.volume_type->empty()) {
    auto t = store_->GetVolumeType(*request.volume_type);
    if (!t.ok()) {
      if (t.status().code() != Code::kNotFound) return t.status();
      return InvalidArgument("Invalid volume type: Cannot find requested '" + *request.volume_type + "' volume type");
    }
    type = *t;
  } else {
    CINDER_ASSIGN_OR_RETURN(type, types_.EffectiveDefault(ctx));
  }
  if (request.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *request.name, 255));
  if (request.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *request.description, 255));
  CINDER_RETURN_IF_ERROR(CheckMetadata(request.metadata));
  // api.py: a source-name that is a live volume's own name (volume_name_template).
  if (request.source_name.rfind("volume-", 0) == 0) {
    auto existing = store_->GetVolume(request.source_name.substr(7), std::nullopt);
    if (existing.ok()) {
      return FailedPrecondition("Invalid volume: Unable to manage existing volume. The volume is already managed");
    }
  }
  Result<ServiceInfo> svc = ManageService(request.host, request.cluster);
  if (!svc.ok()) {
    if (svc.status().code() != Code::kNotFound) return svc.status();
    // volume_manage.py turns ServiceNotFound into ServiceUnavailable (400).
    return FailedPrecondition(std::string(request.host ? "Host" : "Cluster") + " '" +
                              request.host.value_or(request.cluster.value_or("")) + "' not found");
  }
  // Recorded on the host named (with its pool when the request gave one, else the service's
  // backend); the scheduler checks it passes the filters for the type and picks the pool.
  const std::string manage_host =
      request.host && request.host->find('#') != std::string::npos ? *request.host : svc->host;
  Volume v;
  v.id = NewUuid();
  v.has_name = request.name.has_value();
  v.name = request.name.value_or("");
  v.has_description = request.description.has_value();
  v.description = request.description.value_or("");
  v.size = 0;
  v.status = "managing";
  v.host = manage_host;
  v.availability_zone = request.availability_zone.value_or(svc->availability_zone);
  v.project_id = ctx.project_id;
  v.user_id = ctx.user_id;
  v.volume_type_id = type.id;
  v.volume_type_name = type.name;
  if (auto m = type.extra_specs.find("multiattach"); m != type.extra_specs.end()) {
    v.multiattach = m->second == "<is> True";
  }
  v.bootable = request.bootable;
  v.metadata = request.metadata;
  v.created_at = NowIso();
  // Cinder's QuotaReserveTask with size 0 (volumes only), committed with the row; the host
  // charges the gigabytes once it knows the size.
  QuotaCharge charge = quotas_.Charge(ctx.project_id, QuotaApi::VolumeDeltas(type.name, 0));
  charge.type_id = type.id;
  charge.type_name = type.name;
  Store::QuotaReservation over;
  if (Status st = store_->InsertVolume(v, &charge, &over); !st.ok()) {
    if (st.code() == Code::kResourceExhausted) return QuotaApi::OverQuotaError(over, "volumes", 0);
    return st;
  }
  // As recorded ("managing"): read before the scheduler is asked, which may finish at once.
  Result<Volume> recorded = GetVolume(ctx, v.id);
  Status handed = schedulers_.ManageExisting(ctx, ManagePlacement{v.id, request.source_name});
  if (!handed.ok()) {
    // Cinder's ManageCastTask.revert: error_managing.
    (void)store_->CasVolumeStatus(v.id, {"managing"}, "error_managing");
    CINDER_LOG(kError, "cinder-api") << "Volume " << v.id << ": manage failed: " << handed.ToString();
    return GetVolume(ctx, v.id);
  }
  return recorded;
}

Result<Snapshot> VolumeManagerImpl::ManageSnapshot(const RequestContext& ctx, const ManageSnapshotRequest& request) {
  CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, request.volume_id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "snapshot_extension:snapshot_manage", VolumeTarget(v)));
  // Ensure the service is up and not disabled (a NotFound stays 404 here, as Cinder's).
  CINDER_RETURN_IF_ERROR(ManageService(v.host.empty() ? std::optional<std::string>() : v.host, std::nullopt).status());
  SnapshotCreate create;
  create.volume_id = v.id;
  create.name = request.name;
  create.description = request.description;
  create.metadata = request.metadata;
  create.force = true;  // Cinder's create_snapshot_in_db(force=True)
  return snapshots_.Create(ctx, create, /*allow_in_use=*/true, request.source_name);
}

Result<std::vector<VolumeManager::Manageable>> VolumeManagerImpl::ListManageable(const RequestContext& ctx,
                                                                                 const ManageableQuery& q,
                                                                                 bool snapshots) {
  CINDER_RETURN_IF_ERROR(
      policy_->Enforce(ctx, snapshots ? "snapshot_extension:list_manageable" : "volume_extension:list_manageable", {}));
  CINDER_ASSIGN_OR_RETURN(ServiceInfo svc, ManageService(q.host, q.cluster));
  CINDER_ASSIGN_OR_RETURN(std::string text, hosts_.GetManageable(ctx, svc.host, snapshots));
  CINDER_ASSIGN_OR_RETURN(json::Value entries, json::Parse(text));
  std::vector<Manageable> all;
  for (const auto& e : entries.as_array()) {
    Manageable m;
    m.reference = e.Find("reference")->as_string();
    m.size = e.Find("size")->as_int();
    m.safe_to_manage = e.Find("safe_to_manage")->as_bool();
    auto opt = [&e](const char* k) -> std::optional<std::string> {
      const json::Value* x = e.Find(k);
      if (!x || !x->is_string()) return std::nullopt;
      return x->as_string();
    };
    m.reason_not_safe = opt("reason_not_safe");
    m.cinder_id = opt("cinder_id");
    m.source_reference = opt("source_reference");
    all.push_back(std::move(m));
  }
  // volume_utils.paginate_entries_list: sorted by the keys (a reference by its source-name),
  // then from after the marker, `offset` skipped, `limit` kept.
  std::vector<SortKey> sort = q.sort;
  if (sort.empty()) sort.push_back({"reference", false});
  std::stable_sort(all.begin(), all.end(), [&sort](const Manageable& a, const Manageable& b) {
    for (const auto& k : sort) {
      int c = 0;
      if (k.key == "size") {
        c = a.size < b.size ? -1 : a.size > b.size ? 1 : 0;
      } else {
        c = a.reference.compare(b.reference);
      }
      if (c != 0) return k.ascending ? c < 0 : c > 0;
    }
    return false;
  });
  size_t start = 0;
  if (q.marker) {
    // The marker is a reference as JSON: {"source-name": "..."}.
    auto marker = json::Parse(*q.marker);
    const json::Value* name = marker.ok() && marker->is_object() ? marker->Find("source-name") : nullptr;
    if (!marker.ok()) {
      return InvalidArgument("Invalid input received: marker " + *q.marker +
                             " can not be analysed, please use json like format");
    }
    bool seen = false;
    for (size_t i = 0; i < all.size() && name && name->is_string() && marker->size() == 1; ++i) {
      if (all[i].reference == name->as_string()) {
        start = i + 1;
        seen = true;
        break;
      }
    }
    if (!seen) return InvalidArgument("Invalid input received: marker not found: " + *q.marker);
  }
  const int64_t limit = q.limit < 0 ? options_.osapi_max_limit : std::min(q.limit, options_.osapi_max_limit);
  std::vector<Manageable> page;
  for (size_t i = start + static_cast<size_t>(std::max<int64_t>(0, q.offset));
       i < all.size() && static_cast<int64_t>(page.size()) < limit; ++i) {
    page.push_back(all[i]);
  }
  return page;
}

// Cinder's delete(unmanage_only=True): the checks of a delete, then "unmanaging" until the
// host has let the volume go.
Status VolumeManagerImpl::UnmanageVolume(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_unmanage", VolumeTarget(v)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:delete", VolumeTarget(v)));
  if (v.host.empty()) {
    // Never placed: as Cinder's delete of such a volume, the row simply goes.
    CINDER_ASSIGN_OR_RETURN(
        bool started,
        store_->StartVolumeDelete(v.id, {"available", "error", "error_restoring", "error_extending", "error_managing"},
                                  false, false, ctx.is_admin));
    if (started) return store_->SoftDeleteVolume(v.id, vs::kDeleting).status();
  } else {
    CINDER_ASSIGN_OR_RETURN(
        bool started,
        store_->StartVolumeDelete(v.id, {"available", "error", "error_restoring", "error_extending", "error_managing"},
                                  false, false, ctx.is_admin, "unmanaging"));
    if (started) {
      (void)hosts_.UnmanageVolume(ctx, v.host, v.id);  // a host that is down resumes it at its start
      return Status::OK();
    }
  }
  return FailedPrecondition(
      "Invalid volume: Volume status must be available or error or error_restoring or "
      "error_extending or error_managing and must not be migrating, attached, belong to a "
      "group, have snapshots, awaiting a transfer, or be disassociated from snapshots after "
      "volume transfer.");
}

// Cinder's delete_snapshot(unmanage_only=True).
Status VolumeManagerImpl::UnmanageSnapshot(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, snapshots_.Get(ctx, id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "snapshot_extension:snapshot_unmanage", SnapshotTarget(sn)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:delete_snapshot", SnapshotTarget(sn)));
  CINDER_ASSIGN_OR_RETURN(bool started, store_->StartSnapshotDelete(sn.id, {ss::kAvailable, ss::kError}, "unmanaging"));
  if (!started) {
    return FailedPrecondition(
        "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.");
  }
  auto v = store_->GetVolume(sn.volume_id, std::nullopt);
  if (v.ok() && !v->host.empty()) (void)hosts_.UnmanageSnapshot(ctx, v->host, SnapshotRef{sn.id, sn.volume_id});
  return Status::OK();
}

}  // namespace cinder
