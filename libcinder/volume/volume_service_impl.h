// VolumeServiceImpl: the volume host behind VolumeService (volume_service.h), shared by the
// files that hold its flows: volume_service.cc (start, the RPC endpoint of each backend, work
// queues, capacity reports), volume_flows.cc (create, extend, delete, snapshots, revert),
// volume_migrate.cc (retype and migration between backends) and volume_recovery.cc (what a
// restart or a sweep repairs). Internal to the volume folder.
#ifndef CINDER_VOLUME_VOLUME_SERVICE_IMPL_H_
#define CINDER_VOLUME_VOLUME_SERVICE_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cinder/env.h"
#include "cinder/options.h"
#include "cinder/volume_driver.h"
#include "common/log.h"
#include "common/worker_pool.h"
#include "db/heartbeat.h"
#include "db/store.h"
#include "scheduler/scheduler_rpc.h"
#include "volume/targets/target.h"
#include "volume/volume_rpc.h"
#include "volume/volume_service.h"

namespace cinder {

struct Backend {
  std::string name;  // the config section
  std::string host;  // host@backend
  BackendOptions options;
  std::string availability_zone;
  std::unique_ptr<VolumeDriver> driver;
  // How its volumes are exported (targets/target.h): `exporter` as configured, or, while a
  // tgtd that could not be reached at start has not answered yet, `local` (set once, from the
  // reporter thread, read by the workers).
  std::unique_ptr<Target> exporter;
  std::unique_ptr<Target> local = NewLocalTarget();
  std::atomic<bool> exporter_up{true};
  Target* target() const { return exporter_up.load() ? exporter.get() : local.get(); }
};

// Runs a driver call, turning an exception into an Internal status.
template <typename Fn>
Status DriverCall(Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Internal(std::string("driver raised: ") + e.what());
  } catch (...) {
    return Internal("driver raised an unknown exception");
  }
}

class VolumeServiceImpl : public VolumeService {
 public:
  VolumeServiceImpl(const Options& options, Store* store, Transport* transport,
                    std::vector<std::unique_ptr<Backend>> backends);
  ~VolumeServiceImpl() override;

  Status Start();

  void Drain() override { workers_.Drain(); }

 private:
  // Repairs what an earlier run of this host left half-done, as Cinder's volume service does:
  // creating -> error, extending -> error_extending, deleting -> resumed.
  Status Recover();

  // Manage work cut short: a manage -> error_managing, an unmanage resumed. With `orphaned`
  // (the orphan sweep), only what it says nothing here is doing.
  using OrphanTest = std::function<bool(const std::string& volume_id, const std::string& created,
                                        const std::optional<std::string>& updated)>;
  Status RecoverManage(Backend* b, const OrphanTest& orphaned = nullptr);

  // Snapshot work cut short: creating -> error, deleting -> resumed, and a revert (volume
  // reverting, snapshot restoring) -> the volume in error, the snapshot available again.
  Status RecoverSnapshots(Backend* b);
  // Groups an earlier run left half-done on `b` (volume_recovery.cc).
  void RecoverGroups(Backend* b);
  // Deletes the group's volumes (all "deleting" with it), then the group, on its worker.
  void DeleteGroup(Backend* b, const std::string& group_id);

  // volume_group_flows.cc (3.14), each on the group's worker: a group snapshot taken under a
  // write hold (one point in time across the group), its delete (its snapshots, then it), a
  // group made from a group snapshot or (under a hold of the sources) a source group.
  void CreateGroupSnapshot(Backend* b, const std::string& id, const std::string& request_id);
  void DeleteGroupSnapshot(Backend* b, const std::string& id, const std::string& request_id);
  void CreateGroupFromSource(Backend* b, const std::string& group_id, const RequestContext& ctx);
  // Group snapshots an earlier run left half-done: creating -> error, deleting -> resumed.
  void RecoverGroupSnapshots(Backend* b);
  // Holds the writes that reach `volumes` through this host (Target::HoldWrites): tgtd's when
  // one of them is exported, else nothing to hold.
  Result<std::unique_ptr<WriteHold>> HoldWrites(Backend* b, const std::vector<std::string>& volumes);

  // A create or extend this host was doing when it stopped (or never got): creating -> error,
  // extending -> error_extending (its reservations rolled back), with a user message saying the
  // volume service was not there to finish it (Cinder's DRIVER_NOT_INITIALIZED). Only while the
  // volume is still here.
  Result<bool> FailInterrupted(const Volume& v);

  // Records a user message about volume `v` (best effort, as Cinder: a failure is only logged).
  void Tell(const Volume& v, const std::string& request_id, const char* action, const char* detail);

  class Endpoint;  // the RPC server of one backend (volume_service.cc)

  // volume_attach.cc: exports and attachments on this host (Cinder's attachment_update,
  // initialize_connection, detach).
  // Runs `fn` on volume `id`'s worker and waits for its answer (an RPC call), at most `wait`.
  template <typename T>
  Result<T> RunCall(const std::string& id, std::function<Result<T>()> fn);
  Result<ConnectionReply> Connect(Backend* b, const HostConnect& r, bool legacy);
  Result<DetachReply> Detach(Backend* b, const HostDetach& r);
  // The export the volume has now (created when missing), its record updated.
  Result<TargetVolume> Export(Backend* b, const std::string& volume_id, Target* target = nullptr);
  // Removes the volume's export unless one of `remaining` still needs it; failures are logged
  // (EnsureExports removes what is left).
  void Unexport(Backend* b, const std::string& volume_id, const std::vector<Attachment>& remaining);
  // Makes the volume's export again (tgt cannot resize a LUN): after an attached extend.
  void ReExport(Backend* b, const std::string& volume_id);
  // Re-creates the exports attachments need (tgtd keeps none across its restart) and removes
  // those of this host's volumes nothing needs; at start and every report_interval.
  void EnsureExports();
  // Fails connects that never finished ("reserved" attachments with a connector, last changed
  // before `older_than`): the attachment goes, the volume's status follows, with a message.
  // `now`: at start, before this host serves anything, the repairs are made before it returns
  // (so that no API answer shows them half done); otherwise queued on each volume's worker.
  void FailInterruptedConnects(const std::string& older_than, bool now = false);
  // Sets up each backend's target; a tgtd out of reach leaves "local" answers until it answers.
  Status OpenTargets();

  // volume_service_backup.cc: a volume (or a temporary snapshot of it) opened for a backup
  // host, and released.
  Result<BackupDeviceReply> OpenForBackup(Backend* b, const HostBackupDevice& r);
  Status ReleaseForBackup(Backend* b, const HostBackupDevice& r);
  Status TakeBackupSnapshot(Backend* b, const Volume& v, const std::string& snapshot_id);
  // Exports made for backup hosts (by volume or snapshot id) are kept from EnsureExports'
  // removal while a backup host uses them.
  bool ForgetBackupExport(const std::string& id);
  bool KeptForBackup(const std::string& id);
  // A volume created for a restore (create --backup-id): the backup host that restores into it
  // is told; false when no backup is restoring into it.
  bool HandToBackupHost(const Volume& v, const RequestContext& ctx, bool from_creating);

  // Grows a volume that waits for this host in "extending" (the API may have given up on it).
  void Extend(Backend* b, const HostExtendVolume& r, const std::string& request_id);

  // Whether the volume is on this backend and in `status` (a request that arrives after the
  // API rescheduled the volume, or after it was deleted, finds it is not).
  std::optional<Volume> Mine(Backend* b, const std::string& id, const char* status);

  // Whether host@backend#pool is one of b's pools.
  static bool OnBackend(const Backend* b, const std::string& pool_host);

  void Create(Backend* b, int64_t size, const RequestContext& ctx, const PlacementRequest& placement);

  // Cinder's OnFailureRescheduleTask: the volume leaves this pool (still creating) and goes
  // back to the schedulers for another one, with the pools tried so far. False when it could
  // not be sent (it then fails here).
  bool Reschedule(Backend* b, const Volume& v, const RequestContext& ctx, const PlacementRequest& placement);

  // Runs `work` for volume `id` on its worker, remembering meanwhile that this host has it.
  void Run(const std::string& id, std::function<void()> work);

  // Volumes of this host left in a transitional status by work that never reached it (the API
  // process died between recording a volume and handing it over, a scheduler between placing a
  // volume here and handing it over): after a grace period with nothing accepted here for
  // them, a create is carried out, a delete resumed, and the rest get what a restart would
  // give them.
  void SweepOrphans();

  // Removes the volumes backend `b` holds that are no volume of its own: a copy a migration to
  // it left when this host died during the copy, the source's copy when this host died before
  // removing it. Only those whose row is live elsewhere and settled (not retyping), or gone;
  // each on the volume's worker, so never alongside work for that volume here.
  void RemoveStrays(Backend* b);

  void CreateSnapshot(Backend* b, const std::string& id, const std::string& volume_id, const std::string& request_id);

  void DeleteSnapshot(Backend* b, const std::string& id, const std::string& volume_id, const std::string& request_id);

  // Removes a "deleting" snapshot from the backend and the database; false when the driver
  // failed (it is then error_deleting, with a message).
  bool DeleteSnapshotNow(Backend* b, const std::string& id, const std::string& volume_id,
                         const std::string& request_id);

  // Cinder's revert_to_snapshot: the volume back to available (error when the driver failed;
  // the file driver's revert is all or nothing, so its data is then as before), the snapshot
  // back to available.
  void Revert(Backend* b, const std::string& id, const std::string& snapshot_id);

  // Retype, on the host that holds the volume: the new type is recorded when the volume stays
  // on its pool; otherwise the destination backend takes it over (MigrateIn).
  void Retype(Backend* b, const HostRetype& r, const RequestContext& ctx);

  // Retype with migration, on the destination backend: a copy of the volume's data is made here
  // (from the source's local path on this host, else pulled over RPC from the source's host),
  // then the volume moves here, with its new type, in one compare-and-swap; the source's copy
  // is removed afterwards.
  void MigrateIn(Backend* d, const HostRetype& r, const RequestContext& ctx);

  static std::string PreviousStatus(const RetypeRequest& r);
  // The status the volume holds while it moves: "retyping", or "maintenance" for a migration.
  static const char* BusyStatus(const RetypeRequest& r);
  static std::string BackendOf(const std::string& pool_host);
  // volume_recovery.cc: a migration that will not finish: the volume, still on its source,
  // returns to its status with migration_status "error".
  void AbandonMigration(const Volume& v);
  std::string MultiattachOf(const std::string& type_id);

  // The retype did not happen: the volume is as it was, the reservations go back.
  void FailRetype(const Volume& v, const RetypeRequest& args, const std::string& why);

  void TellSnapshot(const Snapshot& sn, const std::string& request_id, const char* action, const char* detail);

  void Delete(Backend* b, const std::string& id);

  // volume_manage.cc: manage existing (Cinder's manage_existing, manage_existing_snapshot,
  // unmanage and get_manageable_*). A "managing" volume adopts the object `r.ref`: its size
  // is reserved (gigabytes) and committed with "available", or it goes to "error_managing"
  // with the object as it was. A "creating" snapshot the same ("available" or "error").
  void Manage(Backend* b, const HostManage& r, const RequestContext& ctx);
  void ManageSnapshot(Backend* b, const HostManage& r, const RequestContext& ctx);
  // An "unmanaging" volume (snapshot): the driver keeps its object, the row goes with its quota.
  void Unmanage(Backend* b, const std::string& id);
  void UnmanageSnapshot(Backend* b, const std::string& id, const std::string& volume_id);
  // The backend's objects, with what only the database knows: safe_to_manage, cinder_id, a
  // snapshot's source_reference (JSON array text, ManageableReply).
  Result<ManageableReply> ListManageable(Backend* b, bool snapshots);
  // The object `ref` of backend b, if the driver lists it, and why it may not be managed.
  Result<ManageableObject> FindManageable(Backend* b, const std::string& ref);

  // Records the outcome of driver work. The database may be briefly unreachable (a busy SQLite
  // file, a PostgreSQL restart): retry for up to a minute rather than leave the volume in its
  // transitional status; a write that finds the status changed meanwhile is not retried.
  template <typename Fn>
  void WriteBack(const std::string& id, Fn write) {
    int delay_ms = 10;
    for (int waited_ms = 0;; waited_ms += delay_ms, delay_ms = std::min(delay_ms * 2, 2000)) {
      Result<bool> r = write();
      if (r.ok()) return;
      if (waited_ms >= 60000) {
        CINDER_LOG(kWarning, "cinder-volume") << "cannot record the outcome for volume " << id << ": "
                                              << r.status().ToString() << " (repaired at the next start)";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }

  // Runs a database read the work cannot go on without. While the database is out of reach
  // (Unavailable: a restart), tries again for up to a minute, as WriteBack does, rather than
  // take a read that failed for "not there" and drop or fail the work.
  template <typename Fn>
  auto ReadBack(Fn read) -> decltype(read()) {
    int delay_ms = 10;
    for (int waited_ms = 0;; waited_ms += delay_ms, delay_ms = std::min(delay_ms * 2, 2000)) {
      auto r = read();
      if (r.ok() || r.status().code() != Code::kUnavailable || waited_ms >= 60000) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }

  // Capacity changed: report soon (at most once a second).
  void Changed();

  // Reports every backend's pools (Cinder's get_volume_stats with the backend's options):
  // into the pools table, where schedulers claim space, and to every live scheduler
  // (update_service_capabilities). Sizes of the volumes whose space the figures include are
  // summed before the driver measures, so a volume finished in between is counted twice
  // (conservative), never missed.
  void ReportCapabilities();

  // Reports within a second of a change (Changed), at most once a second, and every
  // report_interval of the Env's clock anyway, so that a scheduler that starts later learns
  // about this host; sweeps orphans every report_interval.
  void ReportLoop(std::chrono::steady_clock::time_point start);

  Options options_;
  Store* store_;
  Transport* transport_;
  SchedulerRpc schedulers_;
  VolumeRpc hosts_;  // other backends' hosts, in a migration
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;  // one per backend, serving its topic
  Env* env_;
  ServiceHeartbeat heartbeat_;
  std::mutex report_mu_;  // guards dirty_ and stopping_
  std::condition_variable report_cv_;
  bool sweep_requested_ = false;  // guarded by report_mu_: RequestSweep asked for a sweep now
  // The sweep of orphans (SweepOrphans), on the report loop's thread, at once (Endpoint).
  void RequestSweep() {
    {
      std::lock_guard<std::mutex> l(report_mu_);
      sweep_requested_ = true;
    }
    report_cv_.notify_all();
  }
  std::vector<std::string> start_notes_;  // warnings of the start, logged by the reporter thread
  bool dirty_ = false;
  bool stopping_ = false;
  std::thread reporter_;
  struct BackupExport {
    int users = 0;
    TargetVolume volume;  // a snapshot's export (a volume's is in the database)
  };
  std::mutex backup_exports_mu_;                        // guards backup_exports_
  std::map<std::string, BackupExport> backup_exports_;  // volume or snapshot id -> its export
  std::mutex accepted_mu_;                              // guards accepted_
  std::map<std::string, int> accepted_;                 // volume id -> work accepted here and not finished
  WorkerPool workers_;                                  // last: drained and joined first
};

}  // namespace cinder

#endif  // CINDER_VOLUME_VOLUME_SERVICE_IMPL_H_
