// Volume image metadata: Cinder's volume_glance_metadata rows of a volume (schema 13), which
// the volume_image_metadata extension shows, sets and removes.
#include <map>
#include <string>
#include <vector>

#include "common/util.h"
#include "db/store.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

// Locks the live volume's row for the rest of the transaction, unless its status is one of
// `busy`: NotFound for no live volume, FailedPrecondition (Cinder's InvalidVolume) for a busy one.
Status LockIdleVolume(soci::session& s, bool pg, const std::string& id, const std::vector<std::string>& busy,
                      const char* verb) {
  Query q;
  q.sql = "SELECT status FROM volumes WHERE deleted = 0 AND id = " + q.P(id);
  if (pg) q.sql += " FOR UPDATE";
  auto rows = Select(s, q);
  if (rows.empty()) return NotFound("Volume " + id + " could not be found.");
  const std::string status = rows[0][0].value_or("");
  for (const std::string& b : busy) {
    if (status == b) {
      return FailedPrecondition(std::string("Invalid volume: ") + verb +
                                " volume metadata is not allowed for volumes in " + status + " status.");
    }
  }
  return Status::OK();
}

}  // namespace

namespace db {

void CopyImageMetadataToSnapshot(soci::session& s, const std::string& snapshot_id, const std::string& volume_id,
                                 const std::string& now) {
  Query q;
  q.sql = "INSERT INTO volume_glance_metadata (snapshot_id, key, value, created_at) SELECT " + q.P(snapshot_id) +
          ", g.key, g.value, " + q.P(now) +
          " FROM volume_glance_metadata g JOIN volumes v ON v.id = g.volume_id WHERE g.deleted = 0 AND "
          "v.bootable = 1 AND g.volume_id = " +
          q.P(volume_id);
  Exec(s, q);
}

void InheritImageMetadata(soci::session& s, const Volume& v) {
  // The source's rows: the source volume's, or those copied to the snapshot when it was taken.
  std::string bootable_source, rows_of;
  Query u;
  if (v.source_volid) {
    bootable_source = "SELECT 1 FROM volumes src WHERE src.id = " + u.P(*v.source_volid) + " AND src.bootable = 1";
  } else if (v.snapshot_id) {
    bootable_source =
        "SELECT 1 FROM snapshots sn JOIN volumes src ON src.id = sn.volume_id WHERE sn.id = " + u.P(*v.snapshot_id) +
        " AND src.bootable = 1";
  } else {
    return;
  }
  u.sql = "UPDATE volumes SET bootable = 1 WHERE id = " + u.P(v.id) + " AND EXISTS (" + bootable_source + ")";
  if (Exec(s, u) == 0) return;
  Query c;
  c.sql = "INSERT INTO volume_glance_metadata (volume_id, key, value, created_at) SELECT " + c.P(v.id) +
          ", key, value, " + c.P(v.created_at) + " FROM volume_glance_metadata WHERE deleted = 0 AND " +
          (v.source_volid ? "volume_id = " + c.P(*v.source_volid) : "snapshot_id = " + c.P(*v.snapshot_id));
  Exec(s, c);
}

void DeleteSnapshotImageMetadata(soci::session& s, const std::string& snapshot_id, const std::string& now) {
  Query q;
  q.sql = "UPDATE volume_glance_metadata SET deleted = 1, deleted_at = " + q.P(now) +
          " WHERE deleted = 0 AND snapshot_id = " + q.P(snapshot_id);
  Exec(s, q);
}

}  // namespace db

Result<Metadata> Store::GetVolumeImageMetadata(const std::string& volume_id) {
  return impl_->Run<Metadata>([&](soci::session& s) -> Result<Metadata> {
    Query q;
    q.sql = "SELECT key, value FROM volume_glance_metadata WHERE deleted = 0 AND volume_id = " + q.P(volume_id);
    Metadata out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")] = r[1].value_or("");
    return out;
  });
}

Result<std::map<std::string, Metadata>> Store::ListVolumeImageMetadata(const std::vector<std::string>& volume_ids) {
  using Out = std::map<std::string, Metadata>;
  if (volume_ids.empty()) return Out();
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = "SELECT volume_id, key, value FROM volume_glance_metadata WHERE deleted = 0 AND volume_id IN " +
            q.In(volume_ids);
    Out out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")][r[1].value_or("")] = r[2].value_or("");
    return out;
  });
}

Status Store::SetVolumeImageMetadata(const std::string& volume_id, const Metadata& metadata,
                                     const std::vector<std::string>& busy) {
  return impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(LockIdleVolume(s, impl_->pg, volume_id, busy, "Updating"));
    WriteMetadata(s, "volume_glance_metadata", "volume_id", volume_id, metadata, /*replace=*/false);
    return Status::OK();
  });
}

Result<bool> Store::DeleteVolumeImageMetadataKey(const std::string& volume_id, const std::string& key,
                                                 const std::vector<std::string>& busy) {
  bool found = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(LockIdleVolume(s, impl_->pg, volume_id, busy, "Deleting"));
    Query q;
    q.sql = "UPDATE volume_glance_metadata SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND volume_id = " + q.P(volume_id) + " AND key = " + q.P(key);
    found = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return found;
}

}  // namespace cinder
