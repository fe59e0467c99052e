// The volume_types and volume_type_extra_specs tables.
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kTypeColumns[] = "id, name, description, is_public, qos_specs_id, created_at";

VolumeType ToType(const Row& r) {
  VolumeType t;
  t.id = r[0].value_or("");
  t.name = r[1].value_or("");
  t.description = r[2];
  t.is_public = ToInt(r[3]) != 0;
  t.qos_specs_id = r[4];
  t.created_at = r[5].value_or("");
  return t;
}

// Fills the extra specs of `types` with one query.
void AttachExtraSpecs(soci::session& s, std::vector<VolumeType>* types) {
  if (types->empty()) return;
  Query q;
  std::vector<std::string> ids;
  for (const auto& t : *types) ids.push_back(t.id);
  q.sql =
      "SELECT volume_type_id, key, value FROM volume_type_extra_specs WHERE deleted = 0 AND "
      "volume_type_id IN " +
      q.In(ids);
  std::map<std::string, VolumeType*> by_id;
  for (auto& t : *types) by_id[t.id] = &t;
  for (const auto& r : Select(s, q)) by_id[r[0].value_or("")]->extra_specs[r[1].value_or("")] = r[2].value_or("");
}

bool NameTaken(soci::session& s, const std::string& name, const std::string& except_id) {
  Query q;
  q.sql =
      "SELECT COUNT(*) FROM volume_types WHERE deleted = 0 AND name = " + q.P(name) + " AND id <> " + q.P(except_id);
  return ToInt(Select(s, q).at(0)[0]) > 0;
}

bool TypeExists(soci::session& s, const std::string& id) {
  Query q;
  q.sql = "SELECT COUNT(*) FROM volume_types WHERE deleted = 0 AND id = " + q.P(id);
  return ToInt(Select(s, q).at(0)[0]) > 0;
}

}  // namespace

Result<VolumeType> Store::GetVolumeType(const std::string& name_or_id) {
  return impl_->Run<VolumeType>([&](soci::session& s) -> Result<VolumeType> {
    Query q;
    // By id first: a type may be named like another's id.
    q.sql = std::string("SELECT ") + kTypeColumns +
            " FROM volume_types WHERE deleted = 0 AND (id = " + q.P(name_or_id) + " OR name = " + q.P(name_or_id) +
            ") ORDER BY CASE WHEN id = " + q.P(name_or_id) + " THEN 0 ELSE 1 END";
    auto rows = Select(s, q);
    if (rows.empty()) {
      return NotFound(IsUuid(name_or_id) ? "Volume type " + name_or_id + " could not be found."
                                         : "Volume type with name " + name_or_id + " could not be found.");
    }
    std::vector<VolumeType> types = {ToType(rows[0])};
    AttachExtraSpecs(s, &types);
    return types[0];
  });
}

Result<std::vector<VolumeType>> Store::ListVolumeTypes(const std::optional<bool>& is_public,
                                                       const std::optional<std::string>& with_access_for) {
  return impl_->Run<std::vector<VolumeType>>([&](soci::session& s) -> Result<std::vector<VolumeType>> {
    Query q;
    q.sql = std::string("SELECT ") + kTypeColumns + " FROM volume_types WHERE deleted = 0";
    if (is_public) {
      q.sql += std::string(" AND (is_public = ") + (*is_public ? "1" : "0");
      if (with_access_for) {
        q.sql +=
            " OR id IN (SELECT volume_type_id FROM volume_type_projects WHERE deleted = 0 AND "
            "project_id = " +
            q.P(*with_access_for) + ")";
      }
      q.sql += ")";
    }
    q.sql += " ORDER BY created_at DESC, id DESC";
    std::vector<VolumeType> out;
    for (const auto& r : Select(s, q)) out.push_back(ToType(r));
    AttachExtraSpecs(s, &out);
    return out;
  });
}

// A concurrent create of the same name that passed the check: the unique index stops it.
static Status NameConflict(const Status& st, const std::string& name) {
  if (st.ok()) return st;
  if (st.code() == Code::kAlreadyExists) {
    return AlreadyExists("Volume Type " + name + " already exists.");
  }
  return st;
}

Status Store::CreateVolumeType(const VolumeType& t) { return NameConflict(CreateVolumeTypeRow(t), t.name); }

Status Store::CreateVolumeTypeRow(const VolumeType& t) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (NameTaken(s, t.name, "")) return AlreadyExists("Volume Type " + t.name + " already exists.");
    Query q;
    q.sql = "INSERT INTO volume_types (id, name, description, is_public, created_at) VALUES (" + q.P(t.id) + ", " +
            q.P(t.name) + ", " + (t.description ? q.P(*t.description) : "NULL") + ", " + (t.is_public ? "1" : "0") +
            ", " + q.P(t.created_at.empty() ? NowIso() : t.created_at) + ")";
    Exec(s, q);
    for (const auto& [k, v] : t.extra_specs) {
      Query e;
      e.sql = "INSERT INTO volume_type_extra_specs (volume_type_id, key, value, created_at) VALUES (" + e.P(t.id) +
              ", " + e.P(k) + ", " + e.P(v) + ", " + e.P(NowIso()) + ")";
      Exec(s, e);
    }
    return Status::OK();
  });
}

Status Store::UpdateVolumeType(const std::string& id, const std::optional<std::string>& name,
                               const std::optional<std::string>& description, const std::optional<bool>& is_public) {
  return NameConflict(impl_->Tx([&](soci::session& s) -> Status {
    // The type's row first: creates and deletes that count per-type usage under its name hold
    // it (shared) until they commit.
    if (!LockRow(s, impl_->pg, "volume_types", id)) return NotFound("Volume type " + id + " could not be found.");
    if (name && NameTaken(s, *name, id)) return AlreadyExists("Volume Type " + id + " already exists.");
    if (name) {
      // The per-type quota resources carry the type's name: they follow it (Cinder's
      // update_quota_resource).
      Query old_name;
      old_name.sql = "SELECT name FROM volume_types WHERE deleted = 0 AND id = " + old_name.P(id);
      const std::string was = Select(s, old_name).at(0)[0].value_or("");
      for (const char* table : {"quotas", "quota_classes", "quota_usages", "reservations"}) {
        for (const char* prefix : {"volumes_", "gigabytes_", "snapshots_"}) {
          if (was == *name) break;
          // Rows left under the new name by a deleted type of that name give way.
          Query gone;
          gone.sql = std::string("UPDATE ") + table + " SET deleted = 1, deleted_at = " + gone.P(NowIso()) +
                     " WHERE deleted = 0 AND resource = " + gone.P(prefix + *name);
          Exec(s, gone);
          Query r;
          r.sql = std::string("UPDATE ") + table + " SET resource = " + r.P(prefix + *name) +
                  " WHERE deleted = 0 AND resource = " + r.P(prefix + was);
          Exec(s, r);
        }
      }
    }
    Query q;
    q.sql = "UPDATE volume_types SET updated_at = " + q.P(NowIso());
    if (name) q.sql += ", name = " + q.P(*name);
    if (description) q.sql += ", description = " + q.P(*description);
    if (is_public) q.sql += std::string(", is_public = ") + (*is_public ? "1" : "0");
    q.sql += " WHERE deleted = 0 AND id = " + q.P(id);
    Exec(s, q);
    return Status::OK();
  }),
                      id);
}

Status Store::DeleteVolumeType(const std::string& id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!TypeExists(s, id)) return NotFound("Volume type " + id + " could not be found.");
    Query used;
    used.sql = "SELECT COUNT(*) FROM volumes WHERE deleted = 0 AND volume_type_id = " + used.P(id);
    if (ToInt(Select(s, used).at(0)[0]) > 0) return FailedPrecondition("Target volume type is still in use.");
    Query dflt;
    dflt.sql = "SELECT COUNT(*) FROM default_volume_types WHERE volume_type_id = " + dflt.P(id);
    if (ToInt(Select(s, dflt).at(0)[0]) > 0) {
      return FailedPrecondition("The volume type " + id + " is a default volume type and cannot be deleted.");
    }
    std::string now = NowIso();
    Query q;
    q.sql = "UPDATE volume_types SET deleted = 1, deleted_at = " + q.P(now) + " WHERE deleted = 0 AND id = " + q.P(id);
    Exec(s, q);
    Query e;
    e.sql = "UPDATE volume_type_extra_specs SET deleted = 1, deleted_at = " + e.P(now) +
            " WHERE deleted = 0 AND volume_type_id = " + e.P(id);
    Exec(s, e);
    Query enc;  // its encryption goes with it, as in Cinder's volume_type_destroy
    enc.sql = "UPDATE encryption SET deleted = 1, deleted_at = " + enc.P(now) +
              " WHERE deleted = 0 AND volume_type_id = " + enc.P(id);
    Exec(s, enc);
    return Status::OK();
  });
}

Status Store::SetExtraSpecs(const std::string& type_id, const Metadata& specs) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!TypeExists(s, type_id)) return NotFound("Volume type " + type_id + " could not be found.");
    std::string now = NowIso();
    for (const auto& [k, v] : specs) {
      Query u;
      u.sql = "INSERT INTO volume_type_extra_specs (volume_type_id, key, value, created_at) VALUES (" + u.P(type_id) +
              ", " + u.P(k) + ", " + u.P(v) + ", " + u.P(now) +
              ") ON CONFLICT (volume_type_id, key) WHERE deleted = 0 DO UPDATE SET value = "
              "excluded.value, updated_at = excluded.created_at";
      Exec(s, u);
    }
    return Status::OK();
  });
}

Result<bool> Store::DeleteExtraSpec(const std::string& type_id, const std::string& key) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volume_type_extra_specs SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND volume_type_id = " + q.P(type_id) + " AND key = " + q.P(key);
    changed = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<std::string>> Store::ListTypeAccess(const std::string& type_id) {
  return impl_->Run<std::vector<std::string>>([&](soci::session& s) -> Result<std::vector<std::string>> {
    Query q;
    q.sql = "SELECT project_id FROM volume_type_projects WHERE deleted = 0 AND volume_type_id = " + q.P(type_id) +
            " ORDER BY project_id";
    std::vector<std::string> out;
    for (const auto& r : Select(s, q)) out.push_back(r[0].value_or(""));
    return out;
  });
}

Status Store::AddTypeAccess(const std::string& type_id, const std::string& project_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!TypeExists(s, type_id)) return NotFound("Volume type " + type_id + " could not be found.");
    Query q;
    q.sql = "INSERT INTO volume_type_projects (volume_type_id, project_id, created_at) VALUES (" + q.P(type_id) + ", " +
            q.P(project_id) + ", " + q.P(NowIso()) +
            ") ON CONFLICT (volume_type_id, project_id) "
            "WHERE deleted = 0 DO NOTHING";
    if (Exec(s, q) == 0) {
      return AlreadyExists("Volume type access for " + type_id + " / " + project_id + " combination already exists.");
    }
    return Status::OK();
  });
}

Status Store::RemoveTypeAccess(const std::string& type_id, const std::string& project_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volume_type_projects SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND volume_type_id = " + q.P(type_id) + " AND project_id = " + q.P(project_id);
    if (Exec(s, q) == 0) {
      return NotFound("Volume type access not found for " + type_id + " / " + project_id + " combination.");
    }
    return Status::OK();
  });
}

Status Store::SetProjectDefaultType(const std::string& project_id, const std::string& type_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "INSERT INTO default_volume_types (project_id, volume_type_id, created_at) VALUES (" + q.P(project_id) +
            ", " + q.P(type_id) + ", " + q.P(NowIso()) +
            ") ON CONFLICT (project_id) DO UPDATE SET volume_type_id = excluded.volume_type_id";
    Exec(s, q);
    return Status::OK();
  });
}

Result<std::optional<std::string>> Store::GetProjectDefaultType(const std::string& project_id) {
  return impl_->Run<std::optional<std::string>>([&](soci::session& s) -> Result<std::optional<std::string>> {
    Query q;
    q.sql = "SELECT volume_type_id FROM default_volume_types WHERE project_id = " + q.P(project_id);
    auto rows = Select(s, q);
    if (rows.empty()) return std::optional<std::string>();
    return rows[0][0];
  });
}

Result<std::vector<std::pair<std::string, std::string>>> Store::ListProjectDefaultTypes() {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  return impl_->Run<Pairs>([&](soci::session& s) -> Result<Pairs> {
    Pairs out;
    for (const auto& r :
         Select(s, Query{"SELECT project_id, volume_type_id FROM default_volume_types ORDER BY project_id", {}})) {
      out.emplace_back(r[0].value_or(""), r[1].value_or(""));
    }
    return out;
  });
}

Status Store::UnsetProjectDefaultType(const std::string& project_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM default_volume_types WHERE project_id = " + q.P(project_id);
    Exec(s, q);
    return Status::OK();
  });
}

}  // namespace cinder
