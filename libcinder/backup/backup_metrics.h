// The backup service's metrics (docs/metrics.md): bytes read from volumes and stored (after
// compression) by backups, bytes restored, and each backup's and restore's outcome and time.
// Throughput is rate() of the byte counters on the Prometheus side.
#ifndef CINDER_BACKUP_BACKUP_METRICS_H_
#define CINDER_BACKUP_BACKUP_METRICS_H_

#include "common/metrics.h"

namespace cinder::backup {

struct BackupMetrics {
  metrics::Registry& r = metrics::Registry::Default();
  metrics::Counter& read_bytes =
      r.AddCounter("cinder_backup_read_bytes_total", "Bytes of volumes read by backups.").CounterWith({});
  metrics::Counter& stored_bytes =
      r.AddCounter("cinder_backup_stored_bytes_total", "Bytes backups wrote to the backup store (compressed).")
          .CounterWith({});
  metrics::Counter& restored_bytes =
      r.AddCounter("cinder_backup_restored_bytes_total", "Bytes restores wrote to volumes.").CounterWith({});
  metrics::Family& operations = r.AddCounter("cinder_backup_operations_total",
                                             "Backups and restores finished, by operation (backup, restore) and "
                                             "outcome (success, error).",
                                             {"operation", "outcome"});
  metrics::Family& duration =
      r.AddHistogram("cinder_backup_duration_seconds", "Time a backup or a restore took, by operation.", {"operation"},
                     metrics::DurationBuckets());

  static BackupMetrics& Get() {
    static auto* m = new BackupMetrics();
    return *m;
  }
};

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_BACKUP_METRICS_H_
