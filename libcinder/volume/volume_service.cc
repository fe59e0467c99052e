#include "volume/volume_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/message_field.h"
#include "common/util.h"
#include "rpc/topics.h"
#include "volume/volume_copy.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace mf = message_field;

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

}  // namespace

// The RPC server of one backend: each method queues its work on the volume's worker (calls
// answer at once).
class VolumeServiceImpl::Endpoint : public VolumeRpcServer {
 public:
  Endpoint(VolumeServiceImpl* svc, Backend* b) : svc_(svc), b_(b) {}

  Status CreateVolume(const RequestContext& ctx, const HostCreateVolume& r) override {
    svc_->Run(r.placement.volume_id, [svc = svc_, b = b_, r, ctx] { svc->Create(b, r.size, ctx, r.placement); });
    return Status::OK();
  }
  // Generic volume groups. This driver interface has no group calls, so every backend takes
  // Cinder's generic path: a group is the database's bookkeeping, its volumes are volumes.
  Status CreateGroup(const RequestContext&, const GroupRef& r) override {
    svc_->Run(r.group_id, [svc = svc_, b = b_, id = r.group_id] {
      auto g = svc->store_->GetGroup(id, std::nullopt);
      if (!g.ok() || !OnBackend(b, g->host)) return;
      svc->WriteBack(id, [&] {
        return svc->store_->CasGroupStatus(id, {group_status::kCreating}, group_status::kAvailable, {}, g->host);
      });
    });
    return Status::OK();
  }
  Status UpdateGroup(const RequestContext&, const HostUpdateGroup& r) override {
    svc_->Run(r.group_id, [svc = svc_, r] {
      Result<bool> done = false;
      svc->WriteBack(r.group_id, [&] {
        done =
            svc->store_->FinishGroupUpdate(r.group_id, r.add_volumes, r.remove_volumes, {vs::kAvailable, vs::kInUse});
        // A volume that no longer qualifies is final: no retry.
        return done.ok() || done.status().code() == Code::kUnavailable ? done : Result<bool>(true);
      });
      if (!done.ok()) {
        // Cinder's update_group failure: the group is "error", its volumes unchanged.
        CINDER_LOG(kError, "cinder-volume")
            << "update of group " << r.group_id << " failed: " << done.status().ToString();
        svc->WriteBack(r.group_id, [&] {
          return svc->store_->CasGroupStatus(r.group_id, {group_status::kUpdating}, group_status::kError);
        });
      }
    });
    return Status::OK();
  }
  Status DeleteGroup(const RequestContext&, const GroupRef& r) override {
    svc_->DeleteGroup(b_, r.group_id);
    return Status::OK();
  }
  Status CreateGroupFromSource(const RequestContext& ctx, const GroupRef& r) override {
    svc_->Run(r.group_id, [svc = svc_, b = b_, r, ctx] { svc->CreateGroupFromSource(b, r.group_id, ctx); });
    return Status::OK();
  }
  Status CreateGroupSnapshot(const RequestContext& ctx, const GroupSnapshotRef& r) override {
    svc_->Run(r.group_id, [svc = svc_, b = b_, r, request_id = ctx.request_id] {
      svc->CreateGroupSnapshot(b, r.group_snapshot_id, request_id);
    });
    return Status::OK();
  }
  Status DeleteGroupSnapshot(const RequestContext& ctx, const GroupSnapshotRef& r) override {
    svc_->Run(r.group_id, [svc = svc_, b = b_, r, request_id = ctx.request_id] {
      svc->DeleteGroupSnapshot(b, r.group_snapshot_id, request_id);
    });
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
  // workers/cleanup: the sweep of orphans, now rather than at its next period.
  Status DoCleanup(const RequestContext&) override {
    svc_->RequestSweep();
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
    CINDER_ASSIGN_OR_RETURN(VolumeChunk c, ReadVolumeChunk(svc_->env_, b_->driver->LocalPath(r.volume_id), r.offset));
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
  // Attachments: calls, answered once the volume's worker has done them.
  Result<ConnectionReply> AttachmentUpdate(const RequestContext&, const HostConnect& r) override {
    return svc_->RunCall<ConnectionReply>(r.volume_id, [svc = svc_, b = b_, r] { return svc->Connect(b, r, false); });
  }
  Result<ConnectionReply> InitializeConnection(const RequestContext&, const HostConnect& r) override {
    return svc_->RunCall<ConnectionReply>(r.volume_id, [svc = svc_, b = b_, r] { return svc->Connect(b, r, true); });
  }
  Result<DetachReply> DetachAttachment(const RequestContext&, const HostDetach& r) override {
    return svc_->RunCall<DetachReply>(r.volume_id, [svc = svc_, b = b_, r] { return svc->Detach(b, r); });
  }
  // Manage existing: on the volume's worker; the lists answer at once.
  Status ManageExisting(const RequestContext& ctx, const HostManage& r) override {
    svc_->Run(r.volume_id, [svc = svc_, b = b_, r, ctx] { svc->Manage(b, r, ctx); });
    return Status::OK();
  }
  Status ManageExistingSnapshot(const RequestContext& ctx, const HostManage& r) override {
    svc_->Run(r.volume_id, [svc = svc_, b = b_, r, ctx] { svc->ManageSnapshot(b, r, ctx); });
    return Status::OK();
  }
  Status UnmanageVolume(const RequestContext&, const VolumeRef& r) override {
    svc_->Run(r.volume_id, [svc = svc_, b = b_, id = r.volume_id] { svc->Unmanage(b, id); });
    return Status::OK();
  }
  Status UnmanageSnapshot(const RequestContext&, const SnapshotRef& r) override {
    svc_->Run(r.volume_id, [svc = svc_, b = b_, r] { svc->UnmanageSnapshot(b, r.snapshot_id, r.volume_id); });
    return Status::OK();
  }
  Result<ManageableReply> GetManageable(const RequestContext&, const HostManageableQuery& r) override {
    return svc_->ListManageable(b_, r.snapshots);
  }
  // From backup hosts: on the volume's worker, never alongside other work on it.
  Result<BackupDeviceReply> BackupDevice(const RequestContext&, const HostBackupDevice& r) override {
    return svc_->RunCall<BackupDeviceReply>(r.volume_id, [svc = svc_, b = b_, r] { return svc->OpenForBackup(b, r); });
  }
  Status ReleaseBackupDevice(const RequestContext&, const HostBackupDevice& r) override {
    return svc_
        ->RunCall<BackupDeviceReply>(r.volume_id,
                                     [svc = svc_, b = b_, r]() -> Result<BackupDeviceReply> {
                                       CINDER_RETURN_IF_ERROR(svc->ReleaseForBackup(b, r));
                                       return BackupDeviceReply{};
                                     })
        .status();
  }

 private:
  VolumeServiceImpl* svc_;
  Backend* b_;
};

VolumeServiceImpl::VolumeServiceImpl(const Options& options, Store* store, Transport* transport,
                                     std::vector<std::unique_ptr<Backend>> backends)
    : options_(options),
      store_(store),
      transport_(transport),
      schedulers_(transport),
      hosts_(transport),
      backends_(std::move(backends)),
      env_(options.env ? options.env : Env::Default()),
      heartbeat_(store, options.report_interval, env_),
      workers_(options.volume_workers) {}

VolumeServiceImpl::~VolumeServiceImpl() {
  {
    std::lock_guard<std::mutex> l(report_mu_);
    stopping_ = true;
  }
  report_cv_.notify_all();
  if (reporter_.joinable()) reporter_.join();
  workers_.Drain();
}

Status VolumeServiceImpl::Start() {
  CINDER_RETURN_IF_ERROR(OpenTargets());
  CINDER_RETURN_IF_ERROR(Recover());
  // Connects this host was making when it stopped never finished; the exports attachments
  // need are made again (tgtd may have restarted too).
  FailInterruptedConnects(NowIso(), /*now=*/true);
  EnsureExports();
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
    // Cinder's cinder-volume: the cluster of `cluster = NAME` is NAME@backend.
    if (!options_.cluster.empty()) svc.cluster_name = options_.cluster + "@" + b->name;
    CINDER_RETURN_IF_ERROR(heartbeat_.Register(svc));
    // Its volumes are in its cluster (or in none), as Cinder's include_in_cluster at start.
    auto moved = store_->SetVolumesCluster(b->host, svc.cluster_name);
    if (!moved.ok()) {
      CINDER_LOG(kWarning, "cinder-volume")
          << "cannot record the cluster of the volumes of " << b->host << ": " << moved.status().ToString();
    } else if (*moved > 0) {
      CINDER_LOG(kInfo, "cinder-volume") << *moved << " volume(s) of " << b->host << " now in cluster "
                                         << svc.cluster_name.value_or("(none)");
    }
  }
  ReportCapabilities();
  reporter_ = std::thread([this, start = env_->NowMonotonic()] { ReportLoop(start); });
  return Status::OK();
}

// Records a user message about volume `v` (best effort, as Cinder: a failure is only logged).
void VolumeServiceImpl::Tell(const Volume& v, const std::string& request_id, const char* action, const char* detail) {
  Status st = store_->InsertMessage(
      mf::NewMessage(v.project_id, request_id, mf::kResourceVolume, v.id, action, detail, options_.message_ttl));
  if (!st.ok())
    CINDER_LOG(kWarning, "cinder-volume") << "cannot record a message for volume " << v.id << ": " << st.ToString();
}

// Whether the volume is on this backend and in `status` (a request that arrives after the
// API rescheduled the volume, or after it was deleted, finds it is not).
std::optional<Volume> VolumeServiceImpl::Mine(Backend* b, const std::string& id, const char* status) {
  auto v = ReadBack([&] { return store_->GetVolume(id, std::nullopt); });
  if (v.ok() && OnBackend(b, v->host) && v->status == status) return std::move(v).value();
  return std::nullopt;
}

// Whether host@backend#pool is one of b's pools.
bool VolumeServiceImpl::OnBackend(const Backend* b, const std::string& pool_host) {
  return pool_host.size() > b->host.size() && pool_host.compare(0, b->host.size(), b->host) == 0 &&
         pool_host[b->host.size()] == '#';
}

// Runs `work` for volume `id` on its worker, remembering meanwhile that this host has it.
void VolumeServiceImpl::Run(const std::string& id, std::function<void()> work) {
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

void VolumeServiceImpl::TellSnapshot(const Snapshot& sn, const std::string& request_id, const char* action,
                                     const char* detail) {
  Status st = store_->InsertMessage(
      mf::NewMessage(sn.project_id, request_id, mf::kResourceSnapshot, sn.id, action, detail, options_.message_ttl));
  if (!st.ok())
    CINDER_LOG(kWarning, "cinder-volume") << "cannot record a message for snapshot " << sn.id << ": " << st.ToString();
}

// Capacity changed: report soon (at most once a second).
void VolumeServiceImpl::Changed() {
  {
    std::lock_guard<std::mutex> l(report_mu_);
    dirty_ = true;
  }
  report_cv_.notify_all();
}

// Reports every backend's pools (Cinder's get_volume_stats with the backend's options):
// into the pools table, where schedulers claim space, and to every live scheduler
// (update_service_capabilities). Sizes of the volumes whose space the figures include are
// summed before the driver measures, so a volume finished in between is counted twice
// (conservative), never missed.
void VolumeServiceImpl::ReportCapabilities() {
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
      // A driver that leaves it to the backend's target helper (the file driver): what its
      // attachments speak, as Cinder's LVM reports its target's protocol.
      caps["storage_protocol"] = !stats->storage_protocol.empty()                            ? stats->storage_protocol
                                 : b->exporter && b->exporter->DriverVolumeType() == "iscsi" ? "iSCSI"
                                                                                             : "file";
      caps.emplace("QoS_support", "False");
      caps.emplace("multiattach", "False");
      caps["filter_function"] = b->options.filter_function.empty() ? "None" : b->options.filter_function;
      caps["goodness_function"] = b->options.goodness_function.empty() ? "None" : b->options.goodness_function;
      for (const auto& [k, v] : b->options.extra_capabilities) caps[k] = v;
      caps["timestamp"] = rec.reported_at;
      records.push_back(std::move(rec));
    }
    Status st = store_->ReportPools(b->host, records);
    if (!st.ok())
      CINDER_LOG(kWarning, "cinder-volume") << "cannot record the pools of " << b->host << ": " << st.ToString();
    for (const auto& rec : records) {
      auto u = usage->find(rec.host);
      (void)schedulers_.UpdateServiceCapabilities(
          {rec.host, rec.backend_host, rec.capabilities, u == usage->end() ? int64_t{0} : u->second.count});
    }
  }
}

// Reports within a second (of real time) of a change, at most once a second, and every
// report_interval of the Env's clock anyway, so that a scheduler that starts later learns about
// this host; sweeps orphans every report_interval. Asleep in the Env in between (a test's
// FakeClock wakes it); Changed() and the destructor wake it too.
void VolumeServiceImpl::ReportLoop(std::chrono::steady_clock::time_point start) {
  std::unique_lock<std::mutex> l(report_mu_);
  const auto interval = std::chrono::seconds(options_.report_interval);
  // On the Env's clock; `start` was read before the thread started: a clock advanced since counts.
  auto next_report = start + interval;
  auto next_sweep = next_report;
  auto last_change_report = std::chrono::steady_clock::now();  // real time
  if (!start_notes_.empty()) {
    // After the daemon's first line (where it listens), which tools wait for.
    if (report_cv_.wait_for(l, std::chrono::milliseconds(300), [this] { return stopping_; })) return;
    for (const auto& note : start_notes_) CINDER_LOG(kWarning, "cinder-volume") << note;
  }
  while (true) {
    if (dirty_) {
      // The rest of the second since the last report for a change, in real time.
      if (report_cv_.wait_until(l, last_change_report + std::chrono::seconds(1), [this] { return stopping_; })) break;
    } else if (env_->WaitUntil(report_cv_, l, std::min(next_report, next_sweep),
                               [this] { return stopping_ || dirty_ || sweep_requested_; })) {
      if (stopping_) break;
      if (!sweep_requested_) continue;  // changed
      // A sweep asked for (workers/cleanup): now.
    }
    const auto now = env_->NowMonotonic();
    const bool report = dirty_ || now >= next_report;
    const bool sweep = now >= next_sweep || sweep_requested_;
    sweep_requested_ = false;
    if (report) {
      dirty_ = false;
      next_report = now + interval;
      last_change_report = std::chrono::steady_clock::now();
    }
    if (sweep) next_sweep = now + interval;
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

Result<std::unique_ptr<VolumeService>> VolumeService::Start(const Options& options, const DriverRegistry& drivers,
                                                            Store* store, Transport* transport) {
  if (options.backends.empty()) return InvalidArgument(options.origin + ": no backend is enabled");
  std::vector<std::unique_ptr<Backend>> backends;
  for (const auto& bo : options.backends) {
    auto driver = OpenDriver(drivers, DriverContext{bo, options.state_path, options.env});
    if (!driver.ok()) {
      return Status(driver.status().code(), options.origin + ": " + driver.status().message());
    }
    auto b = std::make_unique<Backend>();
    b->name = bo.name;
    b->host = options.host + "@" + bo.name;
    b->options = bo;
    // Cinder's default, for backends made in code as well as read from cinder.conf.
    if (b->options.volume_backend_name.empty()) b->options.volume_backend_name = bo.name;
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
