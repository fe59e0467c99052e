// The snapshots table and their metadata. A snapshot's status changes by compare-and-swap;
// its quota usage changes in the transaction that creates or removes its row.
#include <map>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kSnapshotColumns[] =
    "s.id, s.volume_id, s.display_name, s.display_description, s.status, s.progress, s.volume_size, "
    "s.project_id, s.user_id, s.use_quota, s.created_at, s.updated_at, s.volume_type_id, "
    "(SELECT st.name FROM volume_types st WHERE st.id = s.volume_type_id), s.group_snapshot_id";

Snapshot ToSnapshot(const Row& r) {
  Snapshot s;
  s.id = r[0].value_or("");
  s.volume_id = r[1].value_or("");
  s.name = r[2];
  s.description = r[3];
  s.status = r[4].value_or("");
  s.progress = r[5].value_or("0%");
  s.size = ToInt(r[6]);
  s.project_id = r[7].value_or("");
  s.user_id = r[8].value_or("");
  s.use_quota = ToInt(r[9]) != 0;
  s.created_at = r[10].value_or("");
  s.updated_at = r[11];
  s.volume_type_id = r[12].value_or("");
  s.volume_type_name = r[13].value_or("");
  s.group_snapshot_id = r[14];
  return s;
}

void AddScope(Query* q, const ProjectScope& scope) {
  if (scope) q->sql += " AND s.project_id = " + q->P(*scope);
}

const std::map<std::string, std::string>& SnapshotSortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "s.id"},
      {"created_at", "s.created_at"},
      {"updated_at", "COALESCE(s.updated_at, '')"},
      {"name", "COALESCE(s.display_name, '')"},
      {"display_name", "COALESCE(s.display_name, '')"},
      {"status", "s.status"},
      {"size", "s.volume_size"},
      {"volume_size", "s.volume_size"},
      {"volume_id", "s.volume_id"},
      {"project_id", "s.project_id"},
  };
  return kCols;
}

}  // namespace

Result<bool> Store::InsertSnapshot(const Snapshot& sn, const std::vector<std::string>& volume_statuses,
                                   const QuotaCharge* charge, QuotaReservation* over) {
  bool inserted = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    inserted = false;
    // The volume must still be in a status that allows it (the API read it a moment ago);
    // touching its row also serialises this with a concurrent delete of the volume.
    Query v;
    v.sql = "UPDATE volumes SET updated_at = updated_at WHERE deleted = 0 AND id = " + v.P(sn.volume_id) +
            " AND status IN " + v.In(volume_statuses) +
            " AND COALESCE(volume_type_id, '') = " + v.P(sn.volume_type_id) +
            " AND size = " + v.P(std::to_string(sn.size));  // what its quota is for
    if (Exec(s, v) == 0) return Status::OK();
    Query q;
    q.sql =
        "INSERT INTO snapshots (id, volume_id, user_id, project_id, status, progress, volume_size, "
        "display_name, display_description, volume_type_id, use_quota, created_at) SELECT " +
        q.P(sn.id) + ", v.id, " + q.P(sn.user_id) + ", " + q.P(sn.project_id) + ", " + q.P(sn.status) + ", " +
        q.P(sn.progress) + ", v.size, " + q.Opt(sn.name) + ", " + q.Opt(sn.description) + ", v.volume_type_id, " +
        (sn.use_quota ? "1" : "0") + ", " + q.P(sn.created_at) + " FROM volumes v WHERE v.id = " + q.P(sn.volume_id);
    Exec(s, q);
    WriteMetadata(s, "snapshot_metadata", "snapshot_id", sn.id, sn.metadata, /*replace=*/false);
    CopyImageMetadataToSnapshot(s, sn.id, sn.volume_id, sn.created_at);
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    inserted = true;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return inserted;
}

Result<Snapshot> Store::GetSnapshot(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<Snapshot>([&](soci::session& s) -> Result<Snapshot> {
    Query q;
    q.sql = std::string("SELECT ") + kSnapshotColumns + " FROM snapshots s WHERE s.deleted = 0 AND s.id = " + q.P(id);
    AddScope(&q, scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("Snapshot " + id + " could not be found.");
    std::vector<Snapshot> one{ToSnapshot(rows[0])};
    ReadMetadata(s, "snapshot_metadata", "snapshot_id", &one);
    return std::move(one[0]);
  });
}

Result<SnapshotList> Store::ListSnapshots(const SnapshotListQuery& lq, const ProjectScope& scope, int64_t max_limit) {
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, SnapshotSortColumns(), {"created_at", "id"}));
  const int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  return impl_->Run<SnapshotList>([&](soci::session& s) -> Result<SnapshotList> {
    Query q;
    q.sql = " FROM snapshots s WHERE s.deleted = 0";
    AddScope(&q, scope);
    if (lq.name) q.sql += " AND s.display_name = " + q.P(*lq.name);
    if (lq.status) q.sql += " AND s.status = " + q.P(*lq.status);
    if (lq.volume_id) q.sql += " AND s.volume_id = " + q.P(*lq.volume_id);
    if (lq.use_quota) q.sql += *lq.use_quota ? " AND s.use_quota = 1" : " AND s.use_quota = 0";
    if (lq.availability_zone) {
      // Its volume's zone (Cinder joins the volume, deleted or not).
      q.sql += " AND EXISTS (SELECT 1 FROM volumes sv WHERE sv.id = s.volume_id AND sv.availability_zone = " +
               q.P(*lq.availability_zone) + ")";
    }
    for (const auto& [k, val] : lq.like) {
      static const std::map<std::string, std::string> kLikeColumns = {
          {"name", "s.display_name"}, {"description", "s.display_description"}, {"status", "s.status"}};
      auto col = kLikeColumns.find(k);
      if (col == kLikeColumns.end()) return InvalidArgument("Invalid filters " + k + "~ are found in query options.");
      q.sql += LikeFilter(&q, impl_->pg, col->second, val);
    }
    for (const auto& [k, val] : lq.metadata) {
      q.sql +=
          " AND EXISTS (SELECT 1 FROM snapshot_metadata m WHERE m.snapshot_id = s.id AND m.deleted = 0 AND "
          "m.key = " +
          q.P(k) + " AND m.value = " + q.P(val) + ")";
    }
    SnapshotList out;
    if (lq.with_count) {
      Query c = q;
      c.sql = "SELECT COUNT(*)" + q.sql;
      out.count = ToInt(Select(s, c)[0][0]);
    }
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += " FROM snapshots s WHERE s.deleted = 0 AND s.id = " + m.P(*lq.marker);
      AddScope(&m, scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("Snapshot " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql = std::string("SELECT ") + kSnapshotColumns + q.sql + OrderBy(sort) + " LIMIT " + std::to_string(limit + 1);
    if (lq.offset > 0) q.sql += " OFFSET " + std::to_string(lq.offset);
    for (const auto& r : Select(s, q)) out.snapshots.push_back(ToSnapshot(r));
    if (static_cast<int64_t>(out.snapshots.size()) > limit) {
      out.snapshots.pop_back();
      out.more = true;
    }
    ReadMetadata(s, "snapshot_metadata", "snapshot_id", &out.snapshots);
    return out;
  });
}

Result<std::vector<Snapshot>> Store::SnapshotsOfVolume(const std::string& volume_id) {
  return impl_->Run<std::vector<Snapshot>>([&](soci::session& s) -> Result<std::vector<Snapshot>> {
    Query q;
    q.sql = std::string("SELECT ") + kSnapshotColumns +
            " FROM snapshots s WHERE s.deleted = 0 AND s.volume_id = " + q.P(volume_id) +
            " ORDER BY s.created_at DESC, s.id DESC";
    std::vector<Snapshot> out;
    for (const auto& r : Select(s, q)) out.push_back(ToSnapshot(r));
    return out;
  });
}

Result<std::vector<Snapshot>> Store::SnapshotsOfGroupSnapshot(const std::string& id) {
  return impl_->Run<std::vector<Snapshot>>([&](soci::session& s) -> Result<std::vector<Snapshot>> {
    Query q;
    q.sql = std::string("SELECT ") + kSnapshotColumns +
            " FROM snapshots s WHERE s.deleted = 0 AND s.group_snapshot_id = " + q.P(id) +
            " ORDER BY s.created_at, s.id";
    std::vector<Snapshot> out;
    for (const auto& r : Select(s, q)) out.push_back(ToSnapshot(r));
    return out;
  });
}

Result<std::vector<Snapshot>> Store::SnapshotsOnHost(const std::string& host_prefix,
                                                     const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<Snapshot>>([&](soci::session& s) -> Result<std::vector<Snapshot>> {
    Query q;
    q.sql = std::string("SELECT ") + kSnapshotColumns + " FROM snapshots s JOIN volumes v ON v.id = s.volume_id " +
            "WHERE s.deleted = 0 AND s.status IN " + q.In(statuses) + " AND substr(v.host, 1, " +
            std::to_string(host_prefix.size()) + ") = " + q.P(host_prefix);
    std::vector<Snapshot> out;
    for (const auto& r : Select(s, q)) out.push_back(ToSnapshot(r));
    return out;
  });
}

Result<bool> Store::CasSnapshotStatus(const std::string& id, const std::vector<std::string>& expected,
                                      const std::string& new_status, const std::vector<FieldUpdate>& fields) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE snapshots SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::StartSnapshotDelete(const std::string& id, const std::vector<std::string>& expected,
                                        const std::string& new_status) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    // The snapshot's row first: a create from it (which touches this row in its transaction)
    // has committed or waits; the check below, a statement of its own, then sees it.
    if (!LockRow(s, impl_->pg, "snapshots", id)) return Status::OK();
    Query busy;
    busy.sql =
        "SELECT COUNT(*) FROM volumes WHERE snapshot_id = " + busy.P(id) + " AND deleted = 0 AND status = 'creating'";
    if (ToInt(Select(s, busy).at(0)[0]) > 0) return Status::OK();  // a volume is being made from it
    Query q;
    // A snapshot of a group snapshot goes only with it (Cinder's expected group_snapshot_id None).
    q.sql = "UPDATE snapshots SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso()) +
            " WHERE id = " + q.P(id) + " AND deleted = 0 AND group_snapshot_id IS NULL";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    changed = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::SoftDeleteSnapshot(const std::string& id, const std::string& expected, bool count_gigabytes) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    Query r;
    r.sql = std::string("SELECT ") + kSnapshotColumns + " FROM snapshots s WHERE s.deleted = 0 AND s.id = " + r.P(id) +
            " AND s.status = " + r.P(expected);
    if (impl_->pg) r.sql += " FOR UPDATE OF s";  // its project and size as they are when it goes
    auto rows = Select(s, r);
    if (rows.empty()) return Status::OK();
    Snapshot sn = ToSnapshot(rows[0]);
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE snapshots SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = " + q.P(expected);
    changed = Exec(s, q) > 0;
    if (!changed) return Status::OK();
    Query m;
    m.sql = "UPDATE snapshot_metadata SET deleted = 1, deleted_at = " + m.P(now) + " WHERE snapshot_id = " + m.P(id) +
            " AND deleted = 0";
    Exec(s, m);
    DeleteSnapshotImageMetadata(s, id, now);
    if (sn.use_quota) {
      AddQuotaInUse(s, impl_->pg, sn.project_id,
                    SnapshotQuotaDeltas(LockedTypeName(s, impl_->pg, sn.volume_type_id), sn.size, -1, count_gigabytes));
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::UpdateSnapshot(const std::string& id, const std::vector<FieldUpdate>& fields) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE snapshots SET updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    return Exec(s, q) > 0;
  });
}

Status Store::SetSnapshotMetadata(const std::string& id, const Metadata& metadata, bool replace) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query e;
    e.sql = "UPDATE snapshots SET updated_at = " + e.P(NowIso()) + " WHERE deleted = 0 AND id = " + e.P(id);
    if (Exec(s, e) == 0) return NotFound("Snapshot " + id + " could not be found.");
    WriteMetadata(s, "snapshot_metadata", "snapshot_id", id, metadata, replace);
    return Status::OK();
  });
}

Result<bool> Store::DeleteSnapshotMetadataKey(const std::string& id, const std::string& key) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE snapshot_metadata SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND snapshot_id = " + q.P(id) + " AND key = " + q.P(key);
    return Exec(s, q) > 0;
  });
}

Result<Store::RevertStart> Store::StartRevert(const std::string& volume_id, const std::string& snapshot_id) {
  RevertStart out = RevertStart::kStarted;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    out = RevertStart::kStarted;
    // The volume first (a snapshot being taken holds its row until it is recorded), then which
    // snapshot is the latest, in a statement of its own.
    const std::string now = NowIso();
    Query v;
    v.sql = "UPDATE volumes SET status = 'reverting', updated_at = " + v.P(now) +
            " WHERE deleted = 0 AND id = " + v.P(volume_id) + " AND status = 'available'";
    if (Exec(s, v) == 0) {
      out = RevertStart::kVolumeBusy;
      return Status::OK();
    }
    Query l;
    l.sql =
        "SELECT s.id, s.volume_size, v.size FROM snapshots s JOIN volumes v ON v.id = s.volume_id "
        "WHERE s.deleted = 0 AND s.volume_id = " +
        l.P(volume_id) + " ORDER BY s.created_at DESC, s.id DESC LIMIT 1";
    auto latest = Select(s, l);
    if (latest.empty() || latest[0][0].value_or("") != snapshot_id) {
      out = RevertStart::kNotLatest;
      return Aborted("");  // rolls the volume back
    }
    if (ToInt(latest[0][1]) != ToInt(latest[0][2])) {  // extended since the caller compared them
      out = RevertStart::kSizeChanged;
      return Aborted("");
    }
    Query q;
    q.sql = "UPDATE snapshots SET status = 'restoring', updated_at = " + q.P(now) +
            " WHERE deleted = 0 AND id = " + q.P(snapshot_id) + " AND status = 'available'";
    if (Exec(s, q) == 0) {
      out = RevertStart::kSnapshotBusy;
      return Aborted("");
    }
    return Status::OK();
  });
  if (!st.ok() && !(st.code() == Code::kAborted && out != RevertStart::kStarted)) return st;
  return out;
}

}  // namespace cinder
