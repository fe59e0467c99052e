// Transport: how libcinder's services reach each other. In-process when embedded, ZeroMQ
// between processes and machines; the same calls either way.
#ifndef CINDER_TRANSPORT_H_
#define CINDER_TRANSPORT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cinder/context.h"
#include "cinder/status.h"

namespace cinder {

// The RPC version of this library. A server refuses requests of any other version with
// Unimplemented rather than misreading them: services of different versions do not mix, so
// upgrade every service of a deployment together.
// Version 2: creates go to a scheduler, which places them (select_backend is gone).
// Version 3: snapshots, revert, retype and migration between hosts.
// Version 4: typed messages, JSON objects (rpc/codec.h), instead of key=value lines.
inline constexpr int kRpcVersion = 4;

// One remote procedure call: the method, its arguments (opaque text; a JSON object for
// libcinder's own services), the RPC version it was written for, and who asked.
struct RpcRequest {
  int version = kRpcVersion;
  std::string method;
  std::string args;
  RequestContext ctx;
};

// Serves the requests of one topic: returns the reply payload, or an error that reaches the
// caller as the same Status (code and message). Called on the transport's worker threads.
using RpcHandler = std::function<Result<std::string>(const RpcRequest&)>;

// Where the servers of a topic can be reached ("tcp://10.0.0.5:41233"). The distributed
// services read it from the services table; StaticDirectory is for tests and fixed setups.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual Result<std::vector<std::string>> Endpoints(const std::string& topic) = 0;
  // The endpoints of `topic` proved stale (none took a request): a caching directory looks
  // them up afresh next time.
  virtual void Forget(const std::string& topic) {}
};

// A Directory held in memory; safe for concurrent use.
class StaticDirectory : public Directory {
 public:
  void Set(const std::string& topic, std::vector<std::string> endpoints);
  Result<std::vector<std::string>> Endpoints(const std::string& topic) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> topics_;
};

// A Transport is safe for concurrent use.
class Transport {
 public:
  virtual ~Transport() = default;

  // Serves `topic` with `handler`; returns the endpoint others reach it at ("inproc://TOPIC"
  // in process; over ZeroMQ "tcp://HOST:PORT", one socket for every topic of the transport).
  // AlreadyExists if this transport serves it already.
  virtual Result<std::string> Serve(const std::string& topic, RpcHandler handler) = 0;
  // Hands the request to one server of `topic` and returns once that server has accepted it,
  // without waiting for the handler. Unavailable when no server accepted it within `timeout`.
  virtual Status Cast(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) = 0;
  // Runs the request on one server of `topic` and returns its reply. A server that does not
  // accept the request in time is skipped for the next one. Unavailable when no server of the
  // topic is known or accepted the request within `timeout` (it will not run); DeadlineExceeded
  // when a server accepted it and did not reply within `timeout` (it may still run there).
  virtual Result<std::string> Call(const std::string& topic, const RpcRequest& request,
                                   std::chrono::milliseconds timeout) = 0;
  // Casts to every server of `topic`; returns how many accepted the request.
  virtual Result<int> Fanout(const std::string& topic, const RpcRequest& request,
                             std::chrono::milliseconds timeout) = 0;
  // Blocks until every request this transport has accepted has been run by its handler.
  virtual void Drain() = 0;
  // Stops serving; requests in progress finish. Idempotent.
  virtual void Stop() = 0;
};

// Every service in this process: handlers run on `workers` threads.
std::unique_ptr<Transport> NewInProcessTransport(int workers = 4);

struct ZmqTransportOptions {
  std::string bind_address = "127.0.0.1";  // where Serve binds
  int port = 0;                            // the port of the served topics; 0: a free one
  std::string advertise_host;              // host in endpoints; default: bind_address
  std::shared_ptr<Directory> directory;    // resolves the topics this transport calls
  int workers = 4;                         // threads running handlers
  // ZeroMQ CURVE (authenticated encryption, libzmq's own mechanism): the deployment's key
  // pair, Z85 text of 40 characters each. With it every connection is encrypted; the server
  // takes connections only from clients presenting this public key (checked by a ZAP handler;
  // each refused peer is logged, rate-limited, by address) and clients talk only to a server
  // that holds the secret key. Both empty: plain TCP, anyone who reaches the port is served.
  std::string curve_public_key;
  std::string curve_secret_key;
};

// ZeroMQ between processes: one ROUTER socket for the served topics, a DEALER per request; no
// broker. Requests are acknowledged on arrival; a server that has not acknowledged within a
// second is skipped while other servers of the topic remain. InvalidArgument for keys that are
// not a CURVE key pair; FailedPrecondition when keys are given and this libzmq lacks CURVE.
Result<std::unique_ptr<Transport>> NewZmqTransport(const ZmqTransportOptions& options);

}  // namespace cinder

#endif  // CINDER_TRANSPORT_H_
