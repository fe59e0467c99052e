// An out-of-tree volume driver, written only against libcinder's public headers: each volume a
// sparse file <plain_directory>/volume-<id>.img, each snapshot a copy of it (the data extents
// only). Registered by the program that wants it (examples/custom_driver.cc), and run through the
// driver conformance suite by the project's tests, as a vendor's driver would be.
#pragma once

#include <cinder/volume_driver.h>

namespace plain {

// Adds the driver "plain" (option: plain_directory, default <state_path>/plain) to `registry`.
void RegisterPlainDriver(cinder::DriverRegistry* registry);

}  // namespace plain
