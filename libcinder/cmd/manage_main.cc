// cinder-manage: db sync | version | purge DAYS, service list | backlog | remove BINARY HOST,
// volume delete ID, transport keygen, bootstrap, --version.
#include <boost/program_options.hpp>
#include <iostream>

#include "cinder/service.h"
#include "cmd/bootstrap_command.h"
#include "cmd/command_line.h"
#include "cmd/manage_commands.h"
#include "cmd/transport_commands.h"

namespace po = boost::program_options;

namespace cinder {

int CinderManageMain(const std::vector<std::string>& args) {
  po::options_description desc(
      "cinder-manage [--config-file PATH] db sync | db version | db purge DAYS | service list |\n"
      "              service backlog | service remove BINARY HOST | volume delete ID |\n"
      "              transport keygen [--output FILE] | bootstrap --admin-password PASSWORD");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "config-file", po::value<std::string>(), "cinder.conf to read (Cinder's ini format)")(
      "command", po::value<std::vector<std::string>>(), "category, action and arguments");
  desc.add(TransportCommandOptions());
  desc.add(BootstrapCommandOptions());
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  auto options = LoadFromCommandLine(args, desc, &positional, &vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << Version() << "\n";
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
  if (!cmd.empty() && cmd[0] == "transport") return TransportCommand(cmd, *options, vm);
  if (cmd.size() == 1 && cmd[0] == "bootstrap") return BootstrapCommand(*options, vm);
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
      std::cerr << "cinder-manage: db purge: DAYS must be a non-negative integer, not '" << cmd[2] << "'\n";
      return 2;
    }
    auto n = DbPurge(*options, days);
    if (!n.ok()) return fail(n.status());
    std::cout << "Purged " << *n << " rows deleted more than " << days << " days ago.\n";
    return 0;
  }
  if (cmd.size() == 2 && cmd[0] == "service" && cmd[1] == "list") return ServiceList(*options, std::cout);
  if (cmd.size() == 2 && cmd[0] == "service" && cmd[1] == "backlog") return ServiceBacklog(*options, std::cout);
  if (cmd.size() == 4 && cmd[0] == "service" && cmd[1] == "remove") {
    return ServiceRemove(*options, cmd[2], cmd[3], std::cout);
  }
  if (cmd.size() == 3 && cmd[0] == "volume" && cmd[1] == "delete") return VolumeDelete(*options, cmd[2], std::cout);
  std::cerr << desc << "\n";
  return 2;
}

}  // namespace cinder
