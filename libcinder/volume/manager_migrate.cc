// VolumeManagerImpl (manager_impl.h): os-migrate_volume and os-migrate_volume_completion, as
// cinder/volume/api.py's migrate_volume and migrate_volume_completion. The data moves as a
// retype with migration does (volume_migrate.cc), the volume keeping its type.
#include <set>

#include "common/log.h"
#include "db/directory.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;

std::string BackendPart(const std::string& host) { return host.substr(0, host.find('#')); }

}  // namespace

Status VolumeManagerImpl::MigrateVolume(const RequestContext& ctx, const std::string& id,
                                        const std::optional<std::string>& host,
                                        const std::optional<std::string>& cluster, bool force_host_copy,
                                        bool lock_volume) {
  (void)force_host_copy;  // the copy is always the hosts' own (there is no driver-assisted one)
  (void)lock_volume;      // the volume is always "maintenance" while it moves (see docs/api.md)
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_admin_actions:migrate_volume"));
  // The destination's service: cinder-volume, up and enabled (Cinder matches the backend of a
  // host@backend#pool). Services belong to no cluster here: a cluster names none.
  const std::string named = cluster ? *cluster : host.value_or("");
  std::optional<ServiceInfo> svc;
  if (host && !cluster) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    for (const auto& s : services) {
      if (s.host == BackendPart(*host) && !s.disabled && ServiceIsUp(s, options_.service_down_time, options_.env)) {
        svc = s;
      }
    }
  }
  if (!svc) {
    CINDER_LOG(kError, "cinder-api") << "No available service named '" << named << "'";
    return InvalidArgument("Invalid host: No available service named '" + named + "'");
  }
  // A host@backend names its pool by the pools the backend reports.
  std::string dest = *host;
  if (dest.find('#') == std::string::npos) {
    auto pools = ListPools(ctx, std::nullopt, std::nullopt);
    if (pools.ok()) {
      for (const auto& p : *pools) {
        if (p.backend_host == dest) {
          dest = p.name;
          break;
        }
      }
    }
  }
  const std::string refused = "Invalid volume: Volume " + v.id +
                              " status must be available or in-use, must not be migrating, have snapshots, be "
                              "replicated, be part of a group and destination host/cluster must be different than "
                              "the current one";
  const bool migratable = (v.status == vs::kAvailable || v.status == vs::kInUse) &&
                          (!v.migration_status || *v.migration_status == "deleting" || *v.migration_status == "error" ||
                           *v.migration_status == "success") &&
                          !v.group_id && v.host != *host && BackendPart(v.host) != BackendPart(dest);
  if (!migratable) return FailedPrecondition(refused);
  CINDER_ASSIGN_OR_RETURN(auto snapshots, store_->SnapshotsOfVolume(v.id));
  if (!snapshots.empty()) return FailedPrecondition(refused);
  // From the status and host read, with its migration status: "maintenance" until it is done
  // (a snapshot, an attach, a retype, another migration cannot start meanwhile).
  std::vector<std::pair<std::string, std::string>> unchanged = {
      {"host", v.host},
      {"COALESCE(migration_status, '')", v.migration_status.value_or("")},
      {"COALESCE(group_id, '')", ""}};
  CINDER_ASSIGN_OR_RETURN(bool started,
                          store_->CasVolumeStatus(v.id, {v.status}, vs::kMaintenance,
                                                  {{"previous_status", v.status}, {"migration_status", "migrating"}},
                                                  std::nullopt, unchanged));
  if (!started) return FailedPrecondition(refused);
  // A snapshot begun between the check and the change: the migration does not start.
  auto again = store_->SnapshotsOfVolume(v.id);
  if (!again.ok() || !again->empty()) {
    (void)store_->CasVolumeStatus(v.id, {vs::kMaintenance}, v.status,
                                  {{"previous_status", std::nullopt}, {"migration_status", v.migration_status}});
    return again.ok() ? FailedPrecondition(refused) : again.status();
  }
  RetypeRequest request{v.id, v.volume_type_id, "on-demand", v.status, {}, /*migration=*/true};
  Status handed = hosts_.RetypeVolume(ctx, BackendPart(v.host), request, dest, VolumeRpc::kCastTimeout);
  if (!handed.ok() && handed.code() != Code::kDeadlineExceeded) {
    // Cinder's scheduler records the failure on the volume, the request was accepted.
    CINDER_LOG(kError, "cinder-api") << "the migration of volume " << v.id
                                     << " was not handed over: " << handed.ToString();
    (void)store_->CasVolumeStatus(v.id, {vs::kMaintenance}, v.status,
                                  {{"previous_status", std::nullopt}, {"migration_status", "error"}});
  }
  return Status::OK();
}

Result<std::string> VolumeManagerImpl::CompleteVolumeMigration(const RequestContext& ctx, const std::string& id,
                                                               const std::string& new_volume_id, bool error) {
  CINDER_ASSIGN_OR_RETURN(Volume v,
                          VolumeFor(ctx, id, "volume_extension:volume_admin_actions:migrate_volume_completion"));
  CINDER_ASSIGN_OR_RETURN(Volume nv, GetVolume(ctx, new_volume_id));
  auto migrating = [](const Volume& x) { return x.migration_status && !x.migration_status->empty(); };
  if (!migrating(v) && !migrating(nv)) {
    // Nova swapped an instance from v to nv (not a migration of Cinder's): v's attachments
    // become nv's, unless the swap failed. Cinder detaches and then attaches; here nv's are
    // made first and undone if one cannot be, so that a refusal leaves both volumes as they were.
    if (error) return nv.id;
    CINDER_ASSIGN_OR_RETURN(std::vector<Attachment> rows, store_->AttachmentsOfVolume(v.id));
    std::vector<Attachment> moved;
    for (const Attachment& a : rows) {
      if (a.attach_status != attach_status::kDetached) moved.push_back(a);
    }
    CINDER_ASSIGN_OR_RETURN(std::vector<Attachment> before, store_->AttachmentsOfVolume(nv.id));
    std::set<std::string> known;
    for (const Attachment& a : before) known.insert(a.id);
    std::vector<std::string> made;
    auto undo = [&] {
      for (const std::string& a : made) (void)DetachVolume(ctx, nv.id, a);
    };
    for (const Attachment& a : moved) {
      LegacyAttach request{a.instance_uuid, a.attached_host, a.mountpoint.value_or(""), "rw"};
      if (Status st = AttachVolume(ctx, nv.id, request); !st.ok()) {
        undo();
        return st;
      }
      auto now = store_->AttachmentsOfVolume(nv.id);
      if (!now.ok()) {
        undo();
        return now.status();
      }
      for (const Attachment& n : *now) {
        if (known.insert(n.id).second) made.push_back(n.id);
      }
    }
    for (const Attachment& a : moved) CINDER_RETURN_IF_ERROR(DetachVolume(ctx, v.id, a.id));
    CINDER_LOG(kInfo, "cinder-api") << "migrate_volume_completion: " << moved.size() << " attachment(s) of volume "
                                    << v.id << " moved to volume " << nv.id;
    return nv.id;
  }
  if (!migrating(v)) return FailedPrecondition("Invalid volume: Source volume not mid-migration.");
  if (!migrating(nv)) return FailedPrecondition("Invalid volume: Destination volume not mid-migration.");
  const std::string expected = "target:" + v.id;
  if (*nv.migration_status != expected) {
    return FailedPrecondition("Invalid volume: Destination has migration_status " + *nv.migration_status +
                              ", expected " + expected + ".");
  }
  // Cinder's generic migration copies into a destination volume ("target:<id>") that the
  // completion then swaps in. Volumes here migrate within their own record (the hosts copy the
  // data; see MigrateVolume), so no such destination is ever made by this service.
  return FailedPrecondition("Invalid volume: Volume " + nv.id +
                            " is not the destination of a migration of this service: its migrations complete by "
                            "themselves.");
}

}  // namespace cinder
