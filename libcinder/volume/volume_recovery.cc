// What a restart or a periodic sweep repairs: work an earlier run left half-done, and volumes
// left in a transitional status by work that never reached this host.
#include "common/log.h"
#include "common/message_field.h"
#include "common/util.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace mf = message_field;

// How long a volume may sit in a transitional status on this host with no work for it here
// before it is repaired (the longest a hand-over takes is three attempts of 3 s).
constexpr double kOrphanGraceSeconds = 30;

// Whether a volume in `status` may be being copied to another backend (a retype, a migration).
bool Moving(const std::string& status) { return status == vs::kRetyping || status == vs::kMaintenance; }

}  // namespace

// Repairs what an earlier run of this host left half-done, as Cinder's volume service does:
// creating -> error, extending -> error_extending, deleting -> resumed.
Status VolumeServiceImpl::Recover() {
  for (const auto& b : backends_) {
    CINDER_ASSIGN_OR_RETURN(auto stuck,
                            store_->VolumesInStatus(b->host + "#", {vs::kCreating, vs::kExtending, vs::kDeleting}));
    for (const auto& v : stuck) {
      if (v.status == vs::kDeleting && v.group_id) {
        // Its group's delete resumes it (RecoverGroups), unless the group is not being deleted.
        auto g = store_->GetGroup(*v.group_id, std::nullopt);
        if (g.ok() && g->status == group_status::kDeleting && OnBackend(b.get(), g->host)) continue;
      }
      if (v.status == vs::kDeleting) {
        Delete(b.get(), v.id);
      } else {
        CINDER_RETURN_IF_ERROR(FailInterrupted(v).status());
      }
    }
    CINDER_RETURN_IF_ERROR(RecoverSnapshots(b.get()));
    CINDER_RETURN_IF_ERROR(RecoverManage(b.get()));
    RecoverGroups(b.get());
    RecoverGroupSnapshots(b.get());
    // A retype cut short: the volume stays where and what it was, its reservations go back.
    CINDER_ASSIGN_OR_RETURN(auto retyping, store_->VolumesInStatus(b->host + "#", {vs::kRetyping}));
    for (const auto& v : retyping) (void)store_->AbandonVolumeOperation(v.id, vs::kRetyping, "", v.host);
    // And a migration: the volume stays where it is, migration_status "error".
    CINDER_ASSIGN_OR_RETURN(auto migrating, store_->VolumesInStatus(b->host + "#", {vs::kMaintenance}));
    for (const auto& v : migrating) AbandonMigration(v);
  }
  return Status::OK();
}

// A migration that will not finish (its host restarted, its destination went away): the
// volume, still on its source, returns to its status with migration_status "error".
void VolumeServiceImpl::AbandonMigration(const Volume& v) {
  if (v.migration_status != "migrating") return;  // maintenance of another kind
  auto marked = store_->CasVolumeStatus(v.id, {vs::kMaintenance}, vs::kMaintenance, {{"migration_status", "error"}},
                                        v.host, {{"migration_status", "migrating"}});
  if (marked.ok() && *marked) (void)store_->RestorePreviousStatus(v.id, vs::kMaintenance, v.host);
}

// Manage work cut short (or never handed over): a manage -> error_managing (the driver renames
// the object last, so it is as it was, or the volume's own), an unmanage (volume or snapshot)
// -> resumed.
Status VolumeServiceImpl::RecoverManage(Backend* b, const OrphanTest& orphaned) {
  CINDER_ASSIGN_OR_RETURN(auto stuck, store_->VolumesInStatus(b->host + "#", {"managing", "unmanaging"}));
  for (const auto& v : stuck) {
    if (orphaned && !orphaned(v.id, v.created_at, v.updated_at)) continue;
    if (v.status == "managing") {
      (void)store_->CasVolumeStatus(v.id, {"managing"}, "error_managing", {}, v.host);
    } else {
      const std::string id = v.id;
      Run(id, [this, b, id] { Unmanage(b, id); });
    }
  }
  CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOnHost(b->host + "#", {"unmanaging"}));
  for (const auto& sn : snaps) {
    if (orphaned && !orphaned(sn.volume_id, sn.created_at, sn.updated_at)) continue;
    const std::string id = sn.id, volume_id = sn.volume_id;
    Run(volume_id, [this, b, id, volume_id] { UnmanageSnapshot(b, id, volume_id); });
  }
  return Status::OK();
}

// Group work cut short, on Cinder's generic path where a group is bookkeeping: a create is
// finished (available), an update given up (available, its volumes where they were), a delete
// resumed.
void VolumeServiceImpl::RecoverGroups(Backend* b) {
  namespace gs = group_status;
  for (const char* status : {gs::kCreating, gs::kUpdating, gs::kDeleting}) {
    GroupListQuery q;
    q.filters = {{"status", status}};
    auto groups = store_->ListGroups(q, std::nullopt, 1000000);
    if (!groups.ok()) {
      CINDER_LOG(kWarning, "cinder-volume") << "cannot read the groups to repair: " << groups.status().ToString();
      return;
    }
    for (const auto& g : *groups) {
      if (!OnBackend(b, g.host)) continue;
      if (g.status == gs::kDeleting) {
        DeleteGroup(b, g.id);
      } else if (g.status == gs::kCreating && (g.group_snapshot_id || g.source_group_id)) {
        // Made from a source: its volumes that were being made failed with this host.
        (void)store_->CasGroupStatus(g.id, {gs::kCreating}, gs::kError, {}, g.host);
      } else {
        (void)store_->CasGroupStatus(g.id, {g.status}, gs::kAvailable, {}, g.host);
      }
    }
  }
}

void VolumeServiceImpl::DeleteGroup(Backend* b, const std::string& group_id) {
  Run(group_id, [this, b, id = group_id] {
    auto vols = store_->VolumesOfGroup(id);
    if (!vols.ok()) return;  // still "deleting": a restart or a delete with delete-volumes resumes it
    bool failed = false;
    for (const Volume& v : *vols) {
      if (v.status != vs::kDeleting) continue;
      if (b->exporter) Unexport(b, v.id, {});
      Status st = DriverCall([&] { return b->driver->DeleteVolume(v.id); });
      if (st.ok()) {
        WriteBack(v.id, [&] { return store_->SoftDeleteVolume(v.id, vs::kDeleting); });
      } else {
        failed = true;
        CINDER_LOG(kError, "cinder-volume") << "delete of volume " << v.id << " failed: " << st.ToString();
        WriteBack(v.id, [&] { return store_->CasVolumeStatus(v.id, {vs::kDeleting}, vs::kErrorDeleting); });
      }
    }
    if (failed) {
      WriteBack(id,
                [&] { return store_->CasGroupStatus(id, {group_status::kDeleting}, group_status::kErrorDeleting); });
    } else {
      WriteBack(id, [&] { return store_->SoftDeleteGroup(id); });
    }
    Changed();
  });
}

// Snapshot work cut short: creating -> error, deleting -> resumed, and a revert (volume
// reverting, snapshot restoring) -> the volume in error, the snapshot available again.
Status VolumeServiceImpl::RecoverSnapshots(Backend* b) {
  CINDER_ASSIGN_OR_RETURN(auto snaps,
                          store_->SnapshotsOnHost(b->host + "#", {ss::kCreating, ss::kDeleting, ss::kRestoring}));
  for (const auto& sn : snaps) {
    if (sn.group_snapshot_id && sn.status != ss::kRestoring) continue;  // RecoverGroupSnapshots
    if (sn.status == ss::kCreating) {
      auto r = store_->CasSnapshotStatus(sn.id, {ss::kCreating}, ss::kError);
      if (r.ok() && *r) TellSnapshot(sn, "", mf::kSnapshotCreate, mf::kSnapshotCreateError);
    } else if (sn.status == ss::kDeleting) {
      const std::string id = sn.id, volume_id = sn.volume_id;
      Run(volume_id, [this, b, id, volume_id] { DeleteSnapshot(b, id, volume_id, ""); });
    } else {
      (void)store_->CasVolumeStatus(sn.volume_id, {vs::kReverting}, vs::kError);
      (void)store_->CasSnapshotStatus(sn.id, {ss::kRestoring}, ss::kAvailable);
    }
  }
  return Status::OK();
}

// A create or extend this host was doing when it stopped (or never got): creating -> error,
// extending -> error_extending (its reservations rolled back), with a user message saying the
// volume service was not there to finish it (Cinder's DRIVER_NOT_INITIALIZED). Only while the
// volume is still here.
Result<bool> VolumeServiceImpl::FailInterrupted(const Volume& v) {
  const bool creating = v.status == vs::kCreating;
  // An extend's reservations go back with it.
  auto r = store_->AbandonVolumeOperation(v.id, v.status, creating ? vs::kError : vs::kErrorExtending, v.host);
  if (r.ok() && *r) {
    Tell(v, "", creating ? mf::kCreateVolumeFromBackend : mf::kExtendVolume, mf::kDriverNotInitialized);
  }
  return r;
}

// Volumes of this host left in a transitional status by work that never reached it (the API
// process died between recording a volume and handing it over, a scheduler between placing a
// volume here and handing it over): after a grace period with nothing accepted here for them,
// a create is carried out, a delete resumed, and the rest get what a restart would give them.
void VolumeServiceImpl::SweepOrphans() {
  // A connect the API is no longer waiting for (its call times out well within the grace).
  FailInterruptedConnects(IsoSecondsAgo(2 * kOrphanGraceSeconds));
  EnsureExports();
  const double now = EpochSeconds(env_->Now());
  // Untouched for the grace period, and no work for it queued or running here.
  auto orphaned = [&](const std::string& volume_id, const std::string& created,
                      const std::optional<std::string>& updated) {
    auto since = ParseIso(updated.value_or(created));
    if (!since || now - *since < kOrphanGraceSeconds) return false;
    std::lock_guard<std::mutex> l(accepted_mu_);
    return accepted_.count(volume_id) == 0;
  };
  for (const auto& b : backends_) {
    auto stuck = store_->VolumesInStatus(
        b->host + "#", {vs::kCreating, vs::kExtending, vs::kDeleting, vs::kRetyping, vs::kReverting, vs::kMaintenance});
    if (stuck.ok()) {
      for (const auto& v : *stuck) {
        if (!orphaned(v.id, v.created_at, v.updated_at)) continue;
        if (v.status == vs::kMaintenance) {
          // A migration whose destination went away (a copy in progress keeps updated_at fresh).
          if (v.migration_status == "migrating") {
            CINDER_LOG(kWarning, "cinder-volume") << "volume " << v.id << " was migrating with no copy under way";
          }
          AbandonMigration(v);
          continue;
        }
        CINDER_LOG(kWarning, "cinder-volume")
            << "volume " << v.id << " was " << v.status << " with no work for it here; repairing it";
        if (v.status == vs::kDeleting) {
          Delete(b.get(), v.id);
        } else if (v.status == vs::kRetyping) {
          // Its scheduler or destination went away (a copy in progress elsewhere keeps the
          // volume's updated_at fresh): it stays what and where it is, its reservations go back.
          (void)store_->AbandonVolumeOperation(v.id, vs::kRetyping, "", v.host);
        } else if (v.status == vs::kReverting) {
          (void)store_->CasVolumeStatus(v.id, {vs::kReverting}, vs::kError, {}, v.host);
        } else if (v.status == vs::kCreating) {
          // Placed here, but never handed over (its scheduler died after claiming the pool, or
          // lost the answer to its claim in a database restart): made now, as it would have
          // been, by the worker that a late hand-over would use too (it then finds it made).
          RequestContext ctx = RequestContext::Admin(v.user_id, v.project_id);
          ctx.request_id = "req-" + NewUuid();
          PlacementRequest placement;
          placement.volume_id = v.id;
          placement.tried = {v.host};
          Backend* backend = b.get();
          const int64_t size = v.size;
          Run(v.id, [this, backend, size, ctx, placement] { Create(backend, size, ctx, placement); });
        } else {
          (void)FailInterrupted(v);
        }
      }
    }
    (void)RecoverManage(b.get(), orphaned);
    RemoveStrays(b.get());
    // Snapshot work whose request never arrived; a revert's snapshot once its volume is done.
    auto snaps = store_->SnapshotsOnHost(b->host + "#", {ss::kCreating, ss::kDeleting, ss::kRestoring});
    if (!snaps.ok()) continue;
    for (const auto& sn : *snaps) {
      if (!orphaned(sn.volume_id, sn.created_at, sn.updated_at)) continue;
      if (sn.status == ss::kCreating) {
        auto r = store_->CasSnapshotStatus(sn.id, {ss::kCreating}, ss::kError);
        if (r.ok() && *r) TellSnapshot(sn, "", mf::kSnapshotCreate, mf::kSnapshotCreateError);
      } else if (sn.status == ss::kDeleting) {
        const std::string id = sn.id, volume_id = sn.volume_id;
        Backend* backend = b.get();
        Run(volume_id, [this, backend, id, volume_id] { DeleteSnapshot(backend, id, volume_id, ""); });
      } else {
        auto v = store_->GetVolume(sn.volume_id, std::nullopt);
        if (!v.ok() || v->status != vs::kReverting) {
          (void)store_->CasSnapshotStatus(sn.id, {ss::kRestoring}, ss::kAvailable);
        }
      }
    }
  }
}

// Removes the volumes backend `b` holds that are no volume of its own (see the header).
void VolumeServiceImpl::RemoveStrays(Backend* b) {
  Result<std::vector<std::string>> held = Internal("");
  (void)DriverCall([&]() -> Status {
    held = b->driver->ListVolumes();
    return held.status();
  });
  if (!held.ok() || held->empty()) return;  // Unimplemented: the driver cannot tell
  auto rows = store_->VolumeHostsAndStatuses(*held);
  if (!rows.ok()) return;
  for (const auto& id : *held) {
    auto row = rows->find(id);
    if (row != rows->end() && (OnBackend(b, row->second.first) || Moving(row->second.second))) continue;
    {
      std::lock_guard<std::mutex> l(accepted_mu_);
      if (accepted_.count(id)) continue;  // work for it here: it decides
    }
    // Decided again on the volume's worker, after whatever work for it was queued meanwhile.
    Run(id, [this, b, id] {
      auto v = store_->GetVolume(id, std::nullopt);
      if (!v.ok() && v.status().code() != Code::kNotFound) return;  // cannot tell now
      if (v.ok() && (OnBackend(b, v->host) || Moving(v->status))) return;
      CINDER_LOG(kWarning, "cinder-volume")
          << "removing volume " << id << " from " << b->host << ": "
          << (v.ok() ? "the volume is on " + (v->host.empty() ? std::string("no backend") : v->host) + " now"
                     : std::string("no such volume"));
      Status st = DriverCall([&] { return b->driver->DeleteVolume(id); });
      if (!st.ok()) CINDER_LOG(kWarning, "cinder-volume") << "cannot remove volume " << id << ": " << st.ToString();
      Changed();
    });
  }
}

}  // namespace cinder
