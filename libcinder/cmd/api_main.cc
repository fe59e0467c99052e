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

int CinderApiMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-api", "the Block Storage API v3", args, &RunApiService);
}

}  // namespace cinder
