// VolumeManagerImpl: the API side of volumes (what cinder/volume/api.py is to Cinder):
// validation, the DB record, and the work handed over the transport to the scheduler and the
// volume hosts. VolumeManager::Open runs the whole embedded service in process.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "cinder/transport.h"
#include "cinder/volume_driver.h"
#include "cinder/volume_manager.h"
#include "common/digest.h"
#include "common/message_field.h"
#include "common/util.h"
#include "db/directory.h"
#include "db/store.h"
#include "scheduler/extra_specs_ops.h"
#include "scheduler/scheduler_rpc.h"
#include "scheduler/scheduler_service.h"
#include "volume/api_common.h"
#include "volume/qos_api.h"
#include "volume/quota_api.h"
#include "volume/snapshot_api.h"
#include "volume/type_api.h"
#include "volume/volume_rpc.h"
#include "volume/volume_service.h"

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

class VolumeManagerImpl : public VolumeManager {
 public:
  // The embedded service: the store, an in-process transport, the scheduler and this host's
  // volume service, all owned here.
  VolumeManagerImpl(Options options, std::unique_ptr<Store> store, std::unique_ptr<Transport> owned,
                    Transport* transport)
      : options_(std::move(options)),
        store_(std::move(store)),
        owned_transport_(std::move(owned)),
        transport_(owned_transport_ ? owned_transport_.get() : transport) {
    snapshots_.set_transport(transport_);
    schedulers_ = SchedulerRpc(transport_);
    hosts_ = VolumeRpc(transport_);
  }

  Status StartServices(const DriverRegistry& drivers) {
    CINDER_ASSIGN_OR_RETURN(scheduler_, SchedulerService::Start(options_, store_.get(), transport_,
                                                                std::make_unique<VolumeRpc>(transport_)));
    CINDER_ASSIGN_OR_RETURN(volume_, VolumeService::Start(options_, drivers, store_.get(), transport_));
    return Status::OK();
  }

  ~VolumeManagerImpl() override {
    if (!owned_transport_) return;  // the API side only: the transport is the caller's
    Drain();
    transport_->Stop();  // no handler runs after this; then the services can go
    volume_.reset();
    scheduler_.reset();
  }

  Result<std::vector<ServiceInfo>> ListServices(const RequestContext& ctx, const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:services:index to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(host, binary));
    for (auto& svc : services) svc.up = ServiceIsUp(svc, options_.service_down_time, options_.env);
    return services;
  }

  Status SetServiceDisabled(const RequestContext& ctx, const std::string& host, const std::string& binary,
                            bool disabled, const std::optional<std::string>& reason) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:services:update to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(bool found, store_->SetServiceDisabled(host, binary, disabled, reason));
    if (!found) return NotFound("Service " + binary + " could not be found on host " + host + ".");
    return Status::OK();
  }

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
  Result<Metadata> SetVolumeTypeExtraSpecs(const RequestContext& ctx, const std::string& id,
                                           const Metadata& specs) override {
    return types_.SetExtraSpecs(ctx, id, specs);
  }
  Status DeleteVolumeTypeExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    return types_.DeleteExtraSpec(ctx, id, key);
  }

  Result<std::vector<PoolInfo>> ListPools(const RequestContext& ctx, const std::optional<std::string>& name,
                                          const std::optional<std::string>& volume_type) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed.");
    }
    std::optional<VolumeType> type;
    if (volume_type) {
      CINDER_ASSIGN_OR_RETURN(type, store_->GetVolumeType(*volume_type));
    }
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::set<std::string> active;
    for (const auto& svc : services) {
      if (!svc.disabled && ServiceIsUp(svc, options_.service_down_time, options_.env)) active.insert(svc.host);
    }
    CINDER_ASSIGN_OR_RETURN(auto records, store_->ListPools());
    std::vector<PoolInfo> out;
    for (auto& r : records) {
      if (!active.count(r.backend_host) || (name && r.host != *name)) continue;
      // A type filter applies its extra specs only (get_pools passes no size to check).
      if (type && !scheduler::CapabilitiesSatisfied(type->extra_specs, [&r](std::string_view key) {
            auto it = r.capabilities.find(std::string(key));
            return it == r.capabilities.end() ? std::nullopt : std::optional<std::string>(it->second);
          })) {
        continue;
      }
      out.push_back(PoolInfo{r.host, r.backend_host, std::move(r.capabilities)});
    }
    return out;
  }

  Result<PoolInfo> GetBackendCapabilities(const RequestContext& ctx, const std::string& host) override {
    if (!ctx.is_admin) return PermissionDenied("Policy doesn't allow volume_extension:capabilities to be performed.");
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::optional<std::string> backend;
    for (const auto& svc : services) {
      if (svc.host == host || (host.find('@') == std::string::npos && svc.host.rfind(host + "@", 0) == 0)) {
        backend = svc.host;
        break;
      }
    }
    if (!backend) return NotFound("Can't find service: " + host);
    CINDER_ASSIGN_OR_RETURN(auto records, store_->ListPools());
    for (auto& r : records) {
      if (r.backend_host == *backend) return PoolInfo{r.host, r.backend_host, std::move(r.capabilities)};
    }
    return NotFound("Can't find service: " + host);
  }

  Result<Summary> GetVolumeSummary(const RequestContext& ctx, bool all_tenants) override {
    ProjectScope scope = ctx.project_id;
    if (ctx.is_admin && all_tenants) scope.reset();
    CINDER_ASSIGN_OR_RETURN(auto s, store_->SummarizeVolumes(scope));
    return Summary{s.count, s.size, std::move(s.metadata)};
  }

  Result<std::vector<std::pair<std::string, bool>>> ListAvailabilityZones(const RequestContext& ctx) override {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::vector<std::pair<std::string, bool>> zones;
    for (const auto& svc : services) {
      auto it =
          std::find_if(zones.begin(), zones.end(), [&](const auto& z) { return z.first == svc.availability_zone; });
      if (it == zones.end()) {
        zones.emplace_back(svc.availability_zone, !svc.disabled);
      } else {
        it->second = it->second || !svc.disabled;
      }
    }
    return zones;
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

  Result<Transfer> CreateTransfer(const RequestContext& ctx, const std::string& volume_id,
                                  const std::optional<std::string>& name, bool no_snapshots) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, volume_id));
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

  Result<std::vector<Transfer>> ListTransfers(const RequestContext& ctx, bool all_tenants) override {
    return store_->ListTransfers(ctx.is_admin && all_tenants ? std::nullopt : ProjectScope(ctx.project_id));
  }

  Result<Transfer> GetTransfer(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(auto t, store_->GetTransfer(id, ReadScope(ctx)));
    return t.first;
  }

  Status DeleteTransfer(const RequestContext& ctx, const std::string& id) override {
    return store_->DeleteTransfer(id, ReadScope(ctx));
  }

  Result<Transfer> AcceptTransfer(const RequestContext& ctx, const std::string& id,
                                  const std::string& auth_key) override {
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
    if (Status st = store_->AcceptTransfer(id, ctx.project_id, ctx.user_id, reservations,
                                           !options_.no_snapshot_gb_quota, snapshot_ids);
        !st.ok()) {
      (void)quotas_.Rollback(reservations);
      return st;
    }
    t.first.accepted = true;
    t.first.destination_project_id = ctx.project_id;
    return t.first;
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
  Result<Metadata> UpdateSnapshotMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata,
                                          bool replace) override {
    return snapshots_.UpdateMetadata(ctx, id, metadata, replace);
  }
  Status DeleteSnapshotMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    return snapshots_.DeleteMetadataKey(ctx, id, key);
  }
  Status RetypeVolume(const RequestContext& ctx, const std::string& id, const std::string& new_type,
                      const std::string& migration_policy) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
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
    if (type->id == v.volume_type_id || v.migration_status) return FailedPrecondition(busy);
    // The per-type quotas move from the old type to the new one (Cinder's reserve_vol_type_only).
    QuotaDeltas deltas = {{"volumes_" + type->name, 1}, {"gigabytes_" + type->name, v.size}};
    if (!v.volume_type_name.empty()) {
      deltas["volumes_" + v.volume_type_name] = -1;
      deltas["gigabytes_" + v.volume_type_name] = -v.size;
    }
    CINDER_ASSIGN_OR_RETURN(auto reservations, quotas_.Reserve(v.project_id, deltas, "volumes", v.size));
    auto changed =
        store_->CasVolumeStatus(v.id, {vs::kAvailable, vs::kInUse}, vs::kRetyping, {{"previous_status", v.status}});
    if (!changed.ok() || !*changed) {
      (void)quotas_.Rollback(reservations);
      return changed.ok() ? FailedPrecondition(busy) : changed.status();
    }
    Status handed = schedulers_.RetypeVolume(ctx, {v.id, type->id, migration_policy, v.status, reservations});
    if (!handed.ok()) {
      auto back = store_->CasVolumeStatus(v.id, {vs::kRetyping}, v.status, {{"previous_status", std::nullopt}});
      if (back.ok() && *back) (void)quotas_.Rollback(reservations);
      return Unavailable("No cinder-scheduler accepted the retype of volume " + v.id + ": " + handed.message());
    }
    return Status::OK();
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

  Result<MessageList> ListMessages(const RequestContext& ctx, const MessageListQuery& q) override {
    return store_->ListMessages(q, ReadScope(ctx), options_.osapi_max_limit);
  }

  Result<Message> GetMessage(const RequestContext& ctx, const std::string& id) override {
    return store_->GetMessage(id, ReadScope(ctx));
  }

  Status DeleteMessage(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteMessage(id, ReadScope(ctx)));
    if (!found) return NotFound("Message " + id + " could not be found.");
    return Status::OK();
  }

  // Cinder's create flow: the request checked and completed from its source, the volume
  // recorded unplaced with its quota usage, then handed to a scheduler.
  Result<Volume> CreateVolume(const RequestContext& ctx, const VolumeCreate& request) override {
    VolumeCreate req = request;
    std::optional<Volume> source;
    CINDER_RETURN_IF_ERROR(FromSource(ctx, &req, &source));
    CINDER_ASSIGN_OR_RETURN(std::string az, CheckCreate(req));
    // No type named: the project's default (3.62), else default_volume_type.
    const std::string type_name = req.volume_type.value_or(options_.default_volume_type);
    CINDER_ASSIGN_OR_RETURN(VolumeType type,
                            req.volume_type ? store_->GetVolumeType(type_name) : types_.EffectiveDefault(ctx));
    CINDER_ASSIGN_OR_RETURN(bool usable, types_.Usable(ctx, type));  // a private type needs access
    if (!usable) return NotFound("Volume type with name " + type_name + " could not be found.");
    Volume v;
    v.id = NewUuid();
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
    CINDER_RETURN_IF_ERROR(HandToScheduler(ctx, v, type, req.hints, source));
    return v;
  }

  // A new volume from a snapshot or another volume: on the source's backend, its type and
  // zone unless given, at least its size. Sets `*source` when there is one.
  Status FromSource(const RequestContext& ctx, VolumeCreate* request, std::optional<Volume>* source_out) {
    VolumeCreate& req = *request;
    std::optional<Volume>& source = *source_out;
    if (req.snapshot_id && req.source_volid) {
      return InvalidArgument("Invalid input received: Only one of snapshot_id and source_volid may be given.");
    }
    if (req.snapshot_id) {
      CINDER_ASSIGN_OR_RETURN(Snapshot snap, store_->GetSnapshot(*req.snapshot_id, ReadScope(ctx)));
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
  Result<std::string> CheckCreate(const VolumeCreate& req) {
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
  Status HandToScheduler(const RequestContext& ctx, const Volume& v, const VolumeType& type,
                         const SchedulerHints& hints, const std::optional<Volume>& source) {
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
    Status handed = schedulers_.CreateVolume(ctx, placement);
    if (handed.ok()) return Status::OK();
    // No scheduler took it: the volume fails now rather than stay "creating" (unless a
    // scheduler took it after all and placed it meanwhile).
    auto failed = store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError, {}, std::string());
    if (failed.ok() && *failed) {
      (void)store_->InsertMessage(message_field::NewMessage(
          v.project_id, ctx.request_id, message_field::kResourceVolume, v.id, message_field::kScheduleAllocateVolume,
          message_field::kNoBackendAvailable, options_.message_ttl));
    }
    return Unavailable("No cinder-scheduler accepted volume " + v.id + ": " + handed.message());
  }

  Result<Volume> GetVolume(const RequestContext& ctx, const std::string& id) override {
    return store_->GetVolume(id, ReadScope(ctx));
  }

  Result<VolumeList> ListVolumes(const RequestContext& ctx, const VolumeListQuery& q) override {
    ProjectScope scope = ctx.project_id;
    if (ctx.is_admin && q.all_tenants) scope = q.project_id;
    return store_->ListVolumes(q, scope, options_.osapi_max_limit);
  }

  Result<Volume> UpdateVolume(const RequestContext& ctx, const std::string& id, const VolumeUpdate& u) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
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
    CINDER_ASSIGN_OR_RETURN(bool found, store_->UpdateVolume(v.id, fields, u.metadata));
    if (!found) return NotFound("Volume " + id + " could not be found.");
    return GetVolume(ctx, id);
  }

  Status DeleteVolume(const RequestContext& ctx, const std::string& id, bool force, bool cascade) override {
    if (force && !ctx.is_admin) {
      return PermissionDenied(
          "Policy doesn't allow volume_extension:volume_admin_actions:force_delete "
          "to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    std::vector<std::string> expected = kDeletableStatuses;
    if (force) expected.clear();  // any status
    CINDER_ASSIGN_OR_RETURN(bool changed, store_->StartVolumeDelete(v.id, expected, cascade, force,
                                                                    /*other_projects_snapshots=*/ctx.is_admin));
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

  Status ExtendVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    auto wrong_status = [&v](const std::string& current) {
      return FailedPrecondition("Invalid volume: Volume " + v.id +
                                " status must be '{'status': 'available'}' to extend, currently " + current + ".");
    };
    if (new_size <= v.size) {
      return InvalidArgument(
          "Invalid input received: New size for extend must be greater than "
          "current size. (current: " +
          std::to_string(v.size) + ", extended: " + std::to_string(new_size) + ").");
    }
    if (v.status != vs::kAvailable) return wrong_status(v.status);
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
    CINDER_ASSIGN_OR_RETURN(auto reservations, quotas_.Reserve(v.project_id, deltas, "volumes", new_size - v.size));
    auto changed = store_->CasVolumeStatus(v.id, {vs::kAvailable}, vs::kExtending,
                                           {{"previous_status", std::string(vs::kAvailable)}});
    if (!changed.ok() || !*changed) {
      (void)quotas_.Rollback(reservations);
      if (!changed.ok()) return changed.status();
      auto now = store_->GetVolume(v.id, std::nullopt);
      return wrong_status(now.ok() ? now->status : "deleted");
    }
    Status handed = hosts_.ExtendVolume(ctx, v.host, {v.id, new_size, reservations});
    if (!handed.ok()) {
      // Only if the host did not take it after all (a cast may time out yet arrive).
      auto back = store_->CasVolumeStatus(v.id, {vs::kExtending}, vs::kAvailable, {{"previous_status", std::nullopt}});
      if (back.ok() && *back) (void)quotas_.Rollback(reservations);
      return Unavailable("The volume service of " + v.host + " did not accept the extend: " + handed.message());
    }
    return Status::OK();
  }

  Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& status,
                     const std::optional<std::string>& attach_status,
                     const std::optional<std::string>& migration_status) override {
    if (!ctx.is_admin) {
      return PermissionDenied(
          "Policy doesn't allow volume_extension:volume_admin_actions:reset_status "
          "to be performed.");
    }
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
    if (status && *status == vs::kDeleting) return InvalidArgument("Cannot reset-state to deleting");
    if (status && *status == vs::kInUse) {
      // No attachments exist yet in this service.
      return InvalidArgument(
          "Cannot reset-state to in-use because volume does not have any "
          "attachments.");
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
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
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
    return Status::OK();
  }

  Result<Metadata> GetMetadata(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    return v.metadata;
  }

  Result<Metadata> UpdateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& metadata,
                                  bool replace) override {
    CINDER_RETURN_IF_ERROR(CheckMetadata(metadata));
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    CINDER_RETURN_IF_ERROR(store_->SetVolumeMetadata(v.id, metadata, replace));
    return store_->GetVolumeMetadata(v.id);
  }

  Status DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteVolumeMetadataKey(v.id, key));
    if (!found) return NotFound("Metadata item was not found");
    return Status::OK();
  }

  Result<std::string> LocalPath(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    if (v.host.empty()) return std::string();
    return hosts_.LocalPath(ctx, v.host, v.id);
  }

  void Drain() override {
    // Requests in the transport hand work to the volume service, whose work may report back.
    if (!owned_transport_) return;  // the work runs in other processes
    // A create passes API -> scheduler -> volume service, and back to a scheduler on each
    // reschedule: one round per possible attempt.
    for (int i = 0; i <= options_.scheduler_max_attempts; ++i) {
      transport_->Drain();
      if (volume_) volume_->Drain();
    }
  }

 private:
  ProjectScope ReadScope(const RequestContext& ctx) const {
    if (ctx.is_admin) return std::nullopt;
    return ctx.project_id;
  }

  Options options_;
  std::unique_ptr<Store> store_;
  TypeApi types_{store_.get(), options_.default_volume_type};
  QosApi qos_{store_.get()};
  QuotaApi quotas_{store_.get(), options_};
  SnapshotApi snapshots_{store_.get(), options_, &quotas_};
  std::unique_ptr<Transport> owned_transport_;  // embedded only
  Transport* transport_;
  SchedulerRpc schedulers_{nullptr};
  VolumeRpc hosts_{nullptr};
  std::unique_ptr<SchedulerService> scheduler_;
  std::unique_ptr<VolumeService> volume_;
};

}  // namespace

Result<std::unique_ptr<VolumeManager>> VolumeManager::Open(const VolumeManagerOptions& mo) {
  Options options = mo.options;
  if (options.host.empty()) options.host = HostName();
  const DriverRegistry& registry = mo.drivers ? *mo.drivers : DriverRegistry::Builtin();
  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  if (mo.transport) {
    return std::unique_ptr<VolumeManager>(new VolumeManagerImpl(options, std::move(store), nullptr, mo.transport));
  }
  if (options.backends.empty()) return InvalidArgument(options.origin + ": no backend is enabled");
  auto mgr = std::make_unique<VolumeManagerImpl>(options, std::move(store),
                                                 NewInProcessTransport(options.volume_workers), nullptr);
  CINDER_RETURN_IF_ERROR(mgr->StartServices(registry));
  return std::unique_ptr<VolumeManager>(std::move(mgr));
}

}  // namespace cinder
