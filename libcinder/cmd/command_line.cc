#include "cmd/command_line.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cmd/daemon_base.h"
#include "common/log.h"

namespace po = boost::program_options;

namespace cinder {

namespace {

// Gives the memory freed after a burst back to the system every few seconds (malloc_trim),
// while a busy daemon keeps reusing it: a list of 1,000 volumes frees and allocates a few MiB
// per request, and handing those to the kernel each time (mmap, munmap, a page fault per page)
// cost about a tenth of the request.
class MemoryTrimmer {
 public:
  explicit MemoryTrimmer(std::chrono::milliseconds every) {
    // Started before the daemon blocks its stop signals: it must not be the thread a SIGTERM
    // or SIGHUP is delivered to (their default action would end the process).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this, every] {
      std::unique_lock<std::mutex> l(mu_);
      while (!cv_.wait_for(l, every, [this] { return stop_; })) malloc_trim(0);
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~MemoryTrimmer() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

const char* Version() { return CINDER_VERSION; }

// Parses "--config-file PATH" (and the rest of `desc`); returns the options in effect.
Result<Options> LoadFromCommandLine(const std::vector<std::string>& args, po::options_description& desc,
                                    po::positional_options_description* positional, po::variables_map* vm,
                                    std::vector<std::string>* warnings) {
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), *vm);
    po::notify(*vm);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (vm->count("help")) return Options();
  if (vm->count("config-file")) return LoadConfigFile((*vm)["config-file"].as<std::string>(), warnings);
  return DefaultOptions("/var/lib/cinder");
}

// The shape of every daemon's main(): parse --config-file, then run until SIGTERM/SIGINT.
int DaemonMain(const char* name, const char* what, const std::vector<std::string>& args,
               Status (*run)(const Options&)) {
  po::options_description desc(std::string(name) + ": " + what);
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "config-file", po::value<std::string>(), "cinder.conf to read (Cinder's ini format)");
  po::variables_map vm;
  std::vector<std::string> warnings;  // logged once the log is set up (use_stderr, log_file)
  auto options = LoadFromCommandLine(args, desc, nullptr, &vm, &warnings);
  if (vm.count("version")) {
    std::cout << Version() << "\n";
    return 0;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!options.ok()) {
    std::cerr << name << ": " << options.status().message() << "\n";
    return 2;
  }
  // GnuTLS comes in only with PostgreSQL (libpq -> libldap) and nothing here uses it, yet its
  // load-time constructor initialises it (system priorities, random generator, p11-kit): close
  // to 1 MiB resident for nothing. It skips that when this is set while it loads, which happens
  // after this point (the PostgreSQL backend is loaded when the database is opened); libldap
  // still initialises GnuTLS itself before any TLS it does. An operator's setting wins.
  setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  // Threads share two malloc arenas; freed memory stays in them while the daemon is busy and
  // goes back to the system within seconds after a burst (MemoryTrimmer), so that the idle
  // footprint stays small without a round trip to the kernel for every large response.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  mallopt(M_ARENA_MAX, 2);
  RaiseFileLimit();  // the API holds a descriptor per connection
  MemoryTrimmer trimmer(std::chrono::seconds(5));
  log::LogOptions lo;
  lo.debug = options->debug;
  lo.log_file = options->log_file;
  lo.log_dir = options->log_dir;
  lo.use_stderr = options->use_stderr;
  lo.binary = name;
  if (Status logging = log::Configure(lo); !logging.ok()) {
    std::cerr << name << ": " << logging.message() << "\n";
    return 2;
  }
  for (const auto& w : warnings) CINDER_LOG(kWarning, "cinder") << w;
  // SIGHUP: the logging options are reread and the log file reopened (after logrotate moved
  // it); everything else takes effect at the next start, as with oslo.service's immutable
  // options.
  SetReloadHandler([name, origin = options->origin, running = std::make_shared<log::LogOptions>(lo)] {
    const log::LogOptions current = *running;
    log::LogOptions next = current;
    if (origin != "defaults") {
      auto reread = LoadConfigFile(origin);
      if (!reread.ok()) {
        CINDER_LOG(kWarning, name) << "SIGHUP: keeping the running configuration: " << reread.status().message();
        return;
      }
      next.debug = reread->debug;
      next.log_file = reread->log_file;
      next.log_dir = reread->log_dir;
      next.use_stderr = reread->use_stderr;
    }
    if (Status st = log::Configure(next); !st.ok()) {
      (void)log::Configure(current);
      CINDER_LOG(kWarning, name) << "SIGHUP: keeping the running log settings: " << st.message();
      return;
    }
    *running = next;
    CINDER_LOG(kInfo, name) << "SIGHUP: reread " << origin << " (debug = " << (next.debug ? "true" : "false")
                            << ") and reopened the log; other options take effect at the next start";
  });
  Status st = run(*options);
  SetReloadHandler(nullptr);
  if (!st.ok()) {
    CINDER_LOG(kError, name) << st.message();
    return 1;
  }
  return 0;
}

}  // namespace cinder
