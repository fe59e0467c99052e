// The volume host's group flows of 3.14: a group snapshot (taken under a write hold, so that
// it is one point in time across the group's volumes), its delete, and a group made from a
// group snapshot or a source group. Each runs on the group's worker.
#include <chrono>
#include <set>

#include "common/log.h"
#include "common/message_field.h"
#include "common/util.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace gss = group_snapshot_status;
namespace mf = message_field;

// The longest a write hold may last, even if this process hangs or dies holding it.
constexpr int kMaxHoldSeconds = 20;

}  // namespace

Result<std::unique_ptr<WriteHold>> VolumeServiceImpl::HoldWrites(Backend* b, const std::vector<std::string>& volumes) {
  // Writes reach a volume through the service only over its iSCSI export (tgtd); a volume
  // never exported has none to hold, and "local" attachments write the file themselves.
  bool exported = false;
  for (const auto& id : volumes) {
    auto e = ReadBack([&] { return store_->GetVolumeExport(id); });
    if (!e.ok()) return e.status();
    exported = exported || e->provider_location.has_value();
  }
  if (!exported || !b->exporter || b->exporter->DriverVolumeType() == "local") {
    return b->local->HoldWrites(kMaxHoldSeconds);
  }
  return b->exporter->HoldWrites(kMaxHoldSeconds);
}

void VolumeServiceImpl::CreateGroupSnapshot(Backend* b, const std::string& id, const std::string& request_id) {
  auto snaps = ReadBack([&] { return store_->SnapshotsOfGroupSnapshot(id); });
  auto gsnap = ReadBack([&] { return store_->GetGroupSnapshot(id, std::nullopt); });
  if (!snaps.ok() || !gsnap.ok() || gsnap->status != gss::kCreating) return;  // no longer waiting
  std::vector<std::string> volumes;
  for (const auto& sn : *snaps) volumes.push_back(sn.volume_id);
  Status st = Status::OK();
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  Clock::time_point t1, t2;
  {
    // The cut: every snapshot is taken while no write reaches any of the volumes.
    auto hold = HoldWrites(b, volumes);
    t1 = Clock::now();
    if (!hold.ok()) {
      st = hold.status();
    } else {
      for (const auto& sn : *snaps) {
        if (sn.status != ss::kCreating) continue;
        st = DriverCall([&] { return b->driver->CreateSnapshot(sn.volume_id, sn.id); });
        if (!st.ok()) break;
      }
      if (st.ok() && !(*hold)->Intact()) {
        st = Status{Code::kDeadlineExceeded, "the write hold ended (after " + std::to_string(kMaxHoldSeconds) +
                                                 " s) before the snapshots were taken: they are no point in time"};
      }
    }
    t2 = Clock::now();
  }
  // Snapshot work runs on the group's worker, not on each volume's: a volume that an extend (on
  // its own worker) changed meanwhile may have been taken mid-change. Such a group snapshot
  // fails rather than pass for one point in time.
  for (const auto& sn : *snaps) {
    if (!st.ok()) break;
    auto v = ReadBack([&] { return store_->GetVolume(sn.volume_id, std::nullopt); });
    static const std::set<std::string> kChanging = {vs::kExtending, vs::kReverting,   vs::kDeleting,
                                                    vs::kRetyping,  vs::kMaintenance, "error_extending"};
    if (!v.ok() || v->size != sn.size || kChanging.count(v->status)) {
      st = FailedPrecondition("volume " + sn.volume_id + " changed (" + (v.ok() ? v->status : "gone") +
                              ") while group snapshot " + id + " was taken");
    }
  }
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  CINDER_LOG(kInfo, "cinder-volume") << "group snapshot " << id << ": " << snaps->size() << " snapshots taken in "
                                     << ms(t2 - t1) << " ms under the write hold (taken in " << ms(t1 - t0)
                                     << " ms, released in " << ms(Clock::now() - t2) << " ms)";
  if (!st.ok()) {
    CINDER_LOG(kError, "cinder-volume") << "group snapshot " << id << " failed: " << st.ToString();
  }
  bool recorded = false;
  WriteBack(id, [&]() -> Result<bool> {
    auto r = store_->FinishGroupSnapshotCreate(id, st.ok());
    if (r.ok()) recorded = *r;
    return r;
  });
  if (!st.ok() && recorded) {
    for (const auto& sn : *snaps) TellSnapshot(sn, request_id, mf::kSnapshotCreate, mf::kSnapshotCreateError);
  }
  Changed();
}

void VolumeServiceImpl::DeleteGroupSnapshot(Backend* b, const std::string& id, const std::string& request_id) {
  auto snaps = ReadBack([&] { return store_->SnapshotsOfGroupSnapshot(id); });
  if (!snaps.ok()) return;  // still "deleting": the next start resumes it
  bool failed = false;
  for (const auto& sn : *snaps) {
    if (!DeleteSnapshotNow(b, sn.id, sn.volume_id, request_id)) failed = true;
  }
  if (failed) {
    // Cinder leaves a group snapshot whose delete failed in "error" (deletable again).
    WriteBack(id, [&] { return store_->CasGroupSnapshotStatus(id, {gss::kDeleting}, gss::kError); });
  } else {
    WriteBack(id, [&] { return store_->SoftDeleteGroupSnapshot(id); });
  }
  Changed();
}

void VolumeServiceImpl::CreateGroupFromSource(Backend* b, const std::string& group_id, const RequestContext& ctx) {
  auto g = ReadBack([&] { return store_->GetGroup(group_id, std::nullopt); });
  if (!g.ok() || g->status != group_status::kCreating || !OnBackend(b, g->host)) return;
  auto vols = ReadBack([&] { return store_->VolumesOfGroup(group_id); });
  if (!vols.ok()) return;  // still "creating": the next start settles it
  // Clones of a source group's volumes are one point in time too.
  std::vector<std::string> sources;
  for (const auto& v : *vols) {
    if (v.source_volid) sources.push_back(*v.source_volid);
  }
  std::vector<std::pair<std::string, Status>> made;
  {
    Result<std::unique_ptr<WriteHold>> hold = std::unique_ptr<WriteHold>();
    if (!sources.empty()) hold = HoldWrites(b, sources);
    for (const auto& v : *vols) {
      if (v.status != vs::kCreating) continue;
      Status st = hold.ok() ? DriverCall([&] {
        if (v.snapshot_id) return b->driver->CreateVolumeFromSnapshot(v.id, v.size, *v.snapshot_id);
        if (v.source_volid) return b->driver->CreateClonedVolume(v.id, v.size, *v.source_volid);
        return b->driver->CreateVolume(v.id, v.size);
      })
                            : hold.status();
      made.emplace_back(v.id, st);
    }
    // Clones taken after the hold ended by itself are no point in time: they fail.
    if (hold.ok() && *hold && !(*hold)->Intact()) {
      for (auto& [vid, st] : made) {
        if (st.ok()) st = Status{Code::kDeadlineExceeded, "the write hold ended before the volumes were cloned"};
      }
    }
  }
  bool all = true;
  for (const auto& [vid, st] : made) {
    if (!st.ok()) {
      all = false;
      CINDER_LOG(kError, "cinder-volume")
          << "create of volume " << vid << " of group " << group_id << " failed: " << st.ToString();
    }
    bool recorded = false;
    WriteBack(vid, [&]() -> Result<bool> {
      auto r = store_->CasVolumeStatus(vid, {vs::kCreating}, st.ok() ? vs::kAvailable : vs::kError);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (!st.ok() && recorded) {
      for (const auto& v : *vols) {
        if (v.id == vid) Tell(v, ctx.request_id, mf::kCreateVolumeFromBackend, mf::kDriverFailedCreate);
      }
    }
  }
  WriteBack(group_id, [&] { return store_->FinishGroupCreate(group_id, all); });
  Changed();
}

// Group snapshot work cut short: a create -> error (its snapshots with it), a delete resumed.
void VolumeServiceImpl::RecoverGroupSnapshots(Backend* b) {
  auto stuck = store_->GroupSnapshotsOnHost(b->host + "#", {gss::kCreating, gss::kDeleting});
  if (!stuck.ok()) {
    CINDER_LOG(kWarning, "cinder-volume") << "cannot read the group snapshots to repair: " << stuck.status().ToString();
    return;
  }
  for (const auto& g : *stuck) {
    if (g.status == gss::kCreating) {
      (void)store_->FinishGroupSnapshotCreate(g.id, /*ok=*/false);
    } else {
      const std::string id = g.id;
      Run(g.group_id, [this, b, id] { DeleteGroupSnapshot(b, id, ""); });
    }
  }
}

}  // namespace cinder
