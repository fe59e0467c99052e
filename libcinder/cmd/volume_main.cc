// cinder-volume: the volume service of this host's backends.
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "api/metrics_listener.h"
#include "cinder/service.h"
#include "cinder/volume_driver.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"
#include "volume/volume_service.h"

namespace cinder {

Status RunVolumeService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-volume"}));
  // [metrics] listen: this process's /metrics (docs/metrics.md); before anything else opens.
  CINDER_ASSIGN_OR_RETURN(auto metrics, api::StartMetricsListener(options));
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto volume,
                          VolumeService::Start(b.options, DriverRegistry::Builtin(), b.store.get(), b.transport.get()));
  std::cout << "cinder-volume: serving";
  for (const auto& be : b.options.backends) std::cout << " " << b.options.host << "@" << be.name;
  std::cout << std::endl;
  if (metrics) {
    const std::string& listen = options.metrics.listen;
    std::cout << "cinder-volume: metrics at http://" << listen.substr(0, listen.rfind(':')) << ":" << metrics->port()
              << "/metrics" << std::endl;
  }
  WaitForStop("cinder-volume", &stop);
  if (metrics) metrics->Stop();
  b.transport->Stop();  // takes no more work
  volume->Drain();      // finishes the work accepted
  return Status::OK();
}

int CinderVolumeMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-volume", "the volume service of this host's backends", args, &RunVolumeService);
}

}  // namespace cinder
