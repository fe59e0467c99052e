// ApiServer: the REST API on Poco Net's HTTP server.
#ifndef CINDER_API_SERVER_H_
#define CINDER_API_SERVER_H_

#include <memory>

#include "cinder/options.h"
#include "cinder/status.h"
#include "cinder/volume_manager.h"

namespace cinder::api {

class ApiServer {
 public:
  // Listens on options.osapi_volume_listen:osapi_volume_listen_port (0 picks a free port).
  // `volumes` must outlive the server.
  static Result<std::unique_ptr<ApiServer>> Start(const Options& options, VolumeManager* volumes);
  virtual ~ApiServer() = default;
  virtual int port() const = 0;
  // Stops accepting connections and waits for requests in progress. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace cinder::api

#endif  // CINDER_API_SERVER_H_
