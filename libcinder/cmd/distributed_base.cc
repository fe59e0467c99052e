// OpenBase: what every distributed service opens first (kept apart from daemon_base.cc so that
// cinder-all, which runs in process, does not link ZeroMQ).
#include "cmd/daemon_base.h"
#include "common/util.h"
#include "db/directory.h"

namespace cinder {

Result<Base> OpenBase(const Options& in) {
  Base b;
  b.options = in;
  if (b.options.host.empty()) b.options.host = HostName();
  CINDER_ASSIGN_OR_RETURN(b.store, Store::Open(b.options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(b.store->CheckSchema());
  ZmqTransportOptions z;
  z.bind_address = b.options.my_ip;
  z.port = b.options.rpc_port;
  z.directory = NewDbDirectory(b.store.get(), b.options.service_down_time);
  z.workers = b.options.volume_workers;
  CINDER_ASSIGN_OR_RETURN(b.transport, NewZmqTransport(z));
  return b;
}

}  // namespace cinder
