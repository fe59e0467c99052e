// VolumeService: the volume host. It runs the drivers of this host's backends behind the
// transport topics "cinder-volume.<host>@<backend>", does their work on workers (one volume
// at a time), records the outcome with compare-and-swaps, reports its pools to the database and
// the schedulers, sends a create the driver failed back to be placed elsewhere, and repairs at
// start what an earlier run left half-done.
#ifndef CINDER_VOLUME_VOLUME_SERVICE_H_
#define CINDER_VOLUME_VOLUME_SERVICE_H_

#include <memory>
#include <string>

#include "cinder/options.h"
#include "cinder/transport.h"
#include "cinder/volume_driver.h"
#include "db/store.h"

namespace cinder {

// RPC methods of a volume host (arguments as rpc::Args):
//   create_volume {id, size, attempt, tried}, extend_volume {id, new_size},
//   delete_volume {id}                                                         (casts)
//   capacity {} -> {total, free}, local_path {id} -> {path}                    (calls)
// and of the schedulers:
//   update_service_capabilities {host, backend_host, capabilities (JSON), volume_count}
//                                                   (fanout from every volume host)
//   create_volume {id, attempt, tried, [volume (JSON), extra_specs (JSON), hint.*]}  (cast:
//                  from the API, and back from a volume host to reschedule)
inline std::string VolumeTopic(const std::string& host_at_backend) {
  return "cinder-volume." + host_at_backend;
}
inline constexpr char kSchedulerTopic[] = "cinder-scheduler";

class VolumeService {
 public:
  // Opens the drivers of options.backends, repairs interrupted work, serves the topics,
  // registers the services and reports capacity. `store` and `transport` must outlive it.
  // When it fails after serving a topic, it stops `transport` (a start failure is fatal).
  static Result<std::unique_ptr<VolumeService>> Start(const Options& options,
                                                      const DriverRegistry& drivers, Store* store,
                                                      Transport* transport);
  virtual ~VolumeService() = default;
  // Blocks until the work accepted so far is done.
  virtual void Drain() = 0;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_VOLUME_SERVICE_H_
