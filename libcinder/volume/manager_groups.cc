// VolumeManagerImpl (manager_impl.h): generic volume groups (3.13), as cinder/group/api.py:
// create, show, list, update (name, description, volumes in and out), delete, reset-status.
#include <algorithm>

#include "common/log.h"
#include "common/util.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace gs = group_status;
namespace vs = volume_status;

// cinder/group/api.py's VALID_REMOVE_VOL_FROM_GROUP_STATUS and VALID_ADD_VOL_TO_GROUP_STATUS.
const std::vector<std::string> kRemovableStatuses = {"available", "in-use", "error", "error_deleting"};
const std::vector<std::string> kAddableStatuses = {"available", "in-use"};

// The group type migrated consistency groups have: only the CG APIs operate them.
constexpr char kDefaultCgsnapshotType[] = "default_cgsnapshot_type";

std::string Backend(const std::string& host) { return host.substr(0, host.find('#')); }

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Python's repr of a list of strings: ['a', 'b'].
std::string PyList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", '" : "'") + v[i] + "'";
  return out + "]";
}

// Python's str of a tuple of strings: ('a', 'b').
std::string PyTuple(const std::vector<std::string>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", '" : "'") + v[i] + "'";
  return out + ")";
}

// cinder/group/api.py's split of add_volumes / remove_volumes: ends' commas stripped.
std::vector<std::string> SplitIds(const std::optional<std::string>& list) {
  std::vector<std::string> out;
  if (!list || list->empty()) return out;
  std::string s = *list;
  while (!s.empty() && s.front() == ',') s.erase(0, 1);
  while (!s.empty() && s.back() == ',') s.pop_back();
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

auth::PolicyTarget GroupTarget(const VolumeGroup& g) {
  return {{"id", g.id},
          {"project_id", g.project_id},
          {"user_id", g.user_id},
          {"host", g.host.empty() ? "None" : g.host},
          {"availability_zone", g.availability_zone},
          {"status", g.status},
          {"group_type_id", g.group_type_id},
          {"name", g.name.value_or("None")},
          {"description", g.description.value_or("None")}};
}

}  // namespace

Result<VolumeGroup> VolumeManagerImpl::GroupFor(const RequestContext& ctx, const std::string& id, const char* rule) {
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, store_->GetGroup(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get", GroupTarget(g)));
  if (rule) CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, GroupTarget(g)));
  return g;
}

Result<VolumeGroup> VolumeManagerImpl::CreateGroup(const RequestContext& ctx, const GroupCreate& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:create", {}));
  if (request.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *request.name, 255));
  if (request.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *request.description, 255));
  // Cinder's group_type_get (an id), then by name (also a uuid-like name).
  Result<GroupType> type = store_->GetGroupType(request.group_type);
  if (!type.ok() && type.status().code() == Code::kNotFound) {
    type = store_->GetGroupTypeByName(request.group_type);
    if (!type.ok() && type.status().code() == Code::kNotFound && IsUuid(request.group_type)) {
      return NotFound("Group type " + request.group_type + " could not be found.");
    }
  }
  if (!type.ok()) return type.status();
  if (type->name == kDefaultCgsnapshotType) {
    return InvalidArgument("Group_type " + type->id +
                           " is reserved for migrating CGs to groups. Migrated group can only be operated by CG "
                           "APIs.");
  }
  VolumeGroup g;
  for (const auto& name_or_id : request.volume_types) {
    CINDER_ASSIGN_OR_RETURN(VolumeType vt, store_->GetVolumeType(name_or_id));
    if (!Contains(g.volume_type_ids, vt.id)) g.volume_type_ids.push_back(vt.id);
  }
  // Cinder's _extract_availability_zone: a zone some volume service is in.
  const std::string az = request.availability_zone.value_or(options_.storage_availability_zone);
  if (az != options_.storage_availability_zone) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    bool known = false;
    for (const auto& svc : services) known = known || svc.availability_zone == az;
    if (!known) return InvalidArgument("Invalid input received: Availability zone '" + az + "' is invalid.");
  }
  g.id = NewUuid();
  g.name = request.name;
  g.description = request.description;
  g.status = gs::kCreating;
  g.availability_zone = az;
  g.project_id = ctx.project_id;
  g.user_id = ctx.user_id;
  g.group_type_id = type->id;
  g.created_at = NowIso();
  QuotaCharge charge = quotas_.Charge(ctx.project_id, {{"groups", 1}});
  Store::QuotaReservation over;
  if (Status st = store_->InsertGroup(g, &charge, &over); !st.ok()) {
    if (st.code() == Code::kResourceExhausted) return QuotaApi::OverQuotaError(over, "groups", 0);
    return st;
  }
  Status handed = schedulers_.CreateGroup(ctx, GroupPlacement{g.id});
  if (!handed.ok()) {
    (void)store_->CasGroupStatus(g.id, {gs::kCreating}, gs::kError, {}, std::string());
    return Unavailable("No cinder-scheduler accepted group " + g.id + ": " + handed.message());
  }
  return g;
}

Result<VolumeGroup> VolumeManagerImpl::GetGroup(const RequestContext& ctx, const std::string& id) {
  return GroupFor(ctx, id, nullptr);
}

Result<std::vector<VolumeGroup>> VolumeManagerImpl::ListGroups(const RequestContext& ctx, const GroupListQuery& q) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:get_all", {}));
  const ProjectScope scope = ctx.is_admin && q.all_tenants ? std::nullopt : ProjectScope(ctx.project_id);
  return store_->ListGroups(q, scope, options_.osapi_max_limit);
}

Status VolumeManagerImpl::UpdateGroup(const RequestContext& ctx, const std::string& id, const GroupUpdate& u) {
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, GroupFor(ctx, id, "group:update"));
  std::optional<std::string> name = u.name;
  std::optional<std::string> description = u.description;
  if (name && name == g.name) name.reset();
  if (description && description == g.description) description.reset();
  if (name) CINDER_RETURN_IF_ERROR(CheckLength("name", *name, 255));
  if (description) CINDER_RETURN_IF_ERROR(CheckLength("description", *description, 255));
  std::vector<std::string> add = SplitIds(u.add_volumes);
  const std::vector<std::string> remove = SplitIds(u.remove_volumes);
  std::vector<std::string> both;
  for (const auto& a : add) {
    if (Contains(remove, a)) both.push_back(a);
  }
  if (!both.empty()) {
    return InvalidArgument("Invalid volume: UUIDs " + PyList(both) + " are in both add and remove volume list.");
  }
  CINDER_ASSIGN_OR_RETURN(std::vector<Volume> members, store_->VolumesOfGroup(g.id));
  auto invalid = [&](const std::string& vid, const std::string& why) {
    return InvalidArgument("Invalid volume: Cannot add volume " + vid + " to group " + g.id + " " + why);
  };
  // _validate_add_volumes: those in the group already are skipped.
  std::vector<std::string> add_new;
  for (const auto& m : members) add.erase(std::remove(add.begin(), add.end(), m.id), add.end());
  for (const auto& vid : add) {
    auto v = store_->GetVolume(vid, ReadScope(ctx));
    if (!v.ok() && v.status().code() == Code::kNotFound) return invalid(vid, "because volume cannot be found.");
    if (!v.ok()) return v.status();
    if (v->group_id) return invalid(v->id, "because it is already in group " + *v->group_id + ".");
    if (v->project_id != g.project_id) return invalid(v->id, "as they belong to different projects.");
    if (v->volume_type_id.empty()) return invalid(v->id, "because it has no volume type.");
    if (!Contains(g.volume_type_ids, v->volume_type_id)) {
      return invalid(v->id, "because volume type " + v->volume_type_id + " is not supported by the group.");
    }
    if (!Contains(kAddableStatuses, v->status)) {
      return invalid(v->id, "because volume is in an invalid state: " + v->status +
                                ". Valid states are: " + PyTuple(kAddableStatuses) + ".");
    }
    if (Backend(v->host) != Backend(g.host))
      return InvalidArgument("Invalid volume: Volume is not local to this node.");
    if (!Contains(add_new, v->id)) add_new.push_back(v->id);
  }
  // _validate_remove_volumes.
  std::vector<std::string> remove_new;
  for (const auto& m : members) {
    if (!Contains(remove, m.id)) continue;
    if (!Contains(kRemovableStatuses, m.status)) {
      return InvalidArgument("Invalid volume: Cannot remove volume " + m.id + " from group " + g.id +
                             " because volume is in an invalid state: " + m.status +
                             ". Valid states are: " + PyTuple(kRemovableStatuses) + ".");
    }
    remove_new.push_back(m.id);
  }
  for (const auto& vid : remove) {
    if (!Contains(remove_new, vid)) {
      return InvalidArgument("Invalid volume: Cannot remove volume " + vid + " from group " + g.id +
                             " because it is not in the group.");
    }
  }
  if (!name && !description && add_new.empty() && remove_new.empty()) {
    return InvalidArgument("Invalid Group: Cannot update group " + g.id +
                           " because no valid name, description, add_volumes, or remove_volumes were provided.");
  }
  std::vector<FieldUpdate> fields;
  if (name) fields.emplace_back("name", *name);
  if (description) fields.emplace_back("description", *description);
  const bool volumes_change = !add_new.empty() || !remove_new.empty();
  // As Cinder: without volumes to move the group becomes available whatever its status; with
  // them it must be available, and is "updating" until its volume host has moved them.
  CINDER_ASSIGN_OR_RETURN(
      bool changed, store_->CasGroupStatus(
                        g.id, volumes_change ? std::vector<std::string>{gs::kAvailable} : std::vector<std::string>{},
                        volumes_change ? gs::kUpdating : gs::kAvailable, fields));
  if (!changed) return FailedPrecondition("Invalid Group: Group status must be available.");
  if (!volumes_change) return Status::OK();
  Status st = hosts_.UpdateGroup(ctx, g.host, HostUpdateGroup{g.id, add_new, remove_new});
  if (!st.ok()) {
    (void)store_->CasGroupStatus(g.id, {gs::kUpdating}, gs::kAvailable);
    return Unavailable("The volume service of " + Backend(g.host) + " did not accept the update of group " + g.id +
                       ": " + st.message());
  }
  return Status::OK();
}

Status VolumeManagerImpl::DeleteGroup(const RequestContext& ctx, const std::string& id, bool delete_volumes) {
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, GroupFor(ctx, id, "group:delete"));
  CINDER_ASSIGN_OR_RETURN(std::vector<Volume> members, store_->VolumesOfGroup(g.id));
  if (g.host.empty() && members.empty()) {
    // Never placed: only the record (and its quota) to remove.
    CINDER_ASSIGN_OR_RETURN(bool gone, store_->SoftDeleteGroup(g.id));
    if (gone) return Status::OK();
  }
  if (!delete_volumes && g.status != gs::kAvailable && g.status != gs::kError) {
    return FailedPrecondition("Invalid Group: Group status must be available or error, but current status is: " +
                              g.status);
  }
  GroupSnapshotListQuery snaps_of;
  snaps_of.filters["group_id"] = g.id;
  snaps_of.limit = 1;
  CINDER_ASSIGN_OR_RETURN(auto group_snapshots, store_->ListGroupSnapshots(snaps_of, std::nullopt, 1));
  if (!group_snapshots.empty()) return FailedPrecondition("Invalid Group: Group has existing snapshots.");
  if (!members.empty() && !delete_volumes) {
    return FailedPrecondition("Invalid Group: Group " + g.id +
                              " still contains volumes. The delete-volumes flag is required to delete it.");
  }
  for (const auto& v : members) {
    if (v.attach_status == attach_status::kAttached) {
      return FailedPrecondition("Invalid Group: Volume in group " + g.id + " is attached. Need to detach first.");
    }
    CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOfVolume(v.id));
    if (!snaps.empty()) return FailedPrecondition("Invalid Group: Volume in group still has dependent snapshots.");
  }
  const std::vector<std::string> expected =
      delete_volumes ? std::vector<std::string>{} : std::vector<std::string>{gs::kAvailable, gs::kError};
  CINDER_ASSIGN_OR_RETURN(bool started, store_->StartGroupDelete(g.id, expected));
  if (!started) {
    const std::string reason = delete_volumes ? "Group status must be available or error and must not have "
                                                "dependent group snapshots"
                                              : "Group must not have attached volumes, volumes with snapshots, or "
                                                "dependent group snapshots";
    return FailedPrecondition("Invalid Group: Cannot delete group " + g.id + ". " + reason +
                              ", and it cannot be the source for an ongoing group or group snapshot creation.");
  }
  if (g.host.empty()) {
    // Unplaced, with volumes made into it while it was being created: they are deleted where
    // they are, then the group goes.
    for (const auto& v : members) {
      if (v.host.empty()) {
        (void)store_->SoftDeleteVolume(v.id, vs::kDeleting);
      } else {
        (void)hosts_.DeleteVolume(ctx, v.host, v.id);
      }
    }
    (void)store_->SoftDeleteGroup(g.id);
    return Status::OK();
  }
  // A host that is down resumes nothing by itself: the group stays "deleting" for a retry
  // with delete-volumes.
  Status st = hosts_.DeleteGroup(ctx, g.host, g.id);
  if (!st.ok()) CINDER_LOG(kWarning, "cinder-api") << "delete of group " << g.id << " not accepted: " << st.message();
  return Status::OK();
}

Status VolumeManagerImpl::ResetGroupStatus(const RequestContext& ctx, const std::string& id,
                                           const std::string& status) {
  CINDER_ASSIGN_OR_RETURN(VolumeGroup g, GroupFor(ctx, id, "group:reset_status"));
  return store_->CasGroupStatus(g.id, {}, status).status();
}

}  // namespace cinder
