// ApiServer: the REST API's HTTP front end. Connections wait in one event loop (Boost.Asio on
// epoll) and take one of osapi_volume_workers handler threads only while a complete request is
// answered; limits on header size, header count, body size, read time and open connections
// are options (see docs/development.md, "The HTTP front end").
#ifndef CINDER_API_SERVER_H_
#define CINDER_API_SERVER_H_

#include <memory>

#include "cinder/auth_manager.h"
#include "cinder/backup_manager.h"
#include "cinder/options.h"
#include "cinder/status.h"
#include "cinder/volume_manager.h"

namespace cinder::api {

class ApiServer {
 public:
  // Binds options.osapi_volume_listen:osapi_volume_listen_port (0 picks a free port) and
  // listens, without answering yet, so that a daemon learns that its port is taken before it
  // opens anything else. Unavailable, naming the address and port, when it cannot (another
  // process listens there: the socket is bound without SO_REUSEPORT).
  static Result<std::unique_ptr<ApiServer>> Listen(const Options& options);
  // Listen, then Serve.
  static Result<std::unique_ptr<ApiServer>> Start(const Options& options, VolumeManager* volumes,
                                                  AuthManager* auth = nullptr);
  virtual ~ApiServer() = default;

  // Starts answering requests with `volumes` and, under auth_strategy keystone, `auth` (the
  // tokens and the identity API under /identity); both must outlive the server. Call once.
  // `backups`: serves /backups (and POST /volumes with backup_id) when given; must outlive it.
  virtual Status Serve(VolumeManager* volumes, AuthManager* auth = nullptr, BackupManager* backups = nullptr) = 0;
  virtual int port() const = 0;
  // Stops accepting connections, closes the idle ones, gives requests in progress up to 5 s,
  // then closes the rest. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace cinder::api

#endif  // CINDER_API_SERVER_H_
