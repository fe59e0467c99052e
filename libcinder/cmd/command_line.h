// Command lines of the daemons: --config-file, and the shape of every daemon's main().
#ifndef CINDER_CMD_COMMAND_LINE_H_
#define CINDER_CMD_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "cinder/options.h"

namespace boost::program_options {
class options_description;
class positional_options_description;
class variables_map;
}  // namespace boost::program_options

namespace cinder {

// The version of libcinder (the project's), as --version prints it.
const char* Version();

// Parses `args` with `desc` (which offers --config-file); returns the options in effect: the
// file's, or the defaults with state_path /var/lib/cinder. The file's warnings go into
// `warnings` when given, else to the log at once.
Result<Options> LoadFromCommandLine(const std::vector<std::string>& args,
                                    boost::program_options::options_description& desc,
                                    boost::program_options::positional_options_description* positional,
                                    boost::program_options::variables_map* vm,
                                    std::vector<std::string>* warnings = nullptr);

// Parses --config-file (or answers --help, --version), then runs `run` (which blocks until a stop signal); returns the
// exit code: 0, 1 when `run` failed, 2 for a bad command line or configuration.
int DaemonMain(const char* name, const char* what, const std::vector<std::string>& args, Status (*run)(const Options&));

}  // namespace cinder

#endif  // CINDER_CMD_COMMAND_LINE_H_
