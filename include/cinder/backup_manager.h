// BackupManager: the backup API of libcinder, what cinder/backup/api.py is to Cinder. The work
// (reading a volume, writing objects, restoring) runs on a cinder-backup host; this side checks,
// records and hands it over.
#ifndef CINDER_BACKUP_MANAGER_H_
#define CINDER_BACKUP_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cinder/backup.h"
#include "cinder/context.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder {

class Transport;
class VolumeManager;

// Progress of a backup or restore in flight, about once a second (embedded use).
struct BackupProgress {
  std::string backup_id;
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
};
using BackupProgressCallback = std::function<void(const BackupProgress&)>;

struct BackupManagerOptions {
  Options options;
  // Where the backup hosts are reached (topic cinder-backup.<host>); must outlive the manager.
  // nullptr: the manager makes an in-process transport of its own (BackupManager::transport()),
  // for a backup service run in this process to serve.
  Transport* transport = nullptr;
  // Creates the volume of a restore to a new volume and of POST /volumes with backup_id; must
  // outlive the manager. Required.
  VolumeManager* volumes = nullptr;
};

// A BackupManager is safe for concurrent use. Every operation checks Cinder's policy rule for
// it (backup:*, with the backup as the target) and answers PermissionDenied "Policy doesn't
// allow <rule> to be performed." when it does not pass; a context that is not admin sees only
// its own project's backups (another's is NotFound "Backup <id> could not be found.").
// Failed checks answer FailedPrecondition or InvalidArgument with Cinder's message (the API
// answers 400 with it), quotas ResourceExhausted (413), and no cinder-backup service up
// Unavailable "Service cinder-backup could not be found." (503).
class BackupManager {
 public:
  // Opens the database (its schema must be current). InvalidArgument without `volumes`.
  static Result<std::unique_ptr<BackupManager>> Open(const BackupManagerOptions& options);
  virtual ~BackupManager() = default;

  // Records the backup ("creating"), holds its volume ("backing-up") or snapshot, charges its
  // quota (backups +1, backup_gigabytes + its size: the volume's, or for a backup of a snapshot
  // the snapshot's volume_size) and casts create_backup to a backup host.
  virtual Result<Backup> CreateBackup(const RequestContext& ctx, const BackupCreate& request) = 0;
  virtual Result<Backup> GetBackup(const RequestContext& ctx, const std::string& id) = 0;
  // A non-admin's filters other than name, status and volume_id are dropped (Cinder's before
  // 3.33; from 3.33 the REST API refuses them with 400 before they get here).
  virtual Result<BackupList> ListBackups(const RequestContext& ctx, const BackupListQuery& q) = 0;
  virtual Result<Backup> UpdateBackup(const RequestContext& ctx, const std::string& id, const BackupUpdate& update) = 0;
  // "deleting" and a cast of delete_backup to its host. Without `force` only an available or
  // error backup; `force` (backup-admin os-force_delete) any status (a creating one is
  // cancelled). Never while incrementals of it exist.
  virtual Status DeleteBackup(const RequestContext& ctx, const std::string& id, bool force) = 0;
  struct RestoreResult {
    std::string backup_id;
    std::string volume_id;
    std::string volume_name;
  };
  // Restores onto the volume `volume_id` (available, at least the backup's size), or, without
  // one, onto a new volume of the backup's size named `name` (default
  // "restore_backup_<backup id>") created through the VolumeManager (its own quota).
  virtual Result<RestoreResult> RestoreBackup(const RequestContext& ctx, const std::string& id,
                                              const std::optional<std::string>& volume_id,
                                              const std::optional<std::string>& name) = 0;
  // POST /volumes with backup_id (3.47): the volume `volume_id` (just created, "creating",
  // of at least the backup's size) is the restore's target once its host has made it. The
  // caller created it; NotFound / FailedPrecondition leave it to the caller to delete.
  virtual Status RestoreIntoNewVolume(const RequestContext& ctx, const std::string& backup_id,
                                      const std::string& volume_id) = 0;
  // Checks a restore to a new volume could start (the backup visible, available, of a valid
  // size, restore allowed, its backup host up): what POST /volumes with backup_id checks before
  // creating the volume.
  virtual Result<Backup> CheckRestorable(const RequestContext& ctx, const std::string& backup_id) = 0;
  struct Record {
    std::string backup_service;
    std::string backup_url;  // base64 of the JSON record
  };
  // FailedPrecondition "Invalid backup: Backup status must be available and not X." unless
  // available.
  virtual Result<Record> ExportRecord(const RequestContext& ctx, const std::string& id) = 0;
  // Records the backup described ("creating"), charges its quota and casts import_record to a
  // backup host, which checks its objects and makes it available. NotFound "Service <record's
  // backup_service> could not be found." (Cinder's ServiceNotFound, 404) when no backup host is
  // up or the record's service is not this deployment's driver.
  virtual Result<Backup> ImportRecord(const RequestContext& ctx, const Record& record) = 0;
  // os-reset_status (admin): "available" or "error". A backup being made gives its volume (or
  // snapshot) back to its status before the backup, a restore's target volume goes to
  // "error_restoring", in the transaction of the backup's change; the host doing the work stops.
  virtual Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::string& status) = 0;
  // The policy's answer for `rule` on `target` (as VolumeManager::Authorize).
  virtual Status Authorize(const RequestContext& ctx, const std::string& rule,
                           const std::map<std::string, std::string>& target) const = 0;

  // Embedded: where backups and restores report progress (called from the backup host's
  // threads); stored for a backup service run in this process to read (progress_callback()).
  virtual void SetProgressCallback(BackupProgressCallback cb) = 0;
  virtual BackupProgressCallback progress_callback() const = 0;
  // The transport the manager casts to (its own when none was given).
  virtual Transport* transport() const = 0;
  // Waits until every request cast through an own transport has run (tests, embedded).
  virtual void Drain() = 0;
};

}  // namespace cinder

#endif  // CINDER_BACKUP_MANAGER_H_
