// VolumeManager: the volume API of libcinder, what cinder/volume/api.py is to Cinder.
#ifndef CINDER_VOLUME_MANAGER_H_
#define CINDER_VOLUME_MANAGER_H_

#include <map>
#include <memory>
#include <string>

#include "cinder/context.h"
#include "cinder/message.h"
#include "cinder/options.h"
#include "cinder/quota.h"
#include "cinder/scheduler.h"
#include "cinder/status.h"
#include "cinder/volume.h"

namespace cinder {

class Store;
class DriverRegistry;

// The extra specs of a volume type that a caller without the rule
// volume_extension:types_extra_specs:read_sensitive sees (Cinder's USER_VISIBLE_EXTRA_SPECS).
inline constexpr const char* kUserVisibleExtraSpecs[] = {"RESKEY:availability_zones", "multiattach",
                                                         "replication_enabled"};

class Transport;

struct VolumeManagerOptions {
  Options options;
  // Drivers to open backends with; nullptr means DriverRegistry::Builtin().
  const DriverRegistry* drivers = nullptr;
  // nullptr: the embedded service (scheduler and volume service run in this process over an
  // in-process transport). Otherwise only the API side runs here and reaches the schedulers and
  // volume hosts through this transport, which must outlive the manager.
  Transport* transport = nullptr;
};

// A VolumeManager is safe for concurrent use from many threads. Work that takes time (driver
// calls) runs on the volume service's worker threads (in this process when embedded, on the
// volume host otherwise), never on the caller's; on a host, operations on one volume run one at
// a time, and a request that finds the volume no longer waiting for it is not carried out.
//
// Every operation checks Cinder's policy rule for it (docs/policy.md: the rules, and which
// operation checks which), with the resource as the target, and answers PermissionDenied
// "Policy doesn't allow <rule> to be performed." when it does not pass. A context that is not
// admin (RequestContext::is_admin) sees only its own project's resources: another project's
// volume is NotFound, as is a volume that volume:get does not let it see.
class VolumeManager {
 public:
  // Opens the database (its schema must be current: see DbSync). Embedded: also opens every
  // backend's driver, repairs volumes left in a transitional status by an earlier run, and
  // starts the scheduler and volume service in process.
  static Result<std::unique_ptr<VolumeManager>> Open(const VolumeManagerOptions& options);
  virtual ~VolumeManager() = default;

  // The policy's answer for `rule` on `target` (a resource's fields; ctx's project_id and
  // user_id fill what it lacks): OK, or PermissionDenied "Policy doesn't allow <rule> to be
  // performed.". For what a view shows (os-vol-host-attr:host with
  // volume_extension:volume_host_attribute, ...), as Cinder's API extensions ask it.
  virtual Status Authorize(const RequestContext& ctx, const std::string& rule,
                           const std::map<std::string, std::string>& target) const = 0;

  // Validates, places the volume on a backend with room, records it in status "creating" and
  // hands the driver work to a worker. InvalidArgument on a bad size, name or metadata, or a
  // size no backend has room for; NotFound for an unknown volume type.
  virtual Result<Volume> CreateVolume(const RequestContext& ctx, const VolumeCreate& request) = 0;
  // NotFound unless the volume exists and is visible to ctx.
  virtual Result<Volume> GetVolume(const RequestContext& ctx, const std::string& id) = 0;
  // InvalidArgument for a bad sort key; NotFound for a marker that is not a visible volume
  // (as Cinder: "Volume X could not be found.").
  virtual Result<VolumeList> ListVolumes(const RequestContext& ctx, const VolumeListQuery& q) = 0;
  virtual Result<Volume> UpdateVolume(const RequestContext& ctx, const std::string& id, const VolumeUpdate& update) = 0;
  // Starts the deletion: status "deleting" now, gone when the driver is done.
  // FailedPrecondition when the status forbids it or the volume has snapshots (unless
  // `cascade`, which deletes them first); `force` (DELETE ?force=true, 3.23; the rule
  // volume:force_delete) skips the status check.
  virtual Status DeleteVolume(const RequestContext& ctx, const std::string& id, bool force, bool cascade) = 0;
  // The os-force_delete action: DeleteVolume with force, under the rule
  // volume_extension:volume_admin_actions:force_delete.
  virtual Status ForceDeleteVolume(const RequestContext& ctx, const std::string& id) = 0;
  // Changes an available (or in-use) volume's type (os-retype): `new_type` is a name or id;
  // the volume stays on its pool when that passes the new type's filters, else with
  // `migration_policy` "on-demand" it is copied to a pool that does (not while it has
  // snapshots). Status "retyping" until done; the per-type quotas move with it.
  virtual Status RetypeVolume(const RequestContext& ctx, const std::string& id, const std::string& new_type,
                              const std::string& migration_policy) = 0;
  // Makes an available volume hold its latest snapshot's data again (3.40): the volume is
  // "reverting" and the snapshot "restoring" until the driver is done.
  virtual Status RevertToSnapshot(const RequestContext& ctx, const std::string& volume_id,
                                  const std::string& snapshot_id) = 0;

  // Snapshots. Create records the snapshot ("creating") and hands it to the volume's host;
  // the volume must be available (or in-use with `force`). Delete: available or error
  // snapshots ("deleting" until the driver is done); `force` (admin) any status.
  virtual Result<Snapshot> CreateSnapshot(const RequestContext& ctx, const SnapshotCreate& request) = 0;
  virtual Result<Snapshot> GetSnapshot(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<SnapshotList> ListSnapshots(const RequestContext& ctx, const SnapshotListQuery& q) = 0;
  virtual Result<Snapshot> UpdateSnapshot(const RequestContext& ctx, const std::string& id,
                                          const std::optional<std::optional<std::string>>& name,
                                          const std::optional<std::optional<std::string>>& description) = 0;
  virtual Status DeleteSnapshot(const RequestContext& ctx, const std::string& id, bool force) = 0;
  // Admin: sets the status (os-reset_status).
  virtual Status ResetSnapshotStatus(const RequestContext& ctx, const std::string& id, const std::string& status) = 0;
  // os-update_snapshot_status (what Nova sends for the snapshots it takes itself): a
  // `creating` snapshot becomes creating, available or error, a `deleting` one deleting or
  // error_deleting, with `progress` ("N%") when given; InvalidArgument for anything else.
  virtual Status UpdateSnapshotStatus(const RequestContext& ctx, const std::string& id, const std::string& status,
                                      const std::optional<std::string>& progress) = 0;
  virtual Result<Metadata> GetSnapshotMetadata(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Metadata> UpdateSnapshotMetadata(const RequestContext& ctx, const std::string& id,
                                                  const Metadata& metadata, bool replace) = 0;
  virtual Status DeleteSnapshotMetadataKey(const RequestContext& ctx, const std::string& id,
                                           const std::string& key) = 0;
  // Starts growing an available volume to new_size GiB (status "extending").
  virtual Status ExtendVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) = 0;
  // ExtendVolume that also grows an in-use volume (3.42, Cinder's extend_attached_volume): its
  // iSCSI target is made again so that initiators see the new size (their sessions reconnect).
  virtual Status ExtendAttachedVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) = 0;
  // Admin: sets the status (and attach_status / migration_status when given).
  virtual Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& status,
                             const std::optional<std::string>& attach_status,
                             const std::optional<std::string>& migration_status) = 0;
  // Admin, os-migrate_volume: moves an available or in-use volume (no snapshots, no group) to
  // another backend, named by `host` (host@backend[#pool]) or `cluster`, exactly one. The volume
  // is "maintenance" (migration_status "migrating") while its data is copied by the hosts, then
  // back in its status on the new host ("success"), or where it was ("error"). The copy is
  // always the hosts' own; force_host_copy and lock_volume are accepted for Cinder's API.
  virtual Status MigrateVolume(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& host,
                               const std::optional<std::string>& cluster, bool force_host_copy, bool lock_volume) = 0;
  // Admin, os-migrate_volume_completion (what Nova calls after swapping an instance from volume
  // `id` to `new_volume_id`): when neither volume is migrating, moves id's attachments to the new
  // volume (unless `error`) and returns the new volume's id; otherwise Cinder's checks
  // (FailedPrecondition "Invalid volume: Source volume not mid-migration." and the like).
  virtual Result<std::string> CompleteVolumeMigration(const RequestContext& ctx, const std::string& id,
                                                      const std::string& new_volume_id, bool error) = 0;
  // Admin, workers/cleanup (3.24): asks the services the filters select to repair the
  // resources they left mid-operation, as a restart does.
  virtual Result<WorkCleanupResult> WorkCleanup(const RequestContext& ctx, const WorkCleanupFilters& filters) = 0;

  // How many volumes ctx's project has (every project's for an admin with all_tenants), their
  // total size in GiB, and each metadata key with its distinct values (3.12, 3.36).
  struct Summary {
    int64_t total_count = 0;
    int64_t total_size = 0;
    std::map<std::string, std::vector<std::string>> metadata;
  };
  virtual Result<Summary> GetVolumeSummary(const RequestContext& ctx, bool all_tenants) = 0;

  // The availability zones of the cinder-volume services; a zone is available while one of its
  // services is enabled.
  virtual Result<std::vector<std::pair<std::string, bool>>> ListAvailabilityZones(const RequestContext& ctx) = 0;

  virtual Result<Metadata> GetMetadata(const RequestContext& ctx, const std::string& id) = 0;
  // Merges `metadata` into the volume's (or replaces it all when `replace`); returns the result.
  virtual Result<Metadata> UpdateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata,
                                          bool replace) = 0;
  // POST .../metadata: merges as UpdateMetadata, under Cinder's volume:create_volume_metadata.
  virtual Result<Metadata> CreateMetadata(const RequestContext& ctx, const std::string& id,
                                          const Metadata& metadata) = 0;
  // NotFound when the key is not set.
  virtual Status DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) = 0;

  // A volume's image metadata (Cinder's volume_image_metadata extension and its
  // volume_glance_metadata rows). Get (volume:get_volume_metadata): NotFound "Glance metadata
  // for volume/snapshot ID cannot be found." when the volume has none. Set merges `metadata` in
  // (volume_extension:volume_image_metadata:set and volume:update_volume_metadata) and returns
  // all of it; Delete (volume_extension:volume_image_metadata:remove and
  // volume:delete_volume_metadata) is NotFound as Get when the key is not set. Both are
  // FailedPrecondition ("Invalid volume: ...") while the volume is in maintenance or uploading.
  virtual Result<Metadata> GetImageMetadata(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Metadata> SetImageMetadata(const RequestContext& ctx, const std::string& id,
                                            const Metadata& metadata) = 0;
  virtual Status DeleteImageMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) = 0;
  // The image metadata of those of `volume_ids` that have some, for the views (the caller has
  // read the volumes; no further check).
  virtual Result<std::map<std::string, Metadata>> ListImageMetadata(const RequestContext& ctx,
                                                                    const std::vector<std::string>& volume_ids) = 0;

  // Admin: the services (cinder-volume per backend, cinder-scheduler), filtered by host and
  // binary, with `up` computed from their last heartbeat and service_down_time.
  virtual Result<std::vector<ServiceInfo>> ListServices(const RequestContext& ctx,
                                                        const std::optional<std::string>& host,
                                                        const std::optional<std::string>& binary) = 0;
  // Admin: enables or disables a service (a disabled cinder-volume gets no new volumes).
  // NotFound for an unknown host and binary.
  virtual Status SetServiceDisabled(const RequestContext& ctx, const std::string& host, const std::string& binary,
                                    bool disabled, const std::optional<std::string>& reason) = 0;
  // Admin (os-services/freeze and thaw; volume:freeze_host, volume:thaw_host): freezes the
  // management plane of the volume services of `host` (itself or its backends; a clustered
  // one stands for its cluster) or of `cluster` (3.26): they are disabled (reason "frozen") and
  // refuse deletes and snapshots of their volumes until thawed. InvalidArgument ("Invalid input
  // received: ...") for no such service, or one already frozen (thawed).
  virtual Status FreezeBackend(const RequestContext& ctx, const std::optional<std::string>& host,
                               const std::optional<std::string>& cluster, bool frozen) = 0;
  // Admin (clusters:get_all, clusters:get, clusters:update): the clusters of services (3.7).
  // GetCluster and SetClusterDisabled answer NotFound "Cluster NAME could not be found." for an
  // unknown name and binary; disabling a cluster keeps new volumes off all of its services.
  virtual Result<std::vector<ClusterInfo>> ListClusters(const RequestContext& ctx, const ClusterQuery& query) = 0;
  virtual Result<ClusterInfo> GetCluster(const RequestContext& ctx, const std::string& name,
                                         const std::string& binary) = 0;
  virtual Result<ClusterInfo> SetClusterDisabled(const RequestContext& ctx, const std::string& name,
                                                 const std::string& binary, bool disabled,
                                                 const std::optional<std::string>& reason) = 0;
  // Admin (volume_extension:hosts): what the cinder-volume service `host` (exactly as the
  // services table names it) holds: the total first (project "(total)"), then each project with
  // volumes there. NotFound "Service cinder-volume could not be found on host HOST." for none.
  virtual Result<std::vector<HostProjectUsage>> GetHostUsage(const RequestContext& ctx, const std::string& host) = 0;

  // Volume types. Admins see every type (or those of `is_public`), others the public ones;
  // changing types needs an admin. `id` "default" names the default type.
  virtual Result<std::vector<VolumeType>> ListVolumeTypes(const RequestContext& ctx,
                                                          const std::optional<bool>& is_public) = 0;
  virtual Result<VolumeType> GetVolumeType(const RequestContext& ctx, const std::string& id) = 0;
  // Creates a type from request's name, description, is_public and extra_specs.
  virtual Result<VolumeType> CreateVolumeType(const RequestContext& ctx, const VolumeType& request) = 0;
  virtual Result<VolumeType> UpdateVolumeType(const RequestContext& ctx, const std::string& id,
                                              const std::optional<std::string>& name,
                                              const std::optional<std::string>& description,
                                              const std::optional<bool>& is_public) = 0;
  // FailedPrecondition for the default type, or a type live volumes use.
  virtual Status DeleteVolumeType(const RequestContext& ctx, const std::string& id) = 0;
  // The type's extra specs the caller may read: all of them with the rule
  // volume_extension:types_extra_specs:read_sensitive, else only kUserVisibleExtraSpecs'. With
  // `key`, that one alone (NotFound when the type has none by that name).
  virtual Result<Metadata> GetVolumeTypeExtraSpecs(const RequestContext& ctx, const std::string& id,
                                                   const std::optional<std::string>& key) = 0;
  // Merges `specs` into the type's extra specs (POST); returns them.
  virtual Result<Metadata> SetVolumeTypeExtraSpecs(const RequestContext& ctx, const std::string& id,
                                                   const Metadata& specs) = 0;
  // Sets one extra spec (PUT .../extra_specs/{key}).
  virtual Status UpdateVolumeTypeExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key,
                                           const std::string& value) = 0;
  virtual Status DeleteVolumeTypeExtraSpec(const RequestContext& ctx, const std::string& id,
                                           const std::string& key) = 0;

  // Admin: the projects that may use a private type, and changes to that list. NotFound for
  // the list of a public type; FailedPrecondition for changing one.
  virtual Result<std::vector<std::string>> ListVolumeTypeAccess(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status AddVolumeTypeAccess(const RequestContext& ctx, const std::string& id, const std::string& project) = 0;
  virtual Status RemoveVolumeTypeAccess(const RequestContext& ctx, const std::string& id,
                                        const std::string& project) = 0;

  // Admin (volume_extension:volume_type_encryption:*): a type's encryption. NotFound for an
  // unknown type; Get answers nullopt when the type has none. Create: FailedPrecondition
  // ("Volume type encryption for type ID already exists.") when it has one; Update and Delete:
  // NotFound ("Volume type encryption for type ID does not exist.") when it has none. Create,
  // Update and Delete are FailedPrecondition ("Cannot create encryption specs. Volume type in
  // use.", ...) while live volumes have the type.
  virtual Result<std::optional<VolumeTypeEncryption>> GetVolumeTypeEncryption(const RequestContext& ctx,
                                                                              const std::string& type_id) = 0;
  virtual Result<VolumeTypeEncryption> CreateVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id,
                                                                  const VolumeTypeEncryptionUpdate& request) = 0;
  virtual Status UpdateVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id,
                                            const VolumeTypeEncryptionUpdate& request) = 0;
  virtual Status DeleteVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id) = 0;

  // Projects' own default types (3.62, admin): project id -> type id. A volume that names no
  // type gets its project's default, else the default_volume_type option. Setting an unknown
  // type is InvalidArgument; NotFound when a project has none.
  virtual Status SetDefaultVolumeType(const RequestContext& ctx, const std::string& project,
                                      const std::string& type) = 0;
  virtual Result<std::string> GetDefaultVolumeType(const RequestContext& ctx, const std::string& project) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListDefaultVolumeTypes(
      const RequestContext& ctx) = 0;
  virtual Status UnsetDefaultVolumeType(const RequestContext& ctx, const std::string& project) = 0;

  // Group types (3.11) and their group specs; see GroupApi (volume/group_api.h) for the rules
  // and errors. `id` "default" names the type of the default_group_type option.
  virtual Result<std::vector<GroupType>> ListGroupTypes(const RequestContext& ctx,
                                                        const std::optional<bool>& is_public) = 0;
  virtual Result<GroupType> GetGroupType(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<GroupType> CreateGroupType(const RequestContext& ctx, const GroupType& request) = 0;
  virtual Result<GroupType> UpdateGroupType(const RequestContext& ctx, const std::string& id,
                                            const std::optional<std::string>& name,
                                            const std::optional<std::string>& description,
                                            const std::optional<bool>& is_public) = 0;
  virtual Status DeleteGroupType(const RequestContext& ctx, const std::string& id) = 0;
  // With `key`, that one spec (NotFound when unset).
  virtual Result<Metadata> GetGroupTypeSpecs(const RequestContext& ctx, const std::string& id,
                                             const std::optional<std::string>& key) = 0;
  // Merges `specs`; `update`: the PUT of one key (its own rule).
  virtual Status SetGroupTypeSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs,
                                   bool update) = 0;
  virtual Status DeleteGroupTypeSpec(const RequestContext& ctx, const std::string& id, const std::string& key) = 0;

  // Generic volume groups (3.13), as cinder/group/api.py: create records the group
  // "creating" (charging the groups quota) and hands it to a scheduler, which places it on a
  // backend whose pools take all of its volume types; its volume host makes it "available".
  // Another project's group is NotFound. Update with volumes and delete go through that host.
  // InvalidArgument / FailedPrecondition carry Cinder's InvalidGroup / InvalidVolume messages.
  virtual Result<VolumeGroup> CreateGroup(const RequestContext& ctx, const GroupCreate& request) = 0;
  virtual Result<VolumeGroup> GetGroup(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<std::vector<VolumeGroup>> ListGroups(const RequestContext& ctx, const GroupListQuery& q) = 0;
  virtual Status UpdateGroup(const RequestContext& ctx, const std::string& id, const GroupUpdate& update) = 0;
  virtual Status DeleteGroup(const RequestContext& ctx, const std::string& id, bool delete_volumes) = 0;
  // Admin (group:reset_status, 3.20): any of Cinder's group statuses.
  virtual Status ResetGroupStatus(const RequestContext& ctx, const std::string& id, const std::string& status) = 0;
  // 3.14 create-from-src: a group "creating" on the source's backend, with a volume
  // "creating" per snapshot of the group snapshot (or per volume of the source group), quotas
  // charged; the volume host makes them and the group "available" (or "error").
  // InvalidArgument "Invalid Group: ..." when the source is empty; NotFound when it is not
  // visible.
  virtual Result<VolumeGroup> CreateGroupFromSource(const RequestContext& ctx,
                                                    const GroupCreateFromSource& request) = 0;

  // Group snapshots (3.14), as cinder/group/api.py: create records the group snapshot
  // "creating" with a snapshot "creating" of each of the group's volumes (charging the
  // snapshot quotas) and hands it to the group's volume host, which takes them together
  // (writes through the host's iSCSI targets held meanwhile) and makes them "available" (or
  // "error"). Delete (available or error only) removes the member snapshots with it. Reset
  // (admin, 3.19) sets any GroupSnapshotStatus. Another project's group snapshot is NotFound.
  virtual Result<GroupSnapshot> CreateGroupSnapshot(const RequestContext& ctx, const GroupSnapshotCreate& request) = 0;
  virtual Result<GroupSnapshot> GetGroupSnapshot(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<std::vector<GroupSnapshot>> ListGroupSnapshots(const RequestContext& ctx,
                                                                const GroupSnapshotListQuery& q) = 0;
  virtual Status DeleteGroupSnapshot(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status ResetGroupSnapshotStatus(const RequestContext& ctx, const std::string& id,
                                          const std::string& status) = 0;

  // QoS specs (admin): `specs` may hold "consumer" (front-end, back-end, both); associating a
  // type that has other QoS specs is FailedPrecondition, deleting specs types use is too
  // unless `force` (which disassociates them first).
  virtual Result<QosSpecs> CreateQosSpecs(const RequestContext& ctx, const std::string& name,
                                          const Metadata& specs) = 0;
  virtual Result<std::vector<QosSpecs>> ListQosSpecs(const RequestContext& ctx) = 0;
  virtual Result<QosSpecs> GetQosSpecs(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Metadata> SetQosSpecsKeys(const RequestContext& ctx, const std::string& id, const Metadata& specs) = 0;
  virtual Status DeleteQosSpecsKeys(const RequestContext& ctx, const std::string& id,
                                    const std::vector<std::string>& keys) = 0;
  virtual Status DeleteQosSpecs(const RequestContext& ctx, const std::string& id, bool force) = 0;
  // The types associated with them: (id, name).
  virtual Result<std::vector<std::pair<std::string, std::string>>> QosSpecsAssociations(const RequestContext& ctx,
                                                                                        const std::string& id) = 0;
  virtual Status AssociateQosSpecs(const RequestContext& ctx, const std::string& id, const std::string& type_id) = 0;
  // Without a type: from every type.
  virtual Status DisassociateQosSpecs(const RequestContext& ctx, const std::string& id,
                                      const std::optional<std::string>& type_id) = 0;

  // Volume transfers. Create offers an available volume of ctx's project (it becomes
  // awaiting-transfer) and returns the transfer with its auth key, shown only then; another
  // project accepts it with that key (the volume becomes theirs, available); delete withdraws
  // it. Lists and shows cover ctx's project (every project for an admin with all_tenants).
  virtual Result<Transfer> CreateTransfer(const RequestContext& ctx, const std::string& volume_id,
                                          const std::optional<std::string>& name, bool no_snapshots) = 0;
  virtual Result<std::vector<Transfer>> ListTransfers(const RequestContext& ctx, bool all_tenants) = 0;
  virtual Result<Transfer> GetTransfer(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status DeleteTransfer(const RequestContext& ctx, const std::string& id) = 0;
  // InvalidArgument "Invalid auth key: ..." for a wrong key.
  virtual Result<Transfer> AcceptTransfer(const RequestContext& ctx, const std::string& id,
                                          const std::string& auth_key) = 0;

  // Quotas. A project's quota set: limits (its own, else the quota class "default", else the
  // quota_* options) with what it uses; a project reads its own, an admin any. Update (admin)
  // sets limits (InvalidArgument for an unknown resource, a value below -1, or a limit below
  // what the project uses); Delete (admin) returns the project to the defaults. Quota classes
  // (admin) hold defaults.
  virtual Result<QuotaSet> GetQuotaSet(const RequestContext& ctx, const std::string& project, bool defaults) = 0;
  virtual Result<QuotaSet> UpdateQuotaSet(const RequestContext& ctx, const std::string& project,
                                          const std::map<std::string, int64_t>& limits) = 0;
  virtual Status DeleteQuotaSet(const RequestContext& ctx, const std::string& project) = 0;
  virtual Result<QuotaSet> GetQuotaClass(const RequestContext& ctx, const std::string& class_name) = 0;
  virtual Result<QuotaSet> UpdateQuotaClass(const RequestContext& ctx, const std::string& class_name,
                                            const std::map<std::string, int64_t>& limits) = 0;
  // /limits: the project's absolute limits and usage (no rule, as Cinder's limits). Another
  // project than ctx's only for an admin: the others get their own.
  virtual Result<QuotaSet> GetLimits(const RequestContext& ctx, const std::string& project) = 0;

  // User messages (3.3): why asynchronous work failed. An admin sees every project's messages,
  // others their own project's. NotFound for a message that is not visible.
  virtual Result<MessageList> ListMessages(const RequestContext& ctx, const MessageListQuery& q) = 0;
  virtual Result<Message> GetMessage(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status DeleteMessage(const RequestContext& ctx, const std::string& id) = 0;

  // Admin: the pools of the backends whose service is up and enabled, as last reported
  // (get_pools); only the one named `name`, or those whose capabilities satisfy the extra specs
  // of `volume_type` (a name or id; NotFound for an unknown type).
  virtual Result<std::vector<PoolInfo>> ListPools(const RequestContext& ctx, const std::optional<std::string>& name,
                                                  const std::optional<std::string>& volume_type) = 0;
  // Admin: what the backend `host` (host@backend, or a host's first backend) reports of
  // itself. NotFound "Can't find service: HOST".
  virtual Result<PoolInfo> GetBackendCapabilities(const RequestContext& ctx, const std::string& host) = 0;

  // Attachments (3.27; Cinder's attachments API). Create reserves the volume for an instance
  // (status "reserved"; FailedPrecondition with Cinder's message when its status forbids it:
  // only available volumes, and in-use multiattach ones) and, with a connector (JSON object),
  // has the volume's host export it and answer `connection_info` (the volume is then
  // "attaching" until CompleteAttachment makes it "in-use"). A connect that fails leaves
  // nothing behind. `mode` "rw" or "ro" (3.54). Update connects a reserved attachment; Delete
  // removes it (and the export when nothing else needs it) and returns the volume's remaining
  // attachments.
  struct AttachmentCreate {
    std::string volume_id;
    std::optional<std::string> instance_uuid;
    std::optional<std::string> connector;  // JSON object text; absent or "{}": reserve only
    std::optional<std::string> mode;
  };
  virtual Result<Attachment> CreateAttachment(const RequestContext& ctx, const AttachmentCreate& request) = 0;
  virtual Result<Attachment> UpdateAttachment(const RequestContext& ctx, const std::string& id,
                                              const std::string& connector) = 0;
  virtual Result<std::vector<Attachment>> DeleteAttachment(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status CompleteAttachment(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Attachment> GetAttachment(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<std::vector<Attachment>> ListAttachments(const RequestContext& ctx, const AttachmentListQuery& q) = 0;

  // The legacy attach actions Nova drives (os-reserve ... os-detach), with Cinder's checks and
  // messages. InitializeConnection answers {"driver_volume_type", "data", ...} as JSON text.
  virtual Status ReserveVolume(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status UnreserveVolume(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status BeginDetaching(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status RollDetaching(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<std::string> InitializeConnection(const RequestContext& ctx, const std::string& id,
                                                   const std::string& connector) = 0;
  virtual Status TerminateConnection(const RequestContext& ctx, const std::string& id) = 0;
  struct LegacyAttach {
    std::optional<std::string> instance_uuid;
    std::optional<std::string> host_name;
    std::string mountpoint;
    std::string mode = "rw";
  };
  virtual Status AttachVolume(const RequestContext& ctx, const std::string& id, const LegacyAttach& request) = 0;
  virtual Status DetachVolume(const RequestContext& ctx, const std::string& id,
                              const std::optional<std::string>& attachment_id) = 0;
  // Admin: terminate_connection and detach, whatever the volume's status.
  virtual Status ForceDetach(const RequestContext& ctx, const std::string& id,
                             const std::optional<std::string>& attachment_id) = 0;
  // os-update_readonly_flag: only while available.
  virtual Status UpdateReadonlyFlag(const RequestContext& ctx, const std::string& id, bool readonly) = 0;

  // Manage existing (admin; Cinder's volume_manage / snapshot_manage / *_unmanage and
  // volume/api.py's manage_existing, get_manageable_*). The backend is named by `host`
  // (host@backend[#pool]) or, from 3.16/3.17, `cluster`: exactly one of them (InvalidArgument
  // "Invalid input received: One and only one of cluster and host must be set."). When no
  // cinder-volume service is there: ManageVolume FailedPrecondition "Host 'H' not found" (or
  // "Cluster 'C' not found"), the lists NotFound "Service cinder-volume could not be found[ on
  // host H]."; FailedPrecondition "Service is unavailable at this time." when it is disabled or
  // down.
  struct ManageVolumeRequest {
    std::optional<std::string> host;
    std::optional<std::string> cluster;
    std::string source_name;  // ref's "source-name"
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::string> volume_type;  // name or id; the default type when unset
    std::optional<std::string> availability_zone;
    Metadata metadata;
    bool bootable = false;
  };
  // Records the volume "managing" (shown as creating) with its volumes quota on the host named
  // and hands it to a scheduler, which checks that backend passes the filters for the volume's
  // type (Cinder's backend_passes_filters; "error_managing" with a user message otherwise) and
  // picks its pool; the backend's host then adopts the object: "available" with its size (and
  // its gigabytes quota), or "error_managing" (shown as error) when the reference is bad.
  virtual Result<Volume> ManageVolume(const RequestContext& ctx, const ManageVolumeRequest& request) = 0;
  struct ManageSnapshotRequest {
    std::string volume_id;
    std::string source_name;
    std::optional<std::string> name;
    std::optional<std::string> description;
    Metadata metadata;
  };
  // Records the snapshot "creating" (quota as a create's) and hands it to its volume's host:
  // "available" with its size, or "error".
  virtual Result<Snapshot> ManageSnapshot(const RequestContext& ctx, const ManageSnapshotRequest& request) = 0;
  // One entry of GET /manageable_volumes or /manageable_snapshots.
  struct Manageable {
    std::string reference;  // {"source-name": reference}
    int64_t size = 0;
    bool safe_to_manage = false;
    std::optional<std::string> reason_not_safe;
    std::optional<std::string> cinder_id;
    std::optional<std::string> source_reference;  // snapshots: {"source-name": ...}
  };
  struct ManageableQuery {
    std::optional<std::string> host;
    std::optional<std::string> cluster;
    std::optional<std::string> marker;  // a reference, as JSON ({"source-name": ...})
    int64_t limit = -1;                 // -1: osapi_max_limit
    int64_t offset = 0;
    std::vector<SortKey> sort;  // keys "reference", "size"; default reference desc
  };
  // InvalidArgument "marker not found: ..." for a marker no entry has.
  virtual Result<std::vector<Manageable>> ListManageable(const RequestContext& ctx, const ManageableQuery& q,
                                                         bool snapshots) = 0;
  // Ends the management of a volume (snapshot) without removing it from its backend: its row
  // goes (its quota given back), the object stays for a later manage. FailedPrecondition with
  // Cinder's messages when a delete would be refused (attached, snapshots, in a group, ...).
  virtual Status UnmanageVolume(const RequestContext& ctx, const std::string& id) = 0;
  virtual Status UnmanageSnapshot(const RequestContext& ctx, const std::string& id) = 0;

  // Where the volume's data lives on this host ("" when it has no local path).
  virtual Result<std::string> LocalPath(const RequestContext& ctx, const std::string& id) = 0;
  // Embedded: blocks until every accepted operation has finished (for tests and orderly
  // shutdown). With an external transport the work runs elsewhere and this returns at once.
  virtual void Drain() = 0;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_MANAGER_H_
