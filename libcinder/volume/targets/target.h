// Targets: how a backend's volumes are exported so that an initiator reaches them (Cinder's
// cinder/volume/targets/). `tgtadm` drives a running tgtd (iSCSI, CHAP); `fake` exports nothing
// and answers driver_volume_type "local" with the volume's file, usable on this host only.
// Internal to the volume folder.
#ifndef CINDER_VOLUME_TARGETS_TARGET_H_
#define CINDER_VOLUME_TARGETS_TARGET_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/status.h"
#include "common/json.h"

namespace cinder {

// What a target knows of a volume: its id, where its data is, what the database recorded of
// its export.
struct TargetVolume {
  std::string id;
  std::string path;  // the backing file
  std::optional<std::string> provider_location;
  std::optional<std::string> provider_auth;  // "CHAP <user> <password>"
  bool readonly = false;
};

// What to record of an export (Cinder's model update).
struct ExportRecord {
  std::optional<std::string> provider_location;
  std::optional<std::string> provider_auth;
};

// While a WriteHold lives, no write an initiator sends through the target reaches a volume's
// backing file, and every write the target acknowledged before the hold was taken is in the
// file: the files then hold one point in time for every volume exported there (what a group
// snapshot takes: a crash-consistent cut). Released when destroyed.
class WriteHold {
 public:
  virtual ~WriteHold() = default;
  // False once the hold has ended by itself (its time limit passed): what was taken under it
  // since is no longer one point in time.
  virtual bool Intact() { return true; }
};

class Target {
 public:
  virtual ~Target() = default;
  // "iscsi" or "local": connection_info's driver_volume_type.
  virtual std::string DriverVolumeType() const = 0;
  // Cinder's validate_connector: InvalidArgument with Cinder's message when the connector
  // lacks what this target needs (an iSCSI target: the key "initiator").
  virtual Status ValidateConnector(const json::Value& connector) const = 0;
  // Makes sure the volume is exported (idempotent: an existing, complete export is kept, with
  // the credentials the database has); returns what to record. Unavailable when the target
  // daemon cannot be reached.
  virtual Result<ExportRecord> CreateExport(const TargetVolume& v) = 0;
  // Removes the export; none is not an error.
  virtual Status RemoveExport(const TargetVolume& v) = 0;
  // connection_info's "data" for the volume as exported (Cinder's initialize_connection), in
  // Cinder's key order.
  virtual Result<json::Value> ConnectionData(const TargetVolume& v) = 0;
  // The volume ids whose exports exist on this target.
  virtual Result<std::vector<std::string>> ListExports() = 0;
  // Whether the target daemon answers (always true for `fake`).
  virtual bool Reachable() = 0;
  // Holds every write through this target (see WriteHold) until the hold is destroyed; at
  // most `max_hold_seconds` even if the holder hangs or dies. `fake` carries no writes (a
  // "local" attachment writes the file itself): its hold holds nothing. Unavailable when the
  // target daemon cannot be held.
  virtual Result<std::unique_ptr<WriteHold>> HoldWrites(int max_hold_seconds) = 0;
};

// The target of a backend per its options ("tgtadm", "fake"/"none"); InvalidArgument for
// another helper or protocol. `my_ip` stands for an unset target_ip_address, `state_path` for
// an unset volumes_dir (<state_path>/targets).
Result<std::unique_ptr<Target>> OpenTarget(const BackendOptions& backend, const std::string& my_ip,
                                           const std::string& state_path);
// The `fake` target: driver_volume_type "local", the volume's file as device_path.
std::unique_ptr<Target> NewLocalTarget();

}  // namespace cinder

#endif  // CINDER_VOLUME_TARGETS_TARGET_H_
