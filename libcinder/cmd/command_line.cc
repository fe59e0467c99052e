#include "cmd/command_line.h"

#include <malloc.h>
#include <stdlib.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/daemon_base.h"
#include "common/log.h"

namespace po = boost::program_options;

namespace cinder {

// Parses "--config-file PATH" (and the rest of `desc`); returns the options in effect.
Result<Options> LoadFromCommandLine(const std::vector<std::string>& args, po::options_description& desc,
                                    po::positional_options_description* positional, po::variables_map* vm) {
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), *vm);
    po::notify(*vm);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (vm->count("help")) return Options();
  if (vm->count("config-file")) return LoadConfigFile((*vm)["config-file"].as<std::string>());
  return DefaultOptions("/var/lib/cinder");
}

// The shape of every daemon's main(): parse --config-file, then run until SIGTERM/SIGINT.
int DaemonMain(const char* name, const char* what, const std::vector<std::string>& args,
               Status (*run)(const Options&)) {
  po::options_description desc(std::string(name) + ": " + what);
  desc.add_options()("help,h", "show this help")("config-file", po::value<std::string>(),
                                                 "cinder.conf to read (Cinder's ini format)");
  po::variables_map vm;
  auto options = LoadFromCommandLine(args, desc, nullptr, &vm);
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
  // Keep the idle footprint small after bursts of large responses: buffers past 256 KiB go
  // back to the system when freed, and threads share two malloc arenas.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  RaiseFileLimit();  // the API holds a descriptor per connection
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
  Status st = run(*options);
  if (!st.ok()) {
    CINDER_LOG(kError, name) << st.message();
    return 1;
  }
  return 0;
}

}  // namespace cinder
