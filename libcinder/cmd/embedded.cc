// The embedded service: the API and the volume services in one process.
#include <filesystem>

#include "api/authtoken.h"
#include "api/server.h"
#include "cinder/auth_manager.h"
#include "cinder/backup_manager.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "cmd/daemon_base.h"
#include "common/util.h"
#include "db/store.h"

namespace cinder {

namespace {

class EmbeddedServiceImpl : public EmbeddedService {
 public:
  EmbeddedServiceImpl(Options options, std::unique_ptr<StateLock> lock, std::unique_ptr<api::ApiServer> api,
                      std::unique_ptr<api::ApiServer> identity_api, std::unique_ptr<VolumeManager> volumes,
                      std::unique_ptr<AuthManager> auth, std::unique_ptr<BackupManager> backups)
      : options_(std::move(options)),
        lock_(std::move(lock)),
        volumes_(std::move(volumes)),
        backups_(std::move(backups)),
        auth_(std::move(auth)),
        api_(std::move(api)),
        identity_api_(std::move(identity_api)) {}
  ~EmbeddedServiceImpl() override { Stop(); }

  Status Serve() {
    if (identity_api_) CINDER_RETURN_IF_ERROR(identity_api_->Serve(volumes_.get(), auth_.get()));
    return api_->Serve(volumes_.get(), auth_.get(), backups_.get());
  }

  int port() const override { return api_ ? api_->port() : 0; }
  std::string endpoint() const override {
    return "http://" + options_.osapi_volume_listen + ":" + std::to_string(port());
  }
  VolumeManager& volumes() override { return *volumes_; }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    api_->Stop();
    if (identity_api_) identity_api_->Stop();
    volumes_->Drain();
    if (backups_) backups_->Drain();
  }

 private:
  Options options_;
  std::unique_ptr<StateLock> lock_;  // released last
  std::unique_ptr<VolumeManager> volumes_;
  // The backup API; its own in-process transport (backups_->transport()) is where a backup
  // service run in this process serves.
  std::unique_ptr<BackupManager> backups_;
  std::unique_ptr<AuthManager> auth_;  // auth_strategy keystone
  std::unique_ptr<api::ApiServer> api_;
  std::unique_ptr<api::ApiServer> identity_api_;  // [identity] listen_port
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<EmbeddedService>> EmbeddedService::Start(const Options& options) {
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  // The state folder, then the port, before anything that would act on the state: a second
  // service on either stops here.
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-api", "cinder-scheduler", "cinder-volume"}));
  CINDER_ASSIGN_OR_RETURN(auto api, api::ApiServer::Listen(options));
  CINDER_ASSIGN_OR_RETURN(auto identity_api, api::ListenIdentity(options));
  VolumeManagerOptions vmo;
  vmo.options = options;
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  CINDER_ASSIGN_OR_RETURN(auto auth, api::OpenAuth(options));
  BackupManagerOptions bmo;
  bmo.options = options;
  bmo.volumes = volumes.get();
  CINDER_ASSIGN_OR_RETURN(auto backups, BackupManager::Open(bmo));
  auto svc = std::make_unique<EmbeddedServiceImpl>(options, std::move(lock), std::move(api), std::move(identity_api),
                                                   std::move(volumes), std::move(auth), std::move(backups));
  CINDER_RETURN_IF_ERROR(svc->Serve());
  return std::unique_ptr<EmbeddedService>(std::move(svc));
}

}  // namespace cinder
