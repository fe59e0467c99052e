// The backup host: see backup_service.h. Cinder's backup/manager.py, with its init_host
// cleanup extended to the partial objects and temporary snapshots it leaks, and a sweep for the
// rows of backup hosts that never came back.
#include "backup/backup_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backup/backup_metrics.h"
#include "backup/backup_rpc.h"
#include "backup/pipeline.h"
#include "cinder/backup.h"
#include "cinder/connector.h"
#include "cinder/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/message_field.h"
#include "common/util.h"
#include "common/worker_pool.h"
#include "db/directory.h"
#include "db/heartbeat.h"
#include "rpc/topics.h"
#include "volume/volume_rpc.h"

namespace cinder {

namespace {

namespace bs = backup_status;
namespace vs = volume_status;

constexpr char kLog[] = "cinder-backup";
constexpr char kResetOnRestart[] = "incomplete backup reset on manager restart";
constexpr int64_t kGiB = int64_t{1} << 30;
// How often a running operation records its progress (and learns it was cancelled).
constexpr std::chrono::seconds kTouchInterval{2};

// Whether `driver` names the posix driver (backup_driver as Cinder's cinder.conf spells it).
bool IsPosix(const std::string& driver) {
  return driver == "posix" || driver == "cinder.backup.drivers.posix" || driver == kPosixBackupService;
}

// The volume opened for an operation: its local file or an iSCSI (or local) connection, and
// what to release on the volume's host afterwards.
struct OpenedVolume {
  std::unique_ptr<BlockDevice> device;  // over the connector
  std::unique_ptr<File> file;           // the local path
  HostBackupDevice request;             // what was asked of the volume host
  std::string volume_host;              // host@backend#pool
  bool opened = false;                  // the volume host has something to release
};

// Cinder's BackupMetadataAPI.get (version 2): the volume's base fields and its metadata, as a
// JSON string held in the backup's _metadata ("volume_meta").
std::string VolumeMeta(const Volume& v) {
  json::Value base = json::Value::MakeObject();
  base.Set("id", v.id);
  base.Set("size", v.size);
  base.Set("status", v.status);
  base.Set("availability_zone", v.availability_zone);
  base.Set("display_name", v.has_name ? json::Value(v.name) : json::Value());
  base.Set("display_description", v.has_description ? json::Value(v.description) : json::Value());
  base.Set("volume_type_id", v.volume_type_id.empty() ? json::Value() : json::Value(v.volume_type_id));
  base.Set("bootable", v.bootable);
  base.Set("multiattach", v.multiattach);
  base.Set("project_id", v.project_id);
  base.Set("user_id", v.user_id);
  base.Set("created_at", v.created_at);
  json::Value meta = json::Value::MakeObject();
  for (const auto& [k, val] : v.metadata) meta.Set(k, val);
  json::Value doc = json::Value::MakeObject();
  doc.Set("version", 2);
  doc.Set("volume-base-metadata", std::move(base));
  doc.Set("volume-metadata", std::move(meta));
  return json::Serialize(doc);
}

class BackupServiceImpl : public BackupService, public BackupRpcServer {
 public:
  BackupServiceImpl(const Options& options, Store* store, Transport* transport,
                    std::unique_ptr<backup::ObjectStore> objects, BackupProgressCallback progress)
      : options_(options),
        progress_(std::move(progress)),
        store_(store),
        transport_(transport),
        env_(options.env ? options.env : Env::Default()),
        volumes_(transport),
        objects_(std::move(objects)),
        popts_(BackupPipelineOptions(options)),
        heartbeat_(store, options.report_interval, env_),
        workers_(options.backup.max_operations > 0 ? options.backup.max_operations : 64) {}

  ~BackupServiceImpl() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    workers_.Drain();
    {
      std::lock_guard<std::mutex> l(running_mu_);
      timer_stopping_ = true;
    }
    running_cv_.notify_all();
    if (timer_.joinable()) timer_.join();
  }

  Status Start() {
    InitHost();
    CINDER_ASSIGN_OR_RETURN(std::string endpoint,
                            transport_->Serve(rpc::BackupTopic(options_.host), BackupRpcHandler(this)));
    ServiceInfo svc;
    svc.host = options_.host;
    svc.binary = "cinder-backup";
    svc.topic = "cinder-backup";
    svc.availability_zone = options_.storage_availability_zone;
    svc.endpoint = endpoint;
    svc.rpc_version = kRpcVersion;
    CINDER_RETURN_IF_ERROR(heartbeat_.Register(svc));
    sweeper_ = std::thread([this, start = env_->NowMonotonic()] { SweepLoop(start); });
    if (options_.backup.enable_progress_timer) timer_ = std::thread([this] { ProgressTimerLoop(); });
    return Status::OK();
  }

  void Drain() override { workers_.Drain(); }

  // ---- BackupRpcServer: each queues its work on the backup's worker ---------------------------
  Status CreateBackup(const RequestContext& ctx, const BackupRef& r) override {
    Run(r.backup_id, [this, ctx, id = r.backup_id] { DoBackup(ctx, id); });
    return Status::OK();
  }
  Status RestoreBackup(const RequestContext& ctx, const HostRestoreBackup& r) override {
    Run(r.backup_id, [this, ctx, r] { DoRestore(ctx, r); });
    return Status::OK();
  }
  Status DeleteBackup(const RequestContext& ctx, const BackupRef& r) override {
    Run(r.backup_id, [this, ctx, id = r.backup_id] { DoDelete(ctx, id); });
    return Status::OK();
  }
  Status ImportRecord(const RequestContext& ctx, const BackupRef& r) override {
    Run(r.backup_id, [this, ctx, id = r.backup_id] { DoImport(ctx, id); });
    return Status::OK();
  }

  void SweepStale() override;

 private:
  // Runs `work` for backup `id` on its worker, remembering meanwhile that this host has it (the
  // sweep leaves such rows alone).
  void Run(const std::string& id, std::function<void()> work) {
    {
      std::lock_guard<std::mutex> l(accepted_mu_);
      ++accepted_[id];
    }
    workers_.Submit(id, [this, id, work = std::move(work)] {
      work();
      std::lock_guard<std::mutex> l(accepted_mu_);
      if (--accepted_[id] == 0) accepted_.erase(id);
    });
  }
  bool Accepted(const std::string& id) {
    std::lock_guard<std::mutex> l(accepted_mu_);
    return accepted_.count(id) > 0;
  }

  // ---- operations (on the backup's worker) ----------------------------------------------------
  void DoBackup(const RequestContext& ctx, const std::string& id);
  // A user message about backup `b` (Cinder's backup manager's): best effort.
  void Tell(const Backup& b, const std::string& request_id, const char* action, const char* detail);
  void DoRestore(const RequestContext& ctx, const HostRestoreBackup& r);
  void DoDelete(const RequestContext& ctx, const std::string& id);
  void DoImport(const RequestContext& ctx, const std::string& id);

  // What a restore does to the target volume once its bytes are in: each layer's volume_meta
  // (oldest first; display name and description only when the target's name is empty or
  // starts with "restore_backup_", metadata merged), then src_backup_id.
  Status ApplyVolumeMeta(const Backup& b, const Volume& v, const std::vector<std::string>& metas);

  // Opens the volume (or `snapshot_id`, taking it first when `temp_snapshot`) on its host.
  Result<OpenedVolume> Open(const RequestContext& ctx, const Volume& v, const std::string& snapshot_id,
                            bool temp_snapshot, bool write);
  // Releases what Open made on the volume's host (the export, the temp snapshot); logged, not
  // fatal: init_host and the sweep retry a temp snapshot left recorded.
  Status Release(const RequestContext& ctx, OpenedVolume& opened);
  // Whether the volume's backend is on this host (its local path is readable here).
  bool OnThisHost(const std::string& volume_host) const {
    const std::string prefix = options_.host + "@";
    return volume_host.compare(0, prefix.size(), prefix) == 0;
  }
  std::string Connector() const;

  // A progress callback that records progress at most every kTouchInterval and cancels when
  // the backup is no longer in `expected`.
  backup::Progress Tracker(const std::string& id, const char* expected);

  // Fails a backup that was being made (its partial objects removed, the temp snapshot
  // released, the volume given back), as init_host does.
  void ResetCreating(const Backup& b, const std::string& reason);
  // Ends a restore nobody will finish (Store::ResetRestore): the backup available, its target
  // error_restoring; one into a new volume still being made is left to its hand-over.
  void ResetRestoring(const Backup& b);
  void ReleaseTempSnapshot(const Backup& b);
  // The stale sweep's `deleting` row of the backup host `b.host`, which is down: finished here
  // when its objects are in this host's store (a shared backup_posix_path) or it has none;
  // otherwise left for that host's restart, which resumes it (InitHost).
  void TakeOverDelete(const Backup& b);

  // ---- the progress timer (backup_enable_progress_timer, backup_timer_interval) -------------
  // Cinder's chunked driver sends a backup.createprogress notification every
  // backup_timer_interval seconds while a backup runs; with no notifier here, the timer logs one
  // INFO line per interval with the backup id and the percentage done, for backups and
  // restores. Operations register while the engine runs (ProgressTimed); Tracker keeps their
  // bytes current.
  struct Running {
    std::string what;        // "backup <id> of volume <v>", "restore of backup <id> into volume <v>"
    std::string request_id;  // logged with each line, as the operation's own lines
    int64_t done = 0;
    int64_t total = 0;
    std::chrono::steady_clock::time_point next;  // the next line
  };
  class ProgressTimed {
   public:
    ProgressTimed(BackupServiceImpl* svc, const std::string& id, std::string what, const std::string& request_id,
                  int64_t total);
    ~ProgressTimed();
    ProgressTimed(const ProgressTimed&) = delete;
    ProgressTimed& operator=(const ProgressTimed&) = delete;

   private:
    BackupServiceImpl* svc_;
    std::string id_;
  };
  std::chrono::seconds TimerInterval() const {
    return std::chrono::seconds(std::max(options_.backup.timer_interval, 1));
  }
  void ProgressTimerLoop();

  // The restart: Cinder's _cleanup_incomplete_backup_operations for this host's rows.
  void InitHost();
  void SweepLoop(std::chrono::steady_clock::time_point start);

  // Retries a database write that failed for a database out of reach (as the volume host's
  // WriteBack): a backup must never stay in its transitional status because of it.
  template <typename Fn>
  auto Persist(const std::string& id, Fn write) -> decltype(write()) {
    int delay_ms = 10;
    for (int waited_ms = 0;; waited_ms += delay_ms, delay_ms = std::min(delay_ms * 2, 2000)) {
      auto r = write();
      if (r.ok() || r.status().code() != Code::kUnavailable || waited_ms >= 60000) {
        if (!r.ok()) CINDER_LOG(kWarning, kLog) << "cannot record the outcome for backup " << id << ": " << r.status();
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }

  Options options_;
  BackupProgressCallback progress_;
  Store* store_;
  Transport* transport_;
  Env* env_;
  VolumeRpc volumes_;
  std::unique_ptr<backup::ObjectStore> objects_;
  backup::PipelineOptions popts_;
  ServiceHeartbeat heartbeat_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
  std::mutex accepted_mu_;               // guards accepted_
  std::map<std::string, int> accepted_;  // backup id -> work accepted here and not finished
  std::set<std::string> left_deleting_;  // dead hosts' deleting rows already logged (sweep thread only)
  std::mutex running_mu_;                // guards running_, timer_stopping_, timer_changed_
  std::condition_variable running_cv_;
  std::map<std::string, Running> running_;  // backup id -> operation the progress timer reports
  bool timer_stopping_ = false;
  bool timer_changed_ = false;  // an operation started: the timer's next wake-up may be sooner
  std::thread timer_;
  WorkerPool workers_;  // last: drained and joined first
};

std::string BackupServiceImpl::Connector() const {
  json::Value c = json::Value::MakeObject();
  c.Set("initiator", DefaultInitiatorName());
  c.Set("host", options_.host);
  c.Set("ip", options_.my_ip);
  c.Set("multipath", false);
  c.Set("platform", "x86_64");
  c.Set("os_type", "linux");
  return json::Serialize(c);
}

Result<OpenedVolume> BackupServiceImpl::Open(const RequestContext& ctx, const Volume& v, const std::string& snapshot_id,
                                             bool temp_snapshot, bool write) {
  if (v.host.empty()) return FailedPrecondition("volume " + v.id + " is on no host");
  OpenedVolume o;
  o.volume_host = v.host;
  o.request.volume_id = v.id;
  o.request.snapshot_id = snapshot_id;
  o.request.temp_snapshot = temp_snapshot;
  const bool local = OnThisHost(v.host);
  if (!local) o.request.connector = Connector();
  auto reply = volumes_.BackupDevice(ctx, v.host, o.request);
  if (!reply.ok()) {
    // A temp snapshot may have been taken before the failure: released with the rest.
    o.opened = true;
    (void)Release(ctx, o);
    return Status(reply.status().code(), "cannot open volume " + v.id + ": " + reply.status().message());
  }
  o.opened = true;
  if (local) {
    auto file = env_->OpenFile(reply->local_path, write ? Env::OpenMode::kReadWrite : Env::OpenMode::kRead);
    if (!file.ok()) {
      (void)Release(ctx, o);
      return Status(file.status().code(), "cannot open volume " + v.id + ": " + file.status().message());
    }
    o.file = std::move(file).value();
  } else {
    auto dev = OpenConnection(reply->connection_info);
    if (!dev.ok()) {
      (void)Release(ctx, o);
      return Status(dev.status().code(), "cannot attach volume " + v.id + ": " + dev.status().message());
    }
    o.device = std::move(dev).value();
  }
  return o;
}

Status BackupServiceImpl::Release(const RequestContext& ctx, OpenedVolume& o) {
  o.file.reset();
  o.device.reset();  // logs out of the session before the export goes
  if (!o.opened) return Status::OK();
  o.opened = false;
  Status st = volumes_.ReleaseBackupDevice(ctx, o.volume_host, o.request);
  if (!st.ok()) {
    CINDER_LOG(kWarning, kLog) << "cannot release volume " << o.request.volume_id << " on " << o.volume_host << ": "
                               << st.ToString();
  }
  return st;
}

backup::Progress BackupServiceImpl::Tracker(const std::string& id, const char* expected) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto cancelled = std::make_shared<bool>(false);
  return [this, id, expected, last, cancelled](int64_t done, int64_t total) {
    if (*cancelled) return false;
    {
      std::lock_guard<std::mutex> l(running_mu_);
      if (auto it = running_.find(id); it != running_.end()) {
        it->second.done = done;
        it->second.total = total;
      }
    }
    if (progress_) progress_(BackupProgress{id, done, total});
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < kTouchInterval && done < total) return true;
    *last = now;
    auto still = store_->TouchBackupProgress(id, done, {expected});
    if (still.ok() && !*still) {
      CINDER_LOG(kInfo, kLog) << "backup " << id << " is no longer " << expected << ": stopping";
      *cancelled = true;
      return false;
    }
    return true;  // a database out of reach does not stop the work
  };
}

BackupServiceImpl::ProgressTimed::ProgressTimed(BackupServiceImpl* svc, const std::string& id, std::string what,
                                                const std::string& request_id, int64_t total)
    : svc_(svc), id_(id) {
  if (!svc_->options_.backup.enable_progress_timer) return;
  {
    std::lock_guard<std::mutex> l(svc_->running_mu_);
    Running& r = svc_->running_[id_];
    r.what = std::move(what);
    r.request_id = request_id;
    r.total = total;
    r.next = svc_->env_->NowMonotonic() + svc_->TimerInterval();
    svc_->timer_changed_ = true;
  }
  svc_->running_cv_.notify_all();
}

BackupServiceImpl::ProgressTimed::~ProgressTimed() {
  std::lock_guard<std::mutex> l(svc_->running_mu_);
  svc_->running_.erase(id_);
}

void BackupServiceImpl::ProgressTimerLoop() {
  std::unique_lock<std::mutex> l(running_mu_);
  while (!timer_stopping_) {
    const auto now = env_->NowMonotonic();
    auto wake = now + std::chrono::hours(1);                 // nothing running: until an operation starts
    std::vector<std::pair<std::string, std::string>> lines;  // request id, line
    for (auto& [id, r] : running_) {
      if (r.next <= now) {
        const int64_t percent = r.total > 0 ? std::min<int64_t>(100, r.done * 100 / r.total) : 0;
        lines.emplace_back(r.request_id, r.what + ": " + std::to_string(percent) + "% done (" +
                                             std::to_string(r.done >> 20) + " of " + std::to_string(r.total >> 20) +
                                             " MiB)");
        while (r.next <= now) r.next += TimerInterval();  // a fixed interval, as Cinder's looping call
      }
      wake = std::min(wake, r.next);
    }
    if (!lines.empty()) {
      l.unlock();
      for (const auto& [request_id, line] : lines) {
        log::ScopedRequestId rid(request_id);
        CINDER_LOG(kInfo, kLog) << line;
      }
      l.lock();
      continue;
    }
    timer_changed_ = false;
    env_->WaitUntil(running_cv_, l, wake, [this] { return timer_stopping_ || timer_changed_; });
  }
}

// ---- create ---------------------------------------------------------------------------------

void BackupServiceImpl::Tell(const Backup& b, const std::string& request_id, const char* action, const char* detail) {
  Status st = store_->InsertMessage(message_field::NewMessage(b.project_id, request_id, message_field::kResourceBackup,
                                                              b.id, action, detail, options_.message_ttl));
  if (!st.ok()) CINDER_LOG(kWarning, kLog) << "cannot record a message for backup " << b.id << ": " << st.ToString();
}

void BackupServiceImpl::DoBackup(const RequestContext& ctx, const std::string& id) {
  auto b = store_->GetBackup(id, std::nullopt);
  if (!b.ok() || b->status != bs::kCreating) return;  // cancelled or gone meanwhile
  CINDER_LOG(kInfo, kLog) << "backup " << id << " of volume " << b->volume_id << " started";
  auto fail = [&](const std::string& reason) {
    CINDER_LOG(kError, kLog) << "backup " << id << " failed: " << reason;
    auto failed = Persist(id, [&] { return store_->FailBackup(id, reason, {bs::kCreating}); });
    if (failed.ok() && *failed) {
      Tell(*b, ctx.request_id, message_field::kBackupCreate, message_field::kBackupCreateDriverError);
    }
  };
  auto v = store_->GetVolume(b->volume_id, std::nullopt);
  if (!v.ok()) return fail("volume " + b->volume_id + " cannot be read: " + v.status().message());

  // What to read: the snapshot asked for; a temporary snapshot of an attached volume (--force)
  // or with backup_use_temp_snapshot; else the volume.
  std::string snapshot_id = b->snapshot_id.value_or("");
  bool temp = false;
  if (snapshot_id.empty() && (v->attach_status != attach_status::kDetached || options_.backup.use_temp_snapshot)) {
    snapshot_id = b->temp_snapshot_id.value_or(NewUuid());
    temp = true;
    // Recorded before it is taken, so that a restart or the sweep removes it.
    auto noted = Persist(id, [&] {
      return store_->CasBackupStatus(id, {bs::kCreating}, bs::kCreating, {{"temp_snapshot_id", snapshot_id}});
    });
    if (!noted.ok() || !*noted) return;
  }

  // The prefix and container are recorded before any object is written: whatever stops this
  // backup can find its objects.
  backup::BackupJob job;
  job.backup_id = id;
  job.volume_id = b->volume_id;
  job.name = b->display_name;
  job.description = b->display_description;
  job.created_at = b->created_at;
  job.container = b->container.value_or("");
  job.volume_meta = VolumeMeta(*v);
  job.start_time = env_->Now();
  if (b->parent_id) {
    auto p = store_->GetBackup(*b->parent_id, std::nullopt);
    if (!p.ok()) return fail("parent backup " + *b->parent_id + " cannot be read: " + p.status().message());
    job.parent = backup::ParentRef{p->id, p->container.value_or(""), p->service_metadata.value_or(""), p->size * kGiB,
                                   p->volume_id};
  }
  const std::string prefix = backup::ObjectPrefix(job);
  const std::string container = backup::ContainerName(job);
  auto noted = Persist(id, [&] {
    return store_->CasBackupStatus(
        id, {bs::kCreating}, bs::kCreating,
        {{"service_metadata", prefix}, {"container", container}, {"service", std::string(kPosixBackupService)}});
  });
  if (!noted.ok() || !*noted) return;

  Result<backup::BackupOutcome> out = Internal("not run");
  auto opened = Open(ctx, *v, snapshot_id, temp, /*write=*/false);
  if (!opened.ok()) {
    out = opened.status();
  } else {
    std::unique_ptr<backup::VolumeSource> source =
        opened->file ? backup::FileSource(std::move(opened->file)) : backup::DeviceSource(opened->device.get());
    {
      ProgressTimed timed(this, id, "backup " + id + " of volume " + b->volume_id, ctx.request_id, b->size * kGiB);
      const auto t0 = std::chrono::steady_clock::now();
      out = backup::RunBackup(popts_, objects_.get(), job, source.get(), Tracker(id, bs::kCreating));
      auto& m = backup::BackupMetrics::Get();
      m.operations.CounterWith({"backup", out.ok() ? "success" : "error"}).Inc();
      m.duration.HistogramWith({"backup"})
          .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    source.reset();
    Status released = Release(ctx, *opened);
    if (temp && released.ok()) {
      (void)store_->UpdateBackup(id, {{"temp_snapshot_id", std::nullopt}}, std::nullopt);
    }
  }
  if (out.ok()) {
    Store::BackupOutcome rec;
    rec.object_count = out->object_count;
    rec.container = out->container;
    rec.service_metadata = out->service_metadata;
    rec.service = std::string(kPosixBackupService);
    auto done = Persist(id, [&] { return store_->FinishBackup(id, rec); });
    if (done.ok() && *done) {
      CINDER_LOG(kInfo, kLog) << "backup " << id << " finished: " << out->object_count << " objects";
    } else if (done.ok()) {
      // Cancelled (force-deleted) at the last moment: the delete that follows removes the
      // objects.
      CINDER_LOG(kInfo, kLog) << "backup " << id << " finished after it was cancelled";
    }
    return;
  }
  if (out.status().code() == Code::kAborted) {
    // Cancelled: the pipeline removed what it wrote; the delete that cancelled it finishes.
    CINDER_LOG(kInfo, kLog) << "backup " << id << " cancelled";
    return;
  }
  // The pipeline removed its objects; an error before it started left none.
  fail(out.status().message());
}

// ---- restore --------------------------------------------------------------------------------

Status BackupServiceImpl::ApplyVolumeMeta(const Backup& b, const Volume& v, const std::vector<std::string>& metas) {
  std::vector<FieldUpdate> fields;
  Metadata merged;
  const bool may_rename = !v.has_name || v.name.empty() || v.name.rfind("restore_backup_", 0) == 0;
  for (const std::string& text : metas) {
    if (text.empty()) continue;
    auto doc = json::Parse(text);
    if (!doc.ok() || !doc->is_object())
      return FailedPrecondition("Metadata restore failed due to incompatible version.");
    const json::Value* version = doc->Find("version");
    if (!version || !version->is_number() || version->as_int() < 1 || version->as_int() > 2) {
      return FailedPrecondition("Metadata restore failed due to incompatible version.");
    }
    if (const json::Value* base = doc->Find("volume-base-metadata"); base && base->is_object() && may_rename) {
      fields.erase(std::remove_if(fields.begin(), fields.end(),
                                  [](const FieldUpdate& f) {
                                    return f.first == "display_name" || f.first == "display_description";
                                  }),
                   fields.end());
      if (const json::Value* n = base->Find("display_name"); n && n->is_string())
        fields.emplace_back("display_name", n->as_string());
      if (const json::Value* d = base->Find("display_description"); d && d->is_string())
        fields.emplace_back("display_description", d->as_string());
    }
    if (const json::Value* meta = doc->Find("volume-metadata"); meta && meta->is_object()) {
      for (const auto& [k, val] : meta->as_object()) {
        if (val.is_string()) merged[k] = val.as_string();
      }
    }
  }
  // Cinder's restore_backup: src_backup_id when restored into another volume (or over an
  // earlier restore of another backup).
  auto current = store_->GetVolumeMetadata(v.id);
  auto old_src = current.ok() ? current->find("src_backup_id") : Metadata::const_iterator{};
  const bool had_other_src = current.ok() && old_src != current->end() && old_src->second != b.id;
  if (b.volume_id != v.id || had_other_src) merged["src_backup_id"] = b.id;
  if (!fields.empty()) CINDER_RETURN_IF_ERROR(store_->UpdateVolume(v.id, fields, std::nullopt).status());
  if (!merged.empty()) CINDER_RETURN_IF_ERROR(store_->SetVolumeMetadata(v.id, merged, /*replace=*/false));
  return Status::OK();
}

void BackupServiceImpl::DoRestore(const RequestContext& ctx, const HostRestoreBackup& r) {
  const std::string& id = r.backup_id;
  auto b = store_->GetBackup(id, std::nullopt);
  if (!b.ok() || b->status != bs::kRestoring || b->restore_volume_id.value_or("") != r.volume_id) {
    CINDER_LOG(kWarning, kLog) << "restore of backup " << id << " into volume " << r.volume_id
                               << " dropped: the backup is not restoring into it";
    return;
  }
  CINDER_LOG(kInfo, kLog) << "restore of backup " << id << " into volume " << r.volume_id << " started";
  auto finish = [&](bool ok, const std::string& why) {
    if (!ok) CINDER_LOG(kError, kLog) << "restore of backup " << id << " into " << r.volume_id << " failed: " << why;
    auto done = Persist(id, [&] { return store_->FinishRestore(id, r.volume_id, ok, r.volume_is_new); });
    if (!ok && done.ok() && *done) {
      // The backup stays available (it is intact); why the restore failed (the object that did
      // not verify, ...) is its fail_reason, and a user message says it failed.
      (void)store_->UpdateBackup(id, {{"fail_reason", "Restore into volume " + r.volume_id + " failed: " + why}},
                                 std::nullopt);
      Tell(*b, ctx.request_id, message_field::kBackupRestore, message_field::kBackupRestoreError);
    }
    if (done.ok() && !*done) {
      // The backup left "restoring" (reset or force-deleted): the restore was cancelled and the
      // volume's bytes are partial.
      (void)Persist(r.volume_id, [&] {
        return store_->CasVolumeStatus(r.volume_id, {vs::kRestoringBackup},
                                       r.volume_is_new ? vs::kError : vs::kErrorRestoring);
      });
    }
  };
  auto v = store_->GetVolume(r.volume_id, std::nullopt);
  if (!v.ok()) return finish(false, "volume " + r.volume_id + " cannot be read: " + v.status().message());
  // The chain, the full backup first.
  std::vector<backup::RestoreLayer> chain;
  std::set<std::string> seen;
  for (std::optional<Backup> layer = *b; layer;) {
    if (!seen.insert(layer->id).second) return finish(false, "backup chain of " + id + " has a loop");
    if (!layer->service_metadata) return finish(false, "backup " + layer->id + " has no objects recorded");
    chain.insert(chain.begin(),
                 backup::RestoreLayer{layer->id, layer->container.value_or(""), *layer->service_metadata});
    if (!layer->parent_id) break;
    auto parent = store_->GetBackup(*layer->parent_id, std::nullopt);
    if (!parent.ok()) return finish(false, "parent backup " + *layer->parent_id + " of " + layer->id + " not found");
    layer = std::move(parent).value();
  }
  auto opened = Open(ctx, *v, "", false, /*write=*/true);
  if (!opened.ok()) return finish(false, opened.status().message());
  Result<backup::RestoreOutcome> out = Internal("not run");
  {
    std::unique_ptr<backup::VolumeSink> sink = opened->file ? backup::FileSink(std::move(opened->file), r.volume_is_new)
                                                            : backup::DeviceSink(opened->device.get(), r.volume_is_new);
    ProgressTimed timed(this, id, "restore of backup " + id + " into volume " + r.volume_id, ctx.request_id,
                        b->size * kGiB);
    const auto t0 = std::chrono::steady_clock::now();
    out = backup::RunRestore(popts_, objects_.get(), chain, sink.get(), Tracker(id, bs::kRestoring));
    auto& m = backup::BackupMetrics::Get();
    m.operations.CounterWith({"restore", out.ok() ? "success" : "error"}).Inc();
    m.duration.HistogramWith({"restore"})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  (void)Release(ctx, *opened);
  if (!out.ok()) return finish(false, out.status().message());
  Status meta = ApplyVolumeMeta(*b, *v, out->volume_meta);
  if (!meta.ok()) return finish(false, meta.message());
  CINDER_LOG(kInfo, kLog) << "restore of backup " << id << " into volume " << r.volume_id << " finished";
  finish(true, "");
}

// ---- delete, import -------------------------------------------------------------------------

void BackupServiceImpl::DoDelete(const RequestContext& ctx, const std::string& id) {
  auto b = store_->GetBackup(id, std::nullopt);
  if (!b.ok() || b->status != bs::kDeleting) return;
  Status st = Status::OK();
  if (b->service_metadata && !b->service_metadata->empty()) {
    st = backup::DeleteBackupObjects(objects_.get(), b->container.value_or(""), *b->service_metadata);
  }
  if (st.ok() && b->temp_snapshot_id) ReleaseTempSnapshot(*b);
  if (st.ok()) {
    (void)Persist(id, [&] { return store_->SoftDeleteBackup(id, bs::kDeleting); });
    CINDER_LOG(kInfo, kLog) << "backup " << id << " deleted";
    return;
  }
  CINDER_LOG(kError, kLog) << "delete of backup " << id << " failed: " << st.ToString();
  auto failed = Persist(id, [&] {
    return store_->CasBackupStatus(id, {bs::kDeleting}, bs::kErrorDeleting, {{"fail_reason", st.message()}});
  });
  if (failed.ok() && *failed)
    Tell(*b, ctx.request_id, message_field::kBackupDelete, message_field::kBackupDeleteDriverError);
}

void BackupServiceImpl::DoImport(const RequestContext&, const std::string& id) {
  auto b = store_->GetBackup(id, std::nullopt);
  if (!b.ok() || b->status != bs::kCreating) return;
  Status st = Status::OK();
  if (!b->service_metadata || b->service_metadata->empty()) {
    st = FailedPrecondition(
        "Driver successfully decoded imported backup data, but there are missing fields "
        "(service_metadata).");
  } else {
    st = backup::CheckBackupReadable(objects_.get(), b->container.value_or(""), *b->service_metadata);
  }
  std::vector<FieldUpdate> fields = {{"host", options_.host},
                                     {"availability_zone", options_.storage_availability_zone},
                                     {"service", std::string(kPosixBackupService)}};
  if (!st.ok()) fields.emplace_back("fail_reason", "Import of backup " + id + " failed: " + st.message());
  (void)Persist(
      id, [&] { return store_->CompleteImport(id, fields, std::nullopt, st.ok() ? bs::kAvailable : bs::kError); });
}

// ---- restart and sweep ----------------------------------------------------------------------

void BackupServiceImpl::ReleaseTempSnapshot(const Backup& b) {
  auto v = store_->GetVolume(b.volume_id, std::nullopt);
  if (!v.ok() || v->host.empty()) return;
  HostBackupDevice rel{b.volume_id, *b.temp_snapshot_id, true, ""};
  // Short: a volume host that is down must not hold up a start (the next one retries).
  Status st = volumes_.ReleaseBackupDevice(RequestContext::Admin("", ""), v->host, rel, std::chrono::seconds(5));
  if (st.ok()) {
    (void)store_->UpdateBackup(b.id, {{"temp_snapshot_id", std::nullopt}}, std::nullopt);
  } else {
    CINDER_LOG(kWarning, kLog) << "cannot remove temporary snapshot " << *b.temp_snapshot_id << " of backup " << b.id
                               << ": " << st.ToString() << " (retried at the next start)";
  }
}

void BackupServiceImpl::ResetCreating(const Backup& b, const std::string& reason) {
  if (b.service_metadata && !b.service_metadata->empty()) {
    Status st = backup::DeleteBackupObjects(objects_.get(), b.container.value_or(""), *b.service_metadata);
    if (!st.ok()) CINDER_LOG(kWarning, kLog) << "cannot remove the partial objects of backup " << b.id << ": " << st;
  }
  if (b.temp_snapshot_id) ReleaseTempSnapshot(b);
  auto failed = Persist(b.id, [&] { return store_->FailBackup(b.id, reason, {bs::kCreating}); });
  if (failed.ok() && *failed) CINDER_LOG(kWarning, kLog) << "backup " << b.id << ": " << reason;
}

void BackupServiceImpl::ResetRestoring(const Backup& b) {
  auto reset = Persist(b.id, [&] { return store_->ResetRestore(b.id); });
  if (!reset.ok()) return;
  const std::string target = b.restore_volume_id.value_or("");
  switch (*reset) {
    case Store::RestoreReset::kReset:
      CINDER_LOG(kWarning, kLog) << "restore of backup " << b.id
                                 << (target.empty() ? std::string() : " into volume " + target)
                                 << " reset: the backup is available"
                                 << (target.empty() ? "" : ", the volume error_restoring");
      break;
    case Store::RestoreReset::kPending:
      CINDER_LOG(kDebug, kLog) << "restore of backup " << b.id << " waits for its new volume " << target
                               << " to be made: its volume host hands it over";
      break;
    case Store::RestoreReset::kNotRestoring: break;
  }
}

void BackupServiceImpl::InitHost() {
  auto rows = store_->BackupsOnHost(options_.host, {bs::kCreating, bs::kRestoring, bs::kDeleting, bs::kError});
  if (!rows.ok()) {
    CINDER_LOG(kWarning, kLog) << "cannot list this host's backups: " << rows.status() << " (the sweep retries)";
    return;
  }
  for (const Backup& b : *rows) {
    if (b.status == bs::kCreating) {
      ResetCreating(b, kResetOnRestart);
    } else if (b.status == bs::kRestoring) {
      ResetRestoring(b);
    } else if (b.status == bs::kDeleting) {
      CINDER_LOG(kInfo, kLog) << "resuming the delete of backup " << b.id;
      Run(b.id, [this, id = b.id] { DoDelete(RequestContext::Admin("", ""), id); });
    } else if (b.status == bs::kError && b.temp_snapshot_id) {
      ReleaseTempSnapshot(b);
    }
  }
}

void BackupServiceImpl::SweepStale() {
  // Restores into new volumes waiting on this host whose volume host never handed them over
  // (its cast was lost): a made volume is claimed here, a failed one frees its backup.
  if (auto pending = store_->PendingRestores(options_.host); pending.ok()) {
    for (const auto& [b, volume_status] : *pending) {
      if (Accepted(b.id) || !b.restore_volume_id) continue;
      if (volume_status == vs::kAvailable) {
        auto claimed = store_->ClaimRestoreTarget(*b.restore_volume_id);
        if (claimed.ok() && *claimed) {
          CINDER_LOG(kInfo, kLog) << "restore of backup " << b.id << " into new volume " << *b.restore_volume_id
                                  << " was never handed over: started";
          HostRestoreBackup r{b.id, *b.restore_volume_id, /*volume_is_new=*/true};
          Run(b.id, [this, r] { DoRestore(RequestContext::Admin("", ""), r); });
        }
      } else if (volume_status != vs::kCreating) {
        CINDER_LOG(kWarning, kLog) << "restore of backup " << b.id << ": its new volume " << *b.restore_volume_id
                                   << " is " << (volume_status.empty() ? "gone" : volume_status) << ": cancelled";
        (void)store_->CasBackupStatus(b.id, {bs::kRestoring}, bs::kAvailable, {{"restore_volume_id", std::nullopt}});
      }
    }
  }
  const int stale = std::max(options_.backup.stale_seconds, 1);
  auto rows = store_->StaleBackups({bs::kCreating, bs::kRestoring, bs::kDeleting}, IsoSecondsAgo(stale));
  if (!rows.ok()) return;
  std::set<std::string> down_checked, down;
  for (const Backup& b : *rows) {
    std::string why;
    if (b.host == options_.host) {
      // This host's own: work in flight touches its row; one nothing here is doing never
      // reached this host (the API died between recording it and handing it over).
      if (Accepted(b.id)) continue;
      why = "backup host " + b.host + " never received the request";
      if (b.status == bs::kDeleting) {
        CINDER_LOG(kWarning, kLog) << "backup " << b.id << " is deleting since " << b.updated_at.value_or(b.created_at)
                                   << " and this host never received the request: resuming the delete";
        Run(b.id, [this, id = b.id] { DoDelete(RequestContext::Admin("", ""), id); });
        continue;
      }
    } else {
      if (!down_checked.count(b.host)) {
        down_checked.insert(b.host);
        auto svcs = store_->ListServices(b.host, std::string("cinder-backup"));
        bool up = false;
        if (svcs.ok()) {
          for (const auto& s : *svcs) up = up || (s.host == b.host && ServiceIsUp(s, options_.service_down_time, env_));
        } else {
          up = true;  // cannot tell: leave it
        }
        if (!up) down.insert(b.host);
      }
      if (!down.count(b.host)) continue;
      if (b.status == bs::kDeleting) {
        TakeOverDelete(b);
        continue;
      }
      why = "backup host " + b.host + " stopped while the backup was being made";  // creating rows
    }
    if (b.status == bs::kCreating) {
      CINDER_LOG(kWarning, kLog) << "backup " << b.id << " of backup host " << b.host << " is creating since "
                                 << b.updated_at.value_or(b.created_at) << ": failed (" << why << ")";
      ResetCreating(b, why);
    } else {
      ResetRestoring(b);  // logs what it did (nothing while a new target is being made)
    }
  }
}

void BackupServiceImpl::TakeOverDelete(const Backup& b) {
  bool here = !b.service_metadata || b.service_metadata->empty();
  if (!here) {
    auto listed = objects_->List(b.container.value_or(""), *b.service_metadata);
    here = listed.ok() && !listed->empty();
  }
  if (!here) {
    if (left_deleting_.insert(b.id).second) {
      CINDER_LOG(kWarning, kLog) << "backup " << b.id << " of backup host " << b.host
                                 << ", which is down, is deleting and its objects are not in this host's store: "
                                    "that host finishes the delete when it starts again";
    }
    return;
  }
  auto taken = store_->CasBackupStatus(b.id, {bs::kDeleting}, bs::kDeleting, {{"host", options_.host}});
  if (!taken.ok() || !*taken) return;
  CINDER_LOG(kWarning, kLog) << "backup " << b.id << " of backup host " << b.host << " is deleting since "
                             << b.updated_at.value_or(b.created_at)
                             << " and its host is down: finishing the delete here";
  Run(b.id, [this, id = b.id] { DoDelete(RequestContext::Admin("", ""), id); });
}

void BackupServiceImpl::SweepLoop(std::chrono::steady_clock::time_point start) {
  std::unique_lock<std::mutex> l(mu_);
  const auto interval = std::chrono::seconds(std::max(options_.report_interval, 1));
  auto next = start + interval;
  while (!env_->WaitUntil(cv_, l, next, [this] { return stopping_; })) {
    next = env_->NowMonotonic() + interval;
    l.unlock();
    try {
      SweepStale();
    } catch (const std::exception& e) {  // housekeeping must never end the process
      CINDER_LOG(kError, kLog) << "stale backup sweep failed: " << e.what();
    }
    l.lock();
  }
}

}  // namespace

backup::PipelineOptions BackupPipelineOptions(const Options& options) {
  backup::PipelineOptions p;
  const BackupOptions& b = options.backup;
  p.compression = b.compression_algorithm;
  p.object_size = b.object_size;
  p.sha_block_size = b.sha_block_size;
  p.file_size = b.file_size;
  p.zstd_level = b.zstd_level;
  p.zlib_level = b.zlib_level;
  p.verify_on_restore = b.verify_on_restore;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int wanted = b.workers > 0 ? b.workers : cores;
  p.workers = b.native_threads_pool_size > 0 ? std::min(wanted, b.native_threads_pool_size) : wanted;
  return p;
}

Result<std::unique_ptr<BackupService>> BackupService::Start(const Options& options, Store* store, Transport* transport,
                                                            BackupProgressCallback progress) {
  backup::BackupMetrics::Get();  // its counters show 0 before the first backup
  Options o = options;
  if (o.host.empty()) o.host = HostName();
  if (!IsPosix(o.backup.driver)) {
    return InvalidArgument(o.origin + ": backup_driver " + o.backup.driver +
                           " is not supported (only cinder.backup.drivers.posix.PosixBackupDriver)");
  }
  Env* env = o.env ? o.env : Env::Default();
  CINDER_ASSIGN_OR_RETURN(auto objects, backup::OpenPosixStore(env, o.BackupPosixPath()));
  auto svc = std::make_unique<BackupServiceImpl>(o, store, transport, std::move(objects), std::move(progress));
  Status st = svc->Start();
  if (!st.ok()) {
    transport->Stop();  // the topic may be served already: no request may reach `svc` now
    return st;
  }
  return std::unique_ptr<BackupService>(std::move(svc));
}

}  // namespace cinder
