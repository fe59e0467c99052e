// The group_snapshots table (3.14) and groups made from a source (create-from-src). A group
// snapshot's status, and its snapshots' with it, change by compare-and-swap; the snapshot
// quota changes in the transaction that records or removes each snapshot row.
#include <map>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kGroupSnapshotColumns[] =
    "gs.id, gs.group_id, gs.group_type_id, gs.name, gs.description, gs.status, gs.project_id, gs.user_id, "
    "gs.created_at, gs.updated_at";

GroupSnapshot ToGroupSnapshot(const Row& r) {
  GroupSnapshot g;
  g.id = r[0].value_or("");
  g.group_id = r[1].value_or("");
  g.group_type_id = r[2].value_or("");
  g.name = r[3];
  g.description = r[4];
  g.status = r[5].value_or("");
  g.project_id = r[6].value_or("");
  g.user_id = r[7].value_or("");
  g.created_at = r[8].value_or("");
  g.updated_at = r[9];
  return g;
}

const std::map<std::string, std::string>& GroupSnapshotSortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "gs.id"},
      {"name", "COALESCE(gs.name, '')"},
      {"description", "COALESCE(gs.description, '')"},
      {"status", "gs.status"},
      {"created_at", "gs.created_at"},
      {"updated_at", "COALESCE(gs.updated_at, '')"},
      {"project_id", "COALESCE(gs.project_id, '')"},
      {"user_id", "COALESCE(gs.user_id, '')"},
      {"group_id", "gs.group_id"},
      {"group_type_id", "COALESCE(gs.group_type_id, '')"},
  };
  return kCols;
}

}  // namespace

Result<bool> Store::InsertGroupSnapshot(const GroupSnapshot& gs, const std::vector<Snapshot>& members,
                                        const std::vector<std::string>& volume_statuses, const QuotaCharge* charge,
                                        QuotaReservation* over) {
  bool inserted = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    inserted = false;
    // The group's row first: a volume joining or leaving it (FinishGroupUpdate) and a delete
    // of it (StartGroupDelete) take it too, so the membership read below holds until commit.
    Query g;
    g.sql = "UPDATE groups SET updated_at = updated_at WHERE deleted = 0 AND status = 'available' AND id = " +
            g.P(gs.group_id);
    if (Exec(s, g) == 0) return Status::OK();
    Query c;
    c.sql = "SELECT COUNT(*) FROM volumes WHERE deleted = 0 AND group_id = " + c.P(gs.group_id);
    if (ToInt(Select(s, c).at(0)[0]) != static_cast<int64_t>(members.size())) return Status::OK();
    const std::string now = gs.created_at.empty() ? NowIso() : gs.created_at;
    Query q;
    q.sql =
        "INSERT INTO group_snapshots (id, group_id, user_id, project_id, name, description, status, "
        "group_type_id, created_at) VALUES (" +
        q.P(gs.id) + ", " + q.P(gs.group_id) + ", " + q.P(gs.user_id) + ", " + q.P(gs.project_id) + ", " +
        q.Opt(gs.name) + ", " + q.Opt(gs.description) + ", " + q.P(gs.status) + ", " + q.P(gs.group_type_id) + ", " +
        q.P(now) + ")";
    Exec(s, q);
    for (const auto& sn : members) {
      // Each volume as the API read it: of the group, in a status that allows it, of the size
      // and type its quota is charged for. Touching its row serialises this with its delete.
      Query v;
      v.sql = "UPDATE volumes SET updated_at = updated_at WHERE deleted = 0 AND id = " + v.P(sn.volume_id) +
              " AND group_id = " + v.P(gs.group_id) + " AND status IN " + v.In(volume_statuses) +
              " AND COALESCE(volume_type_id, '') = " + v.P(sn.volume_type_id) +
              " AND size = " + v.P(std::to_string(sn.size));
      if (Exec(s, v) == 0) return Aborted("");  // rolls back what was written
      Query i;
      i.sql =
          "INSERT INTO snapshots (id, volume_id, user_id, project_id, status, progress, volume_size, "
          "display_name, display_description, volume_type_id, use_quota, created_at, group_snapshot_id) SELECT " +
          i.P(sn.id) + ", v.id, " + i.P(sn.user_id) + ", " + i.P(sn.project_id) + ", " + i.P(sn.status) + ", " +
          i.P(sn.progress) + ", v.size, " + i.Opt(sn.name) + ", " + i.Opt(sn.description) + ", v.volume_type_id, " +
          (sn.use_quota ? "1" : "0") + ", " + i.P(now) + ", " + i.P(gs.id) +
          " FROM volumes v WHERE v.id = " + i.P(sn.volume_id);
      Exec(s, i);
      CopyImageMetadataToSnapshot(s, sn.id, sn.volume_id, now);
    }
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    inserted = true;
    return Status::OK();
  });
  if (!st.ok() && !(st.code() == Code::kAborted && st.message().empty())) return st;
  return inserted;
}

Result<GroupSnapshot> Store::GetGroupSnapshot(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<GroupSnapshot>([&](soci::session& s) -> Result<GroupSnapshot> {
    Query q;
    q.sql = std::string("SELECT ") + kGroupSnapshotColumns +
            " FROM group_snapshots gs WHERE gs.deleted = 0 AND gs.id = " + q.P(id);
    if (scope) q.sql += " AND gs.project_id = " + q.P(*scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("GroupSnapshot " + id + " could not be found.");
    GroupSnapshot g = ToGroupSnapshot(rows[0]);
    Query m;
    m.sql =
        "SELECT id FROM snapshots WHERE deleted = 0 AND group_snapshot_id = " + m.P(id) + " ORDER BY created_at, id";
    for (const auto& r : Select(s, m)) g.snapshot_ids.push_back(r[0].value_or(""));
    return g;
  });
}

Result<std::vector<GroupSnapshot>> Store::ListGroupSnapshots(const GroupSnapshotListQuery& lq,
                                                             const ProjectScope& scope, int64_t max_limit) {
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, GroupSnapshotSortColumns(), {"created_at", "id"}));
  const int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  return impl_->Run<std::vector<GroupSnapshot>>([&](soci::session& s) -> Result<std::vector<GroupSnapshot>> {
    static const std::map<std::string, std::string> kFilterColumns = {{"name", "gs.name"},
                                                                      {"status", "gs.status"},
                                                                      {"group_id", "gs.group_id"},
                                                                      {"group_type_id", "gs.group_type_id"},
                                                                      {"id", "gs.id"},
                                                                      {"description", "gs.description"},
                                                                      {"project_id", "gs.project_id"},
                                                                      {"user_id", "gs.user_id"}};
    Query q;
    q.sql = std::string("SELECT ") + kGroupSnapshotColumns + " FROM group_snapshots gs WHERE gs.deleted = 0";
    if (scope) q.sql += " AND gs.project_id = " + q.P(*scope);
    for (const auto& [k, v] : lq.filters) {
      auto col = kFilterColumns.find(k);
      if (col == kFilterColumns.end()) return std::vector<GroupSnapshot>{};  // Cinder: matches nothing
      q.sql += " AND " + col->second + " = " + q.P(v);
    }
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += " FROM group_snapshots gs WHERE gs.deleted = 0 AND gs.id = " + m.P(*lq.marker);
      if (scope) m.sql += " AND gs.project_id = " + m.P(*scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("GroupSnapshot " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql += OrderBy(sort) + " LIMIT " + std::to_string(limit);
    if (lq.offset > 0) q.sql += " OFFSET " + std::to_string(lq.offset);
    std::vector<GroupSnapshot> out;
    for (const auto& r : Select(s, q)) out.push_back(ToGroupSnapshot(r));
    return out;
  });
}

Result<bool> Store::CasGroupSnapshotStatus(const std::string& id, const std::vector<std::string>& expected,
                                           const std::string& new_status) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE group_snapshots SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND id = " + q.P(id);
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::FinishGroupSnapshotCreate(const std::string& id, bool ok) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE group_snapshots SET status = " + q.P(ok ? "available" : "error") + ", updated_at = " + q.P(now) +
            " WHERE deleted = 0 AND status = 'creating' AND id = " + q.P(id);
    changed = Exec(s, q) > 0;
    if (!changed) return Status::OK();
    Query m;
    m.sql = "UPDATE snapshots SET status = " + m.P(ok ? "available" : "error") + ", updated_at = " + m.P(now);
    if (ok) m.sql += ", progress = '100%'";
    m.sql += " WHERE deleted = 0 AND status = 'creating' AND group_snapshot_id = " + m.P(id);
    Exec(s, m);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::StartGroupSnapshotDelete(const std::string& id, const std::vector<std::string>& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    // The row first: a group being made from it touches it in its transaction.
    if (!LockRow(s, impl_->pg, "group_snapshots", id)) return Status::OK();
    // Cinder's group_creating_from_src(group_snapshot_id=...).
    Query busy;
    busy.sql =
        "SELECT COUNT(*) FROM groups WHERE deleted = 0 AND status = 'creating' AND group_snapshot_id = " + busy.P(id);
    if (ToInt(Select(s, busy).at(0)[0]) > 0) return Status::OK();
    changed = MarkDeleting(s, "group_snapshots", id, expected, "snapshots", "group_snapshot_id");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::SoftDeleteGroupSnapshot(const std::string& id) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    if (!LockRow(s, impl_->pg, "group_snapshots", id)) return Status::OK();
    Query c;
    c.sql = "SELECT COUNT(*) FROM snapshots WHERE deleted = 0 AND group_snapshot_id = " + c.P(id);
    if (ToInt(Select(s, c).at(0)[0]) > 0) return Status::OK();
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE group_snapshots SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE deleted = 0 AND status = 'deleting' AND id = " + q.P(id);
    changed = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<GroupSnapshot>> Store::GroupSnapshotsOnHost(const std::string& host_prefix,
                                                               const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<GroupSnapshot>>([&](soci::session& s) -> Result<std::vector<GroupSnapshot>> {
    Query q;
    q.sql = std::string("SELECT ") + kGroupSnapshotColumns +
            " FROM group_snapshots gs JOIN groups g ON g.id = gs.group_id WHERE gs.deleted = 0 AND gs.status IN " +
            q.In(statuses) + " AND substr(g.host, 1, " + std::to_string(host_prefix.size()) + ") = " + q.P(host_prefix);
    std::vector<GroupSnapshot> out;
    for (const auto& r : Select(s, q)) out.push_back(ToGroupSnapshot(r));
    return out;
  });
}

// ---- create-from-src -------------------------------------------------------------------------

Status Store::InsertGroupFromSource(const VolumeGroup& g, const std::vector<Volume>& volumes, const QuotaCharge* charge,
                                    QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    // The source's row first: a delete of it (StartGroupSnapshotDelete, StartGroupDelete)
    // locks it before it looks for groups being made from it.
    if (g.group_snapshot_id) {
      Query t;
      t.sql =
          "UPDATE group_snapshots SET updated_at = updated_at WHERE deleted = 0 AND status = 'available' AND id = " +
          t.P(*g.group_snapshot_id);
      if (Exec(s, t) == 0) {
        return FailedPrecondition(
            "Invalid GroupSnapshot: Originating group snapshot status must be one of "
            "'available' values");
      }
    }
    if (g.source_group_id) {
      Query t;
      t.sql = "UPDATE groups SET updated_at = updated_at WHERE deleted = 0 AND status = 'available' AND id = " +
              t.P(*g.source_group_id);
      if (Exec(s, t) == 0) {
        return FailedPrecondition("Invalid Group: Originating group status must be one of 'available' values");
      }
    }
    const std::string now = g.created_at.empty() ? NowIso() : g.created_at;
    Query q;
    q.sql =
        "INSERT INTO groups (id, user_id, project_id, host, availability_zone, name, description, group_type_id, "
        "status, created_at, group_snapshot_id, source_group_id) VALUES (" +
        q.P(g.id) + ", " + q.P(g.user_id) + ", " + q.P(g.project_id) + ", " + q.P(g.host) + ", " +
        q.P(g.availability_zone) + ", " + q.Opt(g.name) + ", " + q.Opt(g.description) + ", " + q.P(g.group_type_id) +
        ", " + q.P(g.status) + ", " + q.P(now) + ", " + q.Opt(g.group_snapshot_id) + ", " + q.Opt(g.source_group_id) +
        ")";
    Exec(s, q);
    for (const auto& type_id : g.volume_type_ids) {
      Query m;
      m.sql = "INSERT INTO group_volume_type_mapping (group_id, volume_type_id, created_at) VALUES (" + m.P(g.id) +
              ", " + m.P(type_id) + ", " + m.P(now) + ")";
      Exec(s, m);
    }
    for (const auto& v : volumes) CINDER_RETURN_IF_ERROR(InsertVolumeRow(s, v));
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

Result<bool> Store::FinishGroupCreate(const std::string& id, bool ok) {
  return CasGroupStatus(id, {group_status::kCreating}, ok ? group_status::kAvailable : group_status::kError);
}

}  // namespace cinder
