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
