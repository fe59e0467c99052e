// The volume host's side of attachments (Cinder's manager.attachment_update,
// initialize_connection, attachment_delete / detach_volume): exports made and removed through
// the backend's Target, each on the volume's worker so never alongside other work on it.
#include <future>
#include <set>

#include "common/message_field.h"
#include "common/util.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace as = attach_status;
namespace mf = message_field;

// Whether an attachment keeps its volume exported: one being connected, connected or
// detaching (a plain reservation has no connection yet).
bool NeedsExport(const Attachment& a) {
  return a.attach_status == as::kAttaching || a.attach_status == as::kAttached || a.attach_status == as::kDetaching ||
         (a.attach_status == as::kReserved && a.connector);
}

std::vector<Attachment> OrNone(Result<std::vector<Attachment>> r) {
  return r.ok() ? std::move(r).value() : std::vector<Attachment>{};
}

std::string OptionalString(const json::Value& o, const char* key) {
  const json::Value* v = o.Find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

template <typename T>
Result<T> VolumeServiceImpl::RunCall(const std::string& id, std::function<Result<T>()> fn) {
  auto answer = std::make_shared<std::promise<Result<T>>>();
  auto future = answer->get_future();
  Run(id, [answer, fn = std::move(fn)] { answer->set_value(fn()); });
  // Below the caller's RPC timeout, so that it hears why rather than a timeout.
  if (future.wait_for(VolumeRpc::kCallTimeout - std::chrono::seconds(5)) != std::future_status::ready) {
    return Unavailable("the volume service is busy with volume " + id + "; try again later");
  }
  return future.get();
}

Status VolumeServiceImpl::OpenTargets() {
  for (auto& b : backends_) {
    CINDER_ASSIGN_OR_RETURN(b->exporter, OpenTarget(b->options, options_.my_ip, options_.state_path));
    if (b->exporter->DriverVolumeType() == "local") continue;
    if (!b->exporter->Reachable()) {
      // Said by the reporter thread once the daemon has announced where it listens.
      start_notes_.push_back(b->host + ": tgtd is not reachable" +
                             (b->options.tgt_ipc_socket.empty() ? "" : " at " + b->options.tgt_ipc_socket) +
                             ": attachments answer driver_volume_type \"local\" (this host only) until it is");
      b->exporter_up = false;
    }
  }
  return Status::OK();
}

Result<TargetVolume> VolumeServiceImpl::Export(Backend* b, const std::string& volume_id, Target* target) {
  if (!target) target = b->target();
  CINDER_ASSIGN_OR_RETURN(Store::VolumeExport e, ReadBack([&] { return store_->GetVolumeExport(volume_id); }));
  TargetVolume tv{volume_id, b->driver->LocalPath(volume_id), e.provider_location, e.provider_auth, e.readonly};
  Result<ExportRecord> rec = target->CreateExport(tv);
  if (!rec.ok()) {
    return Internal(
        "Bad or unexpected response from the storage volume backend API: Create export for volume failed (" +
        rec.status().message() + ").");
  }
  if (rec->provider_location != tv.provider_location || rec->provider_auth != tv.provider_auth) {
    if (target->DriverVolumeType() != "local") {
      CINDER_RETURN_IF_ERROR(store_->SetVolumeExport(volume_id, rec->provider_location, rec->provider_auth));
      tv.provider_location = rec->provider_location;
      tv.provider_auth = rec->provider_auth;
    }
  }
  return tv;
}

void VolumeServiceImpl::Unexport(Backend* b, const std::string& volume_id, const std::vector<Attachment>& remaining) {
  for (const Attachment& a : remaining) {
    if (NeedsExport(a)) return;
  }
  if (b->target()->DriverVolumeType() == "local") return;
  auto e = store_->GetVolumeExport(volume_id);
  // Never exported (provider_location is written with the export): nothing to ask tgtd. A
  // volume that is gone is removed by what tgtd lists.
  if (e.ok() && !e->provider_location) return;
  TargetVolume tv{volume_id, b->driver->LocalPath(volume_id)};
  if (e.ok()) {
    tv.provider_location = e->provider_location;
    tv.provider_auth = e->provider_auth;
  }
  Status st = b->target()->RemoveExport(tv);
  if (!st.ok()) {
    CINDER_LOG(kWarning, "cinder-volume") << "cannot remove the export of volume " << volume_id << ": " << st.message()
                                          << " (retried every report_interval)";
  }
}

void VolumeServiceImpl::ReExport(Backend* b, const std::string& volume_id) {
  auto e = store_->GetVolumeExport(volume_id);
  if (!e.ok() || !e->provider_location || b->target()->DriverVolumeType() == "local") return;
  TargetVolume tv{volume_id, b->driver->LocalPath(volume_id), e->provider_location, e->provider_auth, e->readonly};
  Status st = b->target()->RemoveExport(tv);
  auto again = st.ok() ? Export(b, volume_id) : Result<TargetVolume>(st);
  if (!again.ok()) {
    CINDER_LOG(kWarning, "cinder-volume")
        << "cannot export volume " << volume_id << " again after its extend: " << again.status().message()
        << " (retried every report_interval)";
  }
}

// Cinder's attachment_update (and, `legacy`, initialize_connection): validate the connector,
// export, and answer how to reach the volume.
Result<ConnectionReply> VolumeServiceImpl::Connect(Backend* b, const HostConnect& r, bool legacy) {
  auto connector = json::Parse(r.connector);
  if (!connector.ok() || !connector->is_object()) {
    return InvalidArgument("Invalid input received: Connector doesn't have required information: initiator");
  }
  Target* target = b->target();  // one target for the whole connect
  CINDER_RETURN_IF_ERROR(target->ValidateConnector(*connector));
  auto v = ReadBack([&] { return store_->GetVolume(r.volume_id, std::nullopt); });
  if (!v.ok()) return v.status();
  if (!OnBackend(b, v->host)) return FailedPrecondition("Invalid volume: volume " + v->id + " is not on " + b->host);
  std::optional<Attachment> att;
  if (!legacy) {
    auto a = ReadBack([&] { return store_->GetAttachment(r.attachment_id, std::nullopt); });
    if (!a.ok()) return a.status();
    if (a->first.volume_id != r.volume_id)
      return InvalidArgument("Invalid input received: Mismatched volume and attachment");
    att = a->first;
  }
  CINDER_ASSIGN_OR_RETURN(TargetVolume tv, Export(b, r.volume_id, target));
  auto data = target->ConnectionData(tv);
  if (!data.ok()) {
    if (att) Unexport(b, r.volume_id, OrNone(store_->AttachmentsOfVolume(r.volume_id)));
    return Internal(
        "Bad or unexpected response from the storage volume backend API: Driver initialize connection "
        "failed (error: " +
        data.status().message() + ").");
  }
  // access_mode: the attachment's mode when it asked for one (3.54, or "ro" for a read-only
  // volume), else the connector's, else the volume's readonly flag (Cinder's
  // _parse_connection_options).
  std::string mode = tv.readonly ? "ro" : "rw";
  if (std::string m = OptionalString(*connector, "mode"); m == "rw" || m == "ro") mode = m;
  if (att && att->attach_mode && (*att->attach_mode == "rw" || *att->attach_mode == "ro")) mode = *att->attach_mode;
  json::Value info = std::move(data).value();
  info.Set("qos_specs", nullptr);
  info.Set("access_mode", mode);
  info.Set("cacheable", false);
  const json::Value* multipath = connector->Find("enforce_multipath");
  const bool enforce = multipath && multipath->is_bool() && multipath->as_bool();
  ConnectionReply reply;
  if (legacy) {
    json::Value out = json::Value::MakeObject();
    out.Set("driver_volume_type", target->DriverVolumeType());
    out.Set("data", std::move(info));
    out.Set("enforce_multipath", enforce);
    reply.connection_info = json::Serialize(out);
    return reply;
  }
  info.Set("driver_volume_type", target->DriverVolumeType());
  info.Set("attachment_id", r.attachment_id);
  info.Set("enforce_multipath", enforce);
  reply.connection_info = json::Serialize(info);
  Store::AttachmentConnection c;
  c.attachment_id = r.attachment_id;
  c.volume_id = r.volume_id;
  c.connector = r.connector;
  c.connection_info = reply.connection_info;
  std::string host = OptionalString(*connector, "host");
  if (!host.empty()) c.attached_host = host;
  std::string mountpoint = OptionalString(*connector, "mountpoint");
  c.mountpoint = mountpoint.empty() ? "na" : mountpoint;
  c.attach_mode = mode;
  CINDER_ASSIGN_OR_RETURN(bool connected, store_->AttachmentConnected(c));
  if (!connected) {  // deleted meanwhile
    Unexport(b, r.volume_id, OrNone(store_->AttachmentsOfVolume(r.volume_id)));
    return NotFound("Volume attachment could not be found with filter: attachment_id = " + r.attachment_id + ".");
  }
  return reply;
}

Result<DetachReply> VolumeServiceImpl::Detach(Backend* b, const HostDetach& r) {
  CINDER_ASSIGN_OR_RETURN(auto remaining, store_->DetachAttachment(r.volume_id, r.attachment_id, r.expected));
  Unexport(b, r.volume_id, remaining);
  return DetachReply{static_cast<int64_t>(remaining.size())};
}

void VolumeServiceImpl::EnsureExports() {
  auto needed = store_->VolumesNeedingExport(options_.host + "@");
  if (!needed.ok()) return;
  std::set<std::string> need(needed->begin(), needed->end());
  auto hosts = store_->VolumeHostsAndStatuses(*needed);  // where each of them is
  if (!hosts.ok()) return;
  for (auto& b : backends_) {
    // A tgtd that was out of reach at start and answers now takes over from "local".
    if (!b->exporter_up && b->exporter->Reachable()) {
      CINDER_LOG(kInfo, "cinder-volume") << b->host << ": tgtd is reachable: attachments are exported over iSCSI";
      b->exporter_up = true;
    }
    if (b->target()->DriverVolumeType() == "local") continue;
    if (!b->target()->Reachable()) continue;
    for (const auto& [id, hs] : *hosts) {
      if (!OnBackend(b.get(), hs.first)) continue;
      Run(id, [this, bp = b.get(), id = id] {
        auto tv = Export(bp, id);
        if (!tv.ok()) {
          CINDER_LOG(kWarning, "cinder-volume")
              << "cannot export volume " << id << ": " << tv.status().message() << " (retried)";
        }
      });
    }
    auto exported = b->target()->ListExports();
    if (!exported.ok()) continue;
    std::vector<std::string> unneeded;
    for (const auto& id : *exported) {
      if (!need.count(id) && !KeptForBackup(id)) unneeded.push_back(id);
    }
    if (unneeded.empty()) continue;
    auto live = store_->VolumeHostsAndStatuses(unneeded);
    if (!live.ok()) continue;
    for (const auto& id : unneeded) {
      auto it = live->find(id);
      // Only this backend's volumes, or volumes that are gone (the target's own files say
      // the export was made here).
      if (it != live->end() && !OnBackend(b.get(), it->second.first)) continue;
      Run(id, [this, bp = b.get(), id = id] {
        auto still = store_->AttachmentsOfVolume(id);
        if (still.ok()) Unexport(bp, id, *still);
      });
    }
  }
}

void VolumeServiceImpl::FailInterruptedConnects(const std::string& older_than, bool now) {
  auto rows = store_->InterruptedConnects(options_.host + "@", older_than);
  if (!rows.ok()) return;
  for (const Attachment& a : *rows) {
    Backend* owner = nullptr;
    auto v = store_->GetVolume(a.volume_id, std::nullopt);
    if (!v.ok()) continue;
    for (auto& b : backends_) {
      if (OnBackend(b.get(), v->host)) owner = b.get();
    }
    if (!owner) continue;
    auto repair = [this, owner, a, vol = *v] {
      auto remaining = store_->DetachAttachment(a.volume_id, a.id, {as::kReserved});
      if (!remaining.ok()) return;  // connected or gone meanwhile
      CINDER_LOG(kWarning, "cinder-volume")
          << "attachment " << a.id << " of volume " << a.volume_id << " was never connected: removed";
      Tell(vol, "", mf::kUpdateAttachment, mf::kAttachError);
      Unexport(owner, a.volume_id, *remaining);
    };
    if (now) {
      repair();
    } else {
      Run(a.volume_id, std::move(repair));
    }
  }
}

template Result<ConnectionReply> VolumeServiceImpl::RunCall<ConnectionReply>(const std::string&,
                                                                             std::function<Result<ConnectionReply>()>);
template Result<DetachReply> VolumeServiceImpl::RunCall<DetachReply>(const std::string&,
                                                                     std::function<Result<DetachReply>()>);
template Result<BackupDeviceReply> VolumeServiceImpl::RunCall<BackupDeviceReply>(
    const std::string&, std::function<Result<BackupDeviceReply>()>);

}  // namespace cinder
