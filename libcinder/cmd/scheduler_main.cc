// cinder-scheduler: chooses the backend of each new volume.
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "api/metrics_listener.h"
#include "cinder/service.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"
#include "rpc/topics.h"
#include "scheduler/scheduler_service.h"
#include "volume/volume_rpc.h"

namespace cinder {

Status RunSchedulerService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-scheduler"}));
  // [metrics] listen: this process's /metrics (docs/metrics.md); before anything else opens.
  CINDER_ASSIGN_OR_RETURN(auto metrics, api::StartMetricsListener(options));
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto scheduler, SchedulerService::Start(b.options, b.store.get(), b.transport.get(),
                                                                  std::make_unique<VolumeRpc>(b.transport.get())));
  std::cout << "cinder-scheduler: serving " << rpc::kSchedulerTopic << " as " << b.options.host << std::endl;
  if (metrics) {
    const std::string& listen = options.metrics.listen;
    std::cout << "cinder-scheduler: metrics at http://" << listen.substr(0, listen.rfind(':')) << ":" << metrics->port()
              << "/metrics" << std::endl;
  }
  WaitForStop("cinder-scheduler", &stop);
  if (metrics) metrics->Stop();
  b.transport->Stop();  // finishes the requests in progress, takes no more
  return Status::OK();
}

int CinderSchedulerMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-scheduler", "chooses the backend of each new volume", args, &RunSchedulerService);
}

}  // namespace cinder
