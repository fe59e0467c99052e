// The file volume driver: one sparse raw file per volume in the backend's directory.
#ifndef CINDER_VOLUME_DRIVERS_FILE_FILE_DRIVER_H_
#define CINDER_VOLUME_DRIVERS_FILE_FILE_DRIVER_H_

#include "cinder/volume_driver.h"

namespace cinder {

// Options of a [backend] section with volume_driver = file:
//   file_volume_directory: where the volume files live
//                          (default: <state_path>/volumes/<backend section name>).
DriverInfo FileDriverInfo();

}  // namespace cinder

#endif  // CINDER_VOLUME_DRIVERS_FILE_FILE_DRIVER_H_
