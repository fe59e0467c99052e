// SnapshotApi: the API side of snapshots and of reverting a volume to one (what the snapshot
// parts of cinder/volume/api.py are to Cinder): checks, quota, the DB record, and the work
// handed to the volume's host. The VolumeManager forwards to it.
#ifndef CINDER_VOLUME_SNAPSHOT_API_H_
#define CINDER_VOLUME_SNAPSHOT_API_H_

#include <optional>
#include <string>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/options.h"
#include "cinder/transport.h"
#include "cinder/volume.h"
#include "db/store.h"
#include "volume/quota_api.h"
#include "volume/volume_rpc.h"

namespace cinder {

class SnapshotApi {
 public:
  SnapshotApi(Store* store, const auth::Policy* policy, const Options& options, QuotaApi* quotas)
      : store_(store), policy_(policy), options_(options), quotas_(quotas) {}
  void set_transport(Transport* transport) { hosts_ = VolumeRpc(transport); }

  // `allow_in_use`: 3.66, an in-use volume may be snapshotted without force.
  // With `manage_ref` (Cinder's manage_existing_snapshot, under its own rule): the volume's
  // host adopts that object as the snapshot instead of taking one.
  Result<Snapshot> Create(const RequestContext& ctx, const SnapshotCreate& req, bool allow_in_use,
                          const std::optional<std::string>& manage_ref = std::nullopt);
  // Cinder's volume_api.get_snapshot: NotFound unless visible to ctx, PermissionDenied unless
  // volume:get_snapshot passes.
  Result<Snapshot> Get(const RequestContext& ctx, const std::string& id);
  Result<SnapshotList> List(const RequestContext& ctx, const SnapshotListQuery& q);
  Result<Snapshot> Update(const RequestContext& ctx, const std::string& id,
                          const std::optional<std::optional<std::string>>& name,
                          const std::optional<std::optional<std::string>>& description);
  Status Delete(const RequestContext& ctx, const std::string& id, bool force);
  Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::string& status);
  Status UpdateStatus(const RequestContext& ctx, const std::string& id, const std::string& status,
                      const std::optional<std::string>& progress);
  Result<Metadata> GetMetadata(const RequestContext& ctx, const std::string& id);
  Result<Metadata> UpdateMetadata(const RequestContext& ctx, const std::string& id, const Metadata& md, bool replace);
  Status DeleteMetadataKey(const RequestContext& ctx, const std::string& id, const std::string& key);
  Status Revert(const RequestContext& ctx, const std::string& volume_id, const std::string& snapshot_id);

 private:
  // The snapshot (Get) on which `rule` passes too.
  Result<Snapshot> SnapshotFor(const RequestContext& ctx, const std::string& id, const char* rule);
  Status Authorize(const RequestContext& ctx, const char* rule, const auth::PolicyTarget& target) const {
    return policy_->Enforce(ctx, rule, target);
  }

  ProjectScope ReadScope(const RequestContext& ctx) const {
    if (ctx.is_admin) return std::nullopt;
    return ctx.project_id;
  }

  Store* store_;
  const auth::Policy* policy_;
  const Options& options_;
  QuotaApi* quotas_;
  VolumeRpc hosts_{nullptr};
};

}  // namespace cinder

#endif  // CINDER_VOLUME_SNAPSHOT_API_H_
