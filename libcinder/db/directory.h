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

// Whether a service was heard from within `service_down_time` seconds.
bool ServiceIsUp(const ServiceInfo& service, int service_down_time, Env* env = nullptr);

}  // namespace cinder

#endif  // CINDER_DB_DIRECTORY_H_
