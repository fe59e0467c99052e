// What each daemon runs: RunEmbeddedService (cinder-all), RunApiService, RunSchedulerService
// and RunVolumeService. Each blocks SIGINT and SIGTERM, starts, prints where it listens, and
// stops in order when one of them arrives.
#include <signal.h>

#include <iostream>

#include "api/server.h"
#include "cinder/service.h"
#include "cinder/transport.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/directory.h"
#include "db/store.h"
#include "scheduler/scheduler_service.h"
#include "volume/volume_service.h"

namespace cinder {

namespace {

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

// What every distributed service opens first: its options completed, the shared database
// (schema current), and a ZeroMQ transport that finds its peers in the services table.
struct Base {
  Options options;
  std::unique_ptr<Store> store;
  std::unique_ptr<Transport> transport;
};

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

}  // namespace

Status RunEmbeddedService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_ASSIGN_OR_RETURN(auto svc, EmbeddedService::Start(options));
  std::cout << "cinder-all: Block Storage API v3 listening on " << svc->endpoint() << std::endl;
  WaitForStop("cinder-all", &stop);
  svc->Stop();
  return Status::OK();
}

Status RunApiService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  VolumeManagerOptions vmo;
  vmo.options = b.options;
  vmo.transport = b.transport.get();
  CINDER_ASSIGN_OR_RETURN(auto volumes, VolumeManager::Open(vmo));
  CINDER_ASSIGN_OR_RETURN(auto api, api::ApiServer::Start(b.options, volumes.get()));
  std::cout << "cinder-api: Block Storage API v3 listening on http://" << b.options.osapi_volume_listen
            << ":" << api->port() << std::endl;
  WaitForStop("cinder-api", &stop);
  api->Stop();
  b.transport->Stop();
  return Status::OK();
}

Status RunSchedulerService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto scheduler, SchedulerService::Start(b.options, b.store.get(), b.transport.get()));
  std::cout << "cinder-scheduler: serving " << kSchedulerTopic << " as " << b.options.host << std::endl;
  WaitForStop("cinder-scheduler", &stop);
  b.transport->Stop();  // finishes the requests in progress, takes no more
  return Status::OK();
}

Status RunVolumeService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto volume, VolumeService::Start(b.options, DriverRegistry::Builtin(),
                                                            b.store.get(), b.transport.get()));
  std::cout << "cinder-volume: serving";
  for (const auto& be : b.options.backends) std::cout << " " << b.options.host << "@" << be.name;
  std::cout << std::endl;
  WaitForStop("cinder-volume", &stop);
  b.transport->Stop();  // takes no more work
  volume->Drain();      // finishes the work accepted
  return Status::OK();
}

}  // namespace cinder
