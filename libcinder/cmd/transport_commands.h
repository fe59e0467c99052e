// cinder-manage transport ...: the deployment's transport key.
#ifndef CINDER_CMD_TRANSPORT_COMMANDS_H_
#define CINDER_CMD_TRANSPORT_COMMANDS_H_

#include <string>
#include <vector>

#include "cinder/options.h"

namespace boost::program_options {
class options_description;
class variables_map;
}  // namespace boost::program_options

namespace cinder {

// The options of the transport commands (--output), for cinder-manage's command line.
boost::program_options::options_description TransportCommandOptions();

// Runs `transport keygen` (cmd[0] is "transport"): writes a new CURVE key pair to --output, or
// to the configured transport_key_file, mode 0600, and never over an existing file. Returns
// the exit code (0; 1 when the file cannot be written; 2 for a bad command line).
int TransportCommand(const std::vector<std::string>& cmd, const Options& options,
                     const boost::program_options::variables_map& vm);

}  // namespace cinder

#endif  // CINDER_CMD_TRANSPORT_COMMANDS_H_
