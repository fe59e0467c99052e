// Router: Cinder's v3 URL space over a VolumeManager. Poco-free, so tests can drive it directly.
#ifndef CINDER_API_ROUTER_H_
#define CINDER_API_ROUTER_H_

#include "api/http.h"
#include "cinder/auth_manager.h"
#include "cinder/options.h"
#include "cinder/volume_manager.h"

namespace cinder {
class BackupManager;
}  // namespace cinder

namespace cinder::api {

class Router {
 public:
  // `auth`: nullptr under auth_strategy noauth. `backups`: nullptr when no backup API is
  // served (/backups answers 404, POST /volumes with backup_id 400).
  Router(const Options& options, VolumeManager* volumes, AuthManager* auth = nullptr, BackupManager* backups = nullptr)
      : options_(options), volumes_(volumes), auth_(auth), backups_(backups) {}
  // Answers one request; never throws.
  ApiResponse Handle(ApiRequest& req);
  // GET /metrics: this process's metrics in Prometheus' text format (docs/metrics.md).
  static ApiResponse Metrics(const ApiRequest& req);

 private:
  ApiResponse Dispatch(ApiRequest& req);
  ApiResponse Versions(const ApiRequest& req, int status);
  // Sets req.ctx from the request's credentials, or answers why it cannot.
  std::optional<ApiResponse> Authenticate(ApiRequest& req);
  ApiResponse Route(ApiRequest& req, const std::string& collection, const std::vector<std::string>& rest);

  const Options& options_;
  VolumeManager* volumes_;
  AuthManager* auth_;
  BackupManager* backups_;
};

// Handlers of /volumes, in volumes.cc. `rest` is the path after "volumes".
ApiResponse HandleVolumes(const Options& options, VolumeManager& volumes, BackupManager* backups, ApiRequest& req,
                          const std::vector<std::string>& rest);
inline ApiResponse HandleVolumes(const Options& options, VolumeManager& volumes, ApiRequest& req,
                                 const std::vector<std::string>& rest) {
  return HandleVolumes(options, volumes, nullptr, req, rest);
}
// Handlers of /backups, in backups.cc (404 without a BackupManager).
ApiResponse HandleBackups(const Options& options, BackupManager* backups, ApiRequest& req,
                          const std::vector<std::string>& rest);
// Handlers of /scheduler-stats/get_pools and /capabilities/{host}, in pools.cc.
ApiResponse HandleSchedulerStats(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
ApiResponse HandleCapabilities(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// Handlers of /types, in types.cc.
ApiResponse HandleTypes(const Options& options, VolumeManager& volumes, ApiRequest& req,
                        const std::vector<std::string>& rest);
// /volume-transfers (3.55, `v355_path`) and /os-volume-transfer, in transfers.cc.
ApiResponse HandleTransfers(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest,
                            bool v355_path);
ApiResponse HandleQosSpecs(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
ApiResponse HandleDefaultTypes(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// /types/{id}/encryption[/{key}], in type_encryption.cc.
ApiResponse HandleTypeEncryption(VolumeManager& volumes, ApiRequest& req, const std::string& type_id,
                                 const std::optional<std::string>& key);
// GET /extensions[/{alias}] and /os-hosts[/{host}], in hosts.cc.
ApiResponse HandleExtensions(ApiRequest& req, const std::vector<std::string>& rest);
ApiResponse HandleHosts(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// Handlers of /groups (3.13), in groups.cc.
ApiResponse HandleGroups(const Options& options, VolumeManager& volumes, ApiRequest& req,
                         const std::vector<std::string>& rest);
// Handlers of /group_snapshots (3.14), in group_snapshots.cc.
ApiResponse HandleGroupSnapshots(const Options& options, VolumeManager& volumes, ApiRequest& req,
                                 const std::vector<std::string>& rest);
// Handlers of /group_types (3.11), in groups.cc.
ApiResponse HandleGroupTypes(const Options& options, VolumeManager& volumes, ApiRequest& req,
                             const std::vector<std::string>& rest);
// Handlers of /snapshots, in snapshots.cc.
ApiResponse HandleSnapshots(const Options& options, VolumeManager& volumes, ApiRequest& req,
                            const std::vector<std::string>& rest);
// Handlers of /os-quota-sets, /os-quota-class-sets and /limits, in quotas.cc.
ApiResponse HandleQuotaSets(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
ApiResponse HandleQuotaClassSets(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
ApiResponse HandleLimits(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// Handlers of /messages (3.3), in messages.cc.
ApiResponse HandleMessages(const Options& options, VolumeManager& volumes, ApiRequest& req,
                           const std::vector<std::string>& rest);
// Handlers of /attachments (3.27), in attachments.cc.
ApiResponse HandleAttachments(const Options& options, VolumeManager& volumes, ApiRequest& req,
                              const std::vector<std::string>& rest);
// Handlers of /os-availability-zone, in services.cc.
ApiResponse HandleAvailabilityZones(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// Manage existing (manage.cc): /manageable_volumes and /manageable_snapshots (3.8; `legacy`:
// the extensions' /os-volume-manage and /os-snapshot-manage, at every version).
ApiResponse HandleManageable(const Options& options, VolumeManager& volumes, ApiRequest& req,
                             const std::vector<std::string>& rest, bool snapshots, bool legacy);
// The bodies manage answers with: views/volumes.py legacy_detail (volumes.cc) and the
// snapshot detail view (snapshots.cc).
std::string LegacyVolumeBody(const ApiRequest& req, const Volume& v);
std::string SnapshotCreatedBody(const ApiRequest& req, const Snapshot& s);
// Handlers of /os-services, in services.cc.
ApiResponse HandleServices(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);
// /clusters (3.7), in clusters.cc.
ApiResponse HandleClusters(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);

}  // namespace cinder::api

#endif  // CINDER_API_ROUTER_H_
