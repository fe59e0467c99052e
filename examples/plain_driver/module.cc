// The "plain" driver as a module of its own, for a cinder.conf section to name:
//
//   [plain-1]
//   volume_driver = plain
//   volume_driver_module = /path/to/libcinder_plain_driver.so
//   plain_directory = /var/lib/plain
#include <cinder/driver_module.h>

#include "plain_driver.h"

CINDER_VOLUME_DRIVER_MODULE(plain::RegisterPlainDriver)
