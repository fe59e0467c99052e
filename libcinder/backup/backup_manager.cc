// BackupManager::Open and its implementation: Cinder's backup/api.py. Checks and records here;
// the work is cast to a cinder-backup host (backup_rpc.h), which records its outcome.
#include "cinder/backup_manager.h"

#include <algorithm>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include "auth/policy.h"
#include "backup/backup_rpc.h"
#include "cinder/transport.h"
#include "cinder/volume_manager.h"
#include "common/digest.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/util.h"
#include "db/directory.h"
#include "db/store.h"
#include "rpc/metrics_transport.h"
#include "volume/policy_checks.h"
#include "volume/quota_api.h"

namespace cinder {

namespace {

constexpr char kImportVolumeId[] = "00000000-0000-0000-0000-000000000000";

std::string Py(const std::optional<std::string>& v) { return v ? *v : "None"; }

auth::PolicyTarget BackupTarget(const Backup& b) {
  return {{"id", b.id},
          {"project_id", b.project_id},
          {"user_id", b.user_id},
          {"volume_id", b.volume_id},
          {"host", b.host.empty() ? "None" : b.host},
          {"availability_zone", b.availability_zone},
          {"status", b.status},
          {"display_name", Py(b.display_name)},
          {"display_description", Py(b.display_description)},
          {"container", Py(b.container)},
          {"parent_id", Py(b.parent_id)},
          {"snapshot_id", Py(b.snapshot_id)},
          {"size", std::to_string(b.size)}};
}

// The record's datetimes (oslo.versionedobjects' DateTimeField): "2026-01-02T03:04:05Z".
std::string RecordTime(const std::string& iso) {
  if (iso.size() < 19) return iso;
  return iso.substr(0, 19) + "Z";
}

// A record's datetime back to ours: "...T..Z", "...T..+00:00", "... ..", with or without
// fractions.
std::string FromRecordTime(std::string t) {
  if (t.size() >= 19 && t[10] == ' ') t[10] = 'T';
  if (t.size() < 19) return NowIso();
  std::string base = t.substr(0, 19);
  std::string frac = "000000";
  if (t.size() > 20 && t[19] == '.') {
    size_t end = 20;
    while (end < t.size() && std::isdigit(static_cast<unsigned char>(t[end]))) ++end;
    frac = t.substr(20, std::min<size_t>(end - 20, 6));
    frac.resize(6, '0');
  }
  return base + "." + frac;
}

// Cinder's container: a name under backup_posix_path, never a way out of it.
Status CheckContainer(const std::optional<std::string>& c) {
  if (!c) return Status::OK();
  if (c->size() > 255) {
    return InvalidArgument("Invalid input received: container has " + std::to_string(c->size()) +
                           " characters, more than 255.");
  }
  bool bad = c->find('\0') != std::string::npos || (!c->empty() && (*c)[0] == '/');
  for (const auto& seg : Split(*c, '/')) bad = bad || seg == ".." || seg == ".";
  if (bad) {
    return InvalidArgument("Invalid input received: container must be a relative path without '.' or '..': " + *c);
  }
  return Status::OK();
}

class BackupManagerImpl : public BackupManager {
 public:
  BackupManagerImpl(Options options, std::unique_ptr<Store> store, std::shared_ptr<const auth::Policy> policy,
                    std::unique_ptr<Transport> own_transport, Transport* transport, VolumeManager* volumes)
      : options_(std::move(options)),
        store_(std::move(store)),
        policy_(std::move(policy)),
        quotas_(store_.get(), policy_.get(), options_),
        own_transport_(std::move(own_transport)),
        transport_(transport ? transport : own_transport_.get()),
        rpc_(transport_),
        volumes_(volumes),
        rng_(std::random_device{}()) {}

  Result<Backup> CreateBackup(const RequestContext& ctx, const BackupCreate& req) override {
    CINDER_ASSIGN_OR_RETURN(Volume volume, GetVisibleVolume(*store_, *policy_, ctx, req.volume_id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:create", VolumeTarget(volume)));
    CINDER_RETURN_IF_ERROR(CheckContainer(req.container));
    std::optional<Snapshot> snapshot;
    if (req.snapshot_id) {
      CINDER_ASSIGN_OR_RETURN(Snapshot sn, store_->GetSnapshot(*req.snapshot_id, ReadScope(ctx)));
      if (sn.volume_id != req.volume_id) {
        return FailedPrecondition("Invalid volume: Volume " + req.volume_id +
                                  " does not match with snapshot.volume_id " + sn.volume_id + ".");
      }
      if (sn.status != snapshot_status::kAvailable) {
        return FailedPrecondition(
            "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"" + sn.status +
            "\".");
      }
      snapshot = std::move(sn);
    } else if (volume.status != volume_status::kAvailable && volume.status != volume_status::kInUse) {
      return FailedPrecondition(
          "Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"" +
          volume.status + "\".");
    } else if (volume.status == volume_status::kInUse && !req.force) {
      return FailedPrecondition("Invalid volume: Backing up an in-use volume must use the force flag.");
    }
    // A backup of a snapshot holds the snapshot's data: it is sized (and charged) by the
    // snapshot's volume_size, not by what the volume has grown to since.
    const int64_t size = snapshot ? snapshot->size : volume.size;
    std::optional<Backup> parent;
    if (req.incremental) {
      // Cinder's: the caller's own latest available backup of the volume (an admin's too), and
      // for a snapshot one whose data is older than the snapshot.
      std::optional<std::string> before;
      if (snapshot) before = snapshot->created_at;
      CINDER_ASSIGN_OR_RETURN(parent, store_->LatestAvailableBackup(req.volume_id, ctx.project_id, before));
      if (!parent) return FailedPrecondition("Invalid backup: No backups available to do an incremental backup.");
    }
    // A posix incremental is made where its parent's objects are.
    std::string preferred;
    bool must_prefer = false;
    if (parent && parent->service && parent->service->find("posix") != std::string::npos) {
      preferred = parent->host;
      must_prefer = true;
    } else if (options_.backup.use_same_host) {
      preferred = volume.host.substr(0, volume.host.find('@'));
    }
    CINDER_ASSIGN_OR_RETURN(ServiceInfo svc, ChooseHost(preferred, must_prefer, req.availability_zone));

    Backup b;
    b.id = NewUuid();
    b.user_id = ctx.user_id;
    b.project_id = ctx.project_id;
    b.volume_id = req.volume_id;
    b.host = svc.host;
    b.availability_zone = svc.availability_zone;
    b.status = backup_status::kCreating;
    b.display_name = req.name;
    b.display_description = req.description;
    b.container = req.container;
    b.service = options_.backup.driver;
    b.size = size;
    if (parent) b.parent_id = parent->id;
    b.snapshot_id = req.snapshot_id;
    b.created_at = NowIso();
    b.data_timestamp = snapshot ? snapshot->created_at : b.created_at;
    b.metadata = req.metadata;
    std::vector<std::string> statuses = {volume_status::kAvailable};
    if (req.force) statuses.push_back(volume_status::kInUse);
    QuotaCharge charge = quotas_.Charge(ctx.project_id, BackupQuotaDeltas(size, 1));
    Store::QuotaReservation over;
    Status st = store_->InsertBackup(b, statuses, &charge, &over);
    if (st.code() == Code::kResourceExhausted && !over.over.empty()) {
      return QuotaApi::OverQuotaError(over, "backups", size);
    }
    CINDER_RETURN_IF_ERROR(st);
    Status cast = rpc_.CreateBackup(ctx, b.host, b.id);
    if (!cast.ok()) {
      CINDER_LOG(kWarning, "cinder-backup-api") << "create_backup of " << b.id << " to " << b.host << ": " << cast;
      std::string reason = "Service cinder-backup on " + b.host + " did not accept the backup: " + cast.message();
      (void)store_->FailBackup(b.id, reason);
      b.status = backup_status::kError;
      b.fail_reason = reason;
    }
    return b;
  }

  Result<Backup> GetBackup(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:get", BackupTarget(b)));
    return b;
  }

  Result<BackupList> ListBackups(const RequestContext& ctx, const BackupListQuery& q) override {
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:get_all", {}));
    BackupListQuery lq = q;
    ProjectScope scope = ctx.project_id;
    if (ctx.is_admin && q.all_tenants) scope = q.project_id;
    {
      // The API chose what the caller may filter by (Cinder's _get_backup_filter_options before
      // 3.31, resource_query_filters_file from it); unknown keys are dropped rather than
      // refused, and a non-admin never filters by where a backup lives or whose it is.
      std::map<std::string, std::string> kept;
      static const std::set<std::string> kKnown = {
          "name",      "display_name",      "description", "display_description", "status",
          "volume_id", "availability_zone", "host",        "project_id",          "user_id",
          "parent_id", "snapshot_id",       "container",   "restore_volume_id",   "id",
          "size",      "object_count",      "service"};
      static const std::set<std::string> kAdminOnly = {"host", "project_id", "user_id", "container", "service"};
      for (const auto& [k, v] : q.filters) {
        if (kKnown.count(k) && (ctx.is_admin || !kAdminOnly.count(k))) kept[k] = v;
      }
      lq.filters = std::move(kept);
    }
    return store_->ListBackups(lq, scope, options_.osapi_max_limit);
  }

  Result<Backup> UpdateBackup(const RequestContext& ctx, const std::string& id, const BackupUpdate& u) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:update", BackupTarget(b)));
    std::vector<FieldUpdate> fields;
    if (u.name) fields.emplace_back("display_name", *u.name);
    if (u.description) fields.emplace_back("display_description", *u.description);
    CINDER_ASSIGN_OR_RETURN(bool ok, store_->UpdateBackup(id, fields, u.metadata));
    if (!ok) return NotFound("Backup " + id + " could not be found.");
    return store_->GetBackup(id, std::nullopt);
  }

  Status DeleteBackup(const RequestContext& ctx, const std::string& id, bool force) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    if (force) {
      CINDER_RETURN_IF_ERROR(
          policy_->Enforce(ctx, "volume_extension:backup_admin_actions:force_delete", BackupTarget(b)));
    } else {
      CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:delete", BackupTarget(b)));
    }
    if (!force && b.status != backup_status::kAvailable && b.status != backup_status::kError) {
      return FailedPrecondition("Invalid backup: Backup status must be available or error");
    }
    CINDER_ASSIGN_OR_RETURN(ServiceInfo svc, ChooseHostFor(b));
    std::vector<std::string> expected;
    if (!force) expected = {backup_status::kAvailable, backup_status::kError};
    CINDER_ASSIGN_OR_RETURN(auto started, store_->StartBackupDelete(id, expected));
    switch (started) {
      case Store::BackupDeleteStart::kStarted: break;
      case Store::BackupDeleteStart::kNotFound: return NotFound("Backup " + id + " could not be found.");
      case Store::BackupDeleteStart::kHasDependents:
        return FailedPrecondition("Invalid backup: Incremental backups exist for this backup.");
      case Store::BackupDeleteStart::kBadStatus:
        return FailedPrecondition("Invalid backup: Backup status must be available or error");
    }
    if (svc.host != b.host) (void)store_->UpdateBackup(id, {{"host", svc.host}}, std::nullopt);
    // A creating backup's host sees the row deleting and cancels; the cast makes it clean up
    // (and is what deletes any other).
    Status cast = rpc_.DeleteBackup(ctx, svc.host, id);
    if (!cast.ok()) {
      CINDER_LOG(kWarning, "cinder-backup-api") << "delete_backup of " << id << " to " << svc.host << ": " << cast;
      (void)store_->CasBackupStatus(id, {backup_status::kDeleting}, b.status);
      return Unavailable("Service cinder-backup could not be found.");
    }
    return Status::OK();
  }

  Result<Backup> CheckRestorable(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:restore", BackupTarget(b)));
    if (b.status != backup_status::kAvailable)
      return FailedPrecondition("Invalid backup: Backup status must be available");
    if (b.size <= 0) return FailedPrecondition("Invalid backup: Backup to be restored has invalid size");
    // Where it would run (checked before a volume is made for nothing).
    CINDER_RETURN_IF_ERROR(ChooseHostFor(b).status());
    return b;
  }

  Result<RestoreResult> RestoreBackup(const RequestContext& ctx, const std::string& id,
                                      const std::optional<std::string>& volume_id,
                                      const std::optional<std::string>& name) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, CheckRestorable(ctx, id));
    if (!volume_id) {
      VolumeCreate vc;
      vc.size = b.size;
      vc.name = name ? *name : "restore_backup_" + id;
      vc.description = "auto-created_from_restore_from_backup";
      CINDER_ASSIGN_OR_RETURN(Volume v, volumes_->CreateVolume(ctx, vc));
      Status st = RestoreIntoNewVolume(ctx, id, v.id);
      if (!st.ok()) {
        (void)volumes_->DeleteVolume(RequestContext::Admin(ctx.user_id, ctx.project_id), v.id, true, false);
        return st;
      }
      return RestoreResult{id, v.id, v.has_name ? v.name : ""};
    }
    CINDER_ASSIGN_OR_RETURN(Volume v, GetVisibleVolume(*store_, *policy_, ctx, *volume_id, ReadScope(ctx)));
    if (v.status != volume_status::kAvailable) {
      return FailedPrecondition("Invalid volume: Volume to be restored to must be available");
    }
    if (b.size > v.size) {
      return FailedPrecondition("Invalid volume: volume size " + std::to_string(v.size) +
                                " is too small to restore backup of size " + std::to_string(b.size) + ".");
    }
    CINDER_ASSIGN_OR_RETURN(ServiceInfo svc, ChooseHostFor(b));
    CINDER_ASSIGN_OR_RETURN(auto started, store_->StartRestore(id, v.id, /*volume_is_new=*/false));
    if (started == Store::RestoreStart::kBackupBusy) {
      return FailedPrecondition("Invalid backup: Backup status must be available");
    }
    if (started == Store::RestoreStart::kVolumeBusy) {
      return FailedPrecondition("Invalid volume: Volume to be restored to must be available");
    }
    CINDER_RETURN_IF_ERROR(CastRestore(ctx, b, svc.host, v.id, /*volume_is_new=*/false));
    return RestoreResult{id, v.id, v.has_name ? v.name : ""};
  }

  Status RestoreIntoNewVolume(const RequestContext& ctx, const std::string& backup_id,
                              const std::string& volume_id) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, CheckRestorable(ctx, backup_id));
    CINDER_ASSIGN_OR_RETURN(ServiceInfo svc, ChooseHostFor(b));
    CINDER_ASSIGN_OR_RETURN(auto started, store_->StartRestore(backup_id, volume_id, /*volume_is_new=*/true));
    switch (started) {
      case Store::RestoreStart::kBackupBusy:
        return FailedPrecondition("Invalid backup: Backup status must be available");
      case Store::RestoreStart::kVolumeBusy:
        return FailedPrecondition("Invalid volume: Volume to be restored to must be available");
      case Store::RestoreStart::kStartedPending:
        // The volume host claims it (Store::ClaimRestoreTarget) once it has made the volume.
        if (svc.host != b.host) (void)store_->UpdateBackup(backup_id, {{"host", svc.host}}, std::nullopt);
        return Status::OK();
      case Store::RestoreStart::kStartedReady: break;
    }
    return CastRestore(ctx, b, svc.host, volume_id, /*volume_is_new=*/true);
  }

  Result<Record> ExportRecord(const RequestContext& ctx, const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:export-import", BackupTarget(b)));
    if (b.status != backup_status::kAvailable) {
      return FailedPrecondition("Invalid backup: Backup status must be available and not " + b.status + ".");
    }
    Record r;
    r.backup_service = b.service.value_or(options_.backup.driver);
    r.backup_url = ToBase64(EncodeRecord(b));
    return r;
  }

  // An imported record's fields name files of the store and rows of the database: each must be
  // what a backup service could have written (Cinder's import trusts them). A parent that
  // exists must be one this project sees; one that does not is allowed (a restore then fails
  // naming it), so a chain can be imported parent first or child first.
  Status CheckImported(const RequestContext& ctx, const Backup& b) {
    auto bad = [](const std::string& what) {
      return InvalidArgument("Invalid input received: the backup record " + what + ".");
    };
    if (!b.container || b.container->empty()) return bad("names no container");
    CINDER_RETURN_IF_ERROR(CheckContainer(b.container));
    const std::string prefix = b.service_metadata.value_or("");
    if (prefix.empty() || prefix.size() > 255 || prefix == "." || prefix == ".." ||
        prefix.find('/') != std::string::npos || prefix.find('\0') != std::string::npos) {
      return bad("has an invalid service_metadata");
    }
    if (!IsUuid(b.volume_id)) return bad("has an invalid volume_id");
    if (b.snapshot_id && !IsUuid(*b.snapshot_id)) return bad("has an invalid snapshot_id");
    if (b.size < 0 || b.object_count.value_or(0) < 0 || b.num_dependent_backups < 0) {
      return bad("has a negative size or count");
    }
    if (b.parent_id) {
      if (!IsUuid(*b.parent_id)) return bad("has an invalid parent_id");
      if (store_->GetBackup(*b.parent_id, std::nullopt).ok() && !store_->GetBackup(*b.parent_id, ReadScope(ctx)).ok()) {
        return bad("names a parent backup of another project");
      }
    }
    return Status::OK();
  }

  Result<Backup> ImportRecord(const RequestContext& ctx, const Record& record) override {
    CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "backup:backup-import", {}));
    auto hosts = AliveHosts(std::nullopt);
    CINDER_RETURN_IF_ERROR(hosts.status());
    // A host whose driver wrote the record (Cinder's _is_our_backup: the record's service is a
    // prefix of the driver's class path, or empty).
    const std::string& ours = options_.backup.driver;
    const bool our_service =
        record.backup_service.empty() || record.backup_service == "posix" || ours.rfind(record.backup_service, 0) == 0;
    // Cinder's ServiceNotFound (404), named by the record's service: no backup host is up, or
    // none runs the driver that wrote the record (Cinder finds that out on the hosts and fails
    // the import with the same exception).
    if (hosts->empty() || !our_service) {
      return NotFound("Service " + record.backup_service + " could not be found.");
    }
    std::string text;
    if (!FromBase64(record.backup_url, &text))
      return InvalidArgument("Invalid input received: Can't decode backup record.");
    auto parsed = json::Parse(text);
    if (!parsed.ok() || !parsed->is_object()) {
      return InvalidArgument("Invalid input received: Can't parse backup record.");
    }
    const json::Value& rec = *parsed;
    const json::Value* idv = rec.Find("id");
    if (!idv) return InvalidArgument("Invalid input received: Provided backup record is missing an id");
    const json::Value* sizev = rec.Find("size");
    if (!sizev) return InvalidArgument("Invalid input received: Provided backup record is missing size attribute");
    if (!idv->is_string() || !IsUuid(idv->as_string())) {
      return InvalidArgument("Invalid input received: Can't parse backup record.");
    }
    if (!sizev->is_int() || sizev->as_int() < 0) {
      return InvalidArgument("Invalid input received: Can't parse backup record.");
    }
    ServiceInfo svc;
    {
      std::lock_guard<std::mutex> l(mu_);
      svc = (*hosts)[std::uniform_int_distribution<size_t>(0, hosts->size() - 1)(rng_)];
    }
    Backup b;
    b.id = idv->as_string();
    b.user_id = ctx.user_id;
    b.project_id = ctx.project_id;
    b.volume_id = kImportVolumeId;
    b.host = svc.host;
    b.availability_zone = svc.availability_zone;
    b.status = backup_status::kCreating;
    b.size = sizev->as_int();
    b.service = ours;
    b.created_at = NowIso();
    // The rest of the record the backup host copies in (Store::CompleteImport) once it has
    // checked the objects; what it needs is kept where it reads it: the record itself is cast
    // by id, so the fields go in now and the host verifies them.
    auto str = [&](const char* key) -> std::optional<std::string> {
      const json::Value* v = rec.Find(key);
      if (!v || !v->is_string()) return std::nullopt;
      return v->as_string();
    };
    b.display_name = str("display_name");
    b.display_description = str("display_description");
    b.container = str("container");
    b.service_metadata = str("service_metadata");
    b.parent_id = str("parent_id");
    b.snapshot_id = str("snapshot_id");
    if (auto v = str("volume_id")) b.volume_id = *v;
    if (auto v = str("data_timestamp")) b.data_timestamp = FromRecordTime(*v);
    if (auto v = str("created_at")) b.created_at = FromRecordTime(*v);
    if (const json::Value* v = rec.Find("object_count"); v && v->is_int()) b.object_count = v->as_int();
    if (const json::Value* v = rec.Find("num_dependent_backups"); v && v->is_int()) {
      b.num_dependent_backups = v->as_int();
    }
    CINDER_RETURN_IF_ERROR(CheckImported(ctx, b));
    if (const json::Value* v = rec.Find("metadata"); v && v->is_object()) {
      for (const auto& [k, mv] : v->as_object()) {
        if (mv.is_string()) b.metadata[k] = mv.as_string();
      }
    }
    QuotaCharge charge = quotas_.Charge(ctx.project_id, BackupQuotaDeltas(b.size, 1));
    Store::QuotaReservation over;
    Status st = store_->ImportBackup(b, &charge, &over);
    if (st.code() == Code::kResourceExhausted && !over.over.empty()) {
      return QuotaApi::OverQuotaError(over, "backups", b.size);
    }
    CINDER_RETURN_IF_ERROR(st);
    Status cast = rpc_.ImportRecord(ctx, b.host, b.id);
    if (!cast.ok()) {
      std::string reason = "Service cinder-backup on " + b.host + " did not accept the import: " + cast.message();
      // Not FailBackup: an imported backup holds no volume (the one its record names may be
      // backing up for another backup).
      (void)store_->CasBackupStatus(b.id, {backup_status::kCreating}, backup_status::kError, {{"fail_reason", reason}});
      b.status = backup_status::kError;
      b.fail_reason = reason;
    }
    return b;
  }

  Status ResetStatus(const RequestContext& ctx, const std::string& id, const std::string& status) override {
    CINDER_ASSIGN_OR_RETURN(Backup b, store_->GetBackup(id, ReadScope(ctx)));
    CINDER_RETURN_IF_ERROR(
        policy_->Enforce(ctx, "volume_extension:backup_admin_actions:reset_status", BackupTarget(b)));
    if (status != backup_status::kAvailable && status != backup_status::kError) {
      return InvalidArgument("Invalid input received: status must be available or error, not " + status + ".");
    }
    // Whatever the backup was doing lets go of its volume in the same transaction (a creating
    // backup's source back to its status, a restore's target error_restoring); its host sees the
    // change and stops.
    CINDER_ASSIGN_OR_RETURN(bool ok, store_->ResetBackupStatus(id, status));
    if (!ok) return NotFound("Backup " + id + " could not be found.");
    if (b.status != status) {
      CINDER_LOG(kInfo, "cinder-backup-api") << "backup " << id << " reset from " << b.status << " to " << status;
    }
    return Status::OK();
  }

  Status Authorize(const RequestContext& ctx, const std::string& rule,
                   const std::map<std::string, std::string>& target) const override {
    return policy_->Enforce(ctx, rule, target);
  }

  void SetProgressCallback(BackupProgressCallback cb) override {
    std::lock_guard<std::mutex> l(mu_);
    progress_ = std::move(cb);
  }
  BackupProgressCallback progress_callback() const override {
    std::lock_guard<std::mutex> l(mu_);
    return progress_;
  }
  Transport* transport() const override { return transport_; }
  void Drain() override {
    if (own_transport_) own_transport_->Drain();
  }

  // The export record (Cinder's encode_record: every field but `parent`, driver_info {}).
  std::string EncodeRecord(const Backup& b) const {
    JsonWriter w;
    auto opt = [&](const char* k, const std::optional<std::string>& v) {
      w.Key(std::string_view(k));
      w.OptString(v);
    };
    auto time = [&](const char* k, const std::optional<std::string>& v) {
      w.Key(std::string_view(k));
      if (v) {
        w.String(RecordTime(*v));
      } else {
        w.Null();
      }
    };
    w.BeginObject();
    w.Key("driver_info").BeginObject().EndObject();
    w.Key("id").String(b.id);
    w.Key("user_id").String(b.user_id);
    w.Key("project_id").String(b.project_id);
    w.Key("volume_id").String(b.volume_id);
    w.Key("host").String(b.host);
    w.Key("availability_zone").String(b.availability_zone);
    opt("container", b.container);
    opt("parent_id", b.parent_id);
    w.Key("status").String(b.status);
    opt("fail_reason", b.fail_reason);
    w.Key("size").Int(b.size);
    opt("display_name", b.display_name);
    opt("display_description", b.display_description);
    opt("service_metadata", b.service_metadata);
    opt("service", b.service);
    w.Key("object_count");
    if (b.object_count) {
      w.Int(*b.object_count);
    } else {
      w.Null();
    }
    opt("temp_volume_id", b.temp_volume_id);
    opt("temp_snapshot_id", b.temp_snapshot_id);
    w.Key("num_dependent_backups").Int(b.num_dependent_backups);
    opt("snapshot_id", b.snapshot_id);
    time("data_timestamp", b.data_timestamp);
    opt("restore_volume_id", b.restore_volume_id);
    w.Key("metadata").BeginObject();
    for (const auto& [k, v] : b.metadata) w.Key(std::string_view(k)).String(v);
    w.EndObject();
    opt("encryption_key_id", b.encryption_key_id);
    time("created_at", b.created_at);
    time("updated_at", b.updated_at);
    time("deleted_at", b.deleted_at);
    w.Key("deleted").Bool(b.deleted);
    w.EndObject();
    return w.Take();
  }

 private:
  ProjectScope ReadScope(const RequestContext& ctx) const {
    if (ctx.is_admin) return std::nullopt;
    return ctx.project_id;
  }

  // Enabled cinder-backup services heard from within service_down_time (in `az` when given).
  Result<std::vector<ServiceInfo>> AliveHosts(const std::optional<std::string>& az) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-backup")));
    std::vector<ServiceInfo> out;
    for (auto& s : services) {
      if (s.disabled || !ServiceIsUp(s, options_.service_down_time, options_.env)) continue;
      if (az && !az->empty() && s.availability_zone != *az) continue;
      out.push_back(std::move(s));
    }
    return out;
  }

  // Cinder's _get_available_backup_service_host: `preferred` when it is up (required when
  // `must`), else a random one. Unavailable "Service cinder-backup could not be found.".
  Result<ServiceInfo> ChooseHost(const std::string& preferred, bool must, const std::optional<std::string>& az) {
    CINDER_ASSIGN_OR_RETURN(auto alive, AliveHosts(az));
    if (!preferred.empty()) {
      for (const auto& s : alive) {
        if (s.host == preferred) return s;
      }
      if (must) alive.clear();
    }
    if (alive.empty()) return Unavailable("Service cinder-backup could not be found.");
    std::lock_guard<std::mutex> l(mu_);
    return alive[std::uniform_int_distribution<size_t>(0, alive.size() - 1)(rng_)];
  }

  // The host to work on an existing backup: its own (where a posix backup's objects are).
  Result<ServiceInfo> ChooseHostFor(const Backup& b) {
    const bool posix = b.service && b.service->find("posix") != std::string::npos;
    auto r = ChooseHost(b.host, posix && !b.host.empty(), std::nullopt);
    if (!r.ok() && r.status().code() == Code::kUnavailable) {
      return NotFound("Service cinder-backup could not be found.");  // Cinder's ServiceNotFound (404) here
    }
    return r;
  }

  Status CastRestore(const RequestContext& ctx, const Backup& b, const std::string& host, const std::string& volume_id,
                     bool volume_is_new) {
    if (host != b.host) (void)store_->UpdateBackup(b.id, {{"host", host}}, std::nullopt);
    Status cast = rpc_.RestoreBackup(ctx, host, HostRestoreBackup{b.id, volume_id, volume_is_new});
    if (cast.ok()) return Status::OK();
    CINDER_LOG(kWarning, "cinder-backup-api") << "restore_backup of " << b.id << " to " << host << ": " << cast;
    // Nothing was written: the backup and an existing volume go back as they were; a volume made
    // for the restore holds nothing and goes to error.
    (void)store_->FinishRestore(b.id, volume_id, /*ok=*/!volume_is_new, volume_is_new);
    return Unavailable("Service cinder-backup could not be found.");
  }

  Options options_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const auth::Policy> policy_;
  QuotaApi quotas_;
  std::unique_ptr<Transport> own_transport_;
  Transport* transport_;
  BackupRpc rpc_;
  VolumeManager* volumes_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  BackupProgressCallback progress_;
};

}  // namespace

Result<std::unique_ptr<BackupManager>> BackupManager::Open(const BackupManagerOptions& mo) {
  if (!mo.volumes) return InvalidArgument("BackupManagerOptions.volumes is required");
  Options options = mo.options;
  if (options.host.empty()) options.host = HostName();
  CINDER_ASSIGN_OR_RETURN(std::shared_ptr<const auth::Policy> policy, auth::Policy::Open(options));
  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  std::unique_ptr<Transport> own;
  if (!mo.transport) own = rpc::WithMetrics(NewInProcessTransport(options.volume_workers));
  Transport* t = mo.transport;
  return std::unique_ptr<BackupManager>(
      new BackupManagerImpl(std::move(options), std::move(store), std::move(policy), std::move(own), t, mo.volumes));
}

}  // namespace cinder
