#include "cmd/daemon_base.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "cinder/service.h"
#include "common/log.h"
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

Status ConfigureLogging(const Options& options, const std::string& binary) {
  log::LogOptions lo;
  lo.debug = options.debug;
  lo.log_file = options.log_file;
  lo.log_dir = options.log_dir;
  lo.use_stderr = options.use_stderr;
  lo.binary = binary;
  return log::Configure(lo);
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

Result<std::unique_ptr<StateLock>> StateLock::Acquire(const Options& options,
                                                      const std::vector<std::string>& services) {
  std::unique_ptr<StateLock> lock(new StateLock());
  for (const auto& service : services) {
    const std::string path = (std::filesystem::path(options.state_path) / (service + ".lock")).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return InvalidArgument(options.origin + ": [DEFAULT] state_path: cannot open " + path + ": " +
                             std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char holder[128] = {};
      const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : std::string();
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      if (err != EWOULDBLOCK) return Internal("cannot lock " + path + ": " + std::strerror(err));
      return FailedPrecondition("state_path " + options.state_path + " is in use: " + path + " is locked by " +
                                (who.empty() ? std::string("another process") : who) + " (one " + service +
                                " per state_path)");
    }
    lock->fds_.push_back(fd);
    // Who holds it, for the message of the next one that tries.
    const std::string holder = std::string(program_invocation_short_name) + " (pid " + std::to_string(getpid()) + ")\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
      // The lock holds all the same; only the next message is poorer.
    }
  }
  return lock;
}

StateLock::~StateLock() {
  for (int fd : fds_) ::close(fd);  // releases the lock
}

void RaiseFileLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && rl.rlim_max == RLIM_INFINITY) {
    rl.rlim_cur = 1 << 20;  // an unlimited hard limit still stops at fs.nr_open (2^20 by default)
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace cinder
