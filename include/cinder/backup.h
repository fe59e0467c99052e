// Backup records and the requests that create, change and list them (Cinder's backups).
#ifndef CINDER_BACKUP_H_
#define CINDER_BACKUP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cinder/volume.h"

namespace cinder {

// Cinder's fields.BackupStatus.
namespace backup_status {
inline constexpr const char kCreating[] = "creating";
inline constexpr const char kAvailable[] = "available";
inline constexpr const char kDeleting[] = "deleting";
inline constexpr const char kDeleted[] = "deleted";
inline constexpr const char kError[] = "error";
inline constexpr const char kErrorDeleting[] = "error_deleting";
inline constexpr const char kRestoring[] = "restoring";
}  // namespace backup_status

// The statuses a volume (or a snapshot) is in while a backup reads it or a restore writes it.
namespace volume_status {
inline constexpr const char kBackingUp[] = "backing-up";
inline constexpr const char kRestoringBackup[] = "restoring-backup";
inline constexpr const char kErrorRestoring[] = "error_restoring";
}  // namespace volume_status

// The driver class path a posix backup records in `service` (and export records carry).
inline constexpr const char kPosixBackupService[] = "cinder.backup.drivers.posix.PosixBackupDriver";

// One backup (the backups table). Times are ISO 8601 UTC with microseconds, as volumes'.
struct Backup {
  std::string id;
  std::string user_id;
  std::string project_id;
  std::string volume_id;
  std::string host;  // the cinder-backup host that holds (or makes) it
  std::string availability_zone;
  std::string status;  // backup_status::*
  std::optional<std::string> display_name;
  std::optional<std::string> display_description;
  std::optional<std::string> container;
  std::optional<std::string> fail_reason;
  std::optional<std::string> service_metadata;  // posix: the object name prefix
  std::optional<std::string> service;           // the driver's class path
  int64_t size = 0;                             // GiB: the volume's size when it was taken
  std::optional<int64_t> object_count;
  std::optional<std::string> parent_id;  // an incremental's parent
  int64_t num_dependent_backups = 0;
  std::optional<std::string> snapshot_id;
  std::optional<std::string> data_timestamp;
  std::optional<std::string> restore_volume_id;  // while restoring
  std::optional<std::string> temp_volume_id;
  std::optional<std::string> temp_snapshot_id;
  std::optional<std::string> encryption_key_id;
  int64_t progress_bytes = 0;  // bytes done by the operation in flight
  Metadata metadata;
  std::string created_at;
  std::optional<std::string> updated_at;
  std::optional<std::string> deleted_at;
  bool deleted = false;
};

struct BackupCreate {
  std::string volume_id;
  std::optional<std::string> container;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> snapshot_id;
  std::optional<std::string> availability_zone;  // 3.51
  bool incremental = false;
  bool force = false;  // also of an in-use volume
  Metadata metadata;   // 3.43
};

// Fields left unset are not changed.
struct BackupUpdate {
  std::optional<std::optional<std::string>> name;
  std::optional<std::optional<std::string>> description;
  std::optional<Metadata> metadata;  // replaces all metadata when set (3.43)
};

struct BackupListQuery {
  // Column filters: name (display_name), status, volume_id for everyone; an admin's others
  // (availability_zone, host, project_id, parent_id, snapshot_id, container, ...) too.
  std::map<std::string, std::string> filters;
  bool all_tenants = false;               // admin only: every project
  std::optional<std::string> project_id;  // admin with all_tenants: only this project
  std::vector<SortKey> sort;              // default created_at desc, id desc
  int64_t limit = -1;                     // -1: up to the configured maximum
  std::optional<std::string> marker;
  int64_t offset = 0;
  bool with_count = false;
};

struct BackupList {
  std::vector<Backup> backups;
  bool more = false;
  int64_t count = 0;
};

}  // namespace cinder

#endif  // CINDER_BACKUP_H_
