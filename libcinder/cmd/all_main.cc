// cinder-all: the Block Storage API and volume service in one process.
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "cinder/service.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"

namespace cinder {

Status RunEmbeddedService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_ASSIGN_OR_RETURN(auto svc, EmbeddedService::Start(options));
  std::cout << "cinder-all: Block Storage API v3 listening on " << svc->endpoint() << std::endl;
  WaitForStop("cinder-all", &stop);
  svc->Stop();
  return Status::OK();
}

int CinderAllMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-all", "the Block Storage API and volume service in one process", args, &RunEmbeddedService);
}

}  // namespace cinder
