// VolumeManagerImpl (manager_impl.h): group snapshots and groups made from a source (3.14), as
// cinder/group/api.py's create_group_snapshot, delete_group_snapshot,
// reset_group_snapshot_status and create_from_src.
#include <algorithm>

#include "common/log.h"
#include "common/util.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"
#include "volume/policy_checks.h"

namespace cinder {

namespace {

namespace gs = group_status;
namespace gss = group_snapshot_status;
namespace vs = volume_status;

// The group type migrated consistency groups have: only the CG APIs operate them.
constexpr char kDefaultCgsnapshotType[] = "default_cgsnapshot_type";

// A group's volumes that a group snapshot may take (Cinder takes any its validation lets
// through; a volume being created, extended or deleted has nothing settled to take).
const std::vector<std::string> kSnapshotVolumeStatuses = {vs::kAvailable, vs::kInUse};

auth::PolicyTarget GroupSnapshotTarget(const GroupSnapshot& g) {
  return {{"id", g.id},
          {"project_id", g.project_id},
          {"user_id", g.user_id},
          {"group_id", g.group_id},
          {"group_type_id", g.group_type_id},
          {"status", g.status},
          {"name", g.name.value_or("None")},
          {"description", g.description.value_or("None")}};
}

auth::PolicyTarget GroupPolicyTarget(const VolumeGroup& g) {
  return {{"id", g.id},
          {"project_id", g.project_id},
          {"user_id", g.user_id},
          {"host", g.host.empty() ? "None" : g.host},
          {"availability_zone", g.availability_zone},
          {"status", g.status},
          {"group_type_id", g.group_type_id}};
}

Status InvalidVolume(const std::string& reason) { return FailedPrecondition("Invalid volume: " + reason); }

}  // namespace

// The controller's _check_default_cgsnapshot_type.
static Status CheckNotCgsnapshotType(Store& store, const std::string& group_type_id) {
  auto t = store.GetGroupType(group_type_id);
  if (t.ok() && t->name == kDefaultCgsnapshotType) {
    return InvalidArgument("Group_type " + group_type_id +
                           " is reserved for migrating CGs to groups. Migrated group snapshots can only be operated "
                           "by CG snapshot APIs.");
  }
  return Status::OK();
}

Result<GroupSnapshot> VolumeManagerImpl::GetGroupSnapshot(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(GroupSnapshot g, store_->GetGroupSnapshot(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get_group_snapshot", GroupSnapshotTarget(g)));
  CINDER_RETURN_IF_ERROR(CheckNotCgsnapshotType(*store_, g.group_type_id));
  return g;
}

Result<std::vector<GroupSnapshot>> VolumeManagerImpl::ListGroupSnapshots(const RequestContext& ctx,
                                                                         const GroupSnapshotListQuery& q) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get_all_group_snapshots", {}));
  const ProjectScope scope = ctx.is_admin && q.all_tenants ? std::nullopt : ProjectScope(ctx.project_id);
  CINDER_ASSIGN_OR_RETURN(auto all, store_->ListGroupSnapshots(q, scope, options_.osapi_max_limit));
  // Only those not migrated from CG snapshots (the controller skips them).
  std::vector<GroupSnapshot> out;
  for (auto& g : all) {
    if (CheckNotCgsnapshotType(*store_, g.group_type_id).ok()) out.push_back(std::move(g));
  }
  return out;
}

Result<GroupSnapshot> VolumeManagerImpl::CreateGroupSnapshot(const RequestContext& ctx,
                                                             const GroupSnapshotCreate& request) {
  // The controller's group_api.get (group:get), its type check, then create_group_snapshot.
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, GroupFor(ctx, request.group_id, nullptr));
  CINDER_RETURN_IF_ERROR(CheckNotCgsnapshotType(*store_, g.group_type_id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:create_group_snapshot", GroupPolicyTarget(g)));
  if (request.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *request.name, 255));
  if (request.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *request.description, 255));
  // Recorded only while the group is "available" with the volumes read, each as read; a
  // record that lost to a change meanwhile is tried again from what is there then.
  for (int attempt = 1;; ++attempt) {
    CINDER_ASSIGN_OR_RETURN(VolumeGroup now, store_->GetGroup(g.id, std::nullopt));
    if (now.status != gs::kAvailable) {
      return FailedPrecondition("Invalid Group: Group " + g.id +
                                " status must be available, but current status is: " + now.status + ".");
    }
    CINDER_ASSIGN_OR_RETURN(std::vector<Volume> volumes, store_->VolumesOfGroup(g.id));
    GroupSnapshot snap;
    snap.id = NewUuid();
    snap.group_id = g.id;
    snap.group_type_id = g.group_type_id;
    snap.name = request.name;
    snap.description = request.description;
    snap.status = gss::kCreating;
    snap.project_id = ctx.project_id;
    snap.user_id = ctx.user_id;
    snap.created_at = NowIso();
    std::vector<Snapshot> members;
    QuotaDeltas total;
    // cinder/volume/api.py create_snapshots_in_db: every volume is validated first.
    for (const auto& v : volumes) {
      CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:create_snapshot", VolumeTarget(v)));
      CINDER_RETURN_IF_ERROR(CheckSnapshotSource(v));
      if (std::find(kSnapshotVolumeStatuses.begin(), kSnapshotVolumeStatuses.end(), v.status) ==
          kSnapshotVolumeStatuses.end()) {
        return InvalidVolume("Volume " + v.id +
                             " status must be available, in-use, but current status is: " + v.status + ".");
      }
      Snapshot sn = NewSnapshotOf(ctx, v, request.name, request.description);
      sn.group_snapshot_id = snap.id;
      members.push_back(sn);
      for (const auto& [k, d] : quotas_.SnapshotDeltas(v.volume_type_name, v.size)) total[k] += d;
    }
    int64_t gigabytes = 0;
    for (const auto& v : volumes) gigabytes += v.size;
    QuotaCharge charge = quotas_.Charge(ctx.project_id, total);
    Store::QuotaReservation over;
    auto inserted = store_->InsertGroupSnapshot(snap, members, kSnapshotVolumeStatuses, &charge, &over);
    if (!inserted.ok()) {
      if (inserted.status().code() == Code::kResourceExhausted) {
        return QuotaApi::OverQuotaError(over, "snapshots", gigabytes);
      }
      return inserted.status();
    }
    if (!*inserted) {
      if (attempt < 3) continue;
      return Aborted("Invalid Group: Group " + g.id + " changed while its snapshot was being recorded; try again.");
    }
    // As recorded ("creating"): read before the host is asked, which may finish it at once.
    auto recorded = store_->GetGroupSnapshot(snap.id, std::nullopt);
    Status handed = hosts_.CreateGroupSnapshot(ctx, now.host, GroupSnapshotRef{snap.id, g.id});
    if (!handed.ok()) {
      (void)store_->FinishGroupSnapshotCreate(snap.id, /*ok=*/false);
      return Unavailable("The volume service of " + now.host +
                         " did not accept the group snapshot: " + handed.message());
    }
    return recorded;
  }
}

Status VolumeManagerImpl::DeleteGroupSnapshot(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(GroupSnapshot snap, GetGroupSnapshot(ctx, id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:delete_group_snapshot", GroupSnapshotTarget(snap)));
  CINDER_ASSIGN_OR_RETURN(bool started, store_->StartGroupSnapshotDelete(snap.id, {gss::kAvailable, gss::kError}));
  if (!started) {
    return FailedPrecondition(
        "Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently "
        "using it as source for its creation.");
  }
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, store_->GetGroup(snap.group_id, std::nullopt));
  // A host that is down resumes the delete when it starts again.
  Status st = hosts_.DeleteGroupSnapshot(ctx, g.host, GroupSnapshotRef{snap.id, g.id});
  if (!st.ok()) {
    CINDER_LOG(kWarning, "cinder-api") << "delete of group snapshot " << snap.id << " not accepted: " << st.message();
  }
  return Status::OK();
}

Status VolumeManagerImpl::ResetGroupSnapshotStatus(const RequestContext& ctx, const std::string& id,
                                                   const std::string& status) {
  CINDER_ASSIGN_OR_RETURN(GroupSnapshot snap, store_->GetGroupSnapshot(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get_group_snapshot", GroupSnapshotTarget(snap)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:reset_group_snapshot_status", GroupSnapshotTarget(snap)));
  return store_->CasGroupSnapshotStatus(snap.id, {}, status).status();
}

Result<VolumeGroup> VolumeManagerImpl::CreateGroupFromSource(const RequestContext& ctx,
                                                             const GroupCreateFromSource& request) {
  // The controller reads the source (NotFound, or the source's own rule), checks its type,
  // then group_api.create_from_src checks group:create.
  std::optional<GroupSnapshot> snap;
  VolumeGroup source;
  if (request.group_snapshot_id) {
    CINDER_ASSIGN_OR_RETURN(GroupSnapshot s, store_->GetGroupSnapshot(*request.group_snapshot_id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get_group_snapshot", GroupSnapshotTarget(s)));
    snap = s;
    CINDER_RETURN_IF_ERROR(CheckNotCgsnapshotType(*store_, s.group_type_id));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:create", {}));
    CINDER_ASSIGN_OR_RETURN(source, GroupFor(ctx, s.group_id, nullptr));
  } else {
    CINDER_ASSIGN_OR_RETURN(source, GroupFor(ctx, request.source_group_id.value_or(""), nullptr));
    CINDER_RETURN_IF_ERROR(CheckNotCgsnapshotType(*store_, source.group_type_id));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:create", {}));
  }
  if (request.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *request.name, 255));
  if (request.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *request.description, 255));
  VolumeGroup g;
  g.id = NewUuid();
  g.name = request.name;
  g.description = request.description;
  g.status = gs::kCreating;
  g.availability_zone = source.availability_zone;
  g.host = source.host;
  g.project_id = ctx.project_id;
  g.user_id = ctx.user_id;
  g.group_type_id = source.group_type_id;
  g.volume_type_ids = source.volume_type_ids;
  g.created_at = NowIso();
  g.group_snapshot_id = request.group_snapshot_id;
  if (!snap) g.source_group_id = source.id;
  std::vector<Volume> volumes;
  QuotaDeltas total = {{"groups", 1}};
  int64_t gigabytes = 0;
  auto add = [&](int64_t size, const std::string& type_id, const std::string& type_name, const std::string& host) {
    Volume v;
    v.id = NewUuid();
    v.size = size;
    v.status = vs::kCreating;
    v.attach_status = attach_status::kDetached;
    v.project_id = ctx.project_id;
    v.user_id = ctx.user_id;
    v.availability_zone = g.availability_zone;
    v.host = host;
    v.volume_type_id = type_id;
    v.group_id = g.id;
    v.created_at = NowIso();
    for (const auto& [k, d] : QuotaApi::VolumeDeltas(type_name, size)) total[k] += d;
    gigabytes += size;
    volumes.push_back(std::move(v));
    return &volumes.back();
  };
  if (snap) {
    CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOfGroupSnapshot(snap->id));
    if (snaps.empty()) return InvalidArgument("Invalid Group: Group snapshot is empty. No group will be created.");
    for (const auto& sn : snaps) {
      CINDER_ASSIGN_OR_RETURN(Volume from, store_->GetVolume(sn.volume_id, std::nullopt));
      Volume* v = add(sn.size, sn.volume_type_id, sn.volume_type_name, from.host.empty() ? source.host : from.host);
      v->snapshot_id = sn.id;
    }
  } else {
    CINDER_ASSIGN_OR_RETURN(auto members, store_->VolumesOfGroup(source.id));
    if (members.empty()) return InvalidArgument("Invalid Group: Source Group is empty. No group will be created.");
    for (const auto& m : members) {
      Volume* v = add(m.size, m.volume_type_id, m.volume_type_name, m.host);
      v->source_volid = m.id;
    }
  }
  // Cinder's validate_host_capacity: the source's backend must hold the new volumes.
  auto fits = schedulers_.ValidateHostCapacity(ctx, CapacityCheck{g.host, gigabytes, g.availability_zone});
  if (!fits.ok() || !*fits) {
    if (!fits.ok()) CINDER_LOG(kError, "cinder-api") << "validate_host_capacity: " << fits.status().ToString();
    return InvalidArgument("Invalid Group: No valid host to create group " + g.id + ".");
  }
  QuotaCharge charge = quotas_.Charge(ctx.project_id, total);
  Store::QuotaReservation over;
  if (Status st = store_->InsertGroupFromSource(g, volumes, &charge, &over); !st.ok()) {
    if (st.code() == Code::kResourceExhausted) {
      const bool groups = std::find(over.over.begin(), over.over.end(), "groups") != over.over.end();
      return QuotaApi::OverQuotaError(over, groups ? "groups" : "volumes", gigabytes);
    }
    return st;
  }
  Status handed = hosts_.CreateGroupFromSource(ctx, g.host, g.id);
  if (!handed.ok()) {
    for (const auto& v : volumes) (void)store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError);
    (void)store_->CasGroupStatus(g.id, {gs::kCreating}, gs::kError);
    return Unavailable("The volume service of " + g.host + " did not accept group " + g.id + ": " + handed.message());
  }
  return g;
}

}  // namespace cinder
