#include "cmd/bootstrap_command.h"

#include <cstdlib>
#include <iostream>

#include "cinder/auth_manager.h"

namespace po = boost::program_options;

namespace cinder {

po::options_description BootstrapCommandOptions() {
  po::options_description desc("bootstrap: the first admin of the built-in identity service");
  desc.add_options()("admin-password", po::value<std::string>(),
                     "the admin's password (or --bootstrap-password, or $OS_BOOTSTRAP_PASSWORD)")(
      "bootstrap-password", po::value<std::string>(), "the same as --admin-password")(
      "admin-username", po::value<std::string>()->default_value("admin"), "the admin user's name")(
      "bootstrap-username", po::value<std::string>(), "the same as --admin-username")(
      "bootstrap-project-name", po::value<std::string>()->default_value("admin"), "the admin project's name")(
      "bootstrap-role-name", po::value<std::string>()->default_value("admin"), "the role the admin gets")(
      "reset-password", "set the password of an admin user that already exists");
  return desc;
}

int BootstrapCommand(const Options& options, const po::variables_map& vm) {
  AuthManager::Bootstrap b;
  if (vm.count("admin-password")) {
    b.admin_password = vm["admin-password"].as<std::string>();
  } else if (vm.count("bootstrap-password")) {
    b.admin_password = vm["bootstrap-password"].as<std::string>();
  } else if (const char* env = std::getenv("OS_BOOTSTRAP_PASSWORD")) {
    b.admin_password = env;
  }
  if (b.admin_password.empty()) {
    std::cerr << "cinder-manage: bootstrap: give the admin's password with --admin-password PASSWORD (or "
                 "$OS_BOOTSTRAP_PASSWORD)\n";
    return 2;
  }
  b.admin_username = vm.count("bootstrap-username") ? vm["bootstrap-username"].as<std::string>()
                                                    : vm["admin-username"].as<std::string>();
  b.project_name = vm["bootstrap-project-name"].as<std::string>();
  b.role_name = vm["bootstrap-role-name"].as<std::string>();
  b.reset_password = vm.count("reset-password") > 0;
  auto auth = AuthManager::Open(options);
  Status st = auth.ok() ? (*auth)->RunBootstrap(b) : auth.status();
  if (!st.ok()) {
    std::cerr << "cinder-manage: bootstrap: " << st.message() << "\n";
    return 1;
  }
  std::cout << "Bootstrapped the identity service: user " << b.admin_username << " with role " << b.role_name
            << " on project " << b.project_name << " (domain Default); roles admin, member, reader.\n";
  return 0;
}

}  // namespace cinder
