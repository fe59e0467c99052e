// The volume host's side of backups: a volume (or a temporary snapshot of it) opened for a
// backup host to read or write, and released afterwards (Cinder's get_backup_device,
// initialize_connection for the backup host's connector, and the temp snapshot of a --force
// backup of an in-use volume).
#include "common/util.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;

// The volume statuses a backup reads or a restore writes in (the volume's own status says
// which operation: backing-up, restoring-backup, or creating for a volume made for a restore).
constexpr const char* kBackupVolumeStatuses[] = {"backing-up", "restoring-backup", vs::kCreating, vs::kAvailable,
                                                 vs::kInUse};

}  // namespace

// The temporary snapshot of a --force backup: recorded (no quota), taken, available.
Status VolumeServiceImpl::TakeBackupSnapshot(Backend* b, const Volume& v, const std::string& snapshot_id) {
  auto existing = store_->GetSnapshot(snapshot_id, std::nullopt);
  if (existing.ok()) {
    if (existing->status == ss::kAvailable) return Status::OK();  // a retried call
    return FailedPrecondition("snapshot " + snapshot_id + " is " + existing->status);
  }
  Snapshot sn;
  sn.id = snapshot_id;
  sn.volume_id = v.id;
  sn.name = "backup-snap-" + v.id;
  sn.description = std::string("temporary snapshot of a backup");
  sn.status = ss::kCreating;
  sn.size = v.size;
  sn.project_id = v.project_id;
  sn.user_id = v.user_id;
  sn.use_quota = false;
  sn.volume_type_id = v.volume_type_id;
  sn.created_at = NowIso();
  CINDER_ASSIGN_OR_RETURN(bool inserted, store_->InsertSnapshot(sn, {"backing-up", vs::kInUse, vs::kAvailable}));
  if (!inserted) return FailedPrecondition("volume " + v.id + " changed while its backup started");
  Status st = DriverCall([&] { return b->driver->CreateSnapshot(v.id, snapshot_id); });
  if (!st.ok()) {
    (void)store_->SoftDeleteSnapshot(snapshot_id, ss::kCreating, false);
    return Status(st.code(), "cannot take the temporary snapshot of volume " + v.id + ": " + st.message());
  }
  CINDER_ASSIGN_OR_RETURN(bool available, store_->CasSnapshotStatus(snapshot_id, {ss::kCreating}, ss::kAvailable,
                                                                    {{"progress", std::string("100%")}}));
  if (!available) return FailedPrecondition("snapshot " + snapshot_id + " changed while it was taken");
  Changed();
  return Status::OK();
}

Result<BackupDeviceReply> VolumeServiceImpl::OpenForBackup(Backend* b, const HostBackupDevice& r) {
  auto v = ReadBack([&] { return store_->GetVolume(r.volume_id, std::nullopt); });
  if (!v.ok()) return v.status();
  if (!OnBackend(b, v->host)) return FailedPrecondition("volume " + v->id + " is not on " + b->host);
  bool status_ok = false;
  for (const char* s : kBackupVolumeStatuses) status_ok = status_ok || v->status == s;
  if (!status_ok) return FailedPrecondition("volume " + v->id + " is " + v->status);
  std::string path;
  std::string id = r.volume_id;  // what is exported
  if (!r.snapshot_id.empty()) {
    if (r.temp_snapshot) CINDER_RETURN_IF_ERROR(TakeBackupSnapshot(b, *v, r.snapshot_id));
    path = b->driver->SnapshotLocalPath(r.snapshot_id);
    id = r.snapshot_id;
    if (path.empty()) return Unimplemented("backend " + b->host + " cannot read snapshot " + r.snapshot_id);
  } else {
    path = b->driver->LocalPath(r.volume_id);
  }
  if (r.connector.empty()) {
    if (path.empty()) return Unimplemented("backend " + b->host + " has no local path for volume " + r.volume_id);
    return BackupDeviceReply{path, ""};
  }
  // Another host reads or writes it: an export for that connector, kept from EnsureExports'
  // removal until released.
  auto connector = json::Parse(r.connector);
  if (!connector.ok() || !connector->is_object()) {
    return InvalidArgument("Invalid input received: Connector doesn't have required information: initiator");
  }
  Target* target = b->target();
  CINDER_RETURN_IF_ERROR(target->ValidateConnector(*connector));
  {
    std::lock_guard<std::mutex> l(backup_exports_mu_);
    ++backup_exports_[id].users;
  }
  TargetVolume tv;
  if (r.snapshot_id.empty()) {
    auto exported = Export(b, r.volume_id, target);
    if (!exported.ok()) {
      ForgetBackupExport(id);
      return exported.status();
    }
    tv = *exported;
  } else {
    tv = TargetVolume{id, path, std::nullopt, std::nullopt, /*readonly=*/true};
    {
      std::lock_guard<std::mutex> l(backup_exports_mu_);
      auto& e = backup_exports_[id];
      if (e.volume.id == id) tv = e.volume;  // exported already (a retried call)
    }
    Result<ExportRecord> rec = target->CreateExport(tv);
    if (!rec.ok()) {
      ForgetBackupExport(id);
      return Internal("Bad or unexpected response from the storage volume backend API: Create export for snapshot " +
                      id + " failed (" + rec.status().message() + ").");
    }
    tv.provider_location = rec->provider_location;
    tv.provider_auth = rec->provider_auth;
    std::lock_guard<std::mutex> l(backup_exports_mu_);
    backup_exports_[id].volume = tv;
  }
  auto data = target->ConnectionData(tv);
  if (!data.ok()) {
    (void)ReleaseForBackup(b, HostBackupDevice{r.volume_id, r.snapshot_id, false, r.connector});
    return Internal(
        "Bad or unexpected response from the storage volume backend API: Driver initialize connection "
        "failed (error: " +
        data.status().message() + ").");
  }
  json::Value info = std::move(data).value();
  info.Set("driver_volume_type", target->DriverVolumeType());
  info.Set("access_mode", (tv.readonly || !r.snapshot_id.empty()) ? "ro" : "rw");
  return BackupDeviceReply{"", json::Serialize(info)};
}

// Ends keeping the export of `id` for a backup host; true when nobody else needs it kept.
bool VolumeServiceImpl::ForgetBackupExport(const std::string& id) {
  std::lock_guard<std::mutex> l(backup_exports_mu_);
  auto it = backup_exports_.find(id);
  if (it == backup_exports_.end()) return true;
  if (--it->second.users > 0) return false;
  backup_exports_.erase(it);
  return true;
}

bool VolumeServiceImpl::KeptForBackup(const std::string& id) {
  std::lock_guard<std::mutex> l(backup_exports_mu_);
  return backup_exports_.count(id) > 0;
}

Status VolumeServiceImpl::ReleaseForBackup(Backend* b, const HostBackupDevice& r) {
  if (!r.connector.empty()) {
    const std::string id = r.snapshot_id.empty() ? r.volume_id : r.snapshot_id;
    TargetVolume tv;
    {
      std::lock_guard<std::mutex> l(backup_exports_mu_);
      auto it = backup_exports_.find(id);
      if (it != backup_exports_.end()) tv = it->second.volume;
    }
    if (ForgetBackupExport(id)) {
      if (r.snapshot_id.empty()) {
        auto still = store_->AttachmentsOfVolume(r.volume_id);
        Unexport(b, r.volume_id, still.ok() ? *still : std::vector<Attachment>{});
      } else if (tv.id == id) {
        Status st = b->target()->RemoveExport(tv);
        if (!st.ok())
          CINDER_LOG(kWarning, "cinder-volume")
              << "cannot remove the export of snapshot " << id << ": " << st.message();
      }
    }
  }
  if (r.temp_snapshot && !r.snapshot_id.empty()) {
    auto sn = store_->GetSnapshot(r.snapshot_id, std::nullopt);
    if (!sn.ok()) return sn.status().code() == Code::kNotFound ? Status::OK() : sn.status();
    if (sn->volume_id != r.volume_id) return InvalidArgument("snapshot " + r.snapshot_id + " is not of " + r.volume_id);
    (void)store_->CasSnapshotStatus(r.snapshot_id, {ss::kAvailable, ss::kCreating, ss::kError}, ss::kDeleting);
    Status st = DriverCall([&] { return b->driver->DeleteSnapshot(r.volume_id, r.snapshot_id); });
    if (!st.ok()) {
      (void)store_->CasSnapshotStatus(r.snapshot_id, {ss::kDeleting}, ss::kErrorDeleting);
      return st;
    }
    CINDER_RETURN_IF_ERROR(store_->SoftDeleteSnapshot(r.snapshot_id, ss::kDeleting, false).status());
    Changed();
  }
  return Status::OK();
}

}  // namespace cinder
