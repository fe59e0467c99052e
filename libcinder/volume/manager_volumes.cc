// VolumeManagerImpl (manager_impl.h): a volume's life after its create: list, update, delete,
// extend, retype, reset-state, metadata.
#include <set>

#include "common/util.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"

namespace cinder {

bool IsValidVolumeStatus(const std::string& status) {
  static const std::set<std::string> kStatuses = {
      "creating",       "available",        "deleting",        "error",       "error_deleting",
      "error_managing", "managing",         "attaching",       "in-use",      "detaching",
      "maintenance",    "restoring-backup", "error_restoring", "reserved",    "awaiting-transfer",
      "backing-up",     "error_backing-up", "error_extending", "downloading", "uploading",
      "retyping",       "extending"};
  return kStatuses.count(status) > 0;
}

namespace {

namespace vs = volume_status;

// Statuses from which a volume may be deleted without force (cinder/volume/api.py).
const std::vector<std::string> kDeletableStatuses = {"available", "error", "error_restoring", "error_extending",
                                                     "error_managing"};

}  // namespace

Result<VolumeList> VolumeManagerImpl::ListVolumes(const RequestContext& ctx, const VolumeListQuery& q) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get_all", {}));
  ProjectScope scope = ctx.project_id;
  if (ctx.is_admin && q.all_tenants) scope = q.project_id;
  return store_->ListVolumes(q, scope, options_.osapi_max_limit);
}

Result<Volume> VolumeManagerImpl::UpdateVolume(const RequestContext& ctx, const std::string& id,
                                               const VolumeUpdate& u) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume:update"));
  std::vector<FieldUpdate> fields;
  if (u.name) {
    if (*u.name) CINDER_RETURN_IF_ERROR(CheckLength("name", **u.name, 255));
    fields.emplace_back("display_name", *u.name);
  }
  if (u.description) {
    if (*u.description) CINDER_RETURN_IF_ERROR(CheckLength("description", **u.description, 255));
    fields.emplace_back("display_description", *u.description);
  }
  if (u.metadata) CINDER_RETURN_IF_ERROR(CheckMetadata(*u.metadata));
  if (u.bootable) fields.emplace_back("bootable", *u.bootable ? "1" : "0");
  // Cinder's volume_api.update, behind PUT and os-set_bootable.
  if (v.status == vs::kMaintenance) {
    return FailedPrecondition("Invalid volume: The volume cannot be updated during maintenance.");
  }
  CINDER_ASSIGN_OR_RETURN(bool found, store_->UpdateVolume(v.id, fields, u.metadata));
  if (!found) return NotFound("Volume " + id + " could not be found.");
  return GetVolume(ctx, id);
}

// DELETE /volumes/{id}[?force=true]: Cinder's controller checks volume:force_delete when
// forced, then its volume_api.delete volume:delete.
Status VolumeManagerImpl::DeleteVolume(const RequestContext& ctx, const std::string& id, bool force, bool cascade) {
  return StartDelete(ctx, id, force, cascade, force ? "volume:force_delete" : nullptr);
}

// os-force_delete: volume_extension:volume_admin_actions:force_delete, then volume:delete.
Status VolumeManagerImpl::ForceDeleteVolume(const RequestContext& ctx, const std::string& id) {
  return StartDelete(ctx, id, /*force=*/true, /*cascade=*/false, "volume_extension:volume_admin_actions:force_delete");
}

Status VolumeManagerImpl::StartDelete(const RequestContext& ctx, const std::string& id, bool force, bool cascade,
                                      const char* rule) {
  CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
  if (rule) CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, VolumeTarget(v)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:delete", VolumeTarget(v)));
  CINDER_RETURN_IF_ERROR(CheckNotFrozen(*store_, v));
  std::vector<std::string> expected = kDeletableStatuses;
  if (force) expected.clear();  // any status
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->StartVolumeDelete(v.id, expected, cascade, force,
                                                                  /*other_projects_snapshots=*/ctx.is_admin));
  if (!changed && force) {
    return FailedPrecondition(
        "Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a "
        "transfer, or be disassociated from snapshots after volume transfer.");
  }
  if (!changed) {
    return FailedPrecondition(
        "Invalid volume: Volume status must be available or error or error_restoring or "
        "error_extending or error_managing and must not be migrating, attached, belong to a "
        "group, have snapshots, awaiting a transfer, or be disassociated from snapshots after "
        "volume transfer.");
  }
  if (v.host.empty()) {
    // Never placed: nothing to remove on a backend.
    return store_->SoftDeleteVolume(v.id, vs::kDeleting).status();
  }
  // A host that is down resumes the deletion when it starts again.
  (void)hosts_.DeleteVolume(ctx, v.host, v.id);
  return Status::OK();
}

namespace {

// The columns a quota change is computed from (the project it is reserved in, the size and
// the type): a compare-and-swap that also requires them loses to any change of them since `v`
// was read (an extend, a retype, a transfer accepted meanwhile).
std::vector<std::pair<std::string, std::string>> UnchangedSince(const Volume& v) {
  return {{"project_id", v.project_id},
          {"size", std::to_string(v.size)},
          {"COALESCE(volume_type_id, '')", v.volume_type_id}};
}

// How often an extend or a retype is computed again when its compare-and-swap lost only to a
// change of what it was computed from (the status still allows it): it then wins if it still
// makes sense on the volume as it is now, as it would have had it come a moment later.
constexpr int kCasAttempts = 3;

}  // namespace

Status VolumeManagerImpl::ExtendVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) {
  return Extend(ctx, id, new_size, /*attached_ok=*/false);
}

Status VolumeManagerImpl::ExtendAttachedVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) {
  return Extend(ctx, id, new_size, /*attached_ok=*/true);
}

Status VolumeManagerImpl::Extend(const RequestContext& ctx, const std::string& id, int64_t new_size, bool attached_ok) {
  // One attempt; `again` when its compare-and-swap lost only to a change of what it was
  // computed from (the reservation is given back).
  bool again = false;
  auto attempt = [&]() -> Status {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    // Cinder's extend_attached_volume (3.42) for an in-use volume, else extend.
    const bool attached = attached_ok && v.status == vs::kInUse;
    CINDER_RETURN_IF_ERROR(
        policy_->Enforce(ctx, attached ? "volume:extend_attached_volume" : "volume:extend", VolumeTarget(v)));
    const char* expected = attached ? vs::kInUse : vs::kAvailable;
    auto wrong_status = [&v, expected](const std::string& current) {
      return FailedPrecondition("Invalid volume: Volume " + v.id + " status must be '{'status': '" + expected +
                                "'}' to extend, currently " + current + ".");
    };
    if (new_size <= v.size) {
      return InvalidArgument(
          "Invalid input received: New size for extend must be greater than "
          "current size. (current: " +
          std::to_string(v.size) + ", extended: " + std::to_string(new_size) + ").");
    }
    if (v.status != expected) return wrong_status(v.status);
    if (v.host.empty()) {
      return FailedPrecondition("Invalid volume: Volume " + v.id + " is on no backend (it was never placed).");
    }
    // The volume's host knows its free space.
    CINDER_ASSIGN_OR_RETURN(CapacityReply cap, hosts_.Capacity(ctx, v.host));
    const double free = cap.free_gb;
    if (static_cast<double>(new_size - v.size) > free) {
      return InvalidArgument("Invalid input received: Requested extend by " + std::to_string(new_size - v.size) +
                             " GB exceeds the free capacity of "
                             "backend " +
                             v.host + " (" + FormatGb(free) + " GB).");
    }
    CINDER_RETURN_IF_ERROR(quotas_.CheckVolumeSize(v.project_id, new_size));
    // The growth is reserved now and committed when the driver has grown the volume.
    auto deltas = QuotaApi::VolumeDeltas(v.volume_type_name, new_size - v.size);
    deltas.erase("volumes");
    if (!v.volume_type_name.empty()) deltas.erase("volumes_" + v.volume_type_name);
    CINDER_ASSIGN_OR_RETURN(auto reservations,
                            quotas_.ReserveForHandOver(v.project_id, deltas, "volumes", new_size - v.size));
    // Wins only if the volume is still what the quota change was computed from: a concurrent
    // extend or retype that got there first makes this one lose, and give its reservation
    // back. The winner's reservation is the volume's from then on: whatever ends the extend
    // settles it.
    auto changed =
        store_->CasVolumeStatusHolding(v.id, {expected}, vs::kExtending, {{"previous_status", std::string(expected)}},
                                       UnchangedSince(v), reservations);
    if (!changed.ok() || !*changed) {
      (void)quotas_.Rollback(reservations);
      if (!changed.ok()) return changed.status();
      CINDER_ASSIGN_OR_RETURN(Volume now, GetVolume(ctx, id));
      again = now.status == expected;
      return wrong_status(now.status);
    }
    Status handed = hosts_.ExtendVolume(ctx, v.host, {v.id, new_size, reservations});
    if (!handed.ok()) {
      // Only if the host did not take it after all (a cast may time out yet arrive); the
      // change back gives the reservation back.
      (void)store_->CasVolumeStatus(v.id, {vs::kExtending}, expected, {{"previous_status", std::nullopt}});
      return Unavailable("The volume service of " + v.host + " did not accept the extend: " + handed.message());
    }
    return Status::OK();
  };
  for (int n = 1;; ++n) {
    again = false;
    Status st = attempt();
    if (!again || n == kCasAttempts) return st;
  }
}

Status VolumeManagerImpl::RetypeVolume(const RequestContext& ctx, const std::string& id, const std::string& new_type,
                                       const std::string& migration_policy) {
  CINDER_RETURN_IF_ERROR(VolumeFor(ctx, id, "volume:retype").status());
  auto type = store_->GetVolumeType(new_type);
  if (type.ok()) {
    auto usable = types_.Usable(ctx, *type);
    if (!usable.ok()) return usable.status();
    if (!*usable) type = NotFound("");
  }
  if (!type.ok()) {
    if (type.status().code() != Code::kNotFound) return type.status();
    return InvalidArgument("Invalid input received: Invalid volume_type passed: " + new_type + ".");
  }
  const std::string busy =
      "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active "
      "migration or a consistency group, requested type has to be different that the one from the volume, "
      "and for in-use volumes front-end qos specs cannot change.";
  auto retypable = [&](const Volume& v) {
    return type->id != v.volume_type_id && !v.migration_status && !v.group_id &&
           (v.status == vs::kAvailable || v.status == vs::kInUse);
  };
  // One attempt; `again` when its compare-and-swap lost only to a change of what it was
  // computed from (the reservations are given back).
  bool again = false;
  auto attempt = [&]() -> Status {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    if (!retypable(v)) return FailedPrecondition(busy);
    auto multi = type->extra_specs.find("multiattach");
    const bool to_multiattach = multi != type->extra_specs.end() && ToLower(Trim(multi->second)) == "<is> true";
    if (to_multiattach != v.multiattach && v.status != vs::kAvailable) {
      return InvalidArgument(
          "Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on "
          "available volumes, the specified volume however currently has a status of: " +
          v.status + ".");
    }
    if (to_multiattach && !v.multiattach) {
      CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:multiattach", VolumeTarget(v)));
    }
    // The per-type quotas move from the old type to the new one (Cinder's reserve_vol_type_only).
    QuotaDeltas deltas = {{"volumes_" + type->name, 1}, {"gigabytes_" + type->name, v.size}};
    if (!v.volume_type_name.empty()) {
      deltas["volumes_" + v.volume_type_name] = -1;
      deltas["gigabytes_" + v.volume_type_name] = -v.size;
    }
    CINDER_ASSIGN_OR_RETURN(auto reservations, quotas_.ReserveForHandOver(v.project_id, deltas, "volumes", v.size));
    // From the status read (which the volume returns to, as the retype request says), of the
    // project, size and type the reservations were computed from.
    // Nor while it is in a group (Cinder's expected group_id None).
    auto conditions = UnchangedSince(v);
    conditions.emplace_back("COALESCE(group_id, '')", "");
    auto changed = store_->CasVolumeStatusHolding(v.id, {v.status}, vs::kRetyping, {{"previous_status", v.status}},
                                                  conditions, reservations);
    if (!changed.ok() || !*changed) {
      (void)quotas_.Rollback(reservations);
      if (!changed.ok()) return changed.status();
      CINDER_ASSIGN_OR_RETURN(Volume now, GetVolume(ctx, id));
      again = retypable(now);
      return FailedPrecondition(busy);
    }
    Status handed = schedulers_.RetypeVolume(ctx, {v.id, type->id, migration_policy, v.status, reservations});
    if (!handed.ok()) {
      // The change back gives the reservations back.
      (void)store_->CasVolumeStatus(v.id, {vs::kRetyping}, v.status, {{"previous_status", std::nullopt}});
      return Unavailable("No cinder-scheduler accepted the retype of volume " + v.id + ": " + handed.message());
    }
    return Status::OK();
  };
  for (int n = 1;; ++n) {
    again = false;
    Status st = attempt();
    if (!again || n == kCasAttempts) return st;
  }
}

Status VolumeManagerImpl::ResetStatus(const RequestContext& ctx, const std::string& id,
                                      const std::optional<std::string>& status,
                                      const std::optional<std::string>& attach_status,
                                      const std::optional<std::string>& migration_status) {
  // Cinder's order: the request's fields, the volume (objects.Volume.get_by_id: no volume:get),
  // the rule, then what the volume's state allows.
  if (!status && !attach_status && !migration_status) {
    return InvalidArgument(
        "Invalid input received: Must specify 'status', 'attach_status' or "
        "'migration_status' for update.");
  }
  if (status && !IsValidVolumeStatus(*status)) {
    return InvalidArgument("Volume status: " + *status +
                           " is invalid, valid statuses are: ('creating', 'available', "
                           "'deleting', 'error', 'error_deleting', 'error_managing', 'managing', "
                           "'attaching', 'in-use', 'detaching', 'maintenance', "
                           "'restoring-backup', 'error_restoring', 'reserved', "
                           "'awaiting-transfer', 'backing-up', 'error_backing-up', "
                           "'error_extending', 'downloading', 'uploading', 'retyping', "
                           "'extending').");
  }
  if (attach_status && *attach_status != "attached" && *attach_status != "detached") {
    return InvalidArgument("Volume attach status: " + *attach_status +
                           " is invalid, valid statuses are: ['attached', 'detached'].");
  }
  static const std::set<std::string> kMigration = {"migrating", "error", "success", "completing", "none", "starting"};
  if (migration_status && !kMigration.count(*migration_status)) {
    return InvalidArgument("Volume migration status: " + *migration_status +
                           " is invalid, valid statuses are: ['migrating', 'error', 'success', "
                           "'completing', 'none', 'starting'].");
  }
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_admin_actions:reset_status", VolumeTarget(v)));
  if (status && *status == vs::kDeleting) return InvalidArgument("Cannot reset-state to deleting");
  if (status && *status == vs::kInUse) {
    // No attachments exist yet in this service.
    return InvalidArgument(
        "Cannot reset-state to in-use because volume does not have any "
        "attachments.");
  }
  std::vector<FieldUpdate> fields;
  if (attach_status) fields.emplace_back("attach_status", *attach_status);
  if (migration_status) {
    fields.emplace_back("migration_status",
                        *migration_status == "none" ? std::nullopt : std::optional<std::string>(*migration_status));
  }
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasVolumeStatus(v.id, {v.status}, status.value_or(v.status), fields));
  if (!changed) {
    return Aborted("Volume " + v.id + " changed status while it was being reset; try again.");
  }
  if (attach_status && *attach_status == "detached") {
    // Cinder's _clean_volume_attachment: every attachment goes (their exports with the host's
    // next check), and the status is what the reset says, else what the attachments leave.
    CINDER_ASSIGN_OR_RETURN(auto rows, store_->AttachmentsOfVolume(v.id));
    for (const Attachment& a : rows) CINDER_RETURN_IF_ERROR(store_->DetachAttachment(v.id, a.id).status());
    if (status && !rows.empty()) (void)store_->CasVolumeStatus(v.id, {}, *status);
  }
  return Status::OK();
}

Result<Metadata> VolumeManagerImpl::GetMetadata(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume:get_volume_metadata"));
  return v.metadata;
}

Result<Metadata> VolumeManagerImpl::UpdateMetadata(const RequestContext& ctx, const std::string& id,
                                                   const Metadata& metadata, bool replace) {
  return SetMetadata(ctx, id, metadata, replace, "volume:update_volume_metadata");
}

Result<Metadata> VolumeManagerImpl::CreateMetadata(const RequestContext& ctx, const std::string& id,
                                                   const Metadata& metadata) {
  return SetMetadata(ctx, id, metadata, /*replace=*/false, "volume:create_volume_metadata");
}

Result<Metadata> VolumeManagerImpl::SetMetadata(const RequestContext& ctx, const std::string& id,
                                                const Metadata& metadata, bool replace, const char* rule) {
  CINDER_RETURN_IF_ERROR(CheckMetadata(metadata));
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, rule));
  CINDER_RETURN_IF_ERROR(store_->SetVolumeMetadata(v.id, metadata, replace));
  return store_->GetVolumeMetadata(v.id);
}

Status VolumeManagerImpl::DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume:delete_volume_metadata"));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteVolumeMetadataKey(v.id, key));
  if (!found) return NotFound("Metadata item was not found");
  return Status::OK();
}

}  // namespace cinder
