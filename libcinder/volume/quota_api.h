// QuotaApi: Cinder's quota engine over the Store (cinder/quota.py and the quota-set, quota-class
// and limits controllers): which limits apply to a project, the reservations operations take,
// and Cinder's over-quota errors. The VolumeManager forwards the quota API to it and reserves
// through it before it creates, grows or takes over volumes and snapshots.
#ifndef CINDER_VOLUME_QUOTA_API_H_
#define CINDER_VOLUME_QUOTA_API_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/options.h"
#include "cinder/quota.h"
#include "db/store.h"

namespace cinder {

using QuotaDeltas = std::map<std::string, int64_t>;

class QuotaApi {
 public:
  QuotaApi(Store* store, const auth::Policy* policy, const Options& options)
      : store_(store), policy_(policy), options_(options) {}

  // What a volume of `size` GiB of the type named `type_name` counts for (volumes, gigabytes,
  // volumes_TYPE, gigabytes_TYPE), times `sign` (-1 when it goes).
  static QuotaDeltas VolumeDeltas(const std::string& type_name, int64_t size, int sign = 1);
  // What a snapshot counts for (snapshots, snapshots_TYPE and, unless no_snapshot_gb_quota,
  // gigabytes and gigabytes_TYPE).
  QuotaDeltas SnapshotDeltas(const std::string& type_name, int64_t size, int sign = 1) const;

  // The limits that apply to `project` for every resource (incl. per-type ones of every type).
  Result<std::map<std::string, int64_t>> Limits(const std::string& project);

  // Reserves `deltas` for `project`. Over quota is ResourceExhausted with Cinder's message
  // for `what` ("volumes" or "snapshots"; `size`: the GiB asked for), e.g. "Requested volume or
  // snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 10G and 8G has been
  // consumed." or "Maximum number of volumes allowed (10) exceeded for quota 'volumes'.".
  // Returns the reservation ids to commit or roll back.
  Result<std::vector<std::string>> Reserve(const std::string& project, const QuotaDeltas& deltas,
                                           const std::string& what, int64_t size);
  // The same, for reservations an operation takes over in its next transaction (an extend's
  // or a retype's CasVolumeStatusHolding, which checks they are still there): they expire after
  // kHandOverExpireSeconds instead of reservation_expire, so that a database lost between the
  // two (and with it the rollback) leaks them for seconds, not a day. Once held they never
  // expire (Store::ExpireQuotaReservations), and a hold finds an expired one gone and fails.
  static constexpr int64_t kHandOverExpireSeconds = 20;
  Result<std::vector<std::string>> ReserveForHandOver(const std::string& project, const QuotaDeltas& deltas,
                                                      const std::string& what, int64_t size);
  // What a create for `project` charges, for Store::InsertVolume / InsertSnapshot to check
  // against the limits and add in their transaction (with `volume_size`, per_volume_gigabytes
  // is checked too).
  QuotaCharge Charge(const std::string& project, const QuotaDeltas& deltas,
                     std::optional<int64_t> volume_size = std::nullopt) const;
  // Cinder's over-quota error (ResourceExhausted) for a charge of `what` ("volumes",
  // "snapshots") of `size` GiB that did not fit.
  static Status OverQuotaError(const Store::QuotaReservation& r, const std::string& what, int64_t size);

  // A volume larger than per_volume_gigabytes (the project's limit) is ResourceExhausted:
  // "Requested volume size XG is larger than maximum allowed limit YG."
  Status CheckVolumeSize(const std::string& project, int64_t size);
  Status Commit(const std::vector<std::string>& reservations) { return store_->CommitQuota(reservations); }
  Status Rollback(const std::vector<std::string>& reservations) { return store_->RollbackQuota(reservations); }

  // The quota API (see VolumeManager).
  Result<QuotaSet> GetQuotaSet(const RequestContext& ctx, const std::string& project, bool defaults);
  Result<QuotaSet> UpdateQuotaSet(const RequestContext& ctx, const std::string& project,
                                  const std::map<std::string, int64_t>& limits);
  Status DeleteQuotaSet(const RequestContext& ctx, const std::string& project);
  Result<QuotaSet> GetQuotaClass(const RequestContext& ctx, const std::string& class_name);
  Result<QuotaSet> UpdateQuotaClass(const RequestContext& ctx, const std::string& class_name,
                                    const std::map<std::string, int64_t>& limits);
  Result<QuotaSet> GetLimits(const RequestContext& ctx, const std::string& project);

 private:
  Result<std::vector<std::string>> ReserveExpiring(const std::string& project, const QuotaDeltas& deltas,
                                                   const std::string& what, int64_t size, int64_t expire_seconds);
  // The project's quota set (its defaults when `defaults`), without a rule.
  Result<QuotaSet> QuotaSetOf(const std::string& project, bool defaults);

  Store* store_;
  const auth::Policy* policy_;
  const Options& options_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_QUOTA_API_H_
