// cinder-api: the Block Storage API v3.
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "api/authtoken.h"
#include "api/server.h"
#include "cinder/auth_manager.h"
#include "cinder/backup_manager.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"
#include "db/status_metrics.h"

namespace cinder {

Status RunApiService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-api"}));
  CINDER_ASSIGN_OR_RETURN(auto api, api::ApiServer::Listen(options));  // before registering anywhere
  CINDER_ASSIGN_OR_RETURN(auto identity_api, api::ListenIdentity(options));
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  VolumeManagerOptions vmo;
  vmo.options = b.options;
  vmo.transport = b.transport.get();
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  BackupManagerOptions bmo;
  bmo.options = b.options;
  bmo.transport = b.transport.get();
  bmo.volumes = volumes.get();
  CINDER_ASSIGN_OR_RETURN(auto backups, BackupManager::Open(bmo));
  CINDER_ASSIGN_OR_RETURN(auto auth, api::OpenAuth(b.options));
  auto status_metrics = StatusMetrics::Start(b.options, b.store.get());  // for /metrics
  if (identity_api) CINDER_RETURN_IF_ERROR(identity_api->Serve(volumes.get(), auth.get()));
  CINDER_RETURN_IF_ERROR(api->Serve(volumes.get(), auth.get(), backups.get()));
  std::cout << "cinder-api: Block Storage API v3 listening on http://" << b.options.osapi_volume_listen << ":"
            << api->port() << std::endl;
  WaitForStop("cinder-api", &stop);
  api->Stop();
  if (identity_api) identity_api->Stop();
  b.transport->Stop();
  return Status::OK();
}

namespace {

class ServiceClientImpl : public ServiceClient {
 public:
  ServiceClientImpl(Base base, std::unique_ptr<VolumeManager> volumes, std::unique_ptr<BackupManager> backups)
      : base_(std::move(base)), volumes_(std::move(volumes)), backups_(std::move(backups)) {}
  ~ServiceClientImpl() override { Stop(); }
  VolumeManager& volumes() override { return *volumes_; }
  BackupManager& backups() override { return *backups_; }
  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    base_.transport->Stop();
  }

 private:
  Base base_;  // the store and the transport outlive the managers
  std::unique_ptr<VolumeManager> volumes_;
  std::unique_ptr<BackupManager> backups_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<ServiceClient>> ServiceClient::Connect(const Options& options) {
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  VolumeManagerOptions vmo;
  vmo.options = b.options;
  vmo.transport = b.transport.get();
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  BackupManagerOptions bmo;
  bmo.options = b.options;
  bmo.transport = b.transport.get();
  bmo.volumes = volumes.get();
  CINDER_ASSIGN_OR_RETURN(auto backups, BackupManager::Open(bmo));
  return std::unique_ptr<ServiceClient>(
      std::make_unique<ServiceClientImpl>(std::move(b), std::move(volumes), std::move(backups)));
}

int CinderApiMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-api", "the Block Storage API v3", args, &RunApiService);
}

}  // namespace cinder
