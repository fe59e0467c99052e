#include "cinder/scheduler.h"
#include "common/util.h"

namespace cinder {

namespace {

class CapacityScheduler : public Scheduler {
 public:
  Result<std::string> SelectPool(const RequestSpec& spec,
                                 const std::vector<PoolCapabilities>& pools) override {
    const PoolCapabilities* best = nullptr;
    double largest = 0;
    bool any_enabled = false, any_usable = false;
    for (const auto& p : pools) {
      if (!p.enabled) continue;
      any_enabled = true;
      if (!p.up || spec.exclude.count(p.host)) continue;
      if (!spec.availability_zone.empty() && p.availability_zone != spec.availability_zone) continue;
      any_usable = true;
      largest = std::max(largest, p.free_capacity_gb);
      if (static_cast<double>(spec.size) > p.free_capacity_gb) continue;
      if (!best || p.free_capacity_gb - p.placed_gb > best->free_capacity_gb - best->placed_gb) best = &p;
    }
    if (best) return best->host;
    if (!pools.empty() && !any_enabled) {
      return InvalidArgument("Invalid input received: No valid backend was found: every backend's "
                             "cinder-volume service is disabled.");
    }
    if (!any_usable) {
      return InvalidArgument("Invalid input received: No valid backend was found: no cinder-volume "
                             "service is up" + std::string(spec.exclude.empty() ? "." : " that was not tried already."));
    }
    return InvalidArgument("Invalid input received: Requested volume size " + std::to_string(spec.size) +
                           " GB is larger than the free capacity of every backend (largest: " +
                           FormatGb(largest) + " GB).");
  }
};

}  // namespace

std::unique_ptr<Scheduler> NewCapacityScheduler() { return std::make_unique<CapacityScheduler>(); }

}  // namespace cinder
