// The volume hosts' RPC interface (Cinder's volume/rpcapi.py): the messages, VolumeRpc to
// send them to the host of a backend, and VolumeRpcServer for the service that answers them.
// Every method takes the backend's host (host@backend; a pool's host@backend#pool is accepted
// and the pool dropped).
#ifndef CINDER_VOLUME_VOLUME_RPC_H_
#define CINDER_VOLUME_VOLUME_RPC_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/transport.h"
#include "rpc/codec.h"
#include "scheduler/scheduler_rpc.h"

namespace cinder {

// create_volume: the scheduler's placement, for the host to create and, should the driver
// fail, to send back for another attempt.
struct HostCreateVolume {
  int64_t size = 0;
  PlacementRequest placement;
  template <class V>
  void Fields(V& v) {
    v("size", size);
    v("placement", placement);
  }
};

struct VolumeRef {  // delete_volume, local_path, delete_migrated
  std::string volume_id;
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
  }
};

struct HostExtendVolume {
  std::string volume_id;
  int64_t new_size = 0;
  std::vector<std::string> reservations;  // committed when the driver has grown it
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("new_size", new_size);
    v("reservations", reservations);
  }
};

struct SnapshotRef {  // create_snapshot, delete_snapshot
  std::string snapshot_id;
  std::string volume_id;
  template <class V>
  void Fields(V& v) {
    v("snapshot_id", snapshot_id);
    v("volume_id", volume_id);
  }
};

struct HostRevert {
  std::string volume_id;
  std::string snapshot_id;
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("snapshot_id", snapshot_id);
  }
};

// retype_volume (to the volume's host) and migrate_volume_in (to the destination backend,
// with the pool the volume is on now as `source_host`).
struct HostRetype {
  RetypeRequest retype;
  std::string dest_host;                   // host@backend#pool
  std::optional<std::string> source_host;  // host@backend#pool; migrate_volume_in only
  template <class V>
  void Fields(V& v) {
    v("retype", retype);
    v("dest_host", dest_host);
    v("source_host", source_host);
  }
};

struct ChunkRequest {  // read_chunk: a destination pulls a migrating volume's data
  std::string volume_id;
  int64_t offset = 0;
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("offset", offset);
  }
};

struct ChunkReply {
  int64_t offset = 0;  // where `data` starts (holes before it are skipped)
  bool eof = false;
  rpc::Bytes data;
  template <class V>
  void Fields(V& v) {
    v("offset", offset);
    v("eof", eof);
    v("data", data);
  }
};

struct CapacityReply {
  double total_gb = 0;
  double free_gb = 0;
  template <class V>
  void Fields(V& v) {
    v("total", total_gb);
    v("free", free_gb);
  }
};

struct LocalPathReply {
  std::string path;  // empty when the driver has none
  template <class V>
  void Fields(V& v) {
    v("path", path);
  }
};

// attachment_update: make the volume reachable by `connector` for the attachment (Cinder's
// manager.attachment_update); initialize_connection (legacy): the same without an attachment.
struct HostConnect {
  std::string volume_id;
  std::string attachment_id;  // empty for initialize_connection
  std::string connector;      // JSON object
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("attachment_id", attachment_id);
    v("connector", connector);
  }
};

struct ConnectionReply {
  std::string connection_info;  // JSON object
  template <class V>
  void Fields(V& v) {
    v("connection_info", connection_info);
  }
};

// detach_attachment: the attachment goes (only while in one of `expected`, when given), the
// volume's status follows, and the export goes when nothing needs it any more.
struct HostDetach {
  std::string volume_id;
  std::optional<std::string> attachment_id;
  std::vector<std::string> expected;
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("attachment_id", attachment_id);
    v("expected", expected);
  }
};

struct DetachReply {
  int64_t remaining = 0;  // the volume's attachments left
  template <class V>
  void Fields(V& v) {
    v("remaining", remaining);
  }
};

// backup_device (a call, from a backup host): the volume, or a snapshot of it, opened for a
// backup or a restore. With `temp_snapshot` the host first takes the snapshot `snapshot_id`
// (named backup-snap-<volume_id>, counted in no quota: a --force backup of an in-use volume
// reads it, so the volume stays usable). An empty `connector`: the backup host is this host
// and wants the local path; otherwise the volume (or snapshot) is exported for that connector
// and connection_info says how to reach it.
struct HostBackupDevice {
  std::string volume_id;
  std::string snapshot_id;  // empty: the volume itself
  bool temp_snapshot = false;
  std::string connector;  // JSON object; empty for the local path
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("snapshot_id", snapshot_id);
    v("temp_snapshot", temp_snapshot);
    v("connector", connector);
  }
};

struct BackupDeviceReply {
  std::string local_path;       // when no connector was given
  std::string connection_info;  // JSON object, when one was
  template <class V>
  void Fields(V& v) {
    v("local_path", local_path);
    v("connection_info", connection_info);
  }
};

// manage_existing (cast): the object `ref` becomes the "managing" volume `volume_id`;
// manage_existing_snapshot (cast): the object becomes the "creating" snapshot `snapshot_id`
// of the volume `volume_id` (empty for a volume).
struct HostManage {
  std::string volume_id;
  std::string snapshot_id;
  std::string ref;  // the reference's "source-name"
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("snapshot_id", snapshot_id);
    v("ref", ref);
  }
};

// get_manageable_volumes / get_manageable_snapshots (calls): every entry, sorted by reference
// (the API side sorts and pages them as asked).
struct HostManageableQuery {
  bool snapshots = false;
  template <class V>
  void Fields(V& v) {
    v("snapshots", snapshots);
  }
};

struct ManageableReply {
  // JSON array of {"reference", "size", "safe_to_manage", "reason_not_safe", "cinder_id",
  // "source_reference"} (the codec carries no lists of messages).
  std::string entries;
  template <class V>
  void Fields(V& v) {
    v("entries", entries);
  }
};

struct GroupRef {  // create_group, delete_group
  std::string group_id;
  template <class V>
  void Fields(V& v) {
    v("group_id", group_id);
  }
};

// create_group_snapshot, delete_group_snapshot (to the group's host).
struct GroupSnapshotRef {
  std::string group_snapshot_id;
  std::string group_id;
  template <class V>
  void Fields(V& v) {
    v("group_snapshot_id", group_snapshot_id);
    v("group_id", group_id);
  }
};

struct HostUpdateGroup {
  std::string group_id;
  std::vector<std::string> add_volumes;
  std::vector<std::string> remove_volumes;
  template <class V>
  void Fields(V& v) {
    v("group_id", group_id);
    v("add_volumes", add_volumes);
    v("remove_volumes", remove_volumes);
  }
};

// Sends to volume hosts. Casts return once the host accepted the work (Unavailable when it did
// not within the timeout); calls wait for its reply. Safe for concurrent use; `transport`
// must outlive it.
class VolumeRpc : public VolumeHostClient {
 public:
  static constexpr std::chrono::milliseconds kCastTimeout{3000};
  static constexpr std::chrono::milliseconds kCallTimeout{30000};

  explicit VolumeRpc(Transport* transport) : transport_(transport) {}

  Status CreateVolume(const RequestContext& ctx, const std::string& backend_host, int64_t size,
                      const PlacementRequest& placement, std::chrono::milliseconds timeout) override;
  Status RetypeVolume(const RequestContext& ctx, const std::string& backend_host, const RetypeRequest& retype,
                      const std::string& dest_host, std::chrono::milliseconds timeout) override;
  Status CreateGroup(const RequestContext& ctx, const std::string& backend_host, const std::string& group_id,
                     std::chrono::milliseconds timeout) override;
  Status ManageVolume(const RequestContext& ctx, const std::string& backend_host, const std::string& volume_id,
                      const std::string& ref, std::chrono::milliseconds timeout) override {
    return ManageExisting(ctx, backend_host, HostManage{volume_id, "", ref}, timeout);
  }
  Status UpdateGroup(const RequestContext& ctx, const std::string& backend_host, const HostUpdateGroup& request,
                     std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteGroup(const RequestContext& ctx, const std::string& backend_host, const std::string& group_id,
                     std::chrono::milliseconds timeout = kCastTimeout);
  // 3.14: a group made from a source (its volumes "creating" on this host), group snapshots.
  Status CreateGroupFromSource(const RequestContext& ctx, const std::string& backend_host, const std::string& group_id,
                               std::chrono::milliseconds timeout = kCastTimeout);
  Status CreateGroupSnapshot(const RequestContext& ctx, const std::string& backend_host,
                             const GroupSnapshotRef& request, std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteGroupSnapshot(const RequestContext& ctx, const std::string& backend_host,
                             const GroupSnapshotRef& request, std::chrono::milliseconds timeout = kCastTimeout);
  Status ExtendVolume(const RequestContext& ctx, const std::string& backend_host, const HostExtendVolume& request,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteVolume(const RequestContext& ctx, const std::string& backend_host, const std::string& volume_id,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status CreateSnapshot(const RequestContext& ctx, const std::string& backend_host, const SnapshotRef& snapshot,
                        std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteSnapshot(const RequestContext& ctx, const std::string& backend_host, const SnapshotRef& snapshot,
                        std::chrono::milliseconds timeout = kCastTimeout);
  Status RevertToSnapshot(const RequestContext& ctx, const std::string& backend_host, const HostRevert& request,
                          std::chrono::milliseconds timeout = kCastTimeout);
  Status MigrateVolumeIn(const RequestContext& ctx, const std::string& backend_host, const HostRetype& request,
                         std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteMigrated(const RequestContext& ctx, const std::string& backend_host, const std::string& volume_id,
                        std::chrono::milliseconds timeout = kCastTimeout);
  // do_cleanup (workers/cleanup): the host repairs, now, what its periodic sweep repairs.
  Status DoCleanup(const RequestContext& ctx, const std::string& backend_host,
                   std::chrono::milliseconds timeout = kCastTimeout);
  Result<ChunkReply> ReadChunk(const RequestContext& ctx, const std::string& backend_host, const ChunkRequest& request,
                               std::chrono::milliseconds timeout = kCallTimeout);
  Result<CapacityReply> Capacity(const RequestContext& ctx, const std::string& backend_host,
                                 std::chrono::milliseconds timeout = kCallTimeout);
  Result<std::string> LocalPath(const RequestContext& ctx, const std::string& backend_host,
                                const std::string& volume_id, std::chrono::milliseconds timeout = kCallTimeout);
  // Calls: the host's answer (connection_info JSON), or its error as Cinder's message.
  Result<std::string> AttachmentUpdate(const RequestContext& ctx, const std::string& backend_host,
                                       const HostConnect& request, std::chrono::milliseconds timeout = kCallTimeout);
  Result<std::string> InitializeConnection(const RequestContext& ctx, const std::string& backend_host,
                                           const HostConnect& request,
                                           std::chrono::milliseconds timeout = kCallTimeout);
  Status DetachAttachment(const RequestContext& ctx, const std::string& backend_host, const HostDetach& request,
                          std::chrono::milliseconds timeout = kCallTimeout);
  // Manage existing: casts (the volume or snapshot records the outcome), and the lists (calls).
  Status ManageExisting(const RequestContext& ctx, const std::string& backend_host, const HostManage& request,
                        std::chrono::milliseconds timeout = kCastTimeout);
  Status ManageExistingSnapshot(const RequestContext& ctx, const std::string& backend_host, const HostManage& request,
                                std::chrono::milliseconds timeout = kCastTimeout);
  Status UnmanageVolume(const RequestContext& ctx, const std::string& backend_host, const std::string& volume_id,
                        std::chrono::milliseconds timeout = kCastTimeout);
  Status UnmanageSnapshot(const RequestContext& ctx, const std::string& backend_host, const SnapshotRef& snapshot,
                          std::chrono::milliseconds timeout = kCastTimeout);
  Result<std::string> GetManageable(const RequestContext& ctx, const std::string& backend_host, bool snapshots,
                                    std::chrono::milliseconds timeout = kCallTimeout);
  // For backup hosts: opens the volume (or a snapshot of it) for a backup or restore, and
  // releases it afterwards (the export made for it removed, a temp snapshot deleted).
  // Releasing what is not open, or a temp snapshot that is gone, succeeds.
  Result<BackupDeviceReply> BackupDevice(const RequestContext& ctx, const std::string& backend_host,
                                         const HostBackupDevice& request,
                                         std::chrono::milliseconds timeout = kCallTimeout);
  Status ReleaseBackupDevice(const RequestContext& ctx, const std::string& backend_host,
                             const HostBackupDevice& request, std::chrono::milliseconds timeout = kCallTimeout);

 private:
  Transport* transport_;
};

// What the host of one backend serves. Casts return once the work is queued; called on the
// transport's threads.
class VolumeRpcServer {
 public:
  virtual ~VolumeRpcServer() = default;
  virtual Status CreateVolume(const RequestContext& ctx, const HostCreateVolume& request) = 0;
  virtual Status ExtendVolume(const RequestContext& ctx, const HostExtendVolume& request) = 0;
  virtual Status DeleteVolume(const RequestContext& ctx, const VolumeRef& request) = 0;
  virtual Status CreateSnapshot(const RequestContext& ctx, const SnapshotRef& request) = 0;
  virtual Status DeleteSnapshot(const RequestContext& ctx, const SnapshotRef& request) = 0;
  virtual Status RevertToSnapshot(const RequestContext& ctx, const HostRevert& request) = 0;
  virtual Status RetypeVolume(const RequestContext& ctx, const HostRetype& request) = 0;
  virtual Status MigrateVolumeIn(const RequestContext& ctx, const HostRetype& request) = 0;
  virtual Status DeleteMigrated(const RequestContext& ctx, const VolumeRef& request) = 0;
  virtual Result<ChunkReply> ReadChunk(const RequestContext& ctx, const ChunkRequest& request) = 0;
  virtual Result<CapacityReply> Capacity(const RequestContext& ctx) = 0;
  virtual Result<LocalPathReply> LocalPath(const RequestContext& ctx, const VolumeRef& request) = 0;
  virtual Result<ConnectionReply> AttachmentUpdate(const RequestContext& ctx, const HostConnect& request) = 0;
  virtual Result<ConnectionReply> InitializeConnection(const RequestContext& ctx, const HostConnect& request) = 0;
  virtual Result<DetachReply> DetachAttachment(const RequestContext& ctx, const HostDetach& request) = 0;
  // workers/cleanup; by default Unimplemented.
  virtual Status DoCleanup(const RequestContext&) { return Unimplemented("do_cleanup"); }
  // Manage existing; by default Unimplemented.
  virtual Status ManageExisting(const RequestContext&, const HostManage&) { return Unimplemented("manage_existing"); }
  virtual Status ManageExistingSnapshot(const RequestContext&, const HostManage&) {
    return Unimplemented("manage_existing_snapshot");
  }
  virtual Status UnmanageVolume(const RequestContext&, const VolumeRef&) { return Unimplemented("unmanage_volume"); }
  virtual Status UnmanageSnapshot(const RequestContext&, const SnapshotRef&) {
    return Unimplemented("unmanage_snapshot");
  }
  virtual Result<ManageableReply> GetManageable(const RequestContext&, const HostManageableQuery&) {
    return Unimplemented("get_manageable");
  }
  // Generic volume groups; by default Unimplemented.
  virtual Status CreateGroup(const RequestContext&, const GroupRef&) { return Unimplemented("create_group"); }
  virtual Status UpdateGroup(const RequestContext&, const HostUpdateGroup&) { return Unimplemented("update_group"); }
  virtual Status DeleteGroup(const RequestContext&, const GroupRef&) { return Unimplemented("delete_group"); }
  virtual Status CreateGroupFromSource(const RequestContext&, const GroupRef&) {
    return Unimplemented("create_group_from_src");
  }
  virtual Status CreateGroupSnapshot(const RequestContext&, const GroupSnapshotRef&) {
    return Unimplemented("create_group_snapshot");
  }
  virtual Status DeleteGroupSnapshot(const RequestContext&, const GroupSnapshotRef&) {
    return Unimplemented("delete_group_snapshot");
  }
  // For backup hosts; by default Unimplemented.
  virtual Result<BackupDeviceReply> BackupDevice(const RequestContext&, const HostBackupDevice&) {
    return Unimplemented("backup_device");
  }
  virtual Status ReleaseBackupDevice(const RequestContext&, const HostBackupDevice&) {
    return Unimplemented("release_backup_device");
  }
};

// The transport handler of one backend's topic, dispatching to `server` (which must outlive it).
RpcHandler VolumeRpcHandler(VolumeRpcServer* server);

}  // namespace cinder

#endif  // CINDER_VOLUME_VOLUME_RPC_H_
