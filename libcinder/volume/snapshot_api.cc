#include "volume/snapshot_api.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/util.h"
#include "volume/api_common.h"
#include "volume/policy_checks.h"

namespace cinder {

namespace {

namespace ss = snapshot_status;

Status InvalidVolume(const std::string& reason) { return FailedPrecondition("Invalid volume: " + reason); }
Status InvalidSnapshot(const std::string& reason) { return FailedPrecondition("Invalid snapshot: " + reason); }

}  // namespace

Result<Snapshot> SnapshotApi::Create(const RequestContext& ctx, const SnapshotCreate& req, bool allow_in_use,
                                     const std::optional<std::string>& manage_ref) {
  // Recorded only while the volume is as read (its status allows it, of the size and type its
  // quota is charged for). One that lost only to a change of the size or type (an extend or a
  // retype that finished meanwhile) is made again from the volume as it is now: it wins if it
  // still makes sense then, as it would have a moment later.
  bool again = false;
  auto attempt = [&]() -> Result<Snapshot> {
    // Cinder's controller gets the volume (volume:get), its volume_api checks create_snapshot.
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVisibleVolume(*store_, *policy_, ctx, req.volume_id, ReadScope(ctx)));
    if (!manage_ref) CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:create_snapshot", VolumeTarget(v)));
    if (req.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *req.name, 255));
    if (req.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *req.description, 255));
    CINDER_RETURN_IF_ERROR(CheckMetadata(req.metadata));
    if (!manage_ref) CINDER_RETURN_IF_ERROR(CheckNotFrozen(*store_, v));
    CINDER_RETURN_IF_ERROR(CheckSnapshotSource(v));
    std::vector<std::string> valid = {volume_status::kAvailable};
    if (req.force || allow_in_use) valid.push_back(volume_status::kInUse);
    auto wrong_status = [&](const std::string& current) {
      return InvalidVolume("Volume " + v.id + " status must be " + Join(valid, ", ") +
                           ", but current status is: " + current + ".");
    };
    if (std::find(valid.begin(), valid.end(), v.status) == valid.end()) return wrong_status(v.status);

    QuotaCharge charge = quotas_->Charge(ctx.project_id, quotas_->SnapshotDeltas(v.volume_type_name, v.size));
    charge.type_id = v.volume_type_id;
    charge.type_name = v.volume_type_name;
    Snapshot sn = NewSnapshotOf(ctx, v, req.name, req.description);
    sn.metadata = req.metadata;
    sn.created_at = NowIso();
    Store::QuotaReservation over;
    auto inserted = store_->InsertSnapshot(sn, valid, &charge, &over);
    if (!inserted.ok() || !*inserted) {
      if (inserted.status().code() == Code::kResourceExhausted) {
        return QuotaApi::OverQuotaError(over, "snapshots", v.size);
      }
      if (!inserted.ok()) return inserted.status();
      CINDER_ASSIGN_OR_RETURN(Volume now, store_->GetVolume(v.id, ReadScope(ctx)));
      again = std::find(valid.begin(), valid.end(), now.status) != valid.end();
      return wrong_status(now.status);
    }
    // As recorded ("creating"): read before the host is asked, which may finish it at once.
    auto recorded = store_->GetSnapshot(sn.id, std::nullopt);
    Status handed = manage_ref ? hosts_.ManageExistingSnapshot(ctx, v.host, HostManage{v.id, sn.id, *manage_ref})
                               : hosts_.CreateSnapshot(ctx, v.host, SnapshotRef{sn.id, v.id});
    if (!handed.ok()) {
      (void)store_->CasSnapshotStatus(sn.id, {ss::kCreating}, ss::kError);
      return Unavailable("The volume service of " + v.host + " did not accept the snapshot: " + handed.message());
    }
    return recorded;
  };
  for (int n = 1;; ++n) {
    again = false;
    auto sn = attempt();
    if (!again || n == 3) return sn;
  }
}

Result<Snapshot> SnapshotApi::Get(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, store_->GetSnapshot(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:get_snapshot", SnapshotTarget(sn)));
  return sn;
}

Result<Snapshot> SnapshotApi::SnapshotFor(const RequestContext& ctx, const std::string& id, const char* rule) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, Get(ctx, id));
  CINDER_RETURN_IF_ERROR(Authorize(ctx, rule, SnapshotTarget(sn)));
  return sn;
}

Result<SnapshotList> SnapshotApi::List(const RequestContext& ctx, const SnapshotListQuery& q) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:get_all_snapshots", {}));
  ProjectScope scope = ctx.project_id;
  if (ctx.is_admin && q.all_tenants) scope = q.project_id;
  return store_->ListSnapshots(q, scope, options_.osapi_max_limit);
}

Result<Snapshot> SnapshotApi::Update(const RequestContext& ctx, const std::string& id,
                                     const std::optional<std::optional<std::string>>& name,
                                     const std::optional<std::optional<std::string>>& description) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, SnapshotFor(ctx, id, "volume:update_snapshot"));
  std::vector<FieldUpdate> fields;
  if (name) {
    if (*name) CINDER_RETURN_IF_ERROR(CheckLength("name", **name, 255));
    fields.emplace_back("display_name", *name);
  }
  if (description) {
    if (*description) CINDER_RETURN_IF_ERROR(CheckLength("description", **description, 255));
    fields.emplace_back("display_description", *description);
  }
  CINDER_ASSIGN_OR_RETURN(bool found, store_->UpdateSnapshot(sn.id, fields));
  if (!found) return NotFound("Snapshot " + id + " could not be found.");
  return Get(ctx, id);
}

// DELETE, or (force) the os-force_delete action, whose rule comes first; then Cinder's
// volume_api.delete_snapshot checks volume:delete_snapshot.
Status SnapshotApi::Delete(const RequestContext& ctx, const std::string& id, bool force) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, Get(ctx, id));
  if (force)
    CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:snapshot_admin_actions:force_delete", SnapshotTarget(sn)));
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:delete_snapshot", SnapshotTarget(sn)));
  if (auto of = store_->GetVolume(sn.volume_id, std::nullopt); of.ok())
    CINDER_RETURN_IF_ERROR(CheckNotFrozen(*store_, *of));
  // Cinder's expected group_snapshot_id None: a snapshot of a group snapshot goes only with it.
  if (sn.group_snapshot_id) {
    return InvalidSnapshot(force ? "Snapshot  must not be part of a group."
                                 : "Snapshot status must be available or error and must not be part of a group.");
  }
  std::vector<std::string> expected;
  if (!force) expected = {ss::kAvailable, ss::kError};
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->StartSnapshotDelete(sn.id, expected));
  if (!changed) {
    return InvalidSnapshot(force ? "Snapshot " + sn.id + " is in use by a volume being created from it."
                                 : "Snapshot status must be available or error and must not be part of a group.");
  }
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(sn.volume_id, std::nullopt));
  // A host that is down resumes the deletion when it starts again.
  (void)hosts_.DeleteSnapshot(ctx, v.host, SnapshotRef{sn.id, v.id});
  return Status::OK();
}

Status SnapshotApi::ResetStatus(const RequestContext& ctx, const std::string& id, const std::string& status) {
  static const std::set<std::string> kStatuses = {"creating",       "available",  "deleting",   "error",
                                                  "error_deleting", "unmanaging", "backing-up", "restoring"};
  if (!kStatuses.count(status)) {
    return InvalidArgument("Invalid input for field/attribute status. Value: " + status + ". '" + status +
                           "' is not one of ['available', 'error', 'creating', 'deleting', 'error_deleting']");
  }
  // The snapshot admin controller's _get (volume_api.get_snapshot), then its rule.
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, SnapshotFor(ctx, id, "volume_extension:snapshot_admin_actions:reset_status"));
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasSnapshotStatus(sn.id, {sn.status}, status));
  if (!changed) return Aborted("Snapshot " + sn.id + " changed status while it was being reset; try again.");
  return Status::OK();
}

Status SnapshotApi::UpdateStatus(const RequestContext& ctx, const std::string& id, const std::string& status,
                                 const std::optional<std::string>& progress) {
  static const std::map<std::string, std::vector<std::string>> kAllowed = {
      {ss::kCreating, {ss::kCreating, ss::kAvailable, ss::kError}},
      {ss::kDeleting, {ss::kDeleting, ss::kErrorDeleting}},
  };
  CINDER_ASSIGN_OR_RETURN(Snapshot sn,
                          SnapshotFor(ctx, id, "snapshot_extension:snapshot_actions:update_snapshot_status"));
  auto allowed = kAllowed.find(sn.status);
  if (allowed == kAllowed.end()) {
    return InvalidArgument("Snapshot status " + sn.status + " not allowed for update_snapshot_status");
  }
  if (std::find(allowed->second.begin(), allowed->second.end(), status) == allowed->second.end()) {
    return InvalidArgument("Provided snapshot status " + status + " not allowed for snapshot with status " + sn.status +
                           ".");
  }
  std::vector<FieldUpdate> fields;
  if (progress) fields.push_back({"progress", *progress});
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasSnapshotStatus(sn.id, {sn.status}, status, fields));
  if (!changed) return Aborted("Snapshot " + sn.id + " changed status while it was being updated; try again.");
  return Status::OK();
}

Result<Metadata> SnapshotApi::UpdateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& md,
                                             bool replace) {
  CINDER_RETURN_IF_ERROR(CheckMetadata(md));
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, SnapshotFor(ctx, id, "volume:update_snapshot_metadata"));
  CINDER_RETURN_IF_ERROR(store_->SetSnapshotMetadata(sn.id, md, replace));
  CINDER_ASSIGN_OR_RETURN(Snapshot now, store_->GetSnapshot(sn.id, std::nullopt));
  return now.metadata;
}

Result<Metadata> SnapshotApi::GetMetadata(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, SnapshotFor(ctx, id, "volume:get_snapshot_metadata"));
  return sn.metadata;
}

Status SnapshotApi::DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) {
  CINDER_ASSIGN_OR_RETURN(Snapshot sn, SnapshotFor(ctx, id, "volume:delete_snapshot_metadata"));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteSnapshotMetadataKey(sn.id, key));
  if (!found) return NotFound("Metadata item was not found");
  return Status::OK();
}

Status SnapshotApi::Revert(const RequestContext& ctx, const std::string& volume_id, const std::string& snapshot_id) {
  // Cinder's revert: get_volume (volume:get, a 403), the request's checks, then
  // volume:revert_to_snapshot.
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(volume_id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:get", VolumeTarget(v)));
  CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOfVolume(v.id));
  if (snaps.empty()) return InvalidArgument("Volume " + v.id + " doesn't have any snapshots.");
  const Snapshot& latest = snaps.front();
  if (snapshot_id != latest.id) {
    return InvalidArgument("Specified snapshot " + (snapshot_id.empty() ? std::string("None") : snapshot_id) +
                           " is None or not the latest one of volume " + v.id + ".");
  }
  const Status size_differs = InvalidArgument("Can't revert volume " + v.id + " to its latest snapshot " + latest.id +
                                              ". The volume size must be equal to the snapshot size.");
  if (v.size != latest.size) return size_differs;
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume:revert_to_snapshot", VolumeTarget(v)));
  CINDER_ASSIGN_OR_RETURN(auto started, store_->StartRevert(v.id, latest.id));
  switch (started) {
    case Store::RevertStart::kStarted: break;
    case Store::RevertStart::kSizeChanged: return size_differs;
    case Store::RevertStart::kNotLatest:
      return InvalidArgument("Specified snapshot " + snapshot_id + " is None or not the latest one of volume " + v.id +
                             ".");
    case Store::RevertStart::kVolumeBusy:
      return Aborted("Invalid volume: Can't revert volume " + v.id + " to its latest snapshot " + latest.id +
                     ". Volume's status must be 'available'.");
    case Store::RevertStart::kSnapshotBusy:
      return Aborted("Invalid snapshot: Can't revert volume " + v.id + " to its latest snapshot " + latest.id +
                     ". Snapshot's status must be 'available'.");
  }
  Status handed = hosts_.RevertToSnapshot(ctx, v.host, HostRevert{v.id, latest.id});
  if (!handed.ok()) {
    (void)store_->CasSnapshotStatus(latest.id, {ss::kRestoring}, ss::kAvailable);
    (void)store_->CasVolumeStatus(v.id, {volume_status::kReverting}, volume_status::kAvailable);
    return Unavailable("The volume service of " + v.host + " did not accept the revert: " + handed.message());
  }
  return Status::OK();
}

}  // namespace cinder
