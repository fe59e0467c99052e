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

// ---- groups (3.13) ---------------------------------------------------------------------------

namespace {

const char kGroupColumns[] =
    "g.id, g.name, g.description, g.status, g.availability_zone, g.host, g.project_id, g.user_id, "
    "g.group_type_id, g.created_at, g.updated_at, g.group_snapshot_id, g.source_group_id";

VolumeGroup ToGroup(const Row& r) {
  VolumeGroup g;
  g.id = r[0].value_or("");
  g.name = r[1];
  g.description = r[2];
  g.status = r[3].value_or("");
  g.availability_zone = r[4].value_or("");
  g.host = r[5].value_or("");
  g.project_id = r[6].value_or("");
  g.user_id = r[7].value_or("");
  g.group_type_id = r[8].value_or("");
  g.created_at = r[9].value_or("");
  g.updated_at = r[10];
  g.group_snapshot_id = r[11];
  g.source_group_id = r[12];
  return g;
}

// Fills the volume types of `groups` with one query (in the order they were given).
void AttachVolumeTypes(soci::session& s, std::vector<VolumeGroup>* groups) {
  if (groups->empty()) return;
  Query q;
  std::vector<std::string> ids;
  for (const auto& g : *groups) ids.push_back(g.id);
  q.sql = "SELECT group_id, volume_type_id FROM group_volume_type_mapping WHERE deleted = 0 AND group_id IN " +
          q.In(ids) + " ORDER BY id";
  std::map<std::string, VolumeGroup*> by_id;
  for (auto& g : *groups) by_id[g.id] = &g;
  for (const auto& r : Select(s, q)) by_id[r[0].value_or("")]->volume_type_ids.push_back(r[1].value_or(""));
}

// API sort key -> SQL expression.
const std::map<std::string, std::string>& GroupSortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "g.id"},
      {"name", "COALESCE(g.name, '')"},
      {"description", "COALESCE(g.description, '')"},
      {"status", "g.status"},
      {"availability_zone", "COALESCE(g.availability_zone, '')"},
      {"created_at", "g.created_at"},
      {"updated_at", "COALESCE(g.updated_at, '')"},
      {"project_id", "COALESCE(g.project_id, '')"},
      {"user_id", "COALESCE(g.user_id, '')"},
      {"host", "COALESCE(g.host, '')"},
      {"group_type_id", "g.group_type_id"},
  };
  return kCols;
}

}  // namespace

Status Store::InsertGroup(const VolumeGroup& g, const QuotaCharge* charge, QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    // The type's row, held until this commits: DeleteGroupType locks it before it counts the
    // groups of the type.
    Query t;
    t.sql = "SELECT id FROM group_types WHERE deleted = 0 AND id = " + t.P(g.group_type_id);
    if (impl_->pg) t.sql += " FOR SHARE";
    if (Select(s, t).empty()) return NotFound("Group type " + g.group_type_id + " could not be found.");
    const std::string now = g.created_at.empty() ? NowIso() : g.created_at;
    Query q;
    q.sql =
        "INSERT INTO groups (id, user_id, project_id, host, availability_zone, name, description, group_type_id, "
        "status, created_at) VALUES (" +
        q.P(g.id) + ", " + q.P(g.user_id) + ", " + q.P(g.project_id) + ", " +
        q.Opt(g.host.empty() ? std::nullopt : std::optional<std::string>(g.host)) + ", " + q.P(g.availability_zone) +
        ", " + q.Opt(g.name) + ", " + q.Opt(g.description) + ", " + q.P(g.group_type_id) + ", " + q.P(g.status) + ", " +
        q.P(now) + ")";
    Exec(s, q);
    for (const auto& type_id : g.volume_type_ids) {
      Query m;
      m.sql = "INSERT INTO group_volume_type_mapping (group_id, volume_type_id, created_at) VALUES (" + m.P(g.id) +
              ", " + m.P(type_id) + ", " + m.P(now) + ")";
      Exec(s, m);
    }
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

Result<VolumeGroup> Store::GetGroup(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<VolumeGroup>([&](soci::session& s) -> Result<VolumeGroup> {
    Query q;
    q.sql = std::string("SELECT ") + kGroupColumns + " FROM groups g WHERE g.deleted = 0 AND g.id = " + q.P(id);
    if (scope) q.sql += " AND g.project_id = " + q.P(*scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("Group " + id + " could not be found.");
    std::vector<VolumeGroup> groups = {ToGroup(rows[0])};
    AttachVolumeTypes(s, &groups);
    Query v;
    v.sql = "SELECT id FROM volumes WHERE deleted = 0 AND group_id = " + v.P(id) + " ORDER BY created_at, id";
    for (const auto& r : Select(s, v)) groups[0].volume_ids.push_back(r[0].value_or(""));
    return groups[0];
  });
}

Result<std::vector<VolumeGroup>> Store::ListGroups(const GroupListQuery& lq, const ProjectScope& scope,
                                                   int64_t max_limit) {
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, GroupSortColumns(), {"created_at", "id"}));
  const int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  return impl_->Run<std::vector<VolumeGroup>>([&](soci::session& s) -> Result<std::vector<VolumeGroup>> {
    static const std::map<std::string, std::string> kFilterColumns = {{"name", "g.name"},
                                                                      {"status", "g.status"},
                                                                      {"availability_zone", "g.availability_zone"},
                                                                      {"group_type_id", "g.group_type_id"},
                                                                      {"host", "g.host"},
                                                                      {"id", "g.id"},
                                                                      {"description", "g.description"}};
    Query q;
    q.sql = std::string("SELECT ") + kGroupColumns + " FROM groups g WHERE g.deleted = 0";
    if (scope) q.sql += " AND g.project_id = " + q.P(*scope);
    for (const auto& [k, v] : lq.filters) {
      auto col = kFilterColumns.find(k);
      if (col == kFilterColumns.end()) return std::vector<VolumeGroup>{};  // Cinder: an unknown column matches nothing
      q.sql += " AND " + col->second + " = " + q.P(v);
    }
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += " FROM groups g WHERE g.deleted = 0 AND g.id = " + m.P(*lq.marker);
      if (scope) m.sql += " AND g.project_id = " + m.P(*scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("Group " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql += OrderBy(sort) + " LIMIT " + std::to_string(limit);
    std::vector<VolumeGroup> out;
    for (const auto& r : Select(s, q)) out.push_back(ToGroup(r));
    AttachVolumeTypes(s, &out);
    return out;
  });
}

Result<bool> Store::CasGroupStatus(const std::string& id, const std::vector<std::string>& expected,
                                   const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                   const std::optional<std::string>& expected_host) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE groups SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE deleted = 0 AND id = " + q.P(id);
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    if (expected_host) q.sql += " AND COALESCE(host, '') = " + q.P(*expected_host);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::FinishGroupUpdate(const std::string& id, const std::vector<std::string>& add,
                                      const std::vector<std::string>& remove,
                                      const std::vector<std::string>& add_statuses) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    Query g;
    g.sql = "SELECT project_id FROM groups WHERE deleted = 0 AND status = 'updating' AND id = " + g.P(id);
    if (impl_->pg) g.sql += " FOR UPDATE";
    auto rows = Select(s, g);
    if (rows.empty()) return Status::OK();
    const std::string project = rows[0][0].value_or("");
    const std::string now = NowIso();
    for (const auto& vid : add) {
      Query a;
      a.sql = "UPDATE volumes SET group_id = " + a.P(id) + ", updated_at = " + a.P(now) +
              " WHERE deleted = 0 AND group_id IS NULL AND id = " + a.P(vid) + " AND project_id = " + a.P(project) +
              " AND status IN " + a.In(add_statuses);
      if (Exec(s, a) == 0) {
        return FailedPrecondition("Invalid volume: Cannot add volume " + vid + " to group " + id +
                                  " because it is no longer available to be added.");
      }
    }
    for (const auto& vid : remove) {
      Query r;
      r.sql = "UPDATE volumes SET group_id = NULL, updated_at = " + r.P(now) +
              " WHERE deleted = 0 AND group_id = " + r.P(id) + " AND id = " + r.P(vid);
      Exec(s, r);
    }
    Query u;
    u.sql = "UPDATE groups SET status = 'available', updated_at = " + u.P(now) +
            " WHERE deleted = 0 AND status = 'updating' AND id = " + u.P(id);
    changed = Exec(s, u) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::StartGroupDelete(const std::string& id, const std::vector<std::string>& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    // The group's row first: a volume being created into it touches that row.
    if (!LockRow(s, impl_->pg, "groups", id)) return Status::OK();
    // Cinder's group_has_group_snapshot_filter, and a group being made from this one.
    Query gs;
    gs.sql =
        "SELECT (SELECT COUNT(*) FROM group_snapshots WHERE deleted = 0 AND group_id = " + gs.P(id) +
        ") + (SELECT COUNT(*) FROM groups WHERE deleted = 0 AND status = 'creating' AND source_group_id = " + gs.P(id) +
        ")";
    if (ToInt(Select(s, gs).at(0)[0]) > 0) return Status::OK();
    // Cinder's group_has_volumes_filter(attached_or_with_snapshots=True).
    Query c;
    c.sql = "SELECT COUNT(*) FROM volumes v WHERE v.deleted = 0 AND v.group_id = " + c.P(id) +
            " AND (v.attach_status = 'attached' OR EXISTS (SELECT 1 FROM snapshots sn WHERE sn.deleted = 0 AND "
            "sn.volume_id = v.id))";
    if (ToInt(Select(s, c).at(0)[0]) > 0) return Status::OK();
    changed = MarkDeleting(s, "groups", id, expected, "volumes", "group_id");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::SoftDeleteGroup(const std::string& id) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    Query g;
    g.sql = "SELECT project_id FROM groups WHERE deleted = 0 AND id = " + g.P(id);
    if (impl_->pg) g.sql += " FOR UPDATE";
    auto rows = Select(s, g);
    if (rows.empty()) return Status::OK();
    Query c;
    c.sql = "SELECT COUNT(*) FROM volumes WHERE deleted = 0 AND group_id = " + c.P(id);
    if (ToInt(Select(s, c).at(0)[0]) > 0) return Status::OK();
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE groups SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE deleted = 0 AND id = " + q.P(id);
    changed = Exec(s, q) > 0;
    Query m;
    m.sql = "UPDATE group_volume_type_mapping SET deleted = 1, deleted_at = " + m.P(now) +
            " WHERE deleted = 0 AND group_id = " + m.P(id);
    Exec(s, m);
    if (changed) AddQuotaInUse(s, impl_->pg, rows[0][0].value_or(""), {{"groups", -1}});
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

}  // namespace cinder
