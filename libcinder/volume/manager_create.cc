// VolumeManagerImpl (manager_impl.h): the create flow: checks, the volume's source, the
// hand-over to a scheduler.
#include <algorithm>

#include "common/message_field.h"
#include "common/util.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;

}  // namespace

// Cinder's create flow: the request checked and completed from its source, the volume
// recorded unplaced with its quota usage, then handed to a scheduler.
Result<Volume> VolumeManagerImpl::CreateVolume(const RequestContext& ctx, const VolumeCreate& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:create", {}));
  VolumeCreate req = request;
  std::optional<Volume> source;
  CINDER_RETURN_IF_ERROR(FromSource(ctx, &req, &source));
  // A volume of a group (3.13): in the group's zone, on its backend (Cinder's create flow).
  std::optional<VolumeGroup> group;
  if (req.group_id) {
    CINDER_ASSIGN_OR_RETURN(group, GroupFor(ctx, *req.group_id, nullptr));
    if (group->status != group_status::kAvailable && group->status != group_status::kCreating) {
      return FailedPrecondition("Invalid Group: Originating group status must be one of 'available, creating' values");
    }
    req.availability_zone = group->availability_zone;
  }
  CINDER_ASSIGN_OR_RETURN(std::string az, CheckCreate(req));
  CINDER_RETURN_IF_ERROR(admission_.Admit());  // last of the checks: a refused create is not counted
  // No type named: the project's default (3.62), else default_volume_type.
  const std::string type_name = req.volume_type.value_or(options_.default_volume_type);
  CINDER_ASSIGN_OR_RETURN(VolumeType type,
                          req.volume_type ? store_->GetVolumeType(type_name) : types_.EffectiveDefault(ctx));
  CINDER_ASSIGN_OR_RETURN(bool usable, types_.Usable(ctx, type));  // a private type needs access
  if (!usable) return NotFound("Volume type with name " + type_name + " could not be found.");
  if (group && std::find(group->volume_type_ids.begin(), group->volume_type_ids.end(), type.id) ==
                   group->volume_type_ids.end()) {
    return InvalidArgument("Invalid input received: Invalid volume_type provided: " + type.name +
                           " (requested type must be supported by this group).");
  }
  Volume v;
  v.id = NewUuid();
  v.group_id = req.group_id;
  v.has_name = req.name.has_value();
  v.name = req.name.value_or("");
  v.has_description = req.description.has_value();
  v.description = req.description.value_or("");
  v.size = req.size;
  v.status = vs::kCreating;
  v.availability_zone = az;
  v.project_id = ctx.project_id;
  v.user_id = ctx.user_id;
  v.volume_type_id = type.id;
  // Cinder's create flow: a type with multiattach="<is> True" makes multiattach volumes.
  if (auto m = type.extra_specs.find("multiattach"); m != type.extra_specs.end()) {
    v.multiattach = ToLower(Trim(m->second)) == "<is> true";
  }
  if (v.multiattach) CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:multiattach", {}));
  v.volume_type_name = type.name;
  v.metadata = req.metadata;
  v.snapshot_id = req.snapshot_id;
  v.source_volid = req.source_volid;
  v.created_at = NowIso();
  QuotaCharge charge = quotas_.Charge(ctx.project_id, QuotaApi::VolumeDeltas(type.name, v.size), v.size);
  charge.type_id = type.id;
  charge.type_name = type.name;
  // Recorded unplaced with its usage (Cinder's reserve and commit, in one transaction), then
  // handed to a scheduler, which places it (or fails it with a user message) and hands it to
  // its volume host, as Cinder's create flow.
  Store::QuotaReservation over;
  if (Status st = store_->InsertVolume(v, &charge, &over); !st.ok()) {
    if (st.code() == Code::kResourceExhausted) return QuotaApi::OverQuotaError(over, "volumes", v.size);
    return st;
  }
  std::optional<std::string> backend;
  if (group && !group->host.empty()) backend = group->host.substr(0, group->host.find('#'));
  CINDER_RETURN_IF_ERROR(HandToScheduler(ctx, v, type, req.hints, source, backend));
  return v;
}

// A new volume from a snapshot or another volume: on the source's backend, its type and
// zone unless given, at least its size. Sets `*source` when there is one.
Status VolumeManagerImpl::FromSource(const RequestContext& ctx, VolumeCreate* request,
                                     std::optional<Volume>* source_out) {
  VolumeCreate& req = *request;
  std::optional<Volume>& source = *source_out;
  if (req.snapshot_id && req.source_volid) {
    return InvalidArgument("Invalid input received: Only one of snapshot_id and source_volid may be given.");
  }
  if (req.snapshot_id) {
    // Cinder's volume_api.get_snapshot and get_volume: the rule denies with a 403.
    CINDER_ASSIGN_OR_RETURN(Snapshot snap, store_->GetSnapshot(*req.snapshot_id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get_snapshot", SnapshotTarget(snap)));
    if (snap.status != snapshot_status::kAvailable) {
      return FailedPrecondition("Invalid snapshot: Originating snapshot status must be one of 'available' values");
    }
    if (req.size == 0) req.size = snap.size;
    if (req.size < snap.size) {
      return InvalidArgument("Invalid input received: Volume size '" + std::to_string(req.size) +
                             "'GB cannot be smaller than the snapshot size " + std::to_string(snap.size) +
                             "GB. They must be >= original snapshot size.");
    }
    CINDER_ASSIGN_OR_RETURN(source, store_->GetVolume(snap.volume_id, std::nullopt));
  } else if (req.source_volid) {
    CINDER_ASSIGN_OR_RETURN(source, store_->GetVolume(*req.source_volid, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get", VolumeTarget(*source)));
    if (source->status != vs::kAvailable && source->status != vs::kInUse) {
      return FailedPrecondition(
          "Invalid volume: Originating source volume status must be one of 'available, in-use' values");
    }
    if (req.size == 0) req.size = source->size;
    if (req.size < source->size) {
      return InvalidArgument("Invalid input received: Volume size '" + std::to_string(req.size) +
                             "'GB cannot be smaller than original volume size  " + std::to_string(source->size) +
                             "GB. They must be >= original volume size.");
    }
  }
  if (source) {
    if (source->host.empty())
      return FailedPrecondition("Invalid volume: the source volume " + source->id + " is on no backend.");
    if (!req.volume_type && !source->volume_type_id.empty()) req.volume_type = source->volume_type_id;
    // Cinder's cloned_volume_same_az: a copy is made where its source is.
    if (req.availability_zone && *req.availability_zone != source->availability_zone) {
      return InvalidArgument(
          std::string("Invalid input received: Volume must be in the same availability zone as the ") +
          (req.snapshot_id ? "snapshot" : "source volume"));
    }
    req.availability_zone = source->availability_zone;
  }
  return Status::OK();
}

// Cinder's checks of a create's fields; the availability zone it goes to.
Result<std::string> VolumeManagerImpl::CheckCreate(const VolumeCreate& req) {
  if (req.size <= 0) {
    return InvalidArgument("Invalid input received: Volume size '" + std::to_string(req.size) +
                           "' must be an integer and greater than 0.");
  }
  if (req.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *req.name, 255));
  if (req.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *req.description, 255));
  CINDER_RETURN_IF_ERROR(CheckMetadata(req.metadata));
  // Cinder's default: a volume without a zone goes to storage_availability_zone; a zone must
  // be one some volume service is in.
  std::string az = req.availability_zone.value_or(options_.storage_availability_zone);
  if (az != options_.storage_availability_zone) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    bool known = false;
    for (const auto& svc : services) known = known || svc.availability_zone == az;
    if (!known) return InvalidArgument("Invalid input received: Availability zone '" + az + "' is invalid.");
  }
  return az;
}

// Casts the recorded volume to a scheduler with its request spec (the scheduler need not
// read it back). When none takes it, the volume fails now rather than stay "creating".
Status VolumeManagerImpl::HandToScheduler(const RequestContext& ctx, const Volume& v, const VolumeType& type,
                                          const SchedulerHints& hints, const std::optional<Volume>& source,
                                          const std::optional<std::string>& resource_backend) {
  PlacementRequest placement;
  placement.volume_id = v.id;
  placement.volume =
      VolumeProperties{v.size, v.availability_zone, v.volume_type_id, v.project_id, v.user_id, v.name, v.description};
  placement.extra_specs = type.extra_specs;
  if (type.qos_specs_id) {  // what filter and goodness functions see as qos.*
    auto qos = store_->GetQosSpecs(*type.qos_specs_id);
    if (qos.ok()) placement.qos_specs = qos->specs;
  }
  placement.hints = {hints.same_host, hints.different_host, hints.query};
  if (source) placement.resource_backend = source->host.substr(0, source->host.find('#'));
  if (resource_backend) placement.resource_backend = resource_backend;
  Status handed = schedulers_.CreateVolume(ctx, placement);
  if (handed.ok()) return Status::OK();
  // No scheduler took it: the volume fails now rather than stay "creating" (unless a
  // scheduler took it after all and placed it meanwhile).
  auto failed = store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError, {}, std::string());
  if (failed.ok() && *failed) {
    (void)store_->InsertMessage(message_field::NewMessage(v.project_id, ctx.request_id, message_field::kResourceVolume,
                                                          v.id, message_field::kScheduleAllocateVolume,
                                                          message_field::kNoBackendAvailable, options_.message_ttl));
  }
  return Unavailable("No cinder-scheduler accepted volume " + v.id + ": " + handed.message());
}

}  // namespace cinder
