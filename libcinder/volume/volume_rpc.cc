#include "volume/volume_rpc.h"

#include <memory>

#include "rpc/method.h"
#include "rpc/topics.h"

namespace cinder {

namespace {

using rpc::Empty;
using rpc::Method;

constexpr Method<HostCreateVolume> kCreateVolume{"create_volume"};
constexpr Method<HostExtendVolume> kExtendVolume{"extend_volume"};
constexpr Method<VolumeRef> kDeleteVolume{"delete_volume"};
constexpr Method<SnapshotRef> kCreateSnapshot{"create_snapshot"};
constexpr Method<SnapshotRef> kDeleteSnapshot{"delete_snapshot"};
constexpr Method<HostRevert> kRevertToSnapshot{"revert_to_snapshot"};
constexpr Method<HostRetype> kRetypeVolume{"retype_volume"};
constexpr Method<HostRetype> kMigrateVolumeIn{"migrate_volume_in"};
constexpr Method<VolumeRef> kDeleteMigrated{"delete_migrated"};
constexpr Method<Empty> kDoCleanup{"do_cleanup"};
constexpr Method<ChunkRequest, ChunkReply> kReadChunk{"read_chunk"};
constexpr Method<Empty, CapacityReply> kCapacity{"capacity"};
constexpr Method<VolumeRef, LocalPathReply> kLocalPath{"local_path"};
constexpr Method<HostConnect, ConnectionReply> kAttachmentUpdate{"attachment_update"};
constexpr Method<HostConnect, ConnectionReply> kInitializeConnection{"initialize_connection"};
constexpr Method<HostDetach, DetachReply> kDetachAttachment{"detach_attachment"};
constexpr Method<HostBackupDevice, BackupDeviceReply> kBackupDevice{"backup_device"};
constexpr Method<HostBackupDevice, BackupDeviceReply> kReleaseBackupDevice{"release_backup_device"};
constexpr Method<HostManage> kManageExisting{"manage_existing"};
constexpr Method<HostManage> kManageExistingSnapshot{"manage_existing_snapshot"};
constexpr Method<VolumeRef> kUnmanageVolume{"unmanage_volume"};
constexpr Method<SnapshotRef> kUnmanageSnapshot{"unmanage_snapshot"};
constexpr Method<HostManageableQuery, ManageableReply> kGetManageable{"get_manageable"};
constexpr Method<GroupRef> kCreateGroup{"create_group"};
constexpr Method<HostUpdateGroup> kUpdateGroup{"update_group"};
constexpr Method<GroupRef> kDeleteGroup{"delete_group"};
constexpr Method<GroupRef> kCreateGroupFromSource{"create_group_from_src"};
constexpr Method<GroupSnapshotRef> kCreateGroupSnapshot{"create_group_snapshot"};
constexpr Method<GroupSnapshotRef> kDeleteGroupSnapshot{"delete_group_snapshot"};

}  // namespace

Status VolumeRpc::CreateGroup(const RequestContext& ctx, const std::string& backend_host, const std::string& group_id,
                              std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kCreateGroup, ctx, GroupRef{group_id}, timeout);
}

Status VolumeRpc::UpdateGroup(const RequestContext& ctx, const std::string& backend_host,
                              const HostUpdateGroup& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kUpdateGroup, ctx, request, timeout);
}

Status VolumeRpc::DeleteGroup(const RequestContext& ctx, const std::string& backend_host, const std::string& group_id,
                              std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDeleteGroup, ctx, GroupRef{group_id}, timeout);
}

Status VolumeRpc::CreateGroupFromSource(const RequestContext& ctx, const std::string& backend_host,
                                        const std::string& group_id, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kCreateGroupFromSource, ctx, GroupRef{group_id},
                   timeout);
}

Status VolumeRpc::CreateGroupSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                      const GroupSnapshotRef& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kCreateGroupSnapshot, ctx, request, timeout);
}

Status VolumeRpc::DeleteGroupSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                      const GroupSnapshotRef& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDeleteGroupSnapshot, ctx, request, timeout);
}

Status VolumeRpc::CreateVolume(const RequestContext& ctx, const std::string& backend_host, int64_t size,
                               const PlacementRequest& placement, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kCreateVolume, ctx, HostCreateVolume{size, placement},
                   timeout);
}

Status VolumeRpc::RetypeVolume(const RequestContext& ctx, const std::string& backend_host, const RetypeRequest& retype,
                               const std::string& dest_host, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kRetypeVolume, ctx,
                   HostRetype{retype, dest_host, std::nullopt}, timeout);
}

Status VolumeRpc::DoCleanup(const RequestContext& ctx, const std::string& backend_host,
                            std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDoCleanup, ctx, Empty{}, timeout);
}

Status VolumeRpc::ExtendVolume(const RequestContext& ctx, const std::string& backend_host,
                               const HostExtendVolume& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kExtendVolume, ctx, request, timeout);
}

Status VolumeRpc::DeleteVolume(const RequestContext& ctx, const std::string& backend_host, const std::string& volume_id,
                               std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDeleteVolume, ctx, VolumeRef{volume_id}, timeout);
}

Status VolumeRpc::CreateSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                 const SnapshotRef& snapshot, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kCreateSnapshot, ctx, snapshot, timeout);
}

Status VolumeRpc::DeleteSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                 const SnapshotRef& snapshot, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDeleteSnapshot, ctx, snapshot, timeout);
}

Status VolumeRpc::RevertToSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                   const HostRevert& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kRevertToSnapshot, ctx, request, timeout);
}

Status VolumeRpc::MigrateVolumeIn(const RequestContext& ctx, const std::string& backend_host, const HostRetype& request,
                                  std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kMigrateVolumeIn, ctx, request, timeout);
}

Status VolumeRpc::DeleteMigrated(const RequestContext& ctx, const std::string& backend_host,
                                 const std::string& volume_id, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kDeleteMigrated, ctx, VolumeRef{volume_id}, timeout);
}

Result<ChunkReply> VolumeRpc::ReadChunk(const RequestContext& ctx, const std::string& backend_host,
                                        const ChunkRequest& request, std::chrono::milliseconds timeout) {
  return rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kReadChunk, ctx, request, timeout);
}

Result<CapacityReply> VolumeRpc::Capacity(const RequestContext& ctx, const std::string& backend_host,
                                          std::chrono::milliseconds timeout) {
  return rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kCapacity, ctx, Empty{}, timeout);
}

Result<std::string> VolumeRpc::LocalPath(const RequestContext& ctx, const std::string& backend_host,
                                         const std::string& volume_id, std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(LocalPathReply reply, rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kLocalPath, ctx,
                                                          VolumeRef{volume_id}, timeout));
  return reply.path;
}

Result<std::string> VolumeRpc::AttachmentUpdate(const RequestContext& ctx, const std::string& backend_host,
                                                const HostConnect& request, std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(ConnectionReply reply, rpc::Call(*transport_, rpc::VolumeTopic(backend_host),
                                                           kAttachmentUpdate, ctx, request, timeout));
  return reply.connection_info;
}

Result<std::string> VolumeRpc::InitializeConnection(const RequestContext& ctx, const std::string& backend_host,
                                                    const HostConnect& request, std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(ConnectionReply reply, rpc::Call(*transport_, rpc::VolumeTopic(backend_host),
                                                           kInitializeConnection, ctx, request, timeout));
  return reply.connection_info;
}

Status VolumeRpc::DetachAttachment(const RequestContext& ctx, const std::string& backend_host,
                                   const HostDetach& request, std::chrono::milliseconds timeout) {
  return rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kDetachAttachment, ctx, request, timeout).status();
}

Result<BackupDeviceReply> VolumeRpc::BackupDevice(const RequestContext& ctx, const std::string& backend_host,
                                                  const HostBackupDevice& request, std::chrono::milliseconds timeout) {
  return rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kBackupDevice, ctx, request, timeout);
}

Status VolumeRpc::ReleaseBackupDevice(const RequestContext& ctx, const std::string& backend_host,
                                      const HostBackupDevice& request, std::chrono::milliseconds timeout) {
  return rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kReleaseBackupDevice, ctx, request, timeout).status();
}

Status VolumeRpc::ManageExisting(const RequestContext& ctx, const std::string& backend_host, const HostManage& request,
                                 std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kManageExisting, ctx, request, timeout);
}

Status VolumeRpc::ManageExistingSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                         const HostManage& request, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kManageExistingSnapshot, ctx, request, timeout);
}

Status VolumeRpc::UnmanageVolume(const RequestContext& ctx, const std::string& backend_host,
                                 const std::string& volume_id, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kUnmanageVolume, ctx, VolumeRef{volume_id}, timeout);
}

Status VolumeRpc::UnmanageSnapshot(const RequestContext& ctx, const std::string& backend_host,
                                   const SnapshotRef& snapshot, std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::VolumeTopic(backend_host), kUnmanageSnapshot, ctx, snapshot, timeout);
}

Result<std::string> VolumeRpc::GetManageable(const RequestContext& ctx, const std::string& backend_host, bool snapshots,
                                             std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(ManageableReply reply, rpc::Call(*transport_, rpc::VolumeTopic(backend_host), kGetManageable,
                                                           ctx, HostManageableQuery{snapshots}, timeout));
  return reply.entries;
}

RpcHandler VolumeRpcHandler(VolumeRpcServer* s) {
  auto d = std::make_shared<rpc::Dispatcher>("cinder-volume");
  d->On(kCreateVolume, [s](const RequestContext& c, HostCreateVolume r) { return s->CreateVolume(c, r); })
      .On(kExtendVolume, [s](const RequestContext& c, HostExtendVolume r) { return s->ExtendVolume(c, r); })
      .On(kDeleteVolume, [s](const RequestContext& c, VolumeRef r) { return s->DeleteVolume(c, r); })
      .On(kCreateSnapshot, [s](const RequestContext& c, SnapshotRef r) { return s->CreateSnapshot(c, r); })
      .On(kDeleteSnapshot, [s](const RequestContext& c, SnapshotRef r) { return s->DeleteSnapshot(c, r); })
      .On(kRevertToSnapshot, [s](const RequestContext& c, HostRevert r) { return s->RevertToSnapshot(c, r); })
      .On(kRetypeVolume, [s](const RequestContext& c, HostRetype r) { return s->RetypeVolume(c, r); })
      .On(kMigrateVolumeIn, [s](const RequestContext& c, HostRetype r) { return s->MigrateVolumeIn(c, r); })
      .On(kDeleteMigrated, [s](const RequestContext& c, VolumeRef r) { return s->DeleteMigrated(c, r); })
      .On(kDoCleanup, [s](const RequestContext& c, Empty) { return s->DoCleanup(c); })
      .On(kReadChunk, [s](const RequestContext& c, ChunkRequest r) { return s->ReadChunk(c, r); })
      .On(kCapacity, [s](const RequestContext& c, Empty) { return s->Capacity(c); })
      .On(kLocalPath, [s](const RequestContext& c, VolumeRef r) { return s->LocalPath(c, r); })
      .On(kAttachmentUpdate, [s](const RequestContext& c, HostConnect r) { return s->AttachmentUpdate(c, r); })
      .On(kInitializeConnection, [s](const RequestContext& c, HostConnect r) { return s->InitializeConnection(c, r); })
      .On(kDetachAttachment, [s](const RequestContext& c, HostDetach r) { return s->DetachAttachment(c, r); })
      .On(kBackupDevice, [s](const RequestContext& c, HostBackupDevice r) { return s->BackupDevice(c, r); })
      .On(kCreateGroup, [s](const RequestContext& c, GroupRef r) { return s->CreateGroup(c, r); })
      .On(kUpdateGroup, [s](const RequestContext& c, HostUpdateGroup r) { return s->UpdateGroup(c, r); })
      .On(kDeleteGroup, [s](const RequestContext& c, GroupRef r) { return s->DeleteGroup(c, r); })
      .On(kCreateGroupFromSource, [s](const RequestContext& c, GroupRef r) { return s->CreateGroupFromSource(c, r); })
      .On(kCreateGroupSnapshot,
          [s](const RequestContext& c, GroupSnapshotRef r) { return s->CreateGroupSnapshot(c, r); })
      .On(kDeleteGroupSnapshot,
          [s](const RequestContext& c, GroupSnapshotRef r) { return s->DeleteGroupSnapshot(c, r); })
      .On(kReleaseBackupDevice,
          [s](const RequestContext& c, HostBackupDevice r) -> Result<BackupDeviceReply> {
            CINDER_RETURN_IF_ERROR(s->ReleaseBackupDevice(c, r));
            return BackupDeviceReply{};
          })
      .On(kManageExisting, [s](const RequestContext& c, HostManage r) { return s->ManageExisting(c, r); })
      .On(kManageExistingSnapshot,
          [s](const RequestContext& c, HostManage r) { return s->ManageExistingSnapshot(c, r); })
      .On(kUnmanageVolume, [s](const RequestContext& c, VolumeRef r) { return s->UnmanageVolume(c, r); })
      .On(kUnmanageSnapshot, [s](const RequestContext& c, SnapshotRef r) { return s->UnmanageSnapshot(c, r); })
      .On(kGetManageable, [s](const RequestContext& c, HostManageableQuery r) { return s->GetManageable(c, r); });
  return rpc::Dispatcher::Serve(std::move(d));
}

}  // namespace cinder
