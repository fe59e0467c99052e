#include "volume/volume_service.h"

#include <atomic>
#include <functional>
#include <map>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/message_field.h"
#include "common/util.h"
#include "common/worker_pool.h"
#include "db/heartbeat.h"
#include "rpc/args.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace mf = message_field;

// How long a volume may sit in a transitional status on this host with no work for it here
// before it is repaired (the longest a hand-over takes is three attempts of 3 s).
constexpr double kOrphanGraceSeconds = 30;

struct Backend {
  std::string name;          // the config section
  std::string host;          // host@backend
  std::string pool_host;     // host@backend#pool (what volumes record)
  std::unique_ptr<VolumeDriver> driver;
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
                    std::vector<std::unique_ptr<Backend>> backends)
      : options_(options),
        store_(store),
        transport_(transport),
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
      Backend* backend = b.get();
      CINDER_ASSIGN_OR_RETURN(std::string endpoint,
                              transport_->Serve(VolumeTopic(b->host), [this, backend](const RpcRequest& r) {
                                return Handle(backend, r);
                              }));
      ServiceInfo svc;
      svc.host = b->host;
      svc.binary = "cinder-volume";
      svc.topic = "cinder-volume";
      svc.availability_zone = options_.storage_availability_zone;
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
    if (!st.ok()) std::cerr << "cinder-volume: cannot record a message for volume " << v.id << ": " << st.ToString() << "\n";
  }

  Result<std::string> Handle(Backend* b, const RpcRequest& r) {
    CINDER_ASSIGN_OR_RETURN(rpc::Args args, rpc::Args::Decode(r.args));
    if (r.method == "create_volume") {
      CINDER_ASSIGN_OR_RETURN(std::string id, args.Str("id"));
      CINDER_ASSIGN_OR_RETURN(int64_t size, args.Int("size"));
      Run(id, [this, b, id, size, request_id = r.ctx.request_id] { Create(b, id, size, request_id); });
      return std::string();
    }
    if (r.method == "extend_volume") {
      CINDER_ASSIGN_OR_RETURN(std::string id, args.Str("id"));
      CINDER_ASSIGN_OR_RETURN(int64_t new_size, args.Int("new_size"));
      Run(id, [this, b, id, new_size, request_id = r.ctx.request_id] {
        // Only if the volume still waits for this host (the API may have given up on it).
        auto v = Mine(b, id, vs::kExtending);
        if (!v) return;
        Status st = DriverCall([&] { return b->driver->ExtendVolume(id, new_size); });
        if (st.ok()) {
          WriteBack(id, [&] {
            return store_->CasVolumeStatus(id, {vs::kExtending}, vs::kAvailable,
                                           {{"size", std::to_string(new_size)}, {"previous_status", std::nullopt}});
          });
        } else {
          std::cerr << "cinder-volume: extend of volume " << id << " failed: " << st.ToString() << "\n";
          bool recorded = false;
          WriteBack(id, [&]() -> Result<bool> {
            auto r = store_->CasVolumeStatus(id, {vs::kExtending}, vs::kErrorExtending);
            if (r.ok()) recorded = *r;
            return r;
          });
          if (recorded) Tell(*v, request_id, mf::kExtendVolume, mf::kDriverFailedExtend);
        }
        Changed();
      });
      return std::string();
    }
    if (r.method == "delete_volume") {
      CINDER_ASSIGN_OR_RETURN(std::string id, args.Str("id"));
      Delete(b, id);
      return std::string();
    }
    if (r.method == "capacity") {
      BackendCapacity cap;
      CINDER_RETURN_IF_ERROR(DriverCall([&]() -> Status {
        auto c = b->driver->GetCapacity();
        if (!c.ok()) return c.status();
        cap = *c;
        return Status::OK();
      }));
      return rpc::Args()
          .Set("host", b->pool_host)
          .Set("total", cap.total_capacity_gb)
          .Set("free", cap.free_capacity_gb)
          .Encode();
    }
    if (r.method == "local_path") {
      CINDER_ASSIGN_OR_RETURN(std::string id, args.Str("id"));
      return rpc::Args().Set("path", b->driver->LocalPath(id)).Encode();
    }
    return Unimplemented("cinder-volume has no method " + r.method);
  }

  // Whether the volume is on this backend and in `status` (a request that arrives after the
  // API rescheduled the volume, or after it was deleted, finds it is not).
  std::optional<Volume> Mine(Backend* b, const std::string& id, const char* status) {
    auto v = store_->GetVolume(id, std::nullopt);
    if (v.ok() && v->host == b->pool_host && v->status == status) return std::move(v).value();
    return std::nullopt;
  }

  void Create(Backend* b, const std::string& id, int64_t size, const std::string& request_id) {
    auto v = Mine(b, id, vs::kCreating);
    if (!v) return;
    Status st = DriverCall([&] { return b->driver->CreateVolume(id, size); });
    if (!st.ok()) std::cerr << "cinder-volume: create of volume " << id << " failed: " << st.ToString() << "\n";
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto r = store_->CasVolumeStatus(id, {vs::kCreating}, st.ok() ? vs::kAvailable : vs::kError, {},
                                       b->pool_host);
      if (r.ok()) recorded = *r;
      return r;
    });
    if (st.ok() && !recorded) {
      // Deleted or moved to another host meanwhile: the file made here belongs to nobody.
      auto now = store_->GetVolume(id, std::nullopt);
      if (!now.ok() || now->host != b->pool_host) (void)DriverCall([&] { return b->driver->DeleteVolume(id); });
    }
    if (!st.ok() && recorded) Tell(*v, request_id, mf::kCreateVolumeFromBackend, mf::kDriverFailedCreate);
    Changed();
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
    for (const auto& b : backends_) {
      auto stuck = store_->VolumesInStatus(b->host + "#", {vs::kCreating, vs::kExtending, vs::kDeleting});
      if (!stuck.ok()) continue;
      double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      for (const auto& v : *stuck) {
        auto since = ParseIso(v.updated_at.value_or(v.created_at));
        if (!since || now - *since < kOrphanGraceSeconds) continue;
        {
          std::lock_guard<std::mutex> l(accepted_mu_);
          if (accepted_.count(v.id)) continue;  // its work is queued or running here
        }
        std::cerr << "cinder-volume: volume " << v.id << " was " << v.status
                  << " with no work for it here; repairing it\n";
        if (v.status == vs::kDeleting) {
          Delete(b.get(), v.id);
        } else {
          (void)FailInterrupted(v);
        }
      }
    }
  }

  void Delete(Backend* b, const std::string& id) {
    Run(id, [this, b, id] {
      Status st = DriverCall([&] { return b->driver->DeleteVolume(id); });
      if (st.ok()) {
        WriteBack(id, [&] { return store_->SoftDeleteVolume(id, vs::kDeleting); });
      } else {
        std::cerr << "cinder-volume: delete of volume " << id << " failed: " << st.ToString() << "\n";
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
        std::cerr << "cinder-volume: cannot record the outcome for volume " << id << ": "
                  << r.status().ToString() << " (repaired at the next start)\n";
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

  // Sends every backend's capacity to every scheduler (update_service_capabilities).
  void ReportCapabilities() {
    for (const auto& b : backends_) {
      Result<BackendCapacity> cap = Internal("no capacity");
      (void)DriverCall([&]() -> Status {
        cap = b->driver->GetCapacity();
        return cap.status();
      });
      if (!cap.ok()) continue;
      RpcRequest req;
      req.method = "update_service_capabilities";
      req.args = rpc::Args()
                     .Set("host", b->pool_host)
                     .Set("total", cap->total_capacity_gb)
                     .Set("free", cap->free_capacity_gb)
                     .Encode();
      (void)transport_->Fanout(kSchedulerTopic, req, std::chrono::milliseconds(2000));
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
        std::cerr << "cinder-volume: periodic task failed: " << e.what() << "\n";
      }
      l.lock();
    }
  }

  Options options_;
  Store* store_;
  Transport* transport_;
  std::vector<std::unique_ptr<Backend>> backends_;
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
    b->pool_host = b->host + "#" + bo.volume_backend_name;
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
