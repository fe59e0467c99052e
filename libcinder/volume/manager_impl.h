// VolumeManagerImpl: the API side of volumes (what cinder/volume/api.py is to Cinder):
// validation, the DB record, and the work handed over the transport to the scheduler and the
// volume hosts. Types, QoS specs, quotas and snapshots have classes of their own (type_api.h,
// qos_api.h, quota_api.h, snapshot_api.h); the rest is split by concern:
//   manager.cc            opening the embedded service, user messages, Drain
//   manager_backends.cc   services, pools, capabilities, availability zones, the volume summary
//   manager_transfers.cc  volume transfers between projects
//   manager_create.cc     the create flow: checks, the volume's source, the hand-over to a scheduler
//   manager_volumes.cc    a volume's life after its create: list, update, delete, extend, retype, reset-state, metadata
// Internal to the volume folder.
#ifndef CINDER_VOLUME_MANAGER_IMPL_H_
#define CINDER_VOLUME_MANAGER_IMPL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/policy.h"
#include "cinder/transport.h"
#include "cinder/volume_driver.h"
#include "cinder/volume_manager.h"
#include "db/store.h"
#include "scheduler/scheduler_rpc.h"
#include "scheduler/scheduler_service.h"
#include "volume/create_admission.h"
#include "volume/group_api.h"
#include "volume/policy_checks.h"
#include "volume/qos_api.h"
#include "volume/quota_api.h"
#include "volume/snapshot_api.h"
#include "volume/type_api.h"
#include "volume/volume_rpc.h"
#include "volume/volume_service.h"

namespace cinder {

class VolumeManagerImpl : public VolumeManager {
 public:
  // manager.cc. The embedded service: the store, an in-process transport, the scheduler and this host's
  // volume service, all owned here. API side only (`owned` null): `transport` is the caller's.
  VolumeManagerImpl(Options options, std::unique_ptr<Store> store, std::shared_ptr<const auth::Policy> policy,
                    std::unique_ptr<Transport> owned, Transport* transport);
  // Starts the scheduler and the volume service (embedded only).
  Status StartServices(const DriverRegistry& drivers);
  // What the embedded service's other services (cinder-backup) share with this one: the
  // database and the transport.
  Store* store() const { return store_.get(); }
  Transport* transport() const { return transport_; }
  ~VolumeManagerImpl() override;
  Result<MessageList> ListMessages(const RequestContext& ctx, const MessageListQuery& q) override;
  Result<Message> GetMessage(const RequestContext& ctx, const std::string& id) override;
  Status DeleteMessage(const RequestContext& ctx, const std::string& id) override;
  Result<std::string> LocalPath(const RequestContext& ctx, const std::string& id) override;
  void Drain() override;
  Status Authorize(const RequestContext& ctx, const std::string& rule,
                   const std::map<std::string, std::string>& target) const override {
    return policy_->Enforce(ctx, rule, target);
  }

  // manager_backends.cc: services, pools, capabilities, availability zones, the volume summary.
  Result<std::vector<ServiceInfo>> ListServices(const RequestContext& ctx, const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary) override;
  Result<std::vector<ClusterInfo>> ListClusters(const RequestContext& ctx, const ClusterQuery& query) override;
  Result<ClusterInfo> GetCluster(const RequestContext& ctx, const std::string& name,
                                 const std::string& binary) override;
  Result<ClusterInfo> SetClusterDisabled(const RequestContext& ctx, const std::string& name, const std::string& binary,
                                         bool disabled, const std::optional<std::string>& reason) override;
  Status FreezeBackend(const RequestContext& ctx, const std::optional<std::string>& host,
                       const std::optional<std::string>& cluster, bool frozen) override;
  Status SetServiceDisabled(const RequestContext& ctx, const std::string& host, const std::string& binary,
                            bool disabled, const std::optional<std::string>& reason) override;
  Result<std::vector<PoolInfo>> ListPools(const RequestContext& ctx, const std::optional<std::string>& name,
                                          const std::optional<std::string>& volume_type) override;
  Result<PoolInfo> GetBackendCapabilities(const RequestContext& ctx, const std::string& host) override;
  Result<Summary> GetVolumeSummary(const RequestContext& ctx, bool all_tenants) override;
  Result<std::vector<std::pair<std::string, bool>>> ListAvailabilityZones(const RequestContext& ctx) override;

  // manager_transfers.cc: volume transfers between projects.
  Result<Transfer> CreateTransfer(const RequestContext& ctx, const std::string& volume_id,
                                  const std::optional<std::string>& name, bool no_snapshots) override;
  Result<std::vector<Transfer>> ListTransfers(const RequestContext& ctx, bool all_tenants) override;
  Result<Transfer> GetTransfer(const RequestContext& ctx, const std::string& id) override;
  Status DeleteTransfer(const RequestContext& ctx, const std::string& id) override;
  Result<Transfer> AcceptTransfer(const RequestContext& ctx, const std::string& id,
                                  const std::string& auth_key) override;

  // manager_create.cc: the create flow: checks, the volume's source, the hand-over to a
  // scheduler.
  Result<Volume> CreateVolume(const RequestContext& ctx, const VolumeCreate& request) override;

  // manager_groups.cc: generic volume groups (3.13).
  Result<VolumeGroup> CreateGroup(const RequestContext& ctx, const GroupCreate& request) override;
  Result<VolumeGroup> GetGroup(const RequestContext& ctx, const std::string& id) override;
  Result<std::vector<VolumeGroup>> ListGroups(const RequestContext& ctx, const GroupListQuery& q) override;
  Status UpdateGroup(const RequestContext& ctx, const std::string& id, const GroupUpdate& update) override;
  Status DeleteGroup(const RequestContext& ctx, const std::string& id, bool delete_volumes) override;
  Status ResetGroupStatus(const RequestContext& ctx, const std::string& id, const std::string& status) override;

  // manager_group_snapshots.cc: group snapshots and groups made from a source (3.14).
  Result<VolumeGroup> CreateGroupFromSource(const RequestContext& ctx, const GroupCreateFromSource& request) override;
  Result<GroupSnapshot> CreateGroupSnapshot(const RequestContext& ctx, const GroupSnapshotCreate& request) override;
  Result<GroupSnapshot> GetGroupSnapshot(const RequestContext& ctx, const std::string& id) override;
  Result<std::vector<GroupSnapshot>> ListGroupSnapshots(const RequestContext& ctx,
                                                        const GroupSnapshotListQuery& q) override;
  Status DeleteGroupSnapshot(const RequestContext& ctx, const std::string& id) override;
  Status ResetGroupSnapshotStatus(const RequestContext& ctx, const std::string& id, const std::string& status) override;

  // manager_volumes.cc: a volume's life after its create: list, update, delete, extend, retype,
  // reset-state, metadata.
  Result<VolumeList> ListVolumes(const RequestContext& ctx, const VolumeListQuery& q) override;
  Result<Volume> UpdateVolume(const RequestContext& ctx, const std::string& id, const VolumeUpdate& u) override;
  Status DeleteVolume(const RequestContext& ctx, const std::string& id, bool force, bool cascade) override;
  Status ForceDeleteVolume(const RequestContext& ctx, const std::string& id) override;
  Status ExtendVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) override;
  Status ExtendAttachedVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) override;
  Status RetypeVolume(const RequestContext& ctx, const std::string& id, const std::string& new_type,
                      const std::string& migration_policy) override;
  Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& status,
                     const std::optional<std::string>& attach_status,
                     const std::optional<std::string>& migration_status) override;
  Result<Metadata> GetMetadata(const RequestContext& ctx, const std::string& id) override;
  Result<Metadata> UpdateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata,
                                  bool replace) override;
  Result<Metadata> CreateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata) override;
  Status DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) override;

  // manager_extensions.cc: image metadata, volume type encryption, host usage.
  Result<Metadata> GetImageMetadata(const RequestContext& ctx, const std::string& id) override;
  Result<Metadata> SetImageMetadata(const RequestContext& ctx, const std::string& id,
                                    const Metadata& metadata) override;
  Status DeleteImageMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) override;
  Result<std::map<std::string, Metadata>> ListImageMetadata(const RequestContext& ctx,
                                                            const std::vector<std::string>& volume_ids) override;
  Result<std::optional<VolumeTypeEncryption>> GetVolumeTypeEncryption(const RequestContext& ctx,
                                                                      const std::string& type_id) override;
  Result<VolumeTypeEncryption> CreateVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id,
                                                          const VolumeTypeEncryptionUpdate& request) override;
  Status UpdateVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id,
                                    const VolumeTypeEncryptionUpdate& request) override;
  Status DeleteVolumeTypeEncryption(const RequestContext& ctx, const std::string& type_id) override;
  Result<std::vector<HostProjectUsage>> GetHostUsage(const RequestContext& ctx, const std::string& host) override;
  // manager_migrate.cc: os-migrate_volume and os-migrate_volume_completion (admin), as
  // cinder/volume/api.py's migrate_volume and migrate_volume_completion.
  Status MigrateVolume(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& host,
                       const std::optional<std::string>& cluster, bool force_host_copy, bool lock_volume) override;
  Result<std::string> CompleteVolumeMigration(const RequestContext& ctx, const std::string& id,
                                              const std::string& new_volume_id, bool error) override;

  // manager_workers.cc: workers/cleanup (admin), as cinder/api/v3/workers.py.
  Result<WorkCleanupResult> WorkCleanup(const RequestContext& ctx, const WorkCleanupFilters& filters) override;

  // manager_attachments.cc: attachments and the legacy attach actions.
  Result<Attachment> CreateAttachment(const RequestContext& ctx, const AttachmentCreate& request) override;
  Result<Attachment> UpdateAttachment(const RequestContext& ctx, const std::string& id,
                                      const std::string& connector) override;
  Result<std::vector<Attachment>> DeleteAttachment(const RequestContext& ctx, const std::string& id) override;
  Status CompleteAttachment(const RequestContext& ctx, const std::string& id) override;
  Result<Attachment> GetAttachment(const RequestContext& ctx, const std::string& id) override;
  Result<std::vector<Attachment>> ListAttachments(const RequestContext& ctx, const AttachmentListQuery& q) override;
  Status ReserveVolume(const RequestContext& ctx, const std::string& id) override;
  Status UnreserveVolume(const RequestContext& ctx, const std::string& id) override;
  Status BeginDetaching(const RequestContext& ctx, const std::string& id) override;
  Status RollDetaching(const RequestContext& ctx, const std::string& id) override;
  Result<std::string> InitializeConnection(const RequestContext& ctx, const std::string& id,
                                           const std::string& connector) override;
  Status TerminateConnection(const RequestContext& ctx, const std::string& id) override;
  Status AttachVolume(const RequestContext& ctx, const std::string& id, const LegacyAttach& request) override;
  Status DetachVolume(const RequestContext& ctx, const std::string& id,
                      const std::optional<std::string>& attachment_id) override;
  Status ForceDetach(const RequestContext& ctx, const std::string& id,
                     const std::optional<std::string>& attachment_id) override;
  Status UpdateReadonlyFlag(const RequestContext& ctx, const std::string& id, bool readonly) override;

  // manager_manage.cc: manage existing volumes and snapshots, and unmanage.
  Result<Volume> ManageVolume(const RequestContext& ctx, const ManageVolumeRequest& request) override;
  Result<Snapshot> ManageSnapshot(const RequestContext& ctx, const ManageSnapshotRequest& request) override;
  Result<std::vector<Manageable>> ListManageable(const RequestContext& ctx, const ManageableQuery& q,
                                                 bool snapshots) override;
  Status UnmanageVolume(const RequestContext& ctx, const std::string& id) override;
  Status UnmanageSnapshot(const RequestContext& ctx, const std::string& id) override;

  // Delegated to the classes of each concern.
  Result<std::vector<VolumeType>> ListVolumeTypes(const RequestContext& ctx,
                                                  const std::optional<bool>& is_public) override {
    return types_.List(ctx, is_public);
  }
  Result<VolumeType> GetVolumeType(const RequestContext& ctx, const std::string& id) override {
    return types_.Get(ctx, id);
  }
  Result<VolumeType> CreateVolumeType(const RequestContext& ctx, const VolumeType& request) override {
    return types_.Create(ctx, request);
  }
  Result<VolumeType> UpdateVolumeType(const RequestContext& ctx, const std::string& id,
                                      const std::optional<std::string>& name,
                                      const std::optional<std::string>& description,
                                      const std::optional<bool>& is_public) override {
    return types_.Update(ctx, id, name, description, is_public);
  }
  Status DeleteVolumeType(const RequestContext& ctx, const std::string& id) override { return types_.Delete(ctx, id); }
  Result<Metadata> GetVolumeTypeExtraSpecs(const RequestContext& ctx, const std::string& id,
                                           const std::optional<std::string>& key) override {
    return types_.GetExtraSpecs(ctx, id, key);
  }
  Result<Metadata> SetVolumeTypeExtraSpecs(const RequestContext& ctx, const std::string& id,
                                           const Metadata& specs) override {
    return types_.SetExtraSpecs(ctx, id, specs, "volume_extension:types_extra_specs:create");
  }
  Status UpdateVolumeTypeExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key,
                                   const std::string& value) override {
    return types_.SetExtraSpecs(ctx, id, {{key, value}}, "volume_extension:types_extra_specs:update").status();
  }
  Status DeleteVolumeTypeExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    return types_.DeleteExtraSpec(ctx, id, key);
  }
  Result<std::vector<std::string>> ListVolumeTypeAccess(const RequestContext& ctx, const std::string& id) override {
    return types_.ListAccess(ctx, id);
  }
  Status AddVolumeTypeAccess(const RequestContext& ctx, const std::string& id, const std::string& project) override {
    return types_.AddAccess(ctx, id, project);
  }
  Status RemoveVolumeTypeAccess(const RequestContext& ctx, const std::string& id, const std::string& project) override {
    return types_.RemoveAccess(ctx, id, project);
  }
  Status SetDefaultVolumeType(const RequestContext& ctx, const std::string& project, const std::string& type) override {
    return types_.SetProjectDefault(ctx, project, type);
  }
  Result<std::string> GetDefaultVolumeType(const RequestContext& ctx, const std::string& project) override {
    return types_.GetProjectDefault(ctx, project);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListDefaultVolumeTypes(const RequestContext& ctx) override {
    return types_.ListProjectDefaults(ctx);
  }
  Status UnsetDefaultVolumeType(const RequestContext& ctx, const std::string& project) override {
    return types_.UnsetProjectDefault(ctx, project);
  }
  Result<std::vector<GroupType>> ListGroupTypes(const RequestContext& ctx,
                                                const std::optional<bool>& is_public) override {
    return groups_.ListTypes(ctx, is_public);
  }
  Result<GroupType> GetGroupType(const RequestContext& ctx, const std::string& id) override {
    return groups_.GetType(ctx, id);
  }
  Result<GroupType> CreateGroupType(const RequestContext& ctx, const GroupType& request) override {
    return groups_.CreateType(ctx, request);
  }
  Result<GroupType> UpdateGroupType(const RequestContext& ctx, const std::string& id,
                                    const std::optional<std::string>& name,
                                    const std::optional<std::string>& description,
                                    const std::optional<bool>& is_public) override {
    return groups_.UpdateType(ctx, id, name, description, is_public);
  }
  Status DeleteGroupType(const RequestContext& ctx, const std::string& id) override {
    return groups_.DeleteType(ctx, id);
  }
  Result<Metadata> GetGroupTypeSpecs(const RequestContext& ctx, const std::string& id,
                                     const std::optional<std::string>& key) override {
    return groups_.GetTypeSpecs(ctx, id, key);
  }
  Status SetGroupTypeSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs,
                           bool update) override {
    return groups_.SetTypeSpecs(ctx, id, specs, update);
  }
  Status DeleteGroupTypeSpec(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    return groups_.DeleteTypeSpec(ctx, id, key);
  }
  Result<QosSpecs> CreateQosSpecs(const RequestContext& ctx, const std::string& name, const Metadata& specs) override {
    return qos_.Create(ctx, name, specs);
  }
  Result<std::vector<QosSpecs>> ListQosSpecs(const RequestContext& ctx) override { return qos_.List(ctx); }
  Result<QosSpecs> GetQosSpecs(const RequestContext& ctx, const std::string& id) override { return qos_.Get(ctx, id); }
  Result<Metadata> SetQosSpecsKeys(const RequestContext& ctx, const std::string& id, const Metadata& specs) override {
    return qos_.SetKeys(ctx, id, specs);
  }
  Status DeleteQosSpecsKeys(const RequestContext& ctx, const std::string& id,
                            const std::vector<std::string>& keys) override {
    return qos_.DeleteKeys(ctx, id, keys);
  }
  Status DeleteQosSpecs(const RequestContext& ctx, const std::string& id, bool force) override {
    return qos_.Delete(ctx, id, force);
  }
  Result<std::vector<std::pair<std::string, std::string>>> QosSpecsAssociations(const RequestContext& ctx,
                                                                                const std::string& id) override {
    return qos_.Associations(ctx, id);
  }
  Status AssociateQosSpecs(const RequestContext& ctx, const std::string& id, const std::string& type_id) override {
    return qos_.Associate(ctx, id, type_id);
  }
  Status DisassociateQosSpecs(const RequestContext& ctx, const std::string& id,
                              const std::optional<std::string>& type_id) override {
    return qos_.Disassociate(ctx, id, type_id);
  }
  Result<Snapshot> CreateSnapshot(const RequestContext& ctx, const SnapshotCreate& request) override {
    return snapshots_.Create(ctx, request, /*allow_in_use=*/false);
  }
  Result<Snapshot> GetSnapshot(const RequestContext& ctx, const std::string& id) override {
    return snapshots_.Get(ctx, id);
  }
  Result<SnapshotList> ListSnapshots(const RequestContext& ctx, const SnapshotListQuery& q) override {
    return snapshots_.List(ctx, q);
  }
  Result<Snapshot> UpdateSnapshot(const RequestContext& ctx, const std::string& id,
                                  const std::optional<std::optional<std::string>>& name,
                                  const std::optional<std::optional<std::string>>& description) override {
    return snapshots_.Update(ctx, id, name, description);
  }
  Status DeleteSnapshot(const RequestContext& ctx, const std::string& id, bool force) override {
    return snapshots_.Delete(ctx, id, force);
  }
  Status ResetSnapshotStatus(const RequestContext& ctx, const std::string& id, const std::string& status) override {
    return snapshots_.ResetStatus(ctx, id, status);
  }
  Status UpdateSnapshotStatus(const RequestContext& ctx, const std::string& id, const std::string& status,
                              const std::optional<std::string>& progress) override {
    return snapshots_.UpdateStatus(ctx, id, status, progress);
  }
  Result<Metadata> GetSnapshotMetadata(const RequestContext& ctx, const std::string& id) override {
    return snapshots_.GetMetadata(ctx, id);
  }
  Result<Metadata> UpdateSnapshotMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata,
                                          bool replace) override {
    return snapshots_.UpdateMetadata(ctx, id, metadata, replace);
  }
  Status DeleteSnapshotMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    return snapshots_.DeleteMetadataKey(ctx, id, key);
  }
  Status RevertToSnapshot(const RequestContext& ctx, const std::string& volume_id,
                          const std::string& snapshot_id) override {
    return snapshots_.Revert(ctx, volume_id, snapshot_id);
  }
  Result<QuotaSet> GetQuotaSet(const RequestContext& ctx, const std::string& project, bool defaults) override {
    return quotas_.GetQuotaSet(ctx, project, defaults);
  }
  Result<QuotaSet> UpdateQuotaSet(const RequestContext& ctx, const std::string& project,
                                  const std::map<std::string, int64_t>& limits) override {
    return quotas_.UpdateQuotaSet(ctx, project, limits);
  }
  Status DeleteQuotaSet(const RequestContext& ctx, const std::string& project) override {
    return quotas_.DeleteQuotaSet(ctx, project);
  }
  Result<QuotaSet> GetQuotaClass(const RequestContext& ctx, const std::string& class_name) override {
    return quotas_.GetQuotaClass(ctx, class_name);
  }
  Result<QuotaSet> UpdateQuotaClass(const RequestContext& ctx, const std::string& class_name,
                                    const std::map<std::string, int64_t>& limits) override {
    return quotas_.UpdateQuotaClass(ctx, class_name, limits);
  }
  Result<QuotaSet> GetLimits(const RequestContext& ctx, const std::string& project) override {
    return quotas_.GetLimits(ctx, project);
  }
  // A volume the context may see (volume:get).
  Result<Volume> GetVolume(const RequestContext& ctx, const std::string& id) override {
    return GetVisibleVolume(*store_, *policy_, ctx, id, ReadScope(ctx));
  }

 private:
  // manager_create.cc: the steps of CreateVolume.
  Status FromSource(const RequestContext& ctx, VolumeCreate* request, std::optional<Volume>* source_out);
  Result<std::string> CheckCreate(const VolumeCreate& req);
  Status HandToScheduler(const RequestContext& ctx, const Volume& v, const VolumeType& type,
                         const SchedulerHints& hints, const std::optional<Volume>& source,
                         const std::optional<std::string>& resource_backend);
  // manager_groups.cc: the group the context may see (group:get), and `rule` on it.
  Result<VolumeGroup> GroupFor(const RequestContext& ctx, const std::string& id, const char* rule);

  void RecordMessage(const RequestContext& ctx, const Volume& v, const char* action, const char* detail);
  // The volume the context may see and `rule` allows on it: NotFound unless volume:get passes
  // (Cinder's volume_api.get), then PermissionDenied unless `rule` does.
  Result<Volume> VolumeFor(const RequestContext& ctx, const std::string& id, const char* rule);
  // Status changes without a policy check of their own: what the checked operations share.
  Status StartDelete(const RequestContext& ctx, const std::string& id, bool force, bool cascade, const char* rule);
  Result<Metadata> SetMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata, bool replace,
                               const char* rule);
  // An attachment the context may see, and `rule` on it (its project is its volume's).
  Result<Attachment> AttachmentFor(const RequestContext& ctx, const std::string& id, const char* rule);
  // A message the context may see, and `rule` on it.
  Result<Message> MessageFor(const RequestContext& ctx, const std::string& id, const char* rule);
  // manager_backends.cc: the clusters with their services counted (policy checked by callers).
  Result<std::vector<ClusterInfo>> Clusters();
  // manager_manage.cc: the cinder-volume service that manages on `host` or `cluster`.
  Result<ServiceInfo> ManageService(const std::optional<std::string>& host, const std::optional<std::string>& cluster);
  // manager_volumes.cc: an extend of an available volume, or (attached_ok) of an in-use one.
  Status Extend(const RequestContext& ctx, const std::string& id, int64_t new_size, bool attached_ok);
  // manager_attachments.cc: detaches one attachment (or the volume's only one) through its host.
  Status DetachThroughHost(const RequestContext& ctx, const Volume& v, const std::optional<std::string>& attachment_id,
                           const std::vector<std::string>& expected);

  ProjectScope ReadScope(const RequestContext& ctx) const {
    if (ctx.is_admin) return std::nullopt;
    return ctx.project_id;
  }

  Options options_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const auth::Policy> policy_;
  TypeApi types_{store_.get(), policy_.get(), options_.default_volume_type};
  QosApi qos_{store_.get(), policy_.get()};
  GroupApi groups_{store_.get(), policy_.get(), options_.default_group_type};
  QuotaApi quotas_{store_.get(), policy_.get(), options_};
  SnapshotApi snapshots_{store_.get(), policy_.get(), options_, &quotas_};
  CreateAdmission admission_{store_.get(), options_.env, options_.osapi_max_pending_creates};
  std::unique_ptr<Transport> owned_transport_;  // embedded only
  Transport* transport_;
  SchedulerRpc schedulers_{nullptr};
  VolumeRpc hosts_{nullptr};
  std::unique_ptr<SchedulerService> scheduler_;
  std::unique_ptr<VolumeService> volume_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_MANAGER_IMPL_H_
