// Scheduler: chooses the backend pool of a new volume from the pools' latest capabilities.
#ifndef CINDER_SCHEDULER_H_
#define CINDER_SCHEDULER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cinder/status.h"

namespace cinder {

// What a volume asks of its pool.
struct RequestSpec {
  int64_t size = 0;                  // GiB
  std::string availability_zone;     // "" for any
  std::set<std::string> exclude;     // host@backend#pool already tried
};

// One pool as its volume service last reported it, and what the scheduler knows of it since.
struct PoolCapabilities {
  std::string host;                  // host@backend#pool
  std::string availability_zone;
  double total_capacity_gb = 0;
  double free_capacity_gb = 0;
  double placed_gb = 0;              // placed here since the report (not yet in free)
  bool up = true;                    // its service was heard from within service_down_time
  bool enabled = true;               // its service is not disabled
};

// A Scheduler is safe for concurrent use.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The chosen pool's host@backend#pool. InvalidArgument "No valid backend was found: ..."
  // naming why when no pool fits.
  virtual Result<std::string> SelectPool(const RequestSpec& spec,
                                         const std::vector<PoolCapabilities>& pools) = 0;
};

// The capacity-aware choice: among pools that are up, enabled, in the zone, not excluded and
// with room (the reported free space: the file driver is thin), the one with the most free
// space less what was placed on it since its report, so that a burst spreads.
std::unique_ptr<Scheduler> NewCapacityScheduler();

}  // namespace cinder

#endif  // CINDER_SCHEDULER_H_
