// SchedulerService: the cinder-scheduler topic. It keeps the capacity the volume hosts report,
// and chooses the pool of each new volume through a Scheduler (cinder/scheduler.h) among the
// cinder-volume services that are up and enabled; it also fails work stuck on hosts that died.
#ifndef CINDER_SCHEDULER_SCHEDULER_SERVICE_H_
#define CINDER_SCHEDULER_SCHEDULER_SERVICE_H_

#include <memory>

#include "cinder/options.h"
#include "cinder/transport.h"
#include "db/store.h"

namespace cinder {

class SchedulerService {
 public:
  // Serves the "cinder-scheduler" topic and registers the service as options.host.
  // `store` and `transport` must outlive it; a failed start stops `transport`.
  static Result<std::unique_ptr<SchedulerService>> Start(const Options& options, Store* store,
                                                         Transport* transport);
  virtual ~SchedulerService() = default;
};

}  // namespace cinder

#endif  // CINDER_SCHEDULER_SCHEDULER_SERVICE_H_
