// The volume host's flows: create (and reschedule), extend, delete, snapshots and revert.
#include "backup/backup_rpc.h"
#include "common/message_field.h"
#include "common/util.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace mf = message_field;

}  // namespace

// Grows a volume that waits for this host in "extending" (the API may have given up on it).
void VolumeServiceImpl::Extend(Backend* b, const HostExtendVolume& r, const std::string& request_id) {
  const std::string& id = r.volume_id;
  auto v = Mine(b, id, vs::kExtending);
  if (!v) return;
  Status st = DriverCall([&] { return b->driver->ExtendVolume(id, r.new_size); });
  // An attached volume (3.42) goes back to in-use, its export made again for the new size.
  const bool attached = v->attach_status != attach_status::kDetached;
  if (st.ok() && attached) ReExport(b, id);
  if (st.ok()) {
    WriteBack(id, [&] {
      return store_->CasVolumeStatusCommit(id, {vs::kExtending}, attached ? vs::kInUse : vs::kAvailable,
                                           {{"size", std::to_string(r.new_size)}, {"previous_status", std::nullopt}},
                                           r.reservations);
    });
  } else {
    WriteBack(id, [&]() -> Result<bool> {
      Status rolled = store_->RollbackQuota(r.reservations);
      if (!rolled.ok()) return rolled;
      return true;
    });
    CINDER_LOG(kError, "cinder-volume") << "extend of volume " << id << " failed: " << st.ToString();
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto cas = store_->CasVolumeStatus(id, {vs::kExtending}, vs::kErrorExtending);
      if (cas.ok()) recorded = *cas;
      return cas;
    });
    if (recorded) Tell(*v, request_id, mf::kExtendVolume, mf::kDriverFailedExtend);
  }
  Changed();
}

void VolumeServiceImpl::Create(Backend* b, int64_t size, const RequestContext& ctx, const PlacementRequest& placement) {
  const std::string& id = placement.volume_id;
  auto v = Mine(b, id, vs::kCreating);
  if (!v) return;
  Status st = DriverCall([&] {
    if (v->snapshot_id) return b->driver->CreateVolumeFromSnapshot(id, size, *v->snapshot_id);
    if (v->source_volid) return b->driver->CreateClonedVolume(id, size, *v->source_volid);
    return b->driver->CreateVolume(id, size);
  });
  if (!st.ok()) {
    CINDER_LOG(kError, "cinder-volume") << "create of volume " << id << " failed: " << st.ToString();
    Tell(*v, ctx.request_id, mf::kCreateVolumeFromBackend, mf::kDriverFailedCreate);
    if (placement.attempt < options_.scheduler_max_attempts && Reschedule(b, *v, ctx, placement)) return;
  }
  // A volume made for a restore goes from creating straight to restoring-backup: no client
  // sees it available before its data is there.
  if (st.ok() && HandToBackupHost(*v, ctx, /*from_creating=*/true)) {
    Changed();
    return;
  }
  bool recorded = false;
  WriteBack(id, [&]() -> Result<bool> {
    auto r = store_->CasVolumeStatus(id, {vs::kCreating}, st.ok() ? vs::kAvailable : vs::kError, {}, v->host);
    if (r.ok()) recorded = *r;
    return r;
  });
  if (st.ok() && !recorded) {
    // Deleted or moved to another host meanwhile: the file made here belongs to nobody.
    auto now = store_->GetVolume(id, std::nullopt);
    if (!now.ok() || now->host != v->host) (void)DriverCall([&] { return b->driver->DeleteVolume(id); });
  }
  // A restore started (StartRestore) between the claim above and this change waits for it.
  if (st.ok() && recorded) HandToBackupHost(*v, ctx, /*from_creating=*/false);
  if (!st.ok() && recorded) {
    // A volume made for a restore that could not be made: the backup is free again.
    auto bk = store_->BackupRestoringInto(id);
    if (bk.ok() && *bk) {
      (void)store_->CasBackupStatus((*bk)->id, {backup_status::kRestoring}, backup_status::kAvailable,
                                    {{"restore_volume_id", std::nullopt}});
    }
  }
  Changed();
}

// Cinder's create_volume flow from a backup (_create_from_backup): a volume created for a
// restore (create --backup-id, or a restore to a new volume) is handed, once made, to the
// backup host that holds the backup (it is "restoring-backup" until that host is done). The
// API hands it over itself when the volume was made first (Store::StartRestore).
bool VolumeServiceImpl::HandToBackupHost(const Volume& v, const RequestContext& ctx, bool from_creating) {
  Result<std::optional<Backup>> claimed = Internal("not read");
  WriteBack(v.id, [&]() -> Result<bool> {
    claimed = store_->ClaimRestoreTarget(v.id, from_creating);
    if (!claimed.ok()) return claimed.status();
    return true;
  });
  if (!claimed.ok() || !*claimed) return false;
  const Backup& bk = **claimed;
  BackupRpc backups(transport_);
  Status st = backups.RestoreBackup(ctx, bk.host, HostRestoreBackup{bk.id, v.id, /*volume_is_new=*/true});
  if (!st.ok()) {
    CINDER_LOG(kError, "cinder-volume") << "cannot hand volume " << v.id << " to backup host " << bk.host
                                        << " for the restore of backup " << bk.id << ": " << st.ToString();
    WriteBack(v.id, [&] { return store_->FinishRestore(bk.id, v.id, false, /*volume_is_new=*/true); });
  }
  return true;
}

// Cinder's OnFailureRescheduleTask: the volume leaves this pool (still creating) and goes
// back to the schedulers for another one, with the pools tried so far. False when it could
// not be sent (it then fails here).
bool VolumeServiceImpl::Reschedule(Backend* b, const Volume& v, const RequestContext& ctx,
                                   const PlacementRequest& placement) {
  (void)DriverCall([&] { return b->driver->DeleteVolume(v.id); });  // whatever the failure left
  auto released = store_->ReleaseClaim(v.id, v.host);
  if (!released.ok() || !*released) return false;
  // With the pools tried and the hints; the volume and its type are read afresh.
  PlacementRequest again = placement;
  ++again.attempt;
  again.volume.reset();
  again.extra_specs.reset();
  Status st = schedulers_.CreateVolume(ctx, again);
  Changed();
  if (st.ok()) return true;
  CINDER_LOG(kWarning, "cinder-volume") << "cannot reschedule volume " << v.id << ": " << st.ToString();
  auto failed = store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError, {}, std::string());
  if (failed.ok() && *failed) Tell(v, ctx.request_id, mf::kScheduleAllocateVolume, mf::kNoBackendAvailable);
  return true;  // failed: nothing more to do here
}

void VolumeServiceImpl::CreateSnapshot(Backend* b, const std::string& id, const std::string& volume_id,
                                       const std::string& request_id) {
  auto sn = ReadBack([&] { return store_->GetSnapshot(id, std::nullopt); });
  if (!sn.ok() || sn->status != ss::kCreating) return;  // no longer waiting (force-deleted)
  Status st = DriverCall([&] { return b->driver->CreateSnapshot(volume_id, id); });
  bool recorded = false;
  WriteBack(id, [&]() -> Result<bool> {
    auto r = st.ok()
                 ? store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kAvailable, {{"progress", std::string("100%")}})
                 : store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kError);
    if (r.ok()) recorded = *r;
    return r;
  });
  if (!st.ok()) {
    CINDER_LOG(kError, "cinder-volume") << "snapshot " << id << " of volume " << volume_id
                                        << " failed: " << st.ToString();
    if (recorded) TellSnapshot(*sn, request_id, mf::kSnapshotCreate, mf::kSnapshotCreateError);
  } else if (!recorded) {
    // Gone meanwhile (force-deleted and purged)? A snapshot still recorded, whatever its
    // status, keeps its file: a delete of it removes the file in its turn.
    auto now = store_->GetSnapshot(id, std::nullopt);
    if (now.status().code() == Code::kNotFound) {
      (void)DriverCall([&] { return b->driver->DeleteSnapshot(volume_id, id); });
    }
  }
  Changed();
}

void VolumeServiceImpl::DeleteSnapshot(Backend* b, const std::string& id, const std::string& volume_id,
                                       const std::string& request_id) {
  (void)DeleteSnapshotNow(b, id, volume_id, request_id);
  Changed();
}

// Removes a "deleting" snapshot from the backend and the database; false when the driver
// failed (it is then error_deleting, with a message).
bool VolumeServiceImpl::DeleteSnapshotNow(Backend* b, const std::string& id, const std::string& volume_id,
                                          const std::string& request_id) {
  auto sn = ReadBack([&] { return store_->GetSnapshot(id, std::nullopt); });
  if (!sn.ok()) return sn.status().code() == Code::kNotFound;  // gone already, or cannot tell
  if (sn->status != ss::kDeleting) return true;
  Status st = DriverCall([&] { return b->driver->DeleteSnapshot(volume_id, id); });
  if (st.ok()) {
    WriteBack(id, [&] { return store_->SoftDeleteSnapshot(id, ss::kDeleting, !options_.no_snapshot_gb_quota); });
    return true;
  }
  CINDER_LOG(kError, "cinder-volume") << "delete of snapshot " << id << " failed: " << st.ToString();
  bool recorded = false;
  WriteBack(id, [&]() -> Result<bool> {
    auto r = store_->CasSnapshotStatus(id, {ss::kDeleting}, ss::kErrorDeleting);
    if (r.ok()) recorded = *r;
    return r;
  });
  if (recorded) TellSnapshot(*sn, request_id, mf::kSnapshotDelete, mf::kSnapshotDeleteError);
  return false;
}

// Cinder's revert_to_snapshot: the volume back to available (error when the driver failed;
// the file driver's revert is all or nothing, so its data is then as before), the snapshot
// back to available.
void VolumeServiceImpl::Revert(Backend* b, const std::string& id, const std::string& snapshot_id) {
  auto v = Mine(b, id, vs::kReverting);
  if (!v) return;
  Status st = DriverCall([&] { return b->driver->RevertToSnapshot(id, snapshot_id, v->size); });
  if (!st.ok()) CINDER_LOG(kError, "cinder-volume") << "revert of volume " << id << " failed: " << st.ToString();
  WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kReverting}, st.ok() ? vs::kAvailable : vs::kError); });
  WriteBack(snapshot_id, [&] { return store_->CasSnapshotStatus(snapshot_id, {ss::kRestoring}, ss::kAvailable); });
  Changed();
}

void VolumeServiceImpl::Delete(Backend* b, const std::string& id) {
  Run(id, [this, b, id] {
    // A cascading delete takes the volume's snapshots first (they are "deleting" with it).
    Status st = Status::OK();
    auto snaps = ReadBack([&] { return store_->SnapshotsOfVolume(id); });
    if (!snaps.ok()) {
      // The database is still out of reach: the volume stays "deleting", for the orphan sweep
      // (or the next start) to resume.
      CINDER_LOG(kWarning, "cinder-volume") << "cannot delete volume " << id << " now: " << snaps.status().ToString();
      return;
    }
    for (const auto& sn : *snaps) {
      if (sn.status != ss::kDeleting) continue;
      if (!DeleteSnapshotNow(b, sn.id, id, "")) st = Internal("snapshot " + sn.id + " could not be deleted");
    }
    // Its export first (Cinder's remove_export): tgtd would keep the deleted file open.
    if (st.ok() && b->exporter) Unexport(b, id, {});
    if (st.ok()) st = DriverCall([&] { return b->driver->DeleteVolume(id); });
    if (st.ok()) {
      WriteBack(id, [&] { return store_->SoftDeleteVolume(id, vs::kDeleting); });
    } else {
      CINDER_LOG(kError, "cinder-volume") << "delete of volume " << id << " failed: " << st.ToString();
      WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kDeleting}, vs::kErrorDeleting); });
    }
    Changed();
  });
}

}  // namespace cinder
