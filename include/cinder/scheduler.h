// Scheduler: chooses the backend pool of a new volume as Cinder's FilterScheduler does:
// configured filters remove the pools that cannot hold it, configured weighers rank the rest.
#ifndef CINDER_SCHEDULER_H_
#define CINDER_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cinder/status.h"

namespace cinder {

// A pool's capabilities as the filters read them, prepared by ReadCapabilities (opaque).
struct PreparedCapabilities;

// One pool as its volume service last reported it (Cinder's PoolState), and what is known of it
// since. Capacities "infinite" and "unknown" are +infinity and NaN.
struct PoolState {
  std::string host;          // host@backend#pool
  std::string backend_host;  // host@backend: the cinder-volume service
  std::string pool_name;
  std::string availability_zone;
  double total_capacity_gb = 0;
  double free_capacity_gb = 0;
  double allocated_capacity_gb = 0;    // sizes of the volumes on the pool
  double provisioned_capacity_gb = 0;  // reported, or allocated_capacity_gb
  double reserved_percentage = 0;
  bool thin_provisioning_support = false;
  bool thick_provisioning_support = false;
  double max_over_subscription_ratio = 1.0;  // resolved ("auto" computed; 1 without thin support)
  // What ReadCapabilities prepared from `capabilities` below for CapabilitiesFilter (names
  // interned, each value's number and truth parsed once), shared by copies; beside the figures
  // the filters read, for a pool's cache lines. Call ReadCapabilities again after changing
  // `capabilities`; a pool it never saw is filtered from the map, more slowly.
  std::shared_ptr<const PreparedCapabilities> prepared;
  std::string volume_backend_name;
  std::string vendor_name;
  std::string driver_version;
  std::string storage_protocol;
  bool multiattach = false;
  bool qos_support = false;
  std::optional<std::string> filter_function;
  std::optional<std::string> goodness_function;
  int64_t volume_count = 0;  // live volumes on the pool, any status
  std::string updated;       // when the pool was last reported
  // Every reported capability as text, as Python's str() prints it ("True", "20.0", "thin"):
  // what extra specs, JSON queries and filter/goodness functions look up.
  std::map<std::string, std::string> capabilities;
};

// A pool as GET /scheduler-stats/get_pools shows it: its name and last reported capabilities.
struct PoolInfo {
  std::string name;          // host@backend#pool
  std::string backend_host;  // host@backend
  std::map<std::string, std::string> capabilities;
};

// Fills the typed fields of `p` and p.prepared from p.capabilities, as Cinder's PoolState reads
// a report; `default_max_over_subscription_ratio` is the global option ("20.0" or "auto").
void ReadCapabilities(PoolState* p, const std::string& default_max_over_subscription_ratio);

// What a volume asks of its pool (Cinder's request_spec and filter_properties).
struct RequestSpec {
  std::string volume_id;
  int64_t size = 0;                                // GiB
  std::string availability_zone;                   // "" for any
  std::map<std::string, std::string> extra_specs;  // of the volume type
  std::map<std::string, std::string> qos_specs;
  // What filter and goodness functions see as volume.*: size, availability_zone,
  // volume_type_id, user_id, project_id, display_name, ...
  std::map<std::string, std::string> volume_properties;
  // Scheduler hints. same_host / different_host: the listed volumes' pools, resolved by the
  // caller (a volume not visible to the requester is absent); an id that is not a UUID makes
  // the hint fail every pool, as in Cinder.
  std::vector<std::string> same_host_pools, different_host_pools;
  bool same_host_given = false, different_host_given = false;
  bool hint_invalid = false;
  std::optional<std::string> query;  // JsonFilter's hint
  std::set<std::string> exclude;     // pools already tried (IgnoreAttemptedHostsFilter)
  // Only pools of this host@backend (Cinder's resource_backend: a volume made from a snapshot
  // or another volume goes where its source is).
  std::optional<std::string> resource_backend;
  // The pool the volume is on already (a retype): it passes the capacity filter, as in Cinder.
  std::optional<std::string> vol_exists_on;
};

struct SchedulerConfig {
  // Cinder's names; defaults as Cinder's.
  std::vector<std::string> filters = {"AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter"};
  std::vector<std::string> weighers = {"CapacityWeigher"};
  bool stochastic = false;  // scheduler_weight_handler = ...StochasticHostWeightHandler
  double capacity_weight_multiplier = 1.0;
  double allocated_capacity_weight_multiplier = -1.0;
  double volume_number_multiplier = -1.0;
};

// A Scheduler is safe for concurrent use.
class Scheduler {
 public:
  // InvalidArgument naming an unknown filter or weigher ("Scheduler Host Filter X could not be
  // found.").
  static Result<std::unique_ptr<Scheduler>> Create(const SchedulerConfig& config);
  virtual ~Scheduler() = default;
  // The pools that pass every filter, best first (at most `limit` of them: ranking only the
  // best few is what makes a decision over thousands of pools cheap). Empty: no valid backend.
  // The pools are not copied: a service keeps them shared, and the result points to them.
  virtual std::vector<const PoolState*> Rank(const RequestSpec& spec, const std::vector<const PoolState*>& pools,
                                             size_t limit = SIZE_MAX) const = 0;
  // The same over the pools of a vector.
  std::vector<const PoolState*> Rank(const RequestSpec& spec, const std::vector<PoolState>& pools,
                                     size_t limit = SIZE_MAX) const;
  // Whether one pool passes every filter (a claim re-checks its pool with fresh figures).
  virtual bool Passes(const RequestSpec& spec, const PoolState& pool) const = 0;
};

// Cinder's capacity arithmetic (scheduler/sched_utils.py).
struct CapacityFactors {
  double total_available_capacity = 0;
  double virtual_free_capacity = 0;
};
CapacityFactors CalculateCapacityFactors(const PoolState& p, bool thin);

// Accounts a volume of `size_gb` placed on `p` before its next report (consume_from_volume);
// a negative size gives the space (and the volume count) back, as a reschedule does.
void ConsumeFromVolume(PoolState* p, double size_gb);

}  // namespace cinder

#endif  // CINDER_SCHEDULER_H_
