// The embedded service: the API, the volume services and the backup service in one process.
#include <filesystem>

#include "api/authtoken.h"
#include "api/server.h"
#include "backup/backup_service.h"
#include "cinder/auth_manager.h"
#include "cinder/backup_manager.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "cmd/daemon_base.h"
#include "common/metrics.h"
#include "common/util.h"
#include "db/status_metrics.h"
#include "db/store.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

class EmbeddedServiceImpl : public EmbeddedService {
 public:
  EmbeddedServiceImpl(Options options, std::unique_ptr<StateLock> lock, std::unique_ptr<api::ApiServer> api,
                      std::unique_ptr<api::ApiServer> identity_api, std::unique_ptr<VolumeManager> volumes,
                      std::unique_ptr<AuthManager> auth, std::unique_ptr<BackupManager> backups,
                      std::unique_ptr<BackupService> backup)
      : options_(std::move(options)),
        lock_(std::move(lock)),
        volumes_(std::move(volumes)),
        backups_(std::move(backups)),
        backup_(std::move(backup)),
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
  BackupManager& backups() override { return *backups_; }
  std::string MetricsText() const override { return metrics::Registry::Default().Text(); }
  void set_status_metrics(std::unique_ptr<StatusMetrics> m) { status_metrics_ = std::move(m); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    api_->Stop();
    if (identity_api_) identity_api_->Stop();
    status_metrics_.reset();
    volumes_->Drain();
    // The backup service's work reports back to the volume service (a restore's volume) and
    // the other way round (a volume created for a restore): both drained, then no request
    // reaches the backup service before it goes.
    for (int i = 0; i < 2; ++i) {
      if (backups_) backups_->Drain();
      backup_->Drain();
      volumes_->Drain();
    }
    static_cast<VolumeManagerImpl*>(volumes_.get())->transport()->Stop();
    backup_.reset();
  }

 private:
  Options options_;
  std::unique_ptr<StateLock> lock_;  // released last
  std::unique_ptr<VolumeManager> volumes_;
  // The backup API, on the volume manager's in-process transport, where the backup service
  // serves.
  std::unique_ptr<BackupManager> backups_;
  std::unique_ptr<BackupService> backup_;  // serves the volume manager's transport: goes first
  std::unique_ptr<AuthManager> auth_;      // auth_strategy keystone
  std::unique_ptr<api::ApiServer> api_;
  std::unique_ptr<api::ApiServer> identity_api_;   // [identity] listen_port
  std::unique_ptr<StatusMetrics> status_metrics_;  // the database's counts for /metrics
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<EmbeddedService>> EmbeddedService::Start(const Options& options) {
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  // The state folder, then the port, before anything that would act on the state: a second
  // service on either stops here.
  CINDER_ASSIGN_OR_RETURN(
      auto lock, StateLock::Acquire(options, {"cinder-api", "cinder-scheduler", "cinder-volume", "cinder-backup"}));
  CINDER_ASSIGN_OR_RETURN(auto api, api::ApiServer::Listen(options));
  CINDER_ASSIGN_OR_RETURN(auto identity_api, api::ListenIdentity(options));
  VolumeManagerOptions vmo;
  vmo.options = options;
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  // The backup service on the volume manager's store and in-process transport (backups in
  // backup_posix_path, by default <state_path>/backup).
  auto* impl = static_cast<VolumeManagerImpl*>(volumes.get());
  CINDER_ASSIGN_OR_RETURN(auto auth, api::OpenAuth(options));
  BackupManagerOptions bmo;
  bmo.options = options;
  bmo.transport = impl->transport();
  bmo.volumes = volumes.get();
  CINDER_ASSIGN_OR_RETURN(auto backups, BackupManager::Open(bmo));
  Options backup_options = options;
  if (backup_options.host.empty()) backup_options.host = HostName();  // as VolumeManager::Open
  // Last: once it serves the transport, only the service's Stop may end it.
  // Its progress goes to the callback an embedding program set on the manager.
  auto progress = [m = backups.get()](const BackupProgress& p) {
    if (auto cb = m->progress_callback()) cb(p);
  };
  CINDER_ASSIGN_OR_RETURN(auto backup,
                          BackupService::Start(backup_options, impl->store(), impl->transport(), progress));
  auto svc =
      std::make_unique<EmbeddedServiceImpl>(options, std::move(lock), std::move(api), std::move(identity_api),
                                            std::move(volumes), std::move(auth), std::move(backups), std::move(backup));
  svc->set_status_metrics(StatusMetrics::Start(options, impl->store()));
  CINDER_RETURN_IF_ERROR(svc->Serve());
  return std::unique_ptr<EmbeddedService>(std::move(svc));
}

}  // namespace cinder
