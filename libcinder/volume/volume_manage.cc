// The volume host's manage-existing flows (Cinder's manager.manage_existing,
// manage_existing_snapshot, delete_volume / delete_snapshot with unmanage_only, and
// get_manageable_volumes / get_manageable_snapshots).
#include "common/json_writer.h"
#include "volume/quota_api.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;

constexpr char kManaging[] = "managing";
constexpr char kErrorManaging[] = "error_managing";
constexpr char kUnmanaging[] = "unmanaging";

// The gigabytes deltas of `deltas` (what the host reserves once it knows the size).
QuotaDeltas GigabytesOnly(const QuotaDeltas& deltas) {
  QuotaDeltas out;
  for (const auto& [k, v] : deltas) {
    if (k.rfind("gigabytes", 0) == 0 && v != 0) out[k] = v;
  }
  return out;
}

}  // namespace

// The object `ref`, as ListManageable shows it: NotFound when the driver does not list it,
// FailedPrecondition when it may not be managed (a live volume's or snapshot's own).
Result<ManageableObject> VolumeServiceImpl::FindManageable(Backend* b, const std::string& ref) {
  for (bool snapshots : {false, true}) {
    Result<std::vector<ManageableObject>> objects = Internal("not listed");
    CINDER_RETURN_IF_ERROR(DriverCall([&]() -> Status {
      objects = snapshots ? b->driver->ListManageableSnapshots() : b->driver->ListManageableVolumes();
      return objects.status();
    }));
    for (auto& o : *objects) {
      if (o.reference != ref) continue;
      if (o.reason_not_safe) return FailedPrecondition(ref + ": " + *o.reason_not_safe);
      if (o.cinder_id) {
        const bool live = snapshots ? store_->GetSnapshot(*o.cinder_id, std::nullopt).ok()
                                    : store_->GetVolume(*o.cinder_id, std::nullopt).ok();
        if (live) return FailedPrecondition(ref + " is already managed");
      }
      return std::move(o);
    }
  }
  return NotFound("Manage existing volume failed due to invalid backend reference " + ref +
                  ": Specified file does not exist.");
}

void VolumeServiceImpl::Manage(Backend* b, const HostManage& r, const RequestContext& ctx) {
  const std::string& id = r.volume_id;
  auto v = Mine(b, id, kManaging);
  if (!v) return;  // deleted (or reset) meanwhile
  // Cinder's flow: the size first, then its quota, then the driver adopts the object.
  std::vector<std::string> reservations;
  Status st = Status::OK();
  Result<ManageableObject> found = FindManageable(b, r.ref);
  if (!found.ok()) st = found.status();
  if (st.ok()) {
    QuotaApi quotas(store_, nullptr, options_);
    auto reserved =
        quotas.Reserve(v->project_id, GigabytesOnly(QuotaApi::VolumeDeltas(v->volume_type_name, found->size_gb)),
                       "volumes", found->size_gb);
    if (reserved.ok()) {
      reservations = *reserved;
    } else {
      st = reserved.status();
    }
  }
  int64_t size = 0;
  if (st.ok()) {
    Result<int64_t> managed = Internal("not managed");
    st = DriverCall([&]() -> Status {
      managed = b->driver->ManageExisting(id, r.ref);
      return managed.status();
    });
    if (st.ok()) size = *managed;
  }
  if (st.ok() && size != found->size_gb) {
    // The object changed between the listing and the rename: charge what it is now.
    (void)store_->RollbackQuota(reservations);
    QuotaApi quotas(store_, nullptr, options_);
    auto reserved = quotas.Reserve(v->project_id, GigabytesOnly(QuotaApi::VolumeDeltas(v->volume_type_name, size)),
                                   "volumes", size);
    reservations = reserved.ok() ? *reserved : std::vector<std::string>{};
    if (!reserved.ok()) {
      st = reserved.status();
      (void)DriverCall([&] { return b->driver->UnmanageVolume(id); });  // the object stays, renamed
    }
  }
  if (st.ok()) {
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto cas = store_->CasVolumeStatusCommit(id, {kManaging}, vs::kAvailable, {{"size", std::to_string(size)}},
                                               reservations);
      if (cas.ok()) recorded = *cas;
      return cas;
    });
    if (!recorded) {
      // Deleted meanwhile: the object is nobody's volume; it stays on the backend, unmanaged.
      (void)store_->RollbackQuota(reservations);
      (void)DriverCall([&] { return b->driver->UnmanageVolume(id); });
    }
    CINDER_LOG(kInfo, "cinder-volume") << "Manage existing volume completed successfully: " << id << " from " << r.ref
                                       << " (" << size << " GiB)";
    Changed();
    return;
  }
  // Cinder's flow_common.error_out(volume, status='error_managing'): no user message.
  CINDER_LOG(kError, "cinder-volume") << "manage of " << r.ref << " as volume " << id << " failed: " << st.ToString();
  if (!reservations.empty()) (void)store_->RollbackQuota(reservations);
  WriteBack(id, [&] { return store_->CasVolumeStatus(id, {kManaging}, kErrorManaging); });
  (void)ctx;
}

void VolumeServiceImpl::ManageSnapshot(Backend* b, const HostManage& r, const RequestContext& ctx) {
  const std::string& id = r.snapshot_id;
  auto sn = ReadBack([&] { return store_->GetSnapshot(id, std::nullopt); });
  if (!sn.ok() || sn->status != ss::kCreating) return;
  std::vector<std::string> reservations;
  Status st = Status::OK();
  Result<ManageableObject> found = FindManageable(b, r.ref);
  if (!found.ok()) st = found.status();
  QuotaApi quotas(store_, nullptr, options_);
  // The API charged the volume's size; the difference now (Cinder's QuotaReserveTask).
  auto delta = [&](int64_t size) {
    QuotaDeltas out;
    for (const auto& [k, v] : quotas.SnapshotDeltas(sn->volume_type_name, 1)) {
      if (k.rfind("gigabytes", 0) == 0) out[k] = size - sn->size;
    }
    return out;
  };
  if (st.ok() && found->size_gb != sn->size) {
    auto reserved = quotas.Reserve(sn->project_id, delta(found->size_gb), "snapshots", found->size_gb);
    if (reserved.ok()) {
      reservations = *reserved;
    } else {
      st = reserved.status();
    }
  }
  int64_t size = 0;
  if (st.ok()) {
    Result<int64_t> managed = Internal("not managed");
    st = DriverCall([&]() -> Status {
      managed = b->driver->ManageExistingSnapshot(r.volume_id, id, r.ref);
      return managed.status();
    });
    if (st.ok()) size = *managed;
  }
  if (st.ok()) {
    bool recorded = false;
    WriteBack(id, [&]() -> Result<bool> {
      auto cas = store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kAvailable,
                                           {{"progress", std::string("100%")}, {"volume_size", std::to_string(size)}});
      if (cas.ok()) recorded = *cas;
      return cas;
    });
    if (recorded) {
      (void)store_->CommitQuota(reservations);
    } else {
      (void)store_->RollbackQuota(reservations);
      (void)DriverCall([&] { return b->driver->UnmanageSnapshot(r.volume_id, id); });
    }
    Changed();
    return;
  }
  CINDER_LOG(kError, "cinder-volume") << "manage of " << r.ref << " as snapshot " << id << " failed: " << st.ToString();
  if (!reservations.empty()) (void)store_->RollbackQuota(reservations);
  WriteBack(id, [&] { return store_->CasSnapshotStatus(id, {ss::kCreating}, ss::kError); });
  (void)ctx;
}

// Cinder's delete_volume(unmanage_only=True): the driver keeps the object, the row goes with
// its quota; a failure leaves the volume "error_unmanaging".
void VolumeServiceImpl::Unmanage(Backend* b, const std::string& id) {
  auto v = Mine(b, id, kUnmanaging);
  if (!v) return;
  if (b->exporter) Unexport(b, id, {});
  Status st = DriverCall([&] { return b->driver->UnmanageVolume(id); });
  if (st.ok()) {
    WriteBack(id, [&] { return store_->SoftDeleteVolume(id, kUnmanaging); });
    CINDER_LOG(kInfo, "cinder-volume") << "Unmanaged volume successfully: " << id;
  } else {
    CINDER_LOG(kError, "cinder-volume") << "unmanage of volume " << id << " failed: " << st.ToString();
    WriteBack(id, [&] { return store_->CasVolumeStatus(id, {kUnmanaging}, "error_unmanaging"); });
  }
  Changed();
}

void VolumeServiceImpl::UnmanageSnapshot(Backend* b, const std::string& id, const std::string& volume_id) {
  auto sn = ReadBack([&] { return store_->GetSnapshot(id, std::nullopt); });
  if (!sn.ok() || sn->status != kUnmanaging) return;
  Status st = DriverCall([&] { return b->driver->UnmanageSnapshot(volume_id, id); });
  if (st.ok()) {
    WriteBack(id, [&] { return store_->SoftDeleteSnapshot(id, kUnmanaging, !options_.no_snapshot_gb_quota); });
    CINDER_LOG(kInfo, "cinder-volume") << "Unmanage snapshot completed successfully: " << id;
  } else {
    CINDER_LOG(kError, "cinder-volume") << "unmanage of snapshot " << id << " failed: " << st.ToString();
    WriteBack(id, [&] { return store_->CasSnapshotStatus(id, {kUnmanaging}, ss::kErrorDeleting); });
  }
  Changed();
}

// The LVM driver's _get_manageable_resource_info: every object, "already managed" (with its
// cinder_id) when it is a live volume's (snapshot's) of this backend.
Result<ManageableReply> VolumeServiceImpl::ListManageable(Backend* b, bool snapshots) {
  Result<std::vector<ManageableObject>> objects = Internal("not listed");
  CINDER_RETURN_IF_ERROR(DriverCall([&]() -> Status {
    objects = snapshots ? b->driver->ListManageableSnapshots() : b->driver->ListManageableVolumes();
    return objects.status();
  }));
  JsonWriter w;
  w.BeginArray();
  for (const auto& o : *objects) {
    std::optional<std::string> cinder_id;
    std::optional<std::string> source = o.source_reference;
    if (o.cinder_id) {
      if (snapshots) {
        auto sn = store_->GetSnapshot(*o.cinder_id, std::nullopt);
        if (sn.ok()) {
          cinder_id = sn->id;
          source = "volume-" + sn->volume_id;
        }
      } else {
        auto v = store_->GetVolume(*o.cinder_id, std::nullopt);
        if (v.ok() && OnBackend(b, v->host)) cinder_id = v->id;
      }
    }
    w.BeginObject();
    w.Key("reference").String(o.reference);
    w.Key("size").Int(o.size_gb);
    w.Key("safe_to_manage").Bool(!cinder_id && !o.reason_not_safe);
    w.Key("reason_not_safe");
    if (cinder_id) {
      w.String("already managed");
    } else {
      w.OptString(o.reason_not_safe);
    }
    w.Key("cinder_id").OptString(cinder_id);
    w.Key("source_reference").OptString(source);
    w.EndObject();
  }
  w.EndArray();
  return ManageableReply{w.Take()};
}

}  // namespace cinder
