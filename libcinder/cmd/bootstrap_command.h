// cinder-manage bootstrap: the first admin of the built-in identity service, as
// keystone-manage bootstrap makes it.
#ifndef CINDER_CMD_BOOTSTRAP_COMMAND_H_
#define CINDER_CMD_BOOTSTRAP_COMMAND_H_

#include <boost/program_options.hpp>

#include "cinder/options.h"

namespace cinder {

boost::program_options::options_description BootstrapCommandOptions();
// The Default domain, the roles admin, member and reader (admin implies member implies
// reader), the admin project and user with the admin role on the project and the system.
// The password comes from --admin-password (or --bootstrap-password), else the environment's
// OS_BOOTSTRAP_PASSWORD. Idempotent.
int BootstrapCommand(const Options& options, const boost::program_options::variables_map& vm);

}  // namespace cinder

#endif  // CINDER_CMD_BOOTSTRAP_COMMAND_H_
