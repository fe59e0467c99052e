// VolumeManagerImpl (manager_impl.h): volume transfers between projects.
#include "common/digest.h"
#include "common/util.h"
#include "volume/api_common.h"
#include "volume/manager_impl.h"

namespace cinder {

Result<Transfer> VolumeManagerImpl::CreateTransfer(const RequestContext& ctx, const std::string& volume_id,
                                                   const std::optional<std::string>& name, bool no_snapshots) {
  // Cinder's transfer API: the volume (no volume:get), then the rule on it.
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(volume_id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:create_transfer", VolumeTarget(v)));
  if (name) CINDER_RETURN_IF_ERROR(CheckLength("name", *name, 255));
  if (!no_snapshots) {  // the snapshots go along: each must be available
    CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOfVolume(v.id));
    for (const auto& sn : snaps) {
      if (sn.status != snapshot_status::kAvailable) {
        return FailedPrecondition("Invalid snapshot: snapshot: " + sn.id + " status must be available");
      }
    }
  }
  Transfer t;
  t.id = NewUuid();
  t.volume_id = v.id;
  t.name = name;
  t.no_snapshots = no_snapshots;
  t.source_project_id = v.project_id;
  t.auth_key = RandomHex(16);  // Cinder's volume_transfer_key_length
  const std::string salt = RandomHex(8);
  CINDER_RETURN_IF_ERROR(store_->CreateTransfer(t, salt, HmacSha1Hex(salt, t.auth_key)));
  CINDER_ASSIGN_OR_RETURN(auto stored, store_->GetTransfer(t.id, std::nullopt));
  stored.first.auth_key = t.auth_key;
  return stored.first;
}

Result<std::vector<Transfer>> VolumeManagerImpl::ListTransfers(const RequestContext& ctx, bool all_tenants) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get_all_transfers", {}));
  return store_->ListTransfers(ctx.is_admin && all_tenants ? std::nullopt : ProjectScope(ctx.project_id));
}

// As Cinder's, the rule's target is the caller's own project: the lookup keeps to it.
Result<Transfer> VolumeManagerImpl::GetTransfer(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get_transfer", {}));
  CINDER_ASSIGN_OR_RETURN(auto t, store_->GetTransfer(id, ReadScope(ctx)));
  return t.first;
}

Status VolumeManagerImpl::DeleteTransfer(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(auto t, store_->GetTransfer(id, ReadScope(ctx)));
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(t.first.volume_id, std::nullopt));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:delete_transfer", VolumeTarget(v)));
  return store_->DeleteTransfer(id, ReadScope(ctx));
}

Result<Transfer> VolumeManagerImpl::AcceptTransfer(const RequestContext& ctx, const std::string& id,
                                                   const std::string& auth_key) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:accept_transfer", {}));
  // Any project may accept: the key is the proof.
  CINDER_ASSIGN_OR_RETURN(auto t, store_->GetTransfer(id, std::nullopt));
  const auto& [salt, crypt_hash] = t.second;
  if (HmacSha1Hex(salt, auth_key) != crypt_hash) {
    return InvalidArgument("Invalid auth key: Attempt to transfer " + id + " with invalid auth key.");
  }
  // The receiving project must have room for the volume (and the snapshots that go with it).
  CINDER_ASSIGN_OR_RETURN(Volume v, store_->GetVolume(t.first.volume_id, std::nullopt));
  CINDER_RETURN_IF_ERROR(quotas_.CheckVolumeSize(ctx.project_id, v.size));
  QuotaDeltas deltas = QuotaApi::VolumeDeltas(v.volume_type_name, v.size);
  std::vector<std::string> snapshot_ids;  // what goes along; checked again when it is accepted
  if (!t.first.no_snapshots) {
    CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOfVolume(v.id));
    for (const auto& sn : snaps) {
      if (!sn.use_quota) continue;
      snapshot_ids.push_back(sn.id);
      for (const auto& [k, d] : quotas_.SnapshotDeltas(sn.volume_type_name, sn.size)) deltas[k] += d;
    }
  }
  CINDER_ASSIGN_OR_RETURN(auto reservations, quotas_.Reserve(ctx.project_id, deltas, "volumes", v.size));
  if (Status st = store_->AcceptTransfer(id, ctx.project_id, ctx.user_id, reservations, !options_.no_snapshot_gb_quota,
                                         snapshot_ids, v.size, v.volume_type_id);
      !st.ok()) {
    (void)quotas_.Rollback(reservations);
    return st;
  }
  t.first.accepted = true;
  t.first.destination_project_id = ctx.project_id;
  return t.first;
}

}  // namespace cinder
