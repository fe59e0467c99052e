// The group_types and group_type_specs tables (generic volume groups, 3.11).
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kGroupTypeColumns[] = "id, name, description, is_public, created_at";

GroupType ToGroupType(const Row& r) {
  GroupType t;
  t.id = r[0].value_or("");
  t.name = r[1].value_or("");
  t.description = r[2];
  t.is_public = ToInt(r[3]) != 0;
  t.created_at = r[4].value_or("");
  return t;
}

// Fills the group specs of `types` with one query.
void AttachGroupSpecs(soci::session& s, std::vector<GroupType>* types) {
  if (types->empty()) return;
  Query q;
  std::vector<std::string> ids;
  for (const auto& t : *types) ids.push_back(t.id);
  q.sql = "SELECT group_type_id, key, value FROM group_type_specs WHERE deleted = 0 AND group_type_id IN " + q.In(ids);
  std::map<std::string, GroupType*> by_id;
  for (auto& t : *types) by_id[t.id] = &t;
  for (const auto& r : Select(s, q)) by_id[r[0].value_or("")]->group_specs[r[1].value_or("")] = r[2].value_or("");
}

Result<GroupType> GetGroupTypeWhere(soci::session& s, const std::string& column, const std::string& value) {
  Query q;
  q.sql = std::string("SELECT ") + kGroupTypeColumns + " FROM group_types WHERE deleted = 0 AND " + column + " = " +
          q.P(value);
  auto rows = Select(s, q);
  if (rows.empty()) {
    return NotFound(column == "id" ? "Group type " + value + " could not be found."
                                   : "Group type with name " + value + " could not be found.");
  }
  std::vector<GroupType> types = {ToGroupType(rows[0])};
  AttachGroupSpecs(s, &types);
  return types[0];
}

bool GroupTypeNameTaken(soci::session& s, const std::string& name, const std::string& except_id) {
  Query q;
  q.sql = "SELECT COUNT(*) FROM group_types WHERE deleted = 0 AND name = " + q.P(name) + " AND id <> " + q.P(except_id);
  return ToInt(Select(s, q).at(0)[0]) > 0;
}

bool GroupTypeExists(soci::session& s, const std::string& id) {
  Query q;
  q.sql = "SELECT COUNT(*) FROM group_types WHERE deleted = 0 AND id = " + q.P(id);
  return ToInt(Select(s, q).at(0)[0]) > 0;
}

// A concurrent create or rename to the same name that passed the check: the unique index
// stops it, with Cinder's message.
Status GroupTypeNameConflict(const Status& st, const std::string& name) {
  if (st.code() == Code::kAlreadyExists) return AlreadyExists("Group Type " + name + " already exists.");
  return st;
}

}  // namespace

Result<GroupType> Store::GetGroupType(const std::string& id) {
  return impl_->Run<GroupType>([&](soci::session& s) { return GetGroupTypeWhere(s, "id", id); });
}

Result<GroupType> Store::GetGroupTypeByName(const std::string& name) {
  return impl_->Run<GroupType>([&](soci::session& s) { return GetGroupTypeWhere(s, "name", name); });
}

Result<std::vector<GroupType>> Store::ListGroupTypes(const std::optional<bool>& is_public) {
  return impl_->Run<std::vector<GroupType>>([&](soci::session& s) -> Result<std::vector<GroupType>> {
    Query q;
    q.sql = std::string("SELECT ") + kGroupTypeColumns + " FROM group_types WHERE deleted = 0";
    if (is_public) q.sql += std::string(" AND is_public = ") + (*is_public ? "1" : "0");
    q.sql += " ORDER BY created_at DESC, id DESC";
    std::vector<GroupType> out;
    for (const auto& r : Select(s, q)) out.push_back(ToGroupType(r));
    AttachGroupSpecs(s, &out);
    return out;
  });
}

Status Store::CreateGroupType(const GroupType& t) {
  return GroupTypeNameConflict(impl_->Tx([&](soci::session& s) -> Status {
    if (GroupTypeNameTaken(s, t.name, "")) return AlreadyExists("Group Type " + t.name + " already exists.");
    const std::string now = t.created_at.empty() ? NowIso() : t.created_at;
    Query q;
    q.sql = "INSERT INTO group_types (id, name, description, is_public, created_at) VALUES (" + q.P(t.id) + ", " +
            q.P(t.name) + ", " + q.Opt(t.description) + ", " + (t.is_public ? "1" : "0") + ", " + q.P(now) + ")";
    Exec(s, q);
    for (const auto& [k, v] : t.group_specs) {
      Query e;
      e.sql = "INSERT INTO group_type_specs (group_type_id, key, value, created_at) VALUES (" + e.P(t.id) + ", " +
              e.P(k) + ", " + e.P(v) + ", " + e.P(now) + ")";
      Exec(s, e);
    }
    return Status::OK();
  }),
                               t.name);
}

Status Store::UpdateGroupType(const std::string& id, const std::optional<std::string>& name,
                              const std::optional<std::string>& description, const std::optional<bool>& is_public) {
  return GroupTypeNameConflict(impl_->Tx([&](soci::session& s) -> Status {
    if (!LockRow(s, impl_->pg, "group_types", id)) return NotFound("Group type " + id + " could not be found.");
    if (name && GroupTypeNameTaken(s, *name, id)) return AlreadyExists("Group Type " + *name + " already exists.");
    Query q;
    q.sql = "UPDATE group_types SET updated_at = " + q.P(NowIso());
    if (name) q.sql += ", name = " + q.P(*name);
    if (description) q.sql += ", description = " + q.P(*description);
    if (is_public) q.sql += std::string(", is_public = ") + (*is_public ? "1" : "0");
    q.sql += " WHERE deleted = 0 AND id = " + q.P(id);
    Exec(s, q);
    return Status::OK();
  }),
                               name.value_or(id));
}

Status Store::DeleteGroupType(const std::string& id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    // The type's row first: a group create holds it (shared) until it commits, so a delete
    // never passes the check below while a group of the type is being written.
    if (!LockRow(s, impl_->pg, "group_types", id)) return NotFound("Group type " + id + " could not be found.");
    Query used;
    used.sql = "SELECT COUNT(*) FROM groups WHERE deleted = 0 AND group_type_id = " + used.P(id);
    if (ToInt(Select(s, used).at(0)[0]) > 0) {
      return FailedPrecondition("Target group type is still in use. Group Type " + id +
                                " deletion is not allowed with groups present with the type.");
    }
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE group_types SET deleted = 1, deleted_at = " + q.P(now) + " WHERE deleted = 0 AND id = " + q.P(id);
    Exec(s, q);
    Query e;
    e.sql = "UPDATE group_type_specs SET deleted = 1, deleted_at = " + e.P(now) +
            " WHERE deleted = 0 AND group_type_id = " + e.P(id);
    Exec(s, e);
    return Status::OK();
  });
}

Status Store::SetGroupTypeSpecs(const std::string& type_id, const Metadata& specs) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!GroupTypeExists(s, type_id)) return NotFound("Group type " + type_id + " could not be found.");
    const std::string now = NowIso();
    for (const auto& [k, v] : specs) {
      Query u;
      u.sql = "INSERT INTO group_type_specs (group_type_id, key, value, created_at) VALUES (" + u.P(type_id) + ", " +
              u.P(k) + ", " + u.P(v) + ", " + u.P(now) +
              ") ON CONFLICT (group_type_id, key) WHERE deleted = 0 DO UPDATE SET value = "
              "excluded.value, updated_at = excluded.created_at";
      Exec(s, u);
    }
    return Status::OK();
  });
}

Status Store::DeleteGroupTypeSpec(const std::string& type_id, const std::string& key) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE group_type_specs SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND group_type_id = " + q.P(type_id) + " AND key = " + q.P(key);
    if (Exec(s, q) == 0) return NotFound("Group Type " + type_id + " has no specs with key " + key + ".");
    return Status::OK();
  });
}

}  // namespace cinder
