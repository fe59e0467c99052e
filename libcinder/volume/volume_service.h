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

class VolumeService {
 public:
  // Opens the drivers of options.backends, repairs interrupted work, serves the topics,
  // registers the services and reports capacity. `store` and `transport` must outlive it.
  // When it fails after serving a topic, it stops `transport` (a start failure is fatal).
  static Result<std::unique_ptr<VolumeService>> Start(const Options& options, const DriverRegistry& drivers,
                                                      Store* store, Transport* transport);
  virtual ~VolumeService() = default;
  // Blocks until the work accepted so far is done.
  virtual void Drain() = 0;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_VOLUME_SERVICE_H_
