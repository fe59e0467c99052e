// SchedulerService: chooses the backend pool of each new volume from the capacity the volume
// hosts report, among the cinder-volume services that are up and enabled. (Cinder's filters
// and weighers come with the scheduler issue; this is a capacity-aware choice.)
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
  // `store` and `transport` must outlive it.
  static Result<std::unique_ptr<SchedulerService>> Start(const Options& options, Store* store,
                                                         Transport* transport);
  virtual ~SchedulerService() = default;
};

}  // namespace cinder

#endif  // CINDER_SCHEDULER_SCHEDULER_SERVICE_H_
