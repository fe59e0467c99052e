#include "cmd/daemon_base.h"

#include <filesystem>
#include <iostream>

#include "common/util.h"

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

Status EnsureStatePath(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_path, ec);
  if (ec) {
    return InvalidArgument(options.origin + ": [DEFAULT] state_path: cannot create '" + options.state_path +
                           "': " + ec.message());
  }
  // The state folder holds the database and the volumes' data: its owner's only.
  std::filesystem::permissions(options.state_path, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return InvalidArgument(options.origin + ": [DEFAULT] state_path: cannot make '" + options.state_path +
                           "' private (0700): " + ec.message());
  }
  return Status::OK();
}

}  // namespace cinder
