#include "cmd/daemon_base.h"

#include <filesystem>
#include <iostream>
#include <mutex>

#include "common/util.h"

namespace cinder {

namespace {

std::mutex reload_mu;
std::function<void()> reload;  // guarded by reload_mu

}  // namespace

// Blocks the stop signals and SIGHUP in this thread (and so in every thread started after it).
sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

void SetReloadHandler(std::function<void()> on_hup) {
  std::lock_guard<std::mutex> l(reload_mu);
  reload = std::move(on_hup);
}

void WaitForStop(const char* name, sigset_t* stop) {
  int sig = 0;
  while (sigwait(stop, &sig) == 0 && sig == SIGHUP) {
    std::function<void()> on_hup;
    {
      std::lock_guard<std::mutex> l(reload_mu);
      on_hup = reload;
    }
    if (on_hup) on_hup();
  }
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
