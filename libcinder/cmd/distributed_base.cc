// OpenBase: what every distributed service opens first (kept apart from daemon_base.cc so that
// cinder-all, which runs in process, does not link ZeroMQ).
#include "cmd/daemon_base.h"
#include "common/log.h"
#include "common/util.h"
#include "db/directory.h"
#include "rpc/metrics_transport.h"
#include "rpc/transport_key.h"

namespace cinder {

namespace {

// The transport's security as cinder.conf sets it: the deployment's CURVE key pair, or, with
// transport_security = none, plain TCP (and a warning when that is reachable from elsewhere).
Status SecureTransport(const Options& options, ZmqTransportOptions* z) {
  if (options.transport_security == "none") {
    const bool loopback = options.my_ip == "localhost" || options.my_ip == "::1" || options.my_ip.rfind("127.", 0) == 0;
    if (!loopback) {
      CINDER_LOG(kWarning, "rpc") << "transport_security = none and my_ip = " << options.my_ip
                                  << ": RPC is neither encrypted nor authenticated, and anyone who reaches this "
                                     "address can send requests to this service";
    }
    return Status::OK();
  }
  const std::string path = options.TransportKeyFile();
  auto key = rpc::ReadTransportKey(path);
  if (!key.ok()) {
    const std::string conf = options.origin == "defaults" ? "" : " --config-file " + options.origin;
    return Status(key.status().code(),
                  key.status().message() +
                      ". The distributed services authenticate each other with the deployment's transport key "
                      "(transport_security = curve): make it once with `cinder-manage" +
                      conf +
                      " transport keygen`, copy it to every host at transport_key_file, or set "
                      "transport_security = none for services on a single trusted host");
  }
  z->curve_public_key = key->public_key;
  z->curve_secret_key = key->secret_key;
  return Status::OK();
}

}  // namespace

Result<Base> OpenBase(const Options& in) {
  Base b;
  b.options = in;
  if (b.options.host.empty()) b.options.host = HostName();
  ZmqTransportOptions z;
  CINDER_RETURN_IF_ERROR(SecureTransport(b.options, &z));  // before anything opens: a missing key fails fast
  CINDER_ASSIGN_OR_RETURN(b.store, Store::Open(b.options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(b.store->CheckSchema());
  z.bind_address = b.options.my_ip;
  z.port = b.options.rpc_port;
  z.directory = NewDbDirectory(b.store.get(), b.options.service_down_time);
  z.workers = b.options.volume_workers;
  CINDER_ASSIGN_OR_RETURN(auto zmq, NewZmqTransport(z));
  b.transport = rpc::WithMetrics(std::move(zmq));  // RPC requests counted (docs/metrics.md)
  return b;
}

}  // namespace cinder
