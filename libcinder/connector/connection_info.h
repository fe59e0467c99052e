// The parts of a Cinder connection_info the connector uses, read from any of its JSON forms.
#ifndef CINDER_CONNECTOR_CONNECTION_INFO_H_
#define CINDER_CONNECTOR_CONNECTION_INFO_H_

#include <cstdint>
#include <string>

#include "cinder/status.h"

namespace cinder::connector {

struct ConnectionInfo {
  std::string driver_volume_type;  // "iscsi" or "local"
  // iscsi
  std::string portal;  // "127.0.0.1:3260" (",tpgt" removed)
  std::string iqn;
  int lun = 0;
  bool chap = false;  // auth_method "CHAP"
  std::string username;
  std::string password;
  // local
  std::string device_path;
  // both
  bool read_only = false;     // access_mode "ro"
  std::string volume_id;      // "" when absent
  std::string attachment_id;  // "" when absent

  // "volume X" / "attachment Y" / "the volume", for messages.
  std::string Subject() const;
};

// Parses the flat (attachment), legacy ({"driver_volume_type", "data"}) or wrapped
// ({"connection_info": ...}, {"attachment": {...}}) form. InvalidArgument names what is wrong.
Result<ConnectionInfo> ParseConnectionInfo(const std::string& json_text);

}  // namespace cinder::connector

#endif  // CINDER_CONNECTOR_CONNECTION_INFO_H_
