#include "cmd/transport_commands.h"

#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/daemon_base.h"
#include "rpc/transport_key.h"

namespace po = boost::program_options;

namespace cinder {

po::options_description TransportCommandOptions() {
  po::options_description desc("transport keygen [--output PATH]: makes the deployment's transport key");
  desc.add_options()("output", po::value<std::string>(), "where keygen writes the key (default: transport_key_file)");
  return desc;
}

int TransportCommand(const std::vector<std::string>& cmd, const Options& options, const po::variables_map& vm) {
  if (cmd.size() != 2 || cmd[1] != "keygen") {
    std::cerr << "cinder-manage: usage: transport keygen [--output PATH]\n";
    return 2;
  }
  std::string path = options.TransportKeyFile();
  if (vm.count("output")) {
    path = vm["output"].as<std::string>();
  } else if (options.transport_key_file.empty()) {
    Status st = EnsureStatePath(options);  // the default lives in state_path
    if (!st.ok()) {
      std::cerr << "cinder-manage: " << st.message() << "\n";
      return 1;
    }
  }
  auto key = rpc::NewTransportKey();
  Status st = key.ok() ? rpc::WriteTransportKey(path, *key) : key.status();
  if (!st.ok()) {
    std::cerr << "cinder-manage: " << st.message() << "\n";
    return 1;
  }
  std::cout << "Wrote a new transport key to " << path
            << " (mode 0600). Copy it to every host of the deployment, readable only by the user the services run "
               "as, and name it in cinder.conf: [DEFAULT] transport_key_file.\n";
  return 0;
}

}  // namespace cinder
