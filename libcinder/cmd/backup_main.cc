// cinder-backup: the backup service of this host (its posix backup store).
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "api/metrics_listener.h"
#include "backup/backup_service.h"
#include "cinder/service.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"

namespace cinder {

Status RunBackupService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-backup"}));
  // [metrics] listen: this process's /metrics (docs/metrics.md); before anything else opens.
  CINDER_ASSIGN_OR_RETURN(auto metrics, api::StartMetricsListener(options));
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto backup, BackupService::Start(b.options, b.store.get(), b.transport.get()));
  std::cout << "cinder-backup: serving " << b.options.host << " (backups in " << b.options.BackupPosixPath() << ")"
            << std::endl;
  if (metrics) {
    const std::string& listen = options.metrics.listen;
    std::cout << "cinder-backup: metrics at http://" << listen.substr(0, listen.rfind(':')) << ":" << metrics->port()
              << "/metrics" << std::endl;
  }
  WaitForStop("cinder-backup", &stop);
  if (metrics) metrics->Stop();
  b.transport->Stop();  // takes no more work
  backup->Drain();      // finishes the work accepted
  return Status::OK();
}

int CinderBackupMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-backup", "the backup service of this host", args, &RunBackupService);
}

}  // namespace cinder
