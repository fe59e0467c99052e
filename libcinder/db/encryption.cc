// Volume type encryption: Cinder's encryption table (schema 15), one live row per volume type.
#include <optional>
#include <string>

#include "common/util.h"
#include "db/store.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

std::optional<VolumeTypeEncryption> ReadEncryption(soci::session& s, const std::string& type_id) {
  Query q;
  q.sql =
      "SELECT encryption_id, volume_type_id, provider, cipher, key_size, control_location, created_at, updated_at "
      "FROM encryption WHERE deleted = 0 AND volume_type_id = " +
      q.P(type_id);
  auto rows = Select(s, q);
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  VolumeTypeEncryption e;
  e.encryption_id = r[0].value_or("");
  e.volume_type_id = r[1].value_or("");
  e.provider = r[2].value_or("");
  e.cipher = r[3];
  if (r[4]) e.key_size = ToInt(r[4]);
  e.control_location = r[5].value_or("");
  e.created_at = r[6].value_or("");
  e.updated_at = r[7];
  return e;
}

// Locks the live type's row (volume creates share-lock it, so none is made until this commits),
// then refuses while live volumes have the type.
Status LockUnusedType(soci::session& s, bool pg, const std::string& type_id, const char* verb) {
  if (!LockRow(s, pg, "volume_types", type_id)) return NotFound("Volume type " + type_id + " could not be found.");
  Query used;
  used.sql = "SELECT 1 FROM volumes WHERE deleted = 0 AND volume_type_id = " + used.P(type_id) + " LIMIT 1";
  if (!Select(s, used).empty()) {
    return FailedPrecondition(std::string("Cannot ") + verb + " encryption specs. Volume type in use.");
  }
  return Status::OK();
}

std::string KeySize(const std::optional<int64_t>& k) { return k ? std::to_string(*k) : std::string("NULL"); }

}  // namespace

Result<std::optional<VolumeTypeEncryption>> Store::GetVolumeTypeEncryption(const std::string& type_id) {
  return impl_->Run<std::optional<VolumeTypeEncryption>>(
      [&](soci::session& s) -> Result<std::optional<VolumeTypeEncryption>> { return ReadEncryption(s, type_id); });
}

Result<VolumeTypeEncryption> Store::CreateVolumeTypeEncryption(const std::string& type_id,
                                                               const VolumeTypeEncryptionUpdate& values) {
  VolumeTypeEncryption out;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(LockUnusedType(s, impl_->pg, type_id, "create"));
    if (ReadEncryption(s, type_id)) {
      return FailedPrecondition("Volume type encryption for type " + type_id + " already exists.");
    }
    out = VolumeTypeEncryption();
    out.encryption_id = NewUuid();
    out.volume_type_id = type_id;
    out.provider = values.provider.value_or("");
    if (values.cipher) out.cipher = *values.cipher;
    if (values.key_size) out.key_size = *values.key_size;
    out.control_location = values.control_location.value_or("front-end");
    out.created_at = NowIso();
    Query q;
    q.sql =
        "INSERT INTO encryption (encryption_id, volume_type_id, provider, cipher, key_size, control_location, "
        "created_at) VALUES (" +
        q.P(out.encryption_id) + ", " + q.P(type_id) + ", " + q.P(out.provider) + ", " + q.Opt(out.cipher) + ", " +
        KeySize(out.key_size) + ", " + q.P(out.control_location) + ", " + q.P(out.created_at) + ")";
    Exec(s, q);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Status Store::UpdateVolumeTypeEncryption(const std::string& type_id, const VolumeTypeEncryptionUpdate& values) {
  return impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(LockUnusedType(s, impl_->pg, type_id, "update"));
    Query q;
    q.sql = "UPDATE encryption SET updated_at = " + q.P(NowIso());
    if (values.provider) q.sql += ", provider = " + q.P(*values.provider);
    if (values.cipher) q.sql += ", cipher = " + q.Opt(*values.cipher);
    if (values.key_size) q.sql += ", key_size = " + KeySize(*values.key_size);
    if (values.control_location) q.sql += ", control_location = " + q.P(*values.control_location);
    q.sql += " WHERE deleted = 0 AND volume_type_id = " + q.P(type_id);
    if (Exec(s, q) == 0) return NotFound("Volume type encryption for type " + type_id + " does not exist.");
    return Status::OK();
  });
}

Status Store::DeleteVolumeTypeEncryption(const std::string& type_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(LockUnusedType(s, impl_->pg, type_id, "delete"));
    Query q;
    q.sql = "UPDATE encryption SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND volume_type_id = " + q.P(type_id);
    if (Exec(s, q) == 0) return NotFound("Volume type encryption for type " + type_id + " does not exist.");
    return Status::OK();
  });
}

}  // namespace cinder
