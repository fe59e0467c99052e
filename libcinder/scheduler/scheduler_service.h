// SchedulerService: the cinder-scheduler topic. It keeps the pools the volume hosts report,
// places each new volume through a Scheduler (cinder/scheduler.h) among the pools of the
// cinder-volume services that are up and enabled, claiming the pool in the database so that
// schedulers running at once never over-commit it; it fails work stuck on hosts that died and
// removes expired user messages.
#ifndef CINDER_SCHEDULER_SCHEDULER_SERVICE_H_
#define CINDER_SCHEDULER_SCHEDULER_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/scheduler.h"
#include "cinder/transport.h"
#include "db/store.h"
#include "scheduler/scheduler_rpc.h"

namespace cinder {

class SchedulerService {
 public:
  // Serves the "cinder-scheduler" topic and registers the service as options.host; hands
  // what it places to `hosts` (a VolumeRpc over the same transport, volume/volume_rpc.h).
  // `store` and `transport` must outlive it; a failed start stops `transport`.
  static Result<std::unique_ptr<SchedulerService>> Start(const Options& options, Store* store, Transport* transport,
                                                         std::unique_ptr<VolumeHostClient> hosts);
  virtual ~SchedulerService() = default;
};

// The pools' capacity as metric families (docs/metrics.md): free, total, allocated and
// provisioned GiB and the volume count of each pool, labelled by pool (host@backend#pool) and
// backend. A scheduler renders it when its view of the pools changes, never on a scrape.
std::string PoolCapacityText(const std::vector<const PoolState*>& pools);

}  // namespace cinder

#endif  // CINDER_SCHEDULER_SCHEDULER_SERVICE_H_
