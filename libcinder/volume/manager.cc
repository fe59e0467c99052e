// VolumeManagerImpl: validation, placement, the DB record, and the driver work on workers.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include "cinder/volume_driver.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/store.h"
#include "common/worker_pool.h"

namespace cinder {

bool IsValidVolumeStatus(const std::string& status) {
  static const std::set<std::string> kStatuses = {
      "creating", "available", "deleting", "error", "error_deleting", "error_managing",
      "managing", "attaching", "in-use", "detaching", "maintenance", "restoring-backup",
      "error_restoring", "reserved", "awaiting-transfer", "backing-up", "error_backing-up",
      "error_extending", "downloading", "uploading", "retyping", "extending"};
  return kStatuses.count(status) > 0;
}

namespace {

namespace vs = volume_status;

// Statuses from which a volume may be deleted without force (cinder/volume/api.py).
const std::vector<std::string> kDeletableStatuses = {"available", "error", "error_restoring",
                                                     "error_extending", "error_managing"};

struct Backend {
  std::string name;          // the config section
  std::string backend_name;  // volume_backend_name
  std::string host;          // host@backend#pool
  std::unique_ptr<VolumeDriver> driver;
};

Status CheckLength(const std::string& what, const std::string& value, size_t max) {
  if (value.size() > max) {
    return InvalidArgument("Invalid input received: " + what + " has " +
                           std::to_string(value.size()) + " characters, more than " +
                           std::to_string(max) + ".");
  }
  return Status::OK();
}

Status CheckMetadata(const Metadata& md) {
  for (const auto& [k, v] : md) {
    if (k.empty()) return InvalidArgument("Invalid input received: Metadata property key blank.");
    if (k.size() > 255) {
      return InvalidArgument("Invalid input received: Metadata property key greater than 255 characters.");
    }
    if (v.size() > 255) {
      return InvalidArgument(
          "Invalid input received: Metadata property value greater than 255 characters.");
    }
  }
  return Status::OK();
}

std::string FormatGb(double gb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::floor(gb));
  return buf;
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

class VolumeManagerImpl : public VolumeManager {
 public:
  VolumeManagerImpl(Options options, std::unique_ptr<Store> store,
                    std::vector<std::unique_ptr<Backend>> backends)
      : options_(std::move(options)),
        store_(std::move(store)),
        backends_(std::move(backends)),
        workers_(options_.volume_workers) {}

  ~VolumeManagerImpl() override {
    {
      std::lock_guard<std::mutex> l(heartbeat_mu_);
      stopping_ = true;
    }
    heartbeat_cv_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    workers_.Drain();
  }

  // Records this process's services (cinder-volume per backend, cinder-scheduler) and keeps
  // their heartbeats every report_interval seconds.
  Status RegisterServices() {
    services_.clear();
    for (const auto& b : backends_) {
      services_.push_back({b->host.substr(0, b->host.find('#')), "cinder-volume"});
    }
    services_.push_back({options_.host, "cinder-scheduler"});
    for (const auto& [host, binary] : services_) {
      ServiceInfo svc;
      svc.host = host;
      svc.binary = binary;
      svc.topic = binary;
      svc.availability_zone = options_.storage_availability_zone;
      svc.rpc_version = kRpcVersionForServices;
      CINDER_RETURN_IF_ERROR(store_->RegisterService(svc));
    }
    heartbeat_ = std::thread([this] {
      std::unique_lock<std::mutex> l(heartbeat_mu_);
      while (!heartbeat_cv_.wait_for(l, std::chrono::seconds(options_.report_interval),
                                     [this] { return stopping_; })) {
        for (const auto& [host, binary] : services_) {
          auto r = store_->Heartbeat(host, binary);
          if (!r.ok()) std::cerr << "cinder: heartbeat of " << binary << " " << host << " failed: "
                                 << r.status().ToString() << "\n";
        }
      }
    });
    return Status::OK();
  }

  Result<std::vector<ServiceInfo>> ListServices(const RequestContext& ctx,
                                                const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:services:index to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(host, binary));
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (auto& svc : services) {
      auto seen = ParseIso(svc.updated_at.value_or(svc.created_at));
      svc.up = seen && now - *seen <= options_.service_down_time;
    }
    return services;
  }

  Status SetServiceDisabled(const RequestContext& ctx, const std::string& host,
                            const std::string& binary, bool disabled,
                            const std::optional<std::string>& reason) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:services:update to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(bool found, store_->SetServiceDisabled(host, binary, disabled, reason));
    if (!found) return NotFound("Service " + binary + " could not be found on host " + host + ".");
    return Status::OK();
  }

  // Repairs what an earlier run of this host left half-done, as Cinder's volume service does
  // at start: creating -> error, extending -> error_extending, deleting -> resumed.
  Status Recover() {
    for (const auto& b : backends_) {
      std::string prefix = b->host.substr(0, b->host.find('#'));
      CINDER_ASSIGN_OR_RETURN(auto stuck, store_->VolumesInStatus(
                                              prefix + "#", {vs::kCreating, vs::kExtending, vs::kDeleting}));
      for (const auto& v : stuck) {
        if (v.status == vs::kCreating) {
          CINDER_RETURN_IF_ERROR(store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError).status());
        } else if (v.status == vs::kExtending) {
          CINDER_RETURN_IF_ERROR(
              store_->CasVolumeStatus(v.id, {vs::kExtending}, vs::kErrorExtending).status());
        } else {
          ScheduleDelete(v.id, b.get());
        }
      }
    }
    return Status::OK();
  }

  Result<Volume> CreateVolume(const RequestContext& ctx, const VolumeCreate& req) override {
    if (req.size <= 0) {
      return InvalidArgument("Invalid input received: Volume size '" + std::to_string(req.size) +
                             "' must be an integer and greater than 0.");
    }
    if (req.name) CINDER_RETURN_IF_ERROR(CheckLength("name", *req.name, 255));
    if (req.description) CINDER_RETURN_IF_ERROR(CheckLength("description", *req.description, 255));
    CINDER_RETURN_IF_ERROR(CheckMetadata(req.metadata));
    std::string az = req.availability_zone.value_or(options_.storage_availability_zone);
    if (az != options_.storage_availability_zone) {
      return InvalidArgument("Invalid input received: Availability zone '" + az + "' is invalid.");
    }
    CINDER_ASSIGN_OR_RETURN(VolumeType type,
                            store_->GetVolumeType(req.volume_type.value_or(Store::kDefaultVolumeType)));
    CINDER_ASSIGN_OR_RETURN(Backend * backend, ChooseBackend(req.size));

    Volume v;
    v.id = NewUuid();
    v.has_name = req.name.has_value();
    v.name = req.name.value_or("");
    v.has_description = req.description.has_value();
    v.description = req.description.value_or("");
    v.size = req.size;
    v.status = vs::kCreating;
    v.availability_zone = az;
    v.host = backend->host;
    v.project_id = ctx.project_id;
    v.user_id = ctx.user_id;
    v.volume_type_id = type.id;
    v.volume_type_name = type.name;
    v.metadata = req.metadata;
    v.created_at = NowIso();
    CINDER_RETURN_IF_ERROR(store_->InsertVolume(v));

    workers_.Submit(v.id, [this, id = v.id, size = v.size, backend] {
      Status st = DriverCall([&] { return backend->driver->CreateVolume(id, size); });
      if (!st.ok()) {
        std::cerr << "cinder-volume: create of volume " << id << " failed: " << st.ToString() << "\n";
      }
      WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kCreating}, st.ok() ? vs::kAvailable : vs::kError); });
    });
    return v;
  }

  Result<Volume> GetVolume(const RequestContext& ctx, const std::string& id) override {
    return store_->GetVolume(id, ReadScope(ctx));
  }

  Result<VolumeList> ListVolumes(const RequestContext& ctx, const VolumeListQuery& q) override {
    ProjectScope scope = ctx.project_id;
    if (ctx.is_admin && q.all_tenants) scope = q.project_id;
    return store_->ListVolumes(q, scope, options_.osapi_max_limit);
  }

  Result<Volume> UpdateVolume(const RequestContext& ctx, const std::string& id,
                              const VolumeUpdate& u) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    std::vector<FieldUpdate> fields;
    if (u.name) {
      if (*u.name) CINDER_RETURN_IF_ERROR(CheckLength("name", **u.name, 255));
      fields.emplace_back("display_name", *u.name);
    }
    if (u.description) {
      if (*u.description) CINDER_RETURN_IF_ERROR(CheckLength("description", **u.description, 255));
      fields.emplace_back("display_description", *u.description);
    }
    if (u.metadata) CINDER_RETURN_IF_ERROR(CheckMetadata(*u.metadata));
    CINDER_ASSIGN_OR_RETURN(bool found, store_->UpdateVolume(v.id, fields, u.metadata));
    if (!found) return NotFound("Volume " + id + " could not be found.");
    return GetVolume(ctx, id);
  }

  Status DeleteVolume(const RequestContext& ctx, const std::string& id, bool force) override {
    if (force && !ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:volume_admin_actions:force_delete "
                              "to be performed.");
    }
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    Backend* backend = BackendOf(v);
    std::vector<std::string> expected = kDeletableStatuses;
    if (force) expected.clear();  // any status
    CINDER_ASSIGN_OR_RETURN(bool changed, store_->CasVolumeStatus(v.id, expected, vs::kDeleting));
    if (!changed) {
      return FailedPrecondition(
          "Invalid volume: Volume status must be available or error or error_restoring or "
          "error_extending or error_managing and must not be migrating, attached, belong to a "
          "group, have snapshots, awaiting a transfer, or be disassociated from snapshots after "
          "volume transfer.");
    }
    if (!backend) {
      // Never placed (or its backend is gone from the config): nothing to remove.
      return store_->SoftDeleteVolume(v.id, vs::kDeleting).status();
    }
    ScheduleDelete(v.id, backend);
    return Status::OK();
  }

  Status ExtendVolume(const RequestContext& ctx, const std::string& id, int64_t new_size) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    auto wrong_status = [&v](const std::string& current) {
      return FailedPrecondition("Invalid volume: Volume " + v.id +
                                " status must be '{'status': 'available'}' to extend, currently " +
                                current + ".");
    };
    if (new_size <= v.size) {
      return InvalidArgument("Invalid input received: New size for extend must be greater than "
                             "current size. (current: " + std::to_string(v.size) +
                             ", extended: " + std::to_string(new_size) + ").");
    }
    if (v.status != vs::kAvailable) return wrong_status(v.status);
    Backend* backend = BackendOf(v);
    if (!backend) return FailedPrecondition("Invalid volume: Volume " + v.id + " has no backend.");
    auto cap = backend->driver->GetCapacity();
    if (!cap.ok()) return cap.status();
    if (static_cast<double>(new_size - v.size) > cap->free_capacity_gb) {
      return InvalidArgument("Invalid input received: Requested extend by " +
                             std::to_string(new_size - v.size) + " GB exceeds the free capacity of "
                             "backend " + backend->backend_name + " (" +
                             FormatGb(cap->free_capacity_gb) + " GB).");
    }
    CINDER_ASSIGN_OR_RETURN(bool changed,
                            store_->CasVolumeStatus(v.id, {vs::kAvailable}, vs::kExtending,
                                                    {{"previous_status", std::string(vs::kAvailable)}}));
    if (!changed) {
      auto now = store_->GetVolume(v.id, std::nullopt);
      return wrong_status(now.ok() ? now->status : "deleted");
    }
    workers_.Submit(v.id, [this, id = v.id, new_size, backend] {
      Status st = DriverCall([&] { return backend->driver->ExtendVolume(id, new_size); });
      if (st.ok()) {
        WriteBack(id, [&] {
          return store_->CasVolumeStatus(id, {vs::kExtending}, vs::kAvailable,
                                         {{"size", std::to_string(new_size)}, {"previous_status", std::nullopt}});
        });
      } else {
        std::cerr << "cinder-volume: extend of volume " << id << " failed: " << st.ToString() << "\n";
        WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kExtending}, vs::kErrorExtending); });
      }
    });
    return Status::OK();
  }

  Status ResetStatus(const RequestContext& ctx, const std::string& id,
                     const std::optional<std::string>& status,
                     const std::optional<std::string>& attach_status,
                     const std::optional<std::string>& migration_status) override {
    if (!ctx.is_admin) {
      return PermissionDenied("Policy doesn't allow volume_extension:volume_admin_actions:reset_status "
                              "to be performed.");
    }
    if (!status && !attach_status && !migration_status) {
      return InvalidArgument("Invalid input received: Must specify 'status', 'attach_status' or "
                             "'migration_status' for update.");
    }
    if (status && !IsValidVolumeStatus(*status)) {
      return InvalidArgument("Volume status: " + *status +
                             " is invalid, valid statuses are: ('creating', 'available', "
                             "'deleting', 'error', 'error_deleting', 'error_managing', 'managing', "
                             "'attaching', 'in-use', 'detaching', 'maintenance', "
                             "'restoring-backup', 'error_restoring', 'reserved', "
                             "'awaiting-transfer', 'backing-up', 'error_backing-up', "
                             "'error_extending', 'downloading', 'uploading', 'retyping', "
                             "'extending').");
    }
    if (status && *status == vs::kDeleting) return InvalidArgument("Cannot reset-state to deleting");
    if (status && *status == vs::kInUse) {
      // No attachments exist yet in this service.
      return InvalidArgument("Cannot reset-state to in-use because volume does not have any "
                             "attachments.");
    }
    if (attach_status && *attach_status != "attached" && *attach_status != "detached") {
      return InvalidArgument("Volume attach status: " + *attach_status +
                             " is invalid, valid statuses are: ['attached', 'detached'].");
    }
    static const std::set<std::string> kMigration = {"migrating", "error", "success", "completing",
                                                     "none", "starting"};
    if (migration_status && !kMigration.count(*migration_status)) {
      return InvalidArgument("Volume migration status: " + *migration_status +
                             " is invalid, valid statuses are: ['migrating', 'error', 'success', "
                             "'completing', 'none', 'starting'].");
    }
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    std::vector<FieldUpdate> fields;
    if (attach_status) fields.emplace_back("attach_status", *attach_status);
    if (migration_status) {
      fields.emplace_back("migration_status", *migration_status == "none"
                                                  ? std::nullopt
                                                  : std::optional<std::string>(*migration_status));
    }
    CINDER_ASSIGN_OR_RETURN(bool changed,
                            store_->CasVolumeStatus(v.id, {v.status}, status.value_or(v.status), fields));
    if (!changed) {
      return Aborted("Volume " + v.id + " changed status while it was being reset; try again.");
    }
    return Status::OK();
  }

  Result<Metadata> GetMetadata(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    return v.metadata;
  }

  Result<Metadata> UpdateMetadata(const RequestContext& ctx, const std::string& id,
                                  const Metadata& metadata, bool replace) override {
    CINDER_RETURN_IF_ERROR(CheckMetadata(metadata));
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    CINDER_RETURN_IF_ERROR(store_->SetVolumeMetadata(v.id, metadata, replace));
    return store_->GetVolumeMetadata(v.id);
  }

  Status DeleteMetadataKey(const RequestContext& ctx, const std::string& id,
                           const std::string& key) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteVolumeMetadataKey(v.id, key));
    if (!found) return NotFound("Metadata item was not found");
    return Status::OK();
  }

  Result<std::string> LocalPath(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
    Backend* b = BackendOf(v);
    return b ? b->driver->LocalPath(v.id) : std::string();
  }

  void Drain() override { workers_.Drain(); }

 private:
  ProjectScope ReadScope(const RequestContext& ctx) const {
    if (ctx.is_admin) return std::nullopt;
    return ctx.project_id;
  }

  Backend* BackendOf(const Volume& v) const {
    for (const auto& b : backends_) {
      if (b->host == v.host) return b.get();
    }
    return nullptr;
  }

  // The enabled backend with the most free space that can hold `size` GiB.
  Result<Backend*> ChooseBackend(int64_t size) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::set<std::string> disabled;
    for (const auto& svc : services) {
      if (svc.disabled) disabled.insert(svc.host);
    }
    Backend* best = nullptr;
    double best_free = -1, largest = 0;
    for (const auto& b : backends_) {
      if (disabled.count(b->host.substr(0, b->host.find('#')))) continue;
      auto cap = b->driver->GetCapacity();
      if (!cap.ok()) continue;
      largest = std::max(largest, cap->free_capacity_gb);
      if (static_cast<double>(size) <= cap->free_capacity_gb && cap->free_capacity_gb > best_free) {
        best = b.get();
        best_free = cap->free_capacity_gb;
      }
    }
    if (!best && disabled.size() >= backends_.size()) {
      return InvalidArgument("Invalid input received: No valid backend was found: every backend's "
                             "cinder-volume service is disabled.");
    }
    if (!best) {
      return InvalidArgument("Invalid input received: Requested volume size " + std::to_string(size) +
                             " GB is larger than the free capacity of every backend (largest: " +
                             FormatGb(largest) + " GB).");
    }
    return best;
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

  void ScheduleDelete(const std::string& id, Backend* backend) {
    workers_.Submit(id, [this, id, backend] {
      Status st = DriverCall([&] { return backend->driver->DeleteVolume(id); });
      if (st.ok()) {
        WriteBack(id, [&] { return store_->SoftDeleteVolume(id, vs::kDeleting); });
      } else {
        std::cerr << "cinder-volume: delete of volume " << id << " failed: " << st.ToString() << "\n";
        WriteBack(id, [&] { return store_->CasVolumeStatus(id, {vs::kDeleting}, vs::kErrorDeleting); });
      }
    });
  }

  static constexpr int kRpcVersionForServices = 1;

  Options options_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::pair<std::string, std::string>> services_;  // host, binary
  std::mutex heartbeat_mu_;
  std::condition_variable heartbeat_cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
  WorkerPool workers_;  // last: its threads stop before the rest is destroyed
};

}  // namespace

Result<std::unique_ptr<VolumeManager>> VolumeManager::Open(const VolumeManagerOptions& mo) {
  Options options = mo.options;
  if (options.host.empty()) options.host = HostName();
  const DriverRegistry& registry = mo.drivers ? *mo.drivers : DriverRegistry::Builtin();
  if (options.backends.empty()) return InvalidArgument(options.origin + ": no backend is enabled");

  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());

  std::vector<std::unique_ptr<Backend>> backends;
  for (const auto& b : options.backends) {
    auto driver = OpenDriver(registry, DriverContext{b, options.state_path});
    if (!driver.ok()) {
      return Status(driver.status().code(), options.origin + ": " + driver.status().message());
    }
    auto backend = std::make_unique<Backend>();
    backend->name = b.name;
    backend->backend_name = b.volume_backend_name;
    backend->host = options.host + "@" + b.name + "#" + b.volume_backend_name;
    backend->driver = std::move(driver).value();
    backends.push_back(std::move(backend));
  }
  auto mgr = std::make_unique<VolumeManagerImpl>(options, std::move(store), std::move(backends));
  CINDER_RETURN_IF_ERROR(mgr->RegisterServices());
  CINDER_RETURN_IF_ERROR(mgr->Recover());
  return std::unique_ptr<VolumeManager>(std::move(mgr));
}

}  // namespace cinder
