// Attachments (3.27) and the legacy attach actions on the API side (Cinder's volume/api.py
// attachment_* and reserve/attach/detach): checks and messages, the reservation in the
// database, and the connection work handed to the volume's host, undone when it fails.
#include "common/log.h"
#include "common/message_field.h"
#include "common/util.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace as = attach_status;
namespace mf = message_field;

bool IsUserError(const Status& st) {
  return st.code() == Code::kInvalidArgument || st.code() == Code::kFailedPrecondition ||
         st.code() == Code::kNotFound || st.code() == Code::kPermissionDenied;
}

// A connector that asks for a connection: a JSON object with at least one key (cinderclient
// sends {} without --connect).
bool Connects(const std::optional<std::string>& connector) {
  if (!connector) return false;
  std::string t = Trim(*connector);
  return !t.empty() && t != "{}" && t != "null";
}

}  // namespace

// A user message about volume `v` (best effort).
void VolumeManagerImpl::RecordMessage(const RequestContext& ctx, const Volume& v, const char* action,
                                      const char* detail) {
  (void)store_->InsertMessage(
      mf::NewMessage(v.project_id, ctx.request_id, mf::kResourceVolume, v.id, action, detail, options_.message_ttl));
}

namespace {

Status Maintenance(const Volume& v, const char* what) {
  if (v.status == vs::kMaintenance) return FailedPrecondition(std::string("Invalid volume: ") + what);
  return Status::OK();
}

}  // namespace

Result<Attachment> VolumeManagerImpl::CreateAttachment(const RequestContext& ctx, const AttachmentCreate& request) {
  // Cinder's controller reads the volume (no volume:get), its volume_api checks the rule on it,
  // and the rule for a second attachment of a bootable multiattach volume.
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(request.volume_id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:attachment_create", VolumeTarget(v)));
  if (v.multiattach && v.status == vs::kInUse && v.bootable) {
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:multiattach_bootable_volume", VolumeTarget(v)));
  }
  if (v.status.find("error") != std::string::npos) {
    return FailedPrecondition(
        "Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume " + v.id +
        " currently has a status of: " + v.status + " ");
  }
  Store::AttachmentReserve r;
  r.volume_id = v.id;
  r.scope = ReadScope(ctx);
  r.instance_uuid = request.instance_uuid;
  // Cinder: a volume that has a readonly flag at all is attached "ro"; else the mode asked for
  // (3.54), else "null".
  r.attach_mode = v.readonly ? std::string("ro") : request.mode.value_or("null");
  const bool connect = Connects(request.connector);
  if (connect) r.connector = request.connector;
  CINDER_ASSIGN_OR_RETURN(Attachment a, store_->ReserveAttachment(r));
  if (!connect) return a;
  Result<std::string> info =
      v.host.empty() ? Result<std::string>(FailedPrecondition("Invalid volume: Volume " + v.id + " is on no backend."))
                     : hosts_.AttachmentUpdate(ctx, v.host, {v.id, a.id, *request.connector});
  if (!info.ok()) {
    // Nothing stays reserved: the attachment goes (unless the host connected it after all) and
    // the volume's status follows.
    (void)store_->DetachAttachment(v.id, a.id, {as::kReserved});
    if (IsUserError(info.status())) return info.status();  // the answer says why
    RecordMessage(ctx, v, mf::kUpdateAttachment, mf::kAttachError);
    CINDER_LOG(kError, "cinder-api") << "attachment " << a.id << " of volume " << v.id
                                     << " failed: " << info.status().message();
    std::string why = info.status().code() == Code::kInternal ? " (" + info.status().message() + ")" : "";
    return Internal("Unable to create attachment for volume" + why + ".").ForUser();
  }
  // As Cinder, the answer shows the attachment as reserved, with its connection.
  a.connection_info = *info;
  return a;
}

Result<Attachment> VolumeManagerImpl::UpdateAttachment(const RequestContext& ctx, const std::string& id,
                                                       const std::string& connector) {
  CINDER_ASSIGN_OR_RETURN(Attachment a, AttachmentFor(ctx, id, "volume:attachment_update"));
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(a.volume_id, std::nullopt));
  if (v.status.find("error") != std::string::npos) {
    return Aborted(
        "Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume " +
        v.id + " currently has a status of: " + v.status + " ");
  }
  CINDER_ASSIGN_OR_RETURN(auto all, store_->AttachmentsOfVolume(v.id));
  if (!v.multiattach && all.size() > 1) {
    for (const Attachment& other : all) {
      if (other.connection_info && *other.connection_info != "{}")
        return Aborted("Resource conflict: duplicate connectors detected on volume " + v.id);
    }
  }
  // A reserved attachment being connected is marked so, for recovery should this stop here.
  CINDER_ASSIGN_OR_RETURN(bool marked, store_->SetAttachmentConnector(id, connector, /*only_if_reserved=*/true));
  Result<std::string> info =
      v.host.empty() ? Result<std::string>(FailedPrecondition("Invalid volume: Volume " + v.id + " is on no backend."))
                     : hosts_.AttachmentUpdate(ctx, v.host, {v.id, id, connector});
  if (!info.ok()) {
    if (marked) (void)store_->SetAttachmentConnector(id, std::nullopt, /*only_if_reserved=*/true);
    if (IsUserError(info.status())) return info.status();
    RecordMessage(ctx, v, mf::kUpdateAttachment, mf::kAttachError);
    std::string why = info.status().code() == Code::kInternal ? " (" + info.status().message() + ")" : "";
    return Internal("Unable to update attachment" + why + ".").ForUser();
  }
  a.connection_info = *info;
  return a;
}

Status VolumeManagerImpl::DetachThroughHost(const RequestContext& ctx, const Volume& v,
                                            const std::optional<std::string>& attachment_id,
                                            const std::vector<std::string>& expected) {
  if (v.host.empty()) return store_->DetachAttachment(v.id, attachment_id, expected).status();
  Status st = hosts_.DetachAttachment(ctx, v.host, {v.id, attachment_id, expected});
  if (st.ok() || IsUserError(st) || st.code() == Code::kAborted) return st;
  CINDER_LOG(kError, "cinder-api") << "detach of volume " << v.id << " failed: " << st.message();
  return Internal("Unable to terminate volume connection from backend.").ForUser();
}

Result<std::vector<Attachment>> VolumeManagerImpl::DeleteAttachment(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Attachment a, AttachmentFor(ctx, id, "volume:attachment_delete"));
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(a.volume_id, std::nullopt));
  if (a.attach_status == as::kReserved && !a.connector) {
    // A plain reservation: nothing on the host (Cinder does not call it either).
    CINDER_ASSIGN_OR_RETURN(auto remaining, store_->DetachAttachment(v.id, a.id));
    return remaining;
  }
  CINDER_RETURN_IF_ERROR(DetachThroughHost(ctx, v, a.id, {}));
  return store_->AttachmentsOfVolume(v.id);
}

Status VolumeManagerImpl::CompleteAttachment(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(AttachmentFor(ctx, id, "volume:attachment_complete").status());
  CINDER_ASSIGN_OR_RETURN(bool done, store_->CompleteAttachment(id));
  if (!done) return NotFound("Volume attachment could not be found with filter: attachment_id = " + id + ".");
  return Status::OK();
}

Result<Attachment> VolumeManagerImpl::AttachmentFor(const RequestContext& ctx, const std::string& id,
                                                    const char* rule) {
  CINDER_ASSIGN_OR_RETURN(auto found, store_->GetAttachment(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, AttachmentTarget(found.first, found.second)));
  return found.first;
}

// Cinder's attachments controller checks no rule to show or list them.
Result<Attachment> VolumeManagerImpl::GetAttachment(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(auto found, store_->GetAttachment(id, ReadScope(ctx)));
  return found.first;
}

Result<std::vector<Attachment>> VolumeManagerImpl::ListAttachments(const RequestContext& ctx,
                                                                   const AttachmentListQuery& q) {
  ProjectScope scope = ctx.project_id;
  if (ctx.is_admin && q.all_tenants) scope = std::nullopt;
  return store_->ListAttachments(q, scope, options_.osapi_max_limit);
}

Status VolumeManagerImpl::ReserveVolume(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:reserve"));
  std::vector<std::string> expected = {vs::kAvailable};
  if (v.multiattach) expected.push_back(vs::kInUse);
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasVolumeStatus(v.id, expected, vs::kAttaching, {}, std::nullopt,
                                                                {{"multiattach", v.multiattach ? "1" : "0"}}));
  if (changed) return Status::OK();
  CINDER_ASSIGN_OR_RETURN(Volume now, GetVolume(ctx, id));
  return FailedPrecondition(std::string("Invalid volume: Volume status must be ") +
                            (v.multiattach ? "available or in-use" : "available") + " to reserve, but the status is " +
                            now.status + ".");
}

Status VolumeManagerImpl::UnreserveVolume(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:unreserve"));
  CINDER_ASSIGN_OR_RETURN(auto rows, store_->AttachmentsOfVolume(v.id));
  bool attached = false;
  for (const Attachment& a : rows) attached |= a.attach_status != as::kDetached;
  return store_->CasVolumeStatus(v.id, {vs::kAttaching}, attached ? vs::kInUse : vs::kAvailable).status();
}

Status VolumeManagerImpl::BeginDetaching(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:begin_detaching"));
  const char kMigrationOk[] =
      "CASE WHEN migration_status IS NULL OR migration_status IN ('deleting', 'error', 'success') THEN 'y' ELSE 'n' "
      "END";
  CINDER_ASSIGN_OR_RETURN(bool changed,
                          store_->CasVolumeStatus(v.id, {vs::kInUse}, vs::kDetaching, {}, std::nullopt,
                                                  {{"attach_status", as::kAttached}, {kMigrationOk, "y"}}));
  if (changed) return Status::OK();
  CINDER_ASSIGN_OR_RETURN(Volume now, GetVolume(ctx, id));
  if (now.status == vs::kInUse && now.attach_status == as::kAttached) return Status::OK();  // migrating: as Cinder
  return FailedPrecondition(
      "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' "
      "to detach.");
}

Status VolumeManagerImpl::RollDetaching(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:roll_detaching"));
  return store_->CasVolumeStatus(v.id, {vs::kDetaching}, vs::kInUse).status();
}

Result<std::string> VolumeManagerImpl::InitializeConnection(const RequestContext& ctx, const std::string& id,
                                                            const std::string& connector) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:initialize_connection"));
  CINDER_RETURN_IF_ERROR(Maintenance(v, "The volume connection cannot be initialized in maintenance mode."));
  if (v.host.empty()) return FailedPrecondition("Invalid volume: Volume " + v.id + " is on no backend.");
  auto info = hosts_.InitializeConnection(ctx, v.host, {v.id, "", connector});
  if (info.ok() || IsUserError(info.status())) return info;
  CINDER_LOG(kError, "cinder-api") << "initialize_connection of volume " << v.id
                                   << " failed: " << info.status().message();
  return Internal("Unable to fetch connection information from backend.").ForUser();
}

namespace {

// Cinder's attachment_deletion_allowed without Nova: more than one attachment and none named
// is refused (the Compute API must say which).
Status DeletionAllowed(const std::vector<Attachment>& rows, const std::optional<std::string>& attachment_id) {
  if (!attachment_id && rows.size() > 1) {
    return Aborted("Detach volume from instance  using the Compute API");
  }
  return Status::OK();
}

}  // namespace

Status VolumeManagerImpl::TerminateConnection(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:terminate_connection"));
  CINDER_ASSIGN_OR_RETURN(auto rows, store_->AttachmentsOfVolume(v.id));
  CINDER_RETURN_IF_ERROR(DeletionAllowed(rows, std::nullopt));
  // tgt's terminate_connection does nothing (CHAP is the only access control); the export
  // goes with the detach. Then Cinder's unreserve (its rule too).
  return UnreserveVolume(ctx, id);
}

Status VolumeManagerImpl::AttachVolume(const RequestContext& ctx, const std::string& id, const LegacyAttach& request) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:attach"));
  CINDER_RETURN_IF_ERROR(Maintenance(v, "The volume cannot be attached in maintenance mode."));
  if (v.readonly && *v.readonly == "True" && request.mode != "ro") {
    return FailedPrecondition("Invalid attaching mode '" + request.mode + "' for volume " + v.id + ".");
  }
  Store::LegacyAttachRequest r;
  r.volume_id = v.id;
  r.instance_uuid = request.instance_uuid;
  if (request.host_name) {
    // Cinder's sanitize_hostname: lower case, spaces and underscores to dashes, the rest kept
    // to letters, digits, dots and dashes.
    std::string h;
    for (char c : *request.host_name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c == ' ' || c == '_') c = '-';
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') h += c;
    }
    r.host_name = h;
  }
  r.mountpoint = request.mountpoint;
  r.mode = request.mode;
  auto a = store_->LegacyAttach(r);
  if (!a.ok() && a.status().message().find("attach mode") != std::string::npos) {
    RecordMessage(ctx, v, mf::kAttachVolume, "005");
  }
  return a.status();
}

Status VolumeManagerImpl::DetachVolume(const RequestContext& ctx, const std::string& id,
                                       const std::optional<std::string>& attachment_id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_actions:detach"));
  CINDER_ASSIGN_OR_RETURN(auto rows, store_->AttachmentsOfVolume(v.id));
  if (attachment_id) {
    auto found = store_->GetAttachment(*attachment_id, std::nullopt);
    if (found.ok() && found->first.volume_id != v.id) {
      return InvalidArgument("Invalid input received: Mismatched volume and attachment");
    }
  }
  CINDER_RETURN_IF_ERROR(DeletionAllowed(rows, attachment_id));
  CINDER_RETURN_IF_ERROR(Maintenance(v, "The volume cannot be detached in maintenance mode."));
  std::optional<std::string> which = attachment_id;
  if (!which) {
    if (rows.size() > 1) {
      return FailedPrecondition(
          "Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.");
    }
    if (rows.size() == 1) which = rows[0].id;
  }
  return DetachThroughHost(ctx, v, which, {});
}

Status VolumeManagerImpl::ForceDetach(const RequestContext& ctx, const std::string& id,
                                      const std::optional<std::string>& attachment_id) {
  // Cinder's force_detach calls volume_api.terminate_connection (which unreserves) and detach:
  // their rules too, all checked before anything changes.
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_admin_actions:force_detach"));
  for (const char* rule : {"volume_extension:volume_actions:terminate_connection",
                           "volume_extension:volume_actions:unreserve", "volume_extension:volume_actions:detach"}) {
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, VolumeTarget(v)));
  }
  CINDER_ASSIGN_OR_RETURN(auto rows, store_->AttachmentsOfVolume(v.id));
  std::optional<std::string> which = attachment_id;
  if (!which && rows.size() == 1) which = rows[0].id;
  if (!which && rows.size() > 1) {
    return FailedPrecondition(
        "Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.");
  }
  (void)UnreserveVolume(ctx, id);
  return DetachThroughHost(ctx, v, which, {});
}

Status VolumeManagerImpl::UpdateReadonlyFlag(const RequestContext& ctx, const std::string& id, bool readonly) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume:update_readonly_flag"));
  CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasVolumeStatus(v.id, {vs::kAvailable}, vs::kAvailable,
                                                                {{"admin_readonly", readonly ? "True" : "False"}}));
  if (changed) return Status::OK();
  CINDER_ASSIGN_OR_RETURN(Volume now, GetVolume(ctx, id));
  return FailedPrecondition("Invalid volume: Volume " + v.id +
                            " status must be available to update readonly flag, but current status is: " + now.status +
                            ".");
}

}  // namespace cinder
