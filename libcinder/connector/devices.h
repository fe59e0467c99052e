// The BlockDevice implementations behind OpenConnection (connector.cc).
#ifndef CINDER_CONNECTOR_DEVICES_H_
#define CINDER_CONNECTOR_DEVICES_H_

#include <memory>

#include "cinder/connector.h"
#include "connector/connection_info.h"

namespace cinder::connector {

// driver_volume_type "local": the file or block device at info.device_path.
Result<std::unique_ptr<BlockDevice>> OpenLocalDevice(const ConnectionInfo& info, const ConnectorOptions& options);

// driver_volume_type "iscsi": one libiscsi session (iscsi_device.cc).
Result<std::unique_ptr<BlockDevice>> OpenIscsiDevice(const ConnectionInfo& info, const ConnectorOptions& options);

}  // namespace cinder::connector

#endif  // CINDER_CONNECTOR_DEVICES_H_
