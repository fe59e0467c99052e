// The services table as the transports' directory: no broker, the database says who serves what.
#ifndef CINDER_DB_DIRECTORY_H_
#define CINDER_DB_DIRECTORY_H_

#include <memory>

#include "cinder/transport.h"
#include "db/store.h"

namespace cinder {

class Env;

// Topics resolve to the endpoints of the services that are up (heard from within
// `service_down_time` seconds) and have one: "cinder-scheduler" to every enabled scheduler,
// "cinder-volume.HOST@BACKEND" to that volume service. `store` must outlive the directory.
std::shared_ptr<Directory> NewDbDirectory(Store* store, int service_down_time);

// Whether a service was heard from within `service_down_time` seconds. Heartbeats missed
// while this process could not reach the database either (see NoteDatabaseUnreachable) do not
// count: a service up when the outage began is heard from as of its end, so that no service
// looks down for the database's restart (on the real clock only: with another Env's clock).
bool ServiceIsUp(const ServiceInfo& service, int service_down_time, Env* env = nullptr);

// Whether the service takes no new volumes: its cluster's flag when it is in one (Cinder's
// service query: a clustered service's own flag does not count), else its own.
inline bool ServiceDisabled(const ServiceInfo& service) {
  if (service.frozen) return true;  // Cinder's scheduler reads only services not frozen
  return service.cluster_name ? service.cluster_disabled : service.disabled;
}

// The Store calls this each time it finds the database out of reach (a restart, a dropped
// connection): the outages ServiceIsUp allows for.
void NoteDatabaseUnreachable();

}  // namespace cinder

#endif  // CINDER_DB_DIRECTORY_H_
