// The embedded service: the API and the volume services in one process.
#include <filesystem>

#include "api/server.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "cmd/daemon_base.h"
#include "common/util.h"
#include "db/store.h"

namespace cinder {

namespace {

class EmbeddedServiceImpl : public EmbeddedService {
 public:
  EmbeddedServiceImpl(Options options, std::unique_ptr<VolumeManager> volumes)
      : options_(std::move(options)), volumes_(std::move(volumes)) {}
  ~EmbeddedServiceImpl() override { Stop(); }

  Status StartApi() {
    CINDER_ASSIGN_OR_RETURN(api_, api::ApiServer::Start(options_, volumes_.get()));
    return Status::OK();
  }

  int port() const override { return api_ ? api_->port() : 0; }
  std::string endpoint() const override {
    return "http://" + options_.osapi_volume_listen + ":" + std::to_string(port());
  }
  VolumeManager& volumes() override { return *volumes_; }

  void Stop() override {
    if (api_) {
      api_->Stop();
      api_.reset();
    }
    if (volumes_) volumes_->Drain();
  }

 private:
  Options options_;
  std::unique_ptr<VolumeManager> volumes_;
  std::unique_ptr<api::ApiServer> api_;
};

}  // namespace

Result<std::unique_ptr<EmbeddedService>> EmbeddedService::Start(const Options& options) {
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  VolumeManagerOptions vmo;
  vmo.options = options;
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  auto svc = std::make_unique<EmbeddedServiceImpl>(options, std::move(volumes));
  CINDER_RETURN_IF_ERROR(svc->StartApi());
  return std::unique_ptr<EmbeddedService>(std::move(svc));
}

}  // namespace cinder
