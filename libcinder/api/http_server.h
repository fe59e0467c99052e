// HttpListener: the HTTP/1.1 front end of server.cc (Boost.Asio) on its own, answering every
// request with one handler. The REST API (ApiServer, server_api.cc) runs its Router on it; the
// daemons without an API run their [metrics] listener on it (metrics_listener.h). It needs no
// Poco: what the API parses with Poco (the request target, reason phrases) comes as hooks.
#ifndef CINDER_API_HTTP_SERVER_H_
#define CINDER_API_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder::api {

struct HttpHooks {
  // Sets req->path (decoded) and req->query from the request target; throws a std::exception
  // for a malformed one (answered 400). Default: the path up to '?' as it is, no query.
  std::function<void(const std::string& target, ApiRequest* req)> parse_target;
  // The reason phrase of a status. Default: a small table ("Unknown" otherwise).
  std::function<std::string(int status)> reason;
};

class HttpListener {
 public:
  using Handler = std::function<ApiResponse(ApiRequest&)>;
  // Binds options.osapi_volume_listen:osapi_volume_listen_port (0 picks a free port) with the
  // limits of the options (osapi_volume_workers handler threads, osapi_max_connections, ...),
  // and listens without answering yet. Unavailable, naming the address and port, when it
  // cannot.
  static Result<std::unique_ptr<HttpListener>> Listen(const Options& options, HttpHooks hooks = {});
  virtual ~HttpListener() = default;
  // Starts answering with `handler` (called on the handler threads; must not throw). Once.
  virtual Status Serve(Handler handler) = 0;
  virtual int port() const = 0;
  // Stops accepting connections, closes the idle ones, gives requests in progress up to 5 s,
  // then closes the rest. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace cinder::api

#endif  // CINDER_API_HTTP_SERVER_H_
