#include "volume/volume_service.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/message_field.h"
#include "common/util.h"
#include "common/worker_pool.h"
#include "db/heartbeat.h"
#include "rpc/topics.h"
#include "volume/volume_rpc.h"
#include "volume/sparse_copy.h"
#include "volume/volume_copy.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace mf = message_field;

// How long a volume may sit in a transitional status on this host with no work for it here
// before it is repaired (the longest a hand-over takes is three attempts of 3 s).
constexpr double kOrphanGraceSeconds = 30;

struct Backend {
  std::string name;          // the config section
  std::string host;          // host@backend
  BackendOptions options;
  std::string availability_zone;
  std::unique_ptr<VolumeDriver> driver;
};

// A number as Python's str() prints a float ("20.0", "1.5", "inf").
std::string PyFloat(double v) {
  if (std::isinf(v)) return "infinite";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  // Shortest form that reads back: try fewer digits first.
  for (int prec = 1; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) {
      s = buf;
      break;
    }
  }
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

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
                    std::vector<std::unique_ptr<Backend>> backends)
      : options_(options),
        store_(store),
        transport_(transport),
        schedulers_(transport),
        hosts_(transport),
        backends_(std::move(backends)),
        heartbeat_(store, options.report_interval),
        workers_(options.volume_workers) {}

  ~VolumeServiceImpl() override {
    {
      std::lock_guard<std::mutex> l(report_mu_);
      stopping_ = true;
    }
    report_cv_.notify_all();
    if (reporter_.joinable()) reporter_.join();
    workers_.Drain();
  }

  Status Start() {
    CINDER_RETURN_IF_ERROR(Recover());
    for (const auto& b : backends_) {
      endpoints_.push_back(std::make_unique<Endpoint>(this, b.get()));
      CINDER_ASSIGN_OR_RETURN(std::string endpoint,
                              transport_->Serve(rpc::VolumeTopic(b->host), VolumeRpcHandler(endpoints_.back().get())));
      ServiceInfo svc;
      svc.host = b->host;
      svc.binary = "cinder-volume";
      svc.topic = "cinder-volume";
      svc.availability_zone = b->availability_zone;
      svc.endpoint = endpoint;
      svc.rpc_version = kRpcVersion;
      CINDER_RETURN_IF_ERROR(heartbeat_.Register(svc));
    }
    ReportCapabilities();
    reporter_ = std::thread([this] { ReportLoop(); });
    return Status::OK();
  }

  void Drain() override { workers_.Drain(); }

 private:
  // Repairs what an earlier run of this host left half-done, as Cinder's volume service does:
  // creating -> error, extending -> error_extending, deleting -> resumed.
  Status Recover() {
    for (const auto& b : backends_) {
      CINDER_ASSIGN_OR_RETURN(auto stuck, store_->VolumesInStatus(
                                              b->host + "#", {vs::kCreating, vs::kExtending, vs::kDeleting}));
      for (const auto& v : stuck) {
        if (v.status == vs::kDeleting) {
          Delete(b.get(), v.id);
        } else {
          CINDER_RETURN_IF_ERROR(FailInterrupted(v).status());
        }
      }
      CINDER_RETURN_IF_ERROR(RecoverSnapshots(b.get()));
      // A retype cut short: the volume stays where and what it was (its reservations expire).
      CINDER_ASSIGN_OR_RETURN(auto retyping, store_->VolumesInStatus(b->host + "#", {vs::kRetyping}));
      for (const auto& v : retyping) (void)store_->RestorePreviousStatus(v.id, vs::kRetyping, v.host);
    }
    return Status::OK();
  }

  // Snapshot work cut short: creating -> error, deleting -> resumed, and a revert (volume
  // reverting, snapshot restoring) -> the volume in error, the snapshot available again.
  Status RecoverSnapshots(Backend* b) {
    CINDER_ASSIGN_OR_RETURN(auto snaps, store_->SnapshotsOnHost(b->host + "#", {ss::kCreating, ss::kDeleting,
                                                                                ss::kRestoring}));
    for (const auto& sn : snaps) {
      if (sn.status == ss::kCreating) {
        auto r = store_->CasSnapshotStatus(sn.id, {ss::kCreating}, ss::kError);
        if (r.ok() && *r) TellSnapshot(sn, "", mf::kSnapshotCreate, mf::kSnapshotCreateError);
      } else if (sn.status == ss::kDeleting) {
        const std::string id = sn.id, volume_id = sn.volume_id;
        Run(volume_id, [this, b, id, volume_id] { DeleteSnapshot(b, id, volume_id, ""); });
      } else {
        (void)store_->CasVolumeStatus(sn.volume_id, {vs::kReverting}, vs::kError);
        (void)store_->CasSnapshotStatus(sn.id, {ss::kRestoring}, ss::kAvailable);
      }
    }
    return Status::OK();
  }

  // A create or extend this host was doing when it stopped (or never got): creating -> error,
  // extending -> error_extending, with a user message saying the volume service was not there
  // to finish it (Cinder's DRIVER_NOT_INITIALIZED). Only while the volume is still here.
  Result<bool> FailInterrupted(const Volume& v) {
    const bool creating = v.status == vs::kCreating;
    auto r = store_->CasVolumeStatus(v.id, {v.status}, creating ? vs::kError : vs::kErrorExtending, {},
                                     v.host);
    if (r.ok() && *r) {
      Tell(v, "", creating ? mf::kCreateVolumeFromBackend : mf::kExtendVolume, mf::kDriverNotInitialized);
    }
    return r;
  }

  // Records a user message about volume `v` (best effort, as Cinder: a failure is only logged).
  void Tell(const Volume& v, const std::string& request_id, const char* action, const char* detail) {
    Status st = store_->InsertMessage(mf::NewMessage(v.project_id, request_id, mf::kResourceVolume, v.id,
                                                     action, detail, options_.message_ttl));
    if (!st.ok()) CINDER_LOG(kWarning, "cinder-volume") << "cannot record a message for volume " << v.id << ": " << st.ToString();
  }

  // The RPC server of one backend: each method queues its work on the volume's worker (calls
  // answer at once).
  class Endpoint : public VolumeRpcServer {
   public:
    Endpoint(VolumeServiceImpl* svc, Backend* b) : svc_(svc), b_(b) {}

    Status CreateVolume(const RequestContext& ctx, const HostCreateVolume& r) override {
      svc_->Run(r.placement.volume_id, [svc = svc_, b = b_, r, ctx] { svc->Create(b, r.size, ctx, r.placement); });
      return Status::OK();
    }
    Status ExtendVolume(const RequestContext& ctx, const HostExtendVolume& r) override {
      svc_->Run(r.volume_id, [svc = svc_, b = b_, r, request_id = ctx.request_id] { svc->Extend(b, r, request_id); });
      return Status::OK();
    }
    Status DeleteVolume(const RequestContext&, const VolumeRef& r) override {
      svc_->Delete(b_, r.volume_id);
      return Status::OK();
    }
    // Snapshot work runs on the volume's worker: never alongside an extend or a revert of it.
    Status CreateSnapshot(const RequestContext& ctx, const SnapshotRef& r) override {
      svc_->Run(r.volume_id, [svc = svc_, b = b_, r, request_id = ctx.request_id] {
        svc->CreateSnapshot(b, r.snapshot_id, r.volume_id, request_id);
      });
      return Status::OK();
    }
    Status DeleteSnapshot(const RequestContext& ctx, const SnapshotRef& r) override {
      svc_->Run(r.volume_id, [svc = svc_, b = b_, r, request_id = ctx.request_id] {
        svc->DeleteSnapshot(b, r.snapshot_id, r.volume_id, request_id);
      });
      return Status::OK();
    }
    Status RevertToSnapshot(const RequestContext&, const HostRevert& r) override {
      svc_->Run(r.volume_id, [svc = svc_, b = b_, r] { svc->Revert(b, r.volume_id, r.snapshot_id); });
      return Status::OK();
    }
    // From a scheduler, to the host that holds the volume.
    Status RetypeVolume(const RequestContext& ctx, const HostRetype& r) override {
      svc_->Run(r.retype.volume_id, [svc = svc_, b = b_, r, ctx] { svc->Retype(b, r, ctx); });
      return Status::OK();
    }
    // To the backend the volume moves to.
    Status MigrateVolumeIn(const RequestContext& ctx, const HostRetype& r) override {
      svc_->Run(r.retype.volume_id, [svc = svc_, b = b_, r, ctx] { svc->MigrateIn(b, r, ctx); });
      return Status::OK();
    }
    // The volume moved to another host: its old data goes.
    Status DeleteMigrated(const RequestContext&, const VolumeRef& r) override {
      svc_->Run(r.volume_id, [svc = svc_, b = b_, id = r.volume_id] {
        auto v = svc->store_->GetVolume(id, std::nullopt);
        if (v.ok() && !OnBackend(b, v->host)) (void)DriverCall([&] { return b->driver->DeleteVolume(id); });
        svc->Changed();
      });
      return Status::OK();
    }
    // A destination host pulls a migrating volume's data.
    Result<ChunkReply> ReadChunk(const RequestContext&, const ChunkRequest& r) override {
      auto v = svc_->store_->GetVolume(r.volume_id, std::nullopt);
      if (!v.ok() || v->status != vs::kRetyping || !OnBackend(b_, v->host)) {
        return FailedPrecondition("volume " + r.volume_id + " is not migrating from " + b_->host);
      }
      CINDER_ASSIGN_OR_RETURN(VolumeChunk c, ReadVolumeChunk(b_->driver->LocalPath(r.volume_id), r.offset));
      return ChunkReply{c.offset, c.eof, rpc::Bytes{std::move(c.data)}};
    }
    // An extend checks the room its volume's backend has.
    Result<CapacityReply> Capacity(const RequestContext&) override {
      BackendCapacity cap;
      CINDER_RETURN_IF_ERROR(DriverCall([&]() -> Status {
        auto c = b_->driver->GetCapacity();
        if (!c.ok()) return c.status();
        cap = *c;
        return Status::OK();
      }));
      return CapacityReply{cap.total_capacity_gb, cap.free_capacity_gb};
    }
    Result<LocalPathReply> LocalPath(const RequestContext&, const VolumeRef& r) override {
      return LocalPathReply{b_->driver->LocalPath(r.volume_id)};
    }

   private:
    VolumeServiceImpl* svc_;
    Backend* b_;
  };

  // Grows a volume that waits for this host in "extending" (the API may have given up on it).
  void Extend(Backend* b, const HostExtendVolume& r, const std::string& request_id) {
    const std::string& id = r.volume_id;
    auto v = Mine(b, id, vs::kExtending);
    if (!v) return;
    Status st = DriverCall([&] { return b->driver->ExtendVolume(id, r.new_size); });
    if (st.ok()) {
      WriteBack(id, [&] {
        return store_->CasVolumeStatusCommit(id, {vs::kExtending}, vs::kAvailable,
                                             {{"size", std::to_string(r.new_size)}, {"previous_status", std::nullopt}},
                                             r.reservations);
      });
    } else {
      WriteBack(id, [&]() -> Result<bool> {
        Status rolled = store_->RollbackQuota(r.reservations);
        if (!rolled.ok()) return rolled;
        return true;
      });
      CINDER_LOG(kError, "cinder-volume") << "extend of volume " << id << " failed: " << st.ToString();
      bool recorded = false;
      WriteBack(id, [&]() -> Result<bool> {
        auto cas = store_->CasVolumeStatus(id, {vs::kExtending}, vs::kErrorExtending);
        if (cas.ok()) recorded = *cas;
        return cas;
      });
      if (recorded) Tell(*v, request_id, mf::kExtendVolume, mf::kDriverFailedExtend);
    }
    Changed();
  }

  // Whether the volume is on this backend and in `status` (a request that arrives after the
  // API rescheduled the volume, or after it was deleted, finds it is not).
  std::optional<Volume> Mine(Backend* b, const std::string& id, const char* status) {
    auto v = store_->GetVolume(id, std::nullopt);
    if (v.ok() && OnBackend(b, v->host) && v->status == status) return std::move(v).value();
    return std::nullopt;
  }

  // Whether host@backend#pool is one of b's pools.
  static bool OnBackend(const Backend* b, const std::string& pool_host) {
    return pool_host.size() > b->host.size() && pool_host.compare(0, b->host.size(), b->host) == 0 &&
           pool_host[b->host.size()] == '#';
  }

  void Create(Backend* b, int64_t size, const RequestContext& ctx, const PlacementRequest& placement) {
    const std::string& id = placement.volume_id;
    auto v = Mine(b, id, vs::kCreating);
    if (!v) return;
    Status st = DriverCall([&] {
      if (v->snapshot_id) return b->driver->CreateVolumeFromSnapshot(id, size, *v->snapshot_id);
      if (v->source_volid) return b->driver->CreateClonedVolume(id, size, *v->source_volid);
      return b->driver->CreateVolume(id, size);
    });
    if (!st.ok()) {
      CINDER_LOG(kError, "cinder-volume") << "create of volume " << id << " failed: " << st.ToString();
      Tell(*v, ctx.request_id, mf::kCreateVolumeFromBackend, mf::kDriverFailedCreate);
      if (placement.attempt < options_.scheduler_max_attempts && Reschedule(b, *v, ctx, placement)) return;
    }
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto r = store_->CasVolumeStatus(id, {vs::kCreating}, st.ok() ? vs::kAvailable : vs::kError, {},
                                       v->host);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (st.ok() && !recorded) {
      // Deleted or moved to another host meanwhile: the file made here belongs to nobody.
      auto now = store_->GetVolume(id, std::nullopt);
      if (!now.ok() || now->host != v->host) (void)DriverCall([&] { return b->driver->DeleteVolume(id); });
    }
    Changed();
  }

  // Cinder's OnFailureRescheduleTask: the volume leaves this pool (still creating) and goes
  // back to the schedulers for another one, with the pools tried so far. False when it could
  // not be sent (it then fails here).
  bool Reschedule(Backend* b, const Volume& v, const RequestContext& ctx, const PlacementRequest& placement) {
    (void)DriverCall([&] { return b->driver->DeleteVolume(v.id); });  // whatever the failure left
    auto released = store_->ReleaseClaim(v.id, v.host);
    if (!released.ok() || !*released) return false;
    // With the pools tried and the hints; the volume and its type are read afresh.
    PlacementRequest again = placement;
    ++again.attempt;
    again.volume.reset();
    again.extra_specs.reset();
    Status st = schedulers_.CreateVolume(ctx, again);
    Changed();
    if (st.ok()) return true;
    CINDER_LOG(kWarning, "cinder-volume") << "cannot reschedule volume " << v.id << ": " << st.ToString();
    auto failed = store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError, {}, std::string());
    if (failed.ok() && *failed) Tell(v, ctx.request_id, mf::kScheduleAllocateVolume, mf::kNoBackendAvailable);
    return true;  // failed: nothing more to do here
  }

  // Runs `work` for volume `id` on its worker, remembering meanwhile that this host has it.
  void Run(const std::string& id, std::function<void()> work) {
    {
      std::lock_guard<std::mutex> l(accepted_mu_);
      ++accepted_[id];
    }
    workers_.Submit(id, [this, id, work = std::move(work)] {
      struct Done {
        VolumeServiceImpl* self;
        const std::string& id;
        ~Done() {
          std::lock_guard<std::mutex> l(self->accepted_mu_);
          if (--self->accepted_[id] == 0) self->accepted_.erase(id);
        }
      } done{this, id};
      work();
    });
  }

  // Volumes of this host left in a transitional status by work that never reached it (the API
  // process died between recording a volume and handing it over): after a grace period with
  // nothing accepted here for them, they get what a restart would give them.
  void SweepOrphans() {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    // Untouched for the grace period, and no work for it queued or running here.
    auto orphaned = [&](const std::string& volume_id, const std::string& created,
                        const std::optional<std::string>& updated) {
      auto since = ParseIso(updated.value_or(created));
      if (!since || now - *since < kOrphanGraceSeconds) return false;
      std::lock_guard<std::mutex> l(accepted_mu_);
      return accepted_.count(volume_id) == 0;
    };
    for (const auto& b : backends_) {
      auto stuck = store_->VolumesInStatus(b->host + "#", {vs::kCreating, vs::kExtending, vs::kDeleting, vs::kRetyping,
                                                           vs::kReverting});
      if (stuck.ok()) {
        for (const auto& v : *stuck) {
          if (!orphaned(v.id, v.created_at, v.updated_at)) continue;
          CINDER_LOG(kWarning, "cinder-volume") << "volume " << v.id << " was " << v.status
                    << " with no work for it here; repairing it";
          if (v.status == vs::kDeleting) {
            Delete(b.get(), v.id);
          } else if (v.status == vs::kRetyping) {
            // Its scheduler or destination went away (a copy in progress elsewhere keeps the
            // volume's updated_at fresh): it stays what and where it is.
            (void)store_->RestorePreviousStatus(v.id, vs::kRetyping, v.host);
          } else if (v.status == vs::kReverting) {
            (void)store_->CasVolumeStatus(v.id, {vs::kReverting}, vs::kError, {}, v.host);
          } else {
            (void)FailInterrupted(v);
          }
        }
      }
      // Snapshot work whose request never arrived; a revert's snapshot once its volume is done.
      auto snaps = store_->SnapshotsOnHost(b->host + "#", {ss::kCreating, ss::kDeleting, ss::kRestoring});
      if (!snaps.ok()) continue;
      for (const auto& sn : *snaps) {
        if (!orphaned(sn.volume_id, sn.created_at, sn.updated_at)) continue;
        if (sn.status == ss::kCreating) {
          auto r = store_->CasSnapshotStatus(sn.id, {ss::kCreating}, ss::kError);
          if (r.ok() && *r) TellSnapshot(sn, "", mf::kSnapshotCreate, mf::kSnapshotCreateError);
        } else if (sn.status == ss::kDeleting) {
          const std::string id = sn.id, volume_id = sn.volume_id;
          Backend* backend = b.get();
          Run(volume_id, [this, backend, id, volume_id] { DeleteSnapshot(backend, id, volume_id, ""); });
        } else {
          auto v = store_->GetVolume(sn.volume_id, std::nullopt);
          if (!v.ok() || v->status != vs::kReverting) {
            (void)store_->CasSnapshotStatus(sn.id, {ss::kRestoring}, ss::kAvailable);
          }
        }
      }
    }
  }

  void CreateSnapshot(Backend* b, const std::string& id, const std::string& volume_id, const std::string& request_id) {
    auto sn = store_->GetSnapshot(id, std::nullopt);
    if (!sn.ok() || sn->status != ss::kCreating) return;  // no longer waiting (force-deleted)
    Status st = DriverCall([&] { return b->driver->CreateSnapshot(volume_id, id); });
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto r = st.ok() ? store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kAvailable, {{"progress", std::string("100%")}})
                       : store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kError);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (!st.ok()) {
      CINDER_LOG(kError, "cinder-volume") << "snapshot " << id << " of volume " << volume_id << " failed: " << st.ToString();
      if (recorded) TellSnapshot(*sn, request_id, mf::kSnapshotCreate, mf::kSnapshotCreateError);
    } else if (!recorded) {
      // Gone meanwhile (force-deleted and purged)? A snapshot still recorded, whatever its
      // status, keeps its file: a delete of it removes the file in its turn.
      auto now = store_->GetSnapshot(id, std::nullopt);
      if (now.status().code() == Code::kNotFound) {
        (void)DriverCall([&] { return b->driver->DeleteSnapshot(volume_id, id); });
      }
    }
    Changed();
  }

  void DeleteSnapshot(Backend* b, const std::string& id, const std::string& volume_id, const std::string& request_id) {
    (void)DeleteSnapshotNow(b, id, volume_id, request_id);
    Changed();
  }

  // Removes a "deleting" snapshot from the backend and the database; false when the driver
  // failed (it is then error_deleting, with a message).
  bool DeleteSnapshotNow(Backend* b, const std::string& id, const std::string& volume_id, const std::string& request_id) {
    auto sn = store_->GetSnapshot(id, std::nullopt);
    if (!sn.ok() || sn->status != ss::kDeleting) return true;
    Status st = DriverCall([&] { return b->driver->DeleteSnapshot(volume_id, id); });
    if (st.ok()) {
      WriteBack(id, [&] { return store_->SoftDeleteSnapshot(id, ss::kDeleting, !options_.no_snapshot_gb_quota); });
      return true;
    }
    CINDER_LOG(kError, "cinder-volume") << "delete of snapshot " << id << " failed: " << st.ToString();
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto r = store_->CasSnapshotStatus(id, {ss::kDeleting}, ss::kErrorDeleting);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (recorded) TellSnapshot(*sn, request_id, mf::kSnapshotDelete, mf::kSnapshotDeleteError);
    return false;
  }

  // Cinder's revert_to_snapshot: the volume back to available (error when the driver failed;
  // the file driver's revert is all or nothing, so its data is then as before), the snapshot
  // back to available.
  void Revert(Backend* b, const std::string& id, const std::string& snapshot_id) {
    auto v = Mine(b, id, vs::kReverting);
    if (!v) return;
    Status st = DriverCall([&] { return b->driver->RevertToSnapshot(id, snapshot_id, v->size); });
    if (!st.ok()) CINDER_LOG(kError, "cinder-volume") << "revert of volume " << id << " failed: " << st.ToString();
    WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kReverting}, st.ok() ? vs::kAvailable : vs::kError); });
    WriteBack(snapshot_id, [&] { return store_->CasSnapshotStatus(snapshot_id, {ss::kRestoring}, ss::kAvailable); });
    Changed();
  }

  // Retype, on the host that holds the volume: the new type is recorded when the volume stays
  // on its pool; otherwise the destination backend takes it over (MigrateIn).
  void Retype(Backend* b, const HostRetype& r, const RequestContext& ctx) {
    const std::string& id = r.retype.volume_id;
    auto v = Mine(b, id, vs::kRetyping);
    if (!v) return;
    if (r.dest_host == v->host) {
      WriteBack(id, [&] {
        return store_->CasVolumeStatusCommit(id, {vs::kRetyping}, PreviousStatus(r.retype),
                                             {{"volume_type_id", r.retype.new_type_id}, {"previous_status", std::nullopt}},
                                             r.retype.reservations);
      });
      return;
    }
    HostRetype out = r;
    out.source_host = v->host;
    Status st = hosts_.MigrateVolumeIn(ctx, r.dest_host, out);
    if (!st.ok()) FailRetype(*v, r.retype, "the destination " + r.dest_host + " did not take the volume: " + st.message());
  }

  // Retype with migration, on the destination backend: a copy of the volume's data is made here
  // (from the source's local path on this host, else pulled over RPC from the source's host),
  // then the volume moves here, with its new type, in one compare-and-swap; the source's copy
  // is removed afterwards.
  void MigrateIn(Backend* d, const HostRetype& r, const RequestContext& ctx) {
    const std::string& id = r.retype.volume_id;
    const RetypeRequest& args = r.retype;
    auto v = store_->GetVolume(id, std::nullopt);
    const std::optional<std::string>& source_host = r.source_host;
    const std::string* dest = &r.dest_host;
    const std::string* type_id = &r.retype.new_type_id;
    if (!v.ok() || v->status != vs::kRetyping || !source_host || v->host != *source_host) return;
    const std::string source_backend = source_host->substr(0, source_host->find('#'));
    if (source_backend == d->host) {
      // The data is here already: never replace the live copy with itself.
      return FailRetype(*v, args, "the destination " + *dest + " is the volume's own backend");
    }
    Backend* local_source = nullptr;
    for (const auto& b : backends_) {
      if (b->host == source_backend) local_source = b.get();
    }
    const int64_t bytes = v->size * (int64_t{1} << 30);
    Status st = DriverCall([&]() -> Status {
      (void)d->driver->DeleteVolume(id);  // what an earlier, interrupted attempt left here
      CINDER_RETURN_IF_ERROR(d->driver->CreateVolume(id, v->size));
      const std::string dst_path = d->driver->LocalPath(id);
      if (dst_path.empty()) return Unimplemented("the destination driver has no local path to copy into");
      if (local_source) {
        const std::string src_path = local_source->driver->LocalPath(id);
        if (src_path.empty()) return Unimplemented("the source driver has no local path to copy from");
        return ReplaceWithCopy(src_path, dst_path, bytes).status();
      }
      auto touched = std::chrono::steady_clock::now();
      auto pulled = PullVolume(
          [&](int64_t offset) -> Result<VolumeChunk> {
            // A long copy keeps the volume fresh, so that its source's sweep leaves it alone.
            if (std::chrono::steady_clock::now() - touched > std::chrono::seconds(5)) {
              touched = std::chrono::steady_clock::now();
              (void)store_->UpdateVolume(id, {}, std::nullopt);
            }
            CINDER_ASSIGN_OR_RETURN(ChunkReply reply, hosts_.ReadChunk(ctx, source_backend, ChunkRequest{id, offset}));
            VolumeChunk c;
            c.offset = reply.offset;
            c.eof = reply.eof;
            c.data = std::move(reply.data.data);
            return c;
          },
          dst_path);
      return pulled.status();
    });
    if (!st.ok()) {
      (void)DriverCall([&] { return d->driver->DeleteVolume(id); });
      return FailRetype(*v, args, "the copy to " + *dest + " failed: " + st.ToString());
    }
    bool moved = false;
    WriteBack(id, [&]() -> Result<bool> {
      // Only the retype this copy was made for: still on the source, of the type and size copied.
      auto r = store_->CasVolumeStatusCommit(
          id, {vs::kRetyping}, PreviousStatus(args),
          {{"host", *dest}, {"volume_type_id", *type_id}, {"previous_status", std::nullopt}}, args.reservations,
          {{"host", v->host}, {"COALESCE(volume_type_id, '')", v->volume_type_id}, {"size", std::to_string(v->size)}});
      if (r.ok()) moved = *r;
      return r;
    });
    if (!moved) {
      // A commit whose answer was lost may have moved it after all: the copy here is then the
      // live one. Only a volume known to be elsewhere loses this copy.
      auto now = store_->GetVolume(id, std::nullopt);
      if (!now.ok() && now.status().code() != Code::kNotFound) {
        CINDER_LOG(kWarning, "cinder-volume") << "cannot tell where volume " << id << " is; keeping its copy on " << d->host;
        return;
      }
      if (now.ok() && now->host == *dest) {
        moved = true;
      } else {
        (void)DriverCall([&] { return d->driver->DeleteVolume(id); });
        // Still retyping on its source (the volume changed meanwhile): the retype did not happen.
        if (now.ok() && now->status == vs::kRetyping && now->host == *source_host) {
          FailRetype(*now, args, "the volume changed while it was being copied");
        }
        Changed();
        return;
      }
    }
    if (local_source) {
      (void)DriverCall([&] { return local_source->driver->DeleteVolume(id); });
    } else {
      (void)hosts_.DeleteMigrated(ctx, source_backend, id);
    }
    Changed();
  }

  static std::string PreviousStatus(const RetypeRequest& r) {
    return r.previous_status.empty() ? std::string(vs::kAvailable) : r.previous_status;
  }

  // The retype did not happen: the volume is as it was, the reservations go back.
  void FailRetype(const Volume& v, const RetypeRequest& args, const std::string& why) {
    CINDER_LOG(kError, "cinder-volume") << "retype of volume " << v.id << " failed: " << why;
    bool recorded = false;
    WriteBack(v.id, [&]() -> Result<bool> {
      auto r = store_->RestorePreviousStatus(v.id, vs::kRetyping);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (recorded) (void)store_->RollbackQuota(args.reservations);
  }

  void TellSnapshot(const Snapshot& sn, const std::string& request_id, const char* action, const char* detail) {
    Status st = store_->InsertMessage(mf::NewMessage(sn.project_id, request_id, mf::kResourceSnapshot, sn.id, action,
                                                     detail, options_.message_ttl));
    if (!st.ok()) CINDER_LOG(kWarning, "cinder-volume") << "cannot record a message for snapshot " << sn.id << ": " << st.ToString();
  }

  void Delete(Backend* b, const std::string& id) {
    Run(id, [this, b, id] {
      // A cascading delete takes the volume's snapshots first (they are "deleting" with it).
      Status st = Status::OK();
      auto snaps = store_->SnapshotsOfVolume(id);
      if (!snaps.ok()) st = snaps.status();
      for (const auto& sn : snaps.ok() ? *snaps : std::vector<Snapshot>()) {
        if (sn.status != ss::kDeleting) continue;
        if (!DeleteSnapshotNow(b, sn.id, id, "")) st = Internal("snapshot " + sn.id + " could not be deleted");
      }
      if (st.ok()) st = DriverCall([&] { return b->driver->DeleteVolume(id); });
      if (st.ok()) {
        WriteBack(id, [&] { return store_->SoftDeleteVolume(id, vs::kDeleting); });
      } else {
        CINDER_LOG(kError, "cinder-volume") << "delete of volume " << id << " failed: " << st.ToString();
        WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kDeleting}, vs::kErrorDeleting); });
      }
      Changed();
    });
  }

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

  // Capacity changed: report soon (at most once a second).
  void Changed() {
    std::lock_guard<std::mutex> l(report_mu_);
    dirty_ = true;
  }

  // Reports every backend's pools (Cinder's get_volume_stats with the backend's options):
  // into the pools table, where schedulers claim space, and to every live scheduler
  // (update_service_capabilities). Sizes of the volumes whose space the figures include are
  // summed before the driver measures, so a volume finished in between is counted twice
  // (conservative), never missed.
  void ReportCapabilities() {
    for (const auto& b : backends_) {
      auto settled = store_->VolumeUsageByHost(/*exclude_creating=*/true);  // before measuring
      Result<BackendStats> stats = Internal("no stats");
      (void)DriverCall([&]() -> Status {
        stats = b->driver->GetStats();
        return stats.status();
      });
      auto usage = store_->VolumeUsageByHost();
      if (!stats.ok() || !usage.ok() || !settled.ok()) continue;
      std::vector<PoolRecord> records;
      for (const auto& pool : stats->pools) {
        PoolRecord rec;
        std::string pool_name = pool.pool_name.empty() ? b->options.volume_backend_name : pool.pool_name;
        rec.host = b->host + "#" + pool_name;
        rec.backend_host = b->host;
        rec.reported_at = NowIso();
        auto u = usage->find(rec.host);
        auto s = settled->find(rec.host);
        rec.allocated_at_report = s == settled->end() ? 0 : s->second.gb;
        auto& caps = rec.capabilities;
        caps = pool.capabilities;
        caps["pool_name"] = pool_name;
        caps["total_capacity_gb"] = PyFloat(pool.total_capacity_gb);
        caps["free_capacity_gb"] = PyFloat(pool.free_capacity_gb);
        if (pool.provisioned_capacity_gb) caps["provisioned_capacity_gb"] = PyFloat(*pool.provisioned_capacity_gb);
        caps["allocated_capacity_gb"] = std::to_string(u == usage->end() ? 0 : static_cast<int64_t>(u->second.gb));
        caps["total_volumes"] = std::to_string(u == usage->end() ? 0 : u->second.count);
        caps["thin_provisioning_support"] = pool.thin_provisioning_support ? "True" : "False";
        caps["thick_provisioning_support"] = pool.thick_provisioning_support ? "True" : "False";
        caps["reserved_percentage"] = std::to_string(b->options.reserved_percentage);
        caps["max_over_subscription_ratio"] = b->options.max_over_subscription_ratio.empty()
                                                  ? options_.max_over_subscription_ratio
                                                  : b->options.max_over_subscription_ratio;
        caps["volume_backend_name"] = b->options.volume_backend_name;
        caps["vendor_name"] = stats->vendor_name;
        caps["driver_version"] = stats->driver_version;
        caps["storage_protocol"] = stats->storage_protocol;
        caps.emplace("QoS_support", "False");
        caps.emplace("multiattach", "False");
        caps["filter_function"] = b->options.filter_function.empty() ? "None" : b->options.filter_function;
        caps["goodness_function"] = b->options.goodness_function.empty() ? "None" : b->options.goodness_function;
        for (const auto& [k, v] : b->options.extra_capabilities) caps[k] = v;
        caps["timestamp"] = rec.reported_at;
        records.push_back(std::move(rec));
      }
      Status st = store_->ReportPools(b->host, records);
      if (!st.ok()) CINDER_LOG(kWarning, "cinder-volume") << "cannot record the pools of " << b->host << ": " << st.ToString();
      for (const auto& rec : records) {
        auto u = usage->find(rec.host);
        (void)schedulers_.UpdateServiceCapabilities(
            {rec.host, rec.backend_host, rec.capabilities, u == usage->end() ? int64_t{0} : u->second.count});
      }
    }
  }

  // Reports when capacity changed (checked every second) and every report_interval anyway,
  // so that a scheduler that starts later learns about this host; sweeps orphans as often.
  void ReportLoop() {
    std::unique_lock<std::mutex> l(report_mu_);
    auto last_report = std::chrono::steady_clock::now();
    auto last_sweep = last_report;
    const auto interval = std::chrono::seconds(options_.report_interval);
    while (!report_cv_.wait_for(l, std::chrono::seconds(1), [this] { return stopping_; })) {
      auto now = std::chrono::steady_clock::now();
      const bool report = dirty_ || now - last_report >= interval;
      const bool sweep = now - last_sweep >= interval;
      if (!report && !sweep) continue;
      if (report) {
        dirty_ = false;
        last_report = now;
      }
      if (sweep) last_sweep = now;
      l.unlock();
      try {
        if (report) ReportCapabilities();
        if (sweep) SweepOrphans();
      } catch (const std::exception& e) {  // housekeeping must never end the process
        CINDER_LOG(kError, "cinder-volume") << "periodic task failed: " << e.what();
      }
      l.lock();
    }
  }

  Options options_;
  Store* store_;
  Transport* transport_;
  SchedulerRpc schedulers_;
  VolumeRpc hosts_;  // other backends' hosts, in a migration
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;  // one per backend, serving its topic
  ServiceHeartbeat heartbeat_;
  std::mutex report_mu_;
  std::condition_variable report_cv_;
  bool dirty_ = false;
  bool stopping_ = false;
  std::thread reporter_;
  std::mutex accepted_mu_;
  std::map<std::string, int> accepted_;  // volume id -> work accepted here and not finished
  WorkerPool workers_;  // last: drained and joined first
};

}  // namespace

Result<std::unique_ptr<VolumeService>> VolumeService::Start(const Options& options,
                                                            const DriverRegistry& drivers,
                                                            Store* store, Transport* transport) {
  if (options.backends.empty()) return InvalidArgument(options.origin + ": no backend is enabled");
  std::vector<std::unique_ptr<Backend>> backends;
  for (const auto& bo : options.backends) {
    auto driver = OpenDriver(drivers, DriverContext{bo, options.state_path});
    if (!driver.ok()) {
      return Status(driver.status().code(), options.origin + ": " + driver.status().message());
    }
    auto b = std::make_unique<Backend>();
    b->name = bo.name;
    b->host = options.host + "@" + bo.name;
    b->options = bo;
    b->availability_zone =
        bo.backend_availability_zone.empty() ? options.storage_availability_zone : bo.backend_availability_zone;
    b->driver = std::move(driver).value();
    backends.push_back(std::move(b));
  }
  auto svc = std::make_unique<VolumeServiceImpl>(options, store, transport, std::move(backends));
  Status st = svc->Start();
  if (!st.ok()) {
    transport->Stop();  // some topics may be served already: no request may reach `svc` now
    return st;
  }
  return std::unique_ptr<VolumeService>(std::move(svc));
}

}  // namespace cinder
