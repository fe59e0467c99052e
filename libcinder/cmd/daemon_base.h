// What the services' Run functions share: stop signals, and the base of a distributed service.
#ifndef CINDER_CMD_DAEMON_BASE_H_
#define CINDER_CMD_DAEMON_BASE_H_

#include <signal.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/transport.h"
#include "db/store.h"

namespace cinder {

// Blocks SIGINT, SIGTERM and SIGHUP in this thread (and so in every thread started after it).
sigset_t BlockStopSignals();
// Waits for SIGINT or SIGTERM and says so; a SIGHUP meanwhile runs the reload handler.
void WaitForStop(const char* name, sigset_t* stop);
// What SIGHUP does (DaemonMain sets it: reread the config file's logging options and reopen
// the log file, as oslo.service does for its mutable options).
void SetReloadHandler(std::function<void()> on_hup);
// Creates options.state_path if needed.
Status EnsureStatePath(const Options& options);

// Holds <state_path>/<service>.lock (flock) for each of `services` while it lives: one service of
// a kind per state_path (cinder-all holds all three kinds; cinder-api, cinder-scheduler and
// cinder-volume may share a state_path, as on a Cinder controller). Each file names its holder.
class StateLock {
 public:
  // FailedPrecondition naming the lock file and its holder when another process holds it.
  static Result<std::unique_ptr<StateLock>> Acquire(const Options& options, const std::vector<std::string>& services);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  StateLock() = default;
  std::vector<int> fds_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (each API connection holds a descriptor).
void RaiseFileLimit();

// What every distributed service opens first: its options completed (host), the shared
// database (schema current), and a ZeroMQ transport that finds its peers in the services table.
struct Base {
  Options options;
  std::unique_ptr<Store> store;
  std::unique_ptr<Transport> transport;
};
Result<Base> OpenBase(const Options& options);

}  // namespace cinder

#endif  // CINDER_CMD_DAEMON_BASE_H_
