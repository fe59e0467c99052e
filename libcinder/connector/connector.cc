#include "cinder/connector.h"

#include <unistd.h>

#include "connector/connection_info.h"
#include "connector/devices.h"

namespace cinder {

std::string DefaultInitiatorName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "iqn.2026-12.org.libcinder:localhost";
  std::string name = "iqn.2026-12.org.libcinder:";
  // An IQN is lower case letters, digits, '.', '-' and ':'.
  for (const char* p = host; *p != '\0'; ++p) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    name += ok ? c : '-';
  }
  return name;
}

Result<std::unique_ptr<BlockDevice>> OpenConnection(const std::string& connection_info_json,
                                                    const ConnectorOptions& options) {
  CINDER_ASSIGN_OR_RETURN(connector::ConnectionInfo info, connector::ParseConnectionInfo(connection_info_json));
  if (info.driver_volume_type == "local") return connector::OpenLocalDevice(info, options);
  return connector::OpenIscsiDevice(info, options);
}

}  // namespace cinder
