// Cinder's smaller API extensions as the manager serves them: a volume's image metadata
// (volume_image_metadata.py), a volume type's encryption (volume_type_encryption.py) and a
// volume host's usage (hosts.py).
#include <map>
#include <string>
#include <vector>

#include "volume/manager_impl.h"

namespace cinder {

namespace {

// Cinder's _update_volume_metadata / delete_volume_metadata refuse these statuses.
const std::vector<std::string>& MetadataBusyStatuses() {
  static const std::vector<std::string> kBusy = {"maintenance", "uploading"};
  return kBusy;
}

Status NoImageMetadata(const std::string& id) {
  return NotFound("Glance metadata for volume/snapshot " + id + " cannot be found.");
}

}  // namespace

Result<Metadata> VolumeManagerImpl::GetImageMetadata(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume:get_volume_metadata"));
  CINDER_ASSIGN_OR_RETURN(Metadata md, store_->GetVolumeImageMetadata(v.id));
  if (md.empty()) return NoImageMetadata(v.id);
  return md;
}

Result<Metadata> VolumeManagerImpl::SetImageMetadata(const RequestContext& ctx, const std::string& id,
                                                     const Metadata& metadata) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_image_metadata:set"));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:update_volume_metadata", VolumeTarget(v)));
  CINDER_RETURN_IF_ERROR(store_->SetVolumeImageMetadata(v.id, metadata, MetadataBusyStatuses()));
  return store_->GetVolumeImageMetadata(v.id);
}

Status VolumeManagerImpl::DeleteImageMetadataKey(const RequestContext& ctx, const std::string& id,
                                                 const std::string& key) {
  CINDER_ASSIGN_OR_RETURN(Volume v, VolumeFor(ctx, id, "volume_extension:volume_image_metadata:remove"));
  // As Cinder: the metadata is read (volume:get_volume_metadata) and the key looked up first.
  CINDER_ASSIGN_OR_RETURN(Metadata md, GetImageMetadata(ctx, v.id));
  if (!md.count(key)) return NoImageMetadata(v.id);
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:delete_volume_metadata", VolumeTarget(v)));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteVolumeImageMetadataKey(v.id, key, MetadataBusyStatuses()));
  if (!found) return NoImageMetadata(v.id);
  return Status::OK();
}

Result<std::map<std::string, Metadata>> VolumeManagerImpl::ListImageMetadata(
    const RequestContext& ctx, const std::vector<std::string>& volume_ids) {
  (void)ctx;
  return store_->ListVolumeImageMetadata(volume_ids);
}

Result<std::optional<VolumeTypeEncryption>> VolumeManagerImpl::GetVolumeTypeEncryption(const RequestContext& ctx,
                                                                                       const std::string& type_id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_type_encryption:get", {}));
  CINDER_ASSIGN_OR_RETURN(auto enc, store_->GetVolumeTypeEncryption(type_id));
  if (!enc) {
    // An unknown type is NotFound (Cinder's _check_type), a type without encryption is not.
    CINDER_ASSIGN_OR_RETURN(VolumeType t, store_->GetVolumeType(type_id));
    if (t.id != type_id) return NotFound("Volume type " + type_id + " could not be found.");
  }
  return enc;
}

Result<VolumeTypeEncryption> VolumeManagerImpl::CreateVolumeTypeEncryption(const RequestContext& ctx,
                                                                           const std::string& type_id,
                                                                           const VolumeTypeEncryptionUpdate& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_type_encryption:create", {}));
  return store_->CreateVolumeTypeEncryption(type_id, request);
}

Status VolumeManagerImpl::UpdateVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id,
                                                     const VolumeTypeEncryptionUpdate& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_type_encryption:update", {}));
  return store_->UpdateVolumeTypeEncryption(type_id, request);
}

Status VolumeManagerImpl::DeleteVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:volume_type_encryption:delete", {}));
  return store_->DeleteVolumeTypeEncryption(type_id);
}

Result<std::vector<HostProjectUsage>> VolumeManagerImpl::GetHostUsage(const RequestContext& ctx,
                                                                      const std::string& host) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:hosts", {}));
  // Cinder's Service.get_by_host_and_topic: the host itself, or a backend or pool of it.
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(host, std::string("cinder-volume")));
  if (services.empty()) return NotFound("Service cinder-volume could not be found on host " + host + ".");
  CINDER_ASSIGN_OR_RETURN(auto usage, store_->HostVolumeUsage(services[0].host));
  return usage;
}

}  // namespace cinder
