#include "cmd/daemon_base.h"

#include <filesystem>
#include <iostream>

#include "common/util.h"
#include "db/directory.h"

namespace cinder {

// Blocks the stop signals in this thread (and so in every thread started after it).
sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

void WaitForStop(const char* name, sigset_t* stop) {
  int sig = 0;
  sigwait(stop, &sig);
  std::cout << name << ": stopping (signal " << sig << ")" << std::endl;
}

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

Status EnsureStatePath(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_path, ec);
  if (ec) {
    return InvalidArgument(options.origin + ": [DEFAULT] state_path: cannot create '" +
                           options.state_path + "': " + ec.message());
  }
  return Status::OK();
}

}  // namespace cinder
