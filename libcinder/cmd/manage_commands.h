// cinder-manage's service and volume commands, as Cinder's cinder-manage has them. Each prints
// what Cinder prints to `out` and returns the exit code.
#ifndef CINDER_CMD_MANAGE_COMMANDS_H_
#define CINDER_CMD_MANAGE_COMMANDS_H_

#include <ostream>
#include <string>

#include "cinder/options.h"

namespace cinder {

// service list: every service with its zone, status, state (":-)" up, "XXX" down), last
// heartbeat and RPC version.
int ServiceList(const Options& options, std::ostream& out);
// service remove BINARY HOST: removes a (dead) service's row; 2 when there is none.
int ServiceRemove(const Options& options, const std::string& binary, const std::string& host, std::ostream& out);
// service backlog: the work waiting or running in each service's queue, from the volumes'
// statuses: creates no scheduler placed yet, then each volume host's volumes in a
// transitional status; how many, and how long the oldest has waited.
int ServiceBacklog(const Options& options, std::ostream& out);
// volume delete ID: deletes a volume whatever its status (not in-use): at once when it was
// never placed, else by its volume service's next sweep.
int VolumeDelete(const Options& options, const std::string& id, std::ostream& out);

}  // namespace cinder

#endif  // CINDER_CMD_MANAGE_COMMANDS_H_
