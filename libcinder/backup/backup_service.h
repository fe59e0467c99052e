// BackupService: the backup host (Cinder's cinder-backup, backup/manager.py). It serves the
// topic "cinder-backup.<host>", runs each backup, restore, delete and import on a bounded pool
// of workers (backup_max_operations, one operation per backup at a time), records the outcome
// with compare-and-swaps, heartbeats in the services table, and repairs at start what an
// earlier run of this host left half-done (init_host), as well as what backup hosts that died
// left (the stale sweep).
//
// A volume is read (or written, by a restore) through its backend's local path when the
// volume's host is this host, else through an export for this host's connector (iSCSI, the
// connector library); a --force backup of an attached volume reads a temporary snapshot taken
// by the volume's host. Both are asked of the volume host (VolumeRpc::BackupDevice) and
// released afterwards, whatever the outcome.
#ifndef CINDER_BACKUP_BACKUP_SERVICE_H_
#define CINDER_BACKUP_BACKUP_SERVICE_H_

#include <memory>

#include "backup/pipeline.h"
#include "cinder/backup_manager.h"
#include "cinder/options.h"
#include "cinder/transport.h"
#include "db/store.h"

namespace cinder {

// The engine's options for one backup or restore of a backup host, from its backup_* options.
// The engine's threads: backup_workers (the machine's cores when 0), capped by
// backup_native_threads_pool_size (Cinder's size of the native thread pool a backup uses).
backup::PipelineOptions BackupPipelineOptions(const Options& options);

class BackupService {
 public:
  // Opens the backup store (options.BackupPosixPath()), repairs what an earlier run of this
  // host left (creating -> error with its partial objects removed, restoring -> the backup
  // available and its volume error_restoring unless its target is a new volume still being
  // made, deleting -> resumed), serves the topic and registers the service. `store` and
  // `transport` must outlive it. InvalidArgument for a backup_driver other than posix.
  // With backup_enable_progress_timer, every backup_timer_interval seconds of a backup or a
  // restore it logs one INFO line: "backup <id> of volume <v>: <n>% done (<x> of <y> MiB)"
  // ("restore of backup <id> into volume <v>: ...").
  // `progress` (may be empty; called from the workers, about once a second per operation): the
  // progress of each backup and restore, for an embedding program (BackupManager's callback).
  static Result<std::unique_ptr<BackupService>> Start(const Options& options, Store* store, Transport* transport,
                                                      BackupProgressCallback progress = {});
  // Stops the periodic sweep and finishes the work accepted.
  virtual ~BackupService() = default;
  // Blocks until the work accepted so far is done.
  virtual void Drain() = 0;
  // Runs the stale sweep now (it also runs every report_interval). Rows unchanged for
  // backup_stale_seconds: creating and restoring backups of backup hosts that are down are
  // failed as their own host's restart would (a restore into a new volume still "creating" is
  // left to its volume host's hand-over); deleting ones are finished here when their objects
  // are in this host's store (or they have none). This host's own rows that it never received
  // (the API died before its cast) are failed, or, deleting, deleted.
  virtual void SweepStale() = 0;
};

}  // namespace cinder

#endif  // CINDER_BACKUP_BACKUP_SERVICE_H_
