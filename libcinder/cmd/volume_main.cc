// cinder-volume: the volume service of this host's backends.
// (One file per daemon, so that each links only what it runs.)
#include <iostream>

#include "cinder/service.h"
#include "cinder/volume_driver.h"
#include "cmd/command_line.h"
#include "cmd/daemon_base.h"
#include "volume/volume_service.h"

namespace cinder {

Status RunVolumeService(const Options& options) {
  sigset_t stop = BlockStopSignals();
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto lock, StateLock::Acquire(options, {"cinder-volume"}));
  CINDER_ASSIGN_OR_RETURN(Base b, OpenBase(options));
  CINDER_ASSIGN_OR_RETURN(auto volume,
                          VolumeService::Start(b.options, DriverRegistry::Builtin(), b.store.get(), b.transport.get()));
  std::cout << "cinder-volume: serving";
  for (const auto& be : b.options.backends) std::cout << " " << b.options.host << "@" << be.name;
  std::cout << std::endl;
  WaitForStop("cinder-volume", &stop);
  b.transport->Stop();  // takes no more work
  volume->Drain();      // finishes the work accepted
  return Status::OK();
}

int CinderVolumeMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-volume", "the volume service of this host's backends", args, &RunVolumeService);
}

}  // namespace cinder
