// The daemons' command lines: cinder-all, cinder-api, cinder-scheduler, cinder-volume and
// cinder-manage.
#include <malloc.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "cinder/service.h"

namespace po = boost::program_options;

namespace cinder {

namespace {

// Parses "--config-file PATH" (and the rest of `desc`); returns the options in effect.
Result<Options> LoadFromCommandLine(const std::vector<std::string>& args, po::options_description& desc,
                                    po::positional_options_description* positional,
                                    po::variables_map* vm) {
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
  desc.add_options()("help,h", "show this help")(
      "config-file", po::value<std::string>(), "cinder.conf to read (Cinder's ini format)");
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
  // Keep the idle footprint small after bursts of large responses: buffers past 256 KiB go
  // back to the system when freed, and threads share two malloc arenas.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  Status st = run(*options);
  if (!st.ok()) {
    std::cerr << name << ": " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int CinderAllMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-all", "the Block Storage API and volume service in one process", args,
                    &RunEmbeddedService);
}

int CinderApiMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-api", "the Block Storage API v3", args, &RunApiService);
}

int CinderSchedulerMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-scheduler", "chooses the backend of each new volume", args,
                    &RunSchedulerService);
}

int CinderVolumeMain(const std::vector<std::string>& args) {
  return DaemonMain("cinder-volume", "the volume service of this host's backends", args,
                    &RunVolumeService);
}

int CinderManageMain(const std::vector<std::string>& args) {
  po::options_description desc(
      "cinder-manage [--config-file PATH] db sync | db version | db purge DAYS");
  desc.add_options()("help,h", "show this help")(
      "config-file", po::value<std::string>(), "cinder.conf to read (Cinder's ini format)")(
      "command", po::value<std::vector<std::string>>(), "category, action and arguments");
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  auto options = LoadFromCommandLine(args, desc, &positional, &vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!options.ok()) {
    std::cerr << "cinder-manage: " << options.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> cmd;
  if (vm.count("command")) cmd = vm["command"].as<std::vector<std::string>>();
  auto fail = [](const Status& st) {
    std::cerr << "cinder-manage: " << st.message() << "\n";
    return 1;
  };
  if (cmd.size() == 2 && cmd[0] == "db" && cmd[1] == "sync") {
    Status st = DbSync(*options);
    if (!st.ok()) return fail(st);
    return 0;
  }
  if (cmd.size() == 2 && cmd[0] == "db" && cmd[1] == "version") {
    auto v = DbVersion(*options);
    if (!v.ok()) return fail(v.status());
    std::cout << *v << "\n";
    return 0;
  }
  if (cmd.size() == 3 && cmd[0] == "db" && cmd[1] == "purge") {
    int days = -1;
    try {
      size_t used = 0;
      days = std::stoi(cmd[2], &used);
      if (used != cmd[2].size()) days = -1;
    } catch (...) {
    }
    if (days < 0) {
      std::cerr << "cinder-manage: db purge: DAYS must be a non-negative integer, not '" << cmd[2]
                << "'\n";
      return 2;
    }
    auto n = DbPurge(*options, days);
    if (!n.ok()) return fail(n.status());
    std::cout << "Purged " << *n << " rows deleted more than " << days << " days ago.\n";
    return 0;
  }
  std::cerr << desc << "\n";
  return 2;
}

}  // namespace cinder
