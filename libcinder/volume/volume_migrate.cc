// Retype on the volume's host, and migration to another backend (copied locally or pulled
// from the source host over RPC).
#include "common/message_field.h"
#include "common/util.h"
#include "volume/sparse_copy.h"
#include "volume/volume_copy.h"
#include "volume/volume_service_impl.h"

namespace cinder {

namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace mf = message_field;

}  // namespace

// "1" when the type makes multiattach volumes (multiattach="<is> True"), else "0".
std::string VolumeServiceImpl::MultiattachOf(const std::string& type_id) {
  auto t = store_->GetVolumeType(type_id);
  if (!t.ok()) return "0";
  auto m = t->extra_specs.find("multiattach");
  return m != t->extra_specs.end() && ToLower(Trim(m->second)) == "<is> true" ? "1" : "0";
}

// Retype, on the host that holds the volume: the new type is recorded when the volume stays
// on its pool; otherwise the destination backend takes it over (MigrateIn).
void VolumeServiceImpl::Retype(Backend* b, const HostRetype& r, const RequestContext& ctx) {
  const std::string& id = r.retype.volume_id;
  auto v = Mine(b, id, BusyStatus(r.retype));
  if (!v) return;
  if (r.retype.migration && BackendOf(r.dest_host) == b->host) {
    return FailRetype(*v, r.retype, "the destination " + r.dest_host + " is the volume's own backend");
  }
  if (r.dest_host == v->host) {
    WriteBack(id, [&] {
      return store_->CasVolumeStatusCommit(id, {vs::kRetyping}, PreviousStatus(r.retype),
                                           {{"volume_type_id", r.retype.new_type_id},
                                            {"multiattach", MultiattachOf(r.retype.new_type_id)},
                                            {"previous_status", std::nullopt}},
                                           r.retype.reservations);
    });
    return;
  }
  // An attached volume cannot move: its initiators reach it where it is (Cinder asks Nova to
  // swap the volume; there is no Nova here).
  if (v->attach_status != attach_status::kDetached) {
    return FailRetype(*v, r.retype, "an attached volume cannot be migrated to " + r.dest_host);
  }
  HostRetype out = r;
  out.source_host = v->host;
  Status st = hosts_.MigrateVolumeIn(ctx, r.dest_host, out);
  // Taken and not answered yet (DeadlineExceeded): the destination has it queued; were it to
  // die, this host's sweep gives the volume its status back.
  if (!st.ok() && st.code() != Code::kDeadlineExceeded)
    FailRetype(*v, r.retype, "the destination " + r.dest_host + " did not take the volume: " + st.message());
}

// Retype with migration, on the destination backend: a copy of the volume's data is made here
// (from the source's local path on this host, else pulled over RPC from the source's host),
// then the volume moves here, with its new type, in one compare-and-swap; the source's copy
// is removed afterwards.
void VolumeServiceImpl::MigrateIn(Backend* d, const HostRetype& r, const RequestContext& ctx) {
  const std::string& id = r.retype.volume_id;
  const RetypeRequest& args = r.retype;
  auto v = ReadBack([&] { return store_->GetVolume(id, std::nullopt); });
  const std::optional<std::string>& source_host = r.source_host;
  const std::string* dest = &r.dest_host;
  const std::string* type_id = &r.retype.new_type_id;
  const char* busy = BusyStatus(args);
  if (!v.ok() || v->status != busy || !source_host || v->host != *source_host) return;
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
      return ReplaceWithCopy(env_, src_path, dst_path, bytes).status();
    }
    auto touched = std::chrono::steady_clock::now();
    auto pulled = PullVolume(
        env_,
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
    std::vector<FieldUpdate> fields = {{"host", *dest}, {"previous_status", std::nullopt}};
    if (args.migration) {
      fields.emplace_back("migration_status", "success");
    } else {
      fields.emplace_back("volume_type_id", *type_id);
      fields.emplace_back("multiattach", MultiattachOf(*type_id));
    }
    auto r = store_->CasVolumeStatusCommit(
        id, {busy}, PreviousStatus(args), fields, args.reservations,
        {{"host", v->host}, {"COALESCE(volume_type_id, '')", v->volume_type_id}, {"size", std::to_string(v->size)}});
    if (r.ok()) moved = *r;
    return r;
  });
  if (!moved) {
    // A commit whose answer was lost may have moved it after all: the copy here is then the
    // live one. Only a volume known to be elsewhere loses this copy.
    auto now = store_->GetVolume(id, std::nullopt);
    if (!now.ok() && now.status().code() != Code::kNotFound) {
      CINDER_LOG(kWarning, "cinder-volume")
          << "cannot tell where volume " << id << " is; keeping its copy on " << d->host;
      return;
    }
    if (now.ok() && now->host == *dest) {
      moved = true;
    } else {
      (void)DriverCall([&] { return d->driver->DeleteVolume(id); });
      // Still retyping on its source (the volume changed meanwhile): the retype did not happen.
      if (now.ok() && now->status == busy && now->host == *source_host) {
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

const char* VolumeServiceImpl::BusyStatus(const RetypeRequest& r) {
  return r.migration ? vs::kMaintenance : vs::kRetyping;
}

std::string VolumeServiceImpl::BackendOf(const std::string& pool_host) {
  return pool_host.substr(0, pool_host.find('#'));
}

std::string VolumeServiceImpl::PreviousStatus(const RetypeRequest& r) {
  return r.previous_status.empty() ? std::string(vs::kAvailable) : r.previous_status;
}

// The retype did not happen: the volume is as it was, the reservations go back.
void VolumeServiceImpl::FailRetype(const Volume& v, const RetypeRequest& args, const std::string& why) {
  CINDER_LOG(kError, "cinder-volume") << (args.migration ? "migration" : "retype") << " of volume " << v.id
                                      << " failed: " << why;
  if (args.migration) {
    // Back to its status, where it is, migration_status "error" (no reservations).
    WriteBack(v.id, [&] {
      return store_->CasVolumeStatus(v.id, {vs::kMaintenance}, PreviousStatus(args),
                                     {{"previous_status", std::nullopt}, {"migration_status", "error"}}, v.host);
    });
    return;
  }
  bool recorded = false;
  WriteBack(v.id, [&]() -> Result<bool> {
    // With the reservations the volume's row records (those of this retype), in one transaction.
    auto r = store_->AbandonVolumeOperation(v.id, vs::kRetyping, "");
    if (r.ok()) recorded = *r;
    return r;
  });
  if (recorded) (void)store_->RollbackQuota(args.reservations);  // settled already, unless begun unrecorded
}

}  // namespace cinder
