// Volume rows: insert, read (one, or a page of a list), status changes, metadata.
#include "db/store.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

// Column list of a volume read, joined with its type (alias v, t); the last column is 1 when
// the volume has metadata rows, so that the metadata query runs only for volumes that have some.
const char kVolumeColumns[] =
    "v.id, v.display_name, v.display_description, v.size, v.status, v.attach_status, "
    "v.migration_status, v.availability_zone, v.host, v.project_id, v.user_id, "
    "v.volume_type_id, t.name, v.snapshot_id, v.source_volid, v.bootable, v.multiattach, "
    "v.created_at, v.updated_at, "
    "CASE WHEN EXISTS (SELECT 1 FROM volume_metadata mc WHERE mc.volume_id = v.id AND mc.deleted = 0) THEN 1 "
    "ELSE 0 END, v.admin_readonly, v.attached_mode, v.group_id, v.cluster_name";
const char kVolumeFrom[] = " FROM volumes v LEFT JOIN volume_types t ON t.id = v.volume_type_id";

// Volumes read by a SELECT of kVolumeColumns, and whether each has metadata rows.
struct VolumeRows {
  std::vector<Volume> volumes;
  std::vector<bool> has_metadata;
};

// Runs a SELECT of kVolumeColumns on PostgreSQL and reads each row straight from libpq's result.
VolumeRows FetchVolumesPg(soci::session& s, const Query& q) {
  pg::Rows rows = pg::Run(s, q);
  VolumeRows out;
  const int n = rows.size();
  out.volumes.reserve(n);
  out.has_metadata.reserve(n);
  for (int r = 0; r < n; ++r) {
    auto text = [&](int c, const char* dflt = "") {
      return rows.IsNull(r, c) ? std::string(dflt) : std::string(rows.Text(r, c));
    };
    Volume& v = out.volumes.emplace_back();
    v.id = text(0);
    v.has_name = !rows.IsNull(r, 1);
    v.name = text(1);
    v.has_description = !rows.IsNull(r, 2);
    v.description = text(2);
    v.size = rows.Int(r, 3);
    v.status = text(4);
    v.attach_status = text(5, "detached");
    v.migration_status = rows.Optional(r, 6);
    v.availability_zone = text(7);
    v.host = text(8);
    v.project_id = text(9);
    v.user_id = text(10);
    v.volume_type_id = text(11);
    v.volume_type_name = text(12);
    v.snapshot_id = rows.Optional(r, 13);
    v.source_volid = rows.Optional(r, 14);
    v.bootable = rows.Int(r, 15) != 0;
    v.multiattach = rows.Int(r, 16) != 0;
    v.created_at = text(17);
    v.updated_at = rows.Optional(r, 18);
    out.has_metadata.push_back(rows.Int(r, 19) > 0);
    v.readonly = rows.Optional(r, 20);
    v.attached_mode = rows.Optional(r, 21);
    v.group_id = rows.Optional(r, 22);
    v.cluster_name = rows.Optional(r, 23);
  }
  return out;
}

VolumeRows FetchVolumesSqlite(soci::session& s, const Query& q, size_t expected) {
  VolumeRows out;
  out.volumes.reserve(expected);
  out.has_metadata.reserve(expected);
  sqlite::Run(s, q, [&out](sqlite::sq::sqlite3_stmt* st) {
    Volume& v = out.volumes.emplace_back();
    auto text = [st](int i) { return sqlite::Text(st, i); };
    v.id = text(0).value_or("");
    auto name = text(1);
    v.has_name = name.has_value();
    v.name = name.value_or("");
    auto desc = text(2);
    v.has_description = desc.has_value();
    v.description = desc.value_or("");
    v.size = sqlite::sq::sqlite3_column_int64(st, 3);
    v.status = text(4).value_or("");
    v.attach_status = text(5).value_or("detached");
    v.migration_status = text(6);
    v.availability_zone = text(7).value_or("");
    v.host = text(8).value_or("");
    v.project_id = text(9).value_or("");
    v.user_id = text(10).value_or("");
    v.volume_type_id = text(11).value_or("");
    v.volume_type_name = text(12).value_or("");
    v.snapshot_id = text(13);
    v.source_volid = text(14);
    v.bootable = sqlite::sq::sqlite3_column_int64(st, 15) != 0;
    v.multiattach = sqlite::sq::sqlite3_column_int64(st, 16) != 0;
    v.created_at = text(17).value_or("");
    v.updated_at = text(18);
    out.has_metadata.push_back(sqlite::sq::sqlite3_column_int64(st, 19) > 0);
    v.readonly = text(20);
    v.attached_mode = text(21);
    v.group_id = text(22);
    v.cluster_name = text(23);
  });
  return out;
}

// API sort key -> SQL expression (NULLs read as '' so that paging can compare them).
const std::map<std::string, std::string>& SortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "v.id"},
      {"name", "COALESCE(v.display_name, '')"},
      {"display_name", "COALESCE(v.display_name, '')"},
      {"description", "COALESCE(v.display_description, '')"},
      {"size", "v.size"},
      {"status", "v.status"},
      {"created_at", "v.created_at"},
      {"updated_at", "COALESCE(v.updated_at, '')"},
      {"availability_zone", "COALESCE(v.availability_zone, '')"},
      {"project_id", "COALESCE(v.project_id, '')"},
      {"user_id", "COALESCE(v.user_id, '')"},
      {"host", "COALESCE(v.host, '')"},
      {"bootable", "v.bootable"},
      {"volume_type_id", "COALESCE(v.volume_type_id, '')"},
      {"attach_status", "v.attach_status"},
  };
  return kCols;
}

}  // namespace

std::vector<Volume> Store::Impl::FetchVolumes(soci::session& s, const Query& q, size_t expected) {
  VolumeRows rows = pg ? FetchVolumesPg(s, q) : FetchVolumesSqlite(s, q, expected);
  std::vector<Volume*> with_metadata;
  for (size_t i = 0; i < rows.volumes.size(); ++i) {
    if (rows.has_metadata[i]) with_metadata.push_back(&rows.volumes[i]);
  }
  AttachMetadata(s, with_metadata);
  // Only a volume whose attach_status is not "detached" can have an attached attachment.
  std::vector<Volume*> attached;
  for (Volume& v : rows.volumes) {
    if (v.attach_status != attach_status::kDetached) attached.push_back(&v);
  }
  AttachAttachments(s, attached);
  return std::move(rows.volumes);
}

namespace db {

Status InsertVolumeRow(soci::session& s, const Volume& v) {
  // A snapshot or volume it is made from must still be usable; touching its row serialises
  // this with a delete of it (which locks the row before it looks for volumes made from it).
  if (v.snapshot_id) {
    Query t;
    t.sql = "UPDATE snapshots SET updated_at = updated_at WHERE deleted = 0 AND status = 'available' AND id = " +
            t.P(*v.snapshot_id);
    if (Exec(s, t) == 0) {
      return FailedPrecondition("Invalid snapshot: Originating snapshot status must be one of 'available' values");
    }
  }
  if (v.source_volid) {
    Query t;
    t.sql =
        "UPDATE volumes SET updated_at = updated_at WHERE deleted = 0 AND status IN ('available', 'in-use') "
        "AND id = " +
        t.P(*v.source_volid);
    if (Exec(s, t) == 0) {
      return FailedPrecondition(
          "Invalid volume: Originating source volume status must be one of 'available, in-use' values");
    }
  }
  if (v.group_id) {
    // Cinder's GROUP_PROCEED_STATUS; touching the group's row serialises this with its delete.
    Query g;
    g.sql =
        "UPDATE groups SET updated_at = updated_at WHERE deleted = 0 AND status IN ('available', 'creating') "
        "AND id = " +
        g.P(*v.group_id);
    if (Exec(s, g) == 0) {
      return FailedPrecondition("Invalid Group: Originating group status must be one of 'available, creating' values");
    }
  }
  Query q;
  q.sql =
      "INSERT INTO volumes (id, user_id, project_id, host, size, availability_zone, status, "
      "attach_status, display_name, display_description, volume_type_id, snapshot_id, "
      "source_volid, bootable, multiattach, created_at, group_id, cluster_name) VALUES (" +
      q.P(v.id) + ", " + q.P(v.user_id) + ", " + q.P(v.project_id) + ", " + q.P(v.host) + ", " +
      q.P(std::to_string(v.size)) + ", " + q.P(v.availability_zone) + ", " + q.P(v.status) + ", " +
      q.P(v.attach_status) + ", " + q.Opt(v.has_name ? std::optional<std::string>(v.name) : std::nullopt) + ", " +
      q.Opt(v.has_description ? std::optional<std::string>(v.description) : std::nullopt) + ", " +
      q.Opt(v.volume_type_id.empty() ? std::nullopt : std::optional<std::string>(v.volume_type_id)) + ", " +
      q.Opt(v.snapshot_id) + ", " + q.Opt(v.source_volid) + ", " + (v.bootable ? "1" : "0") + ", " +
      (v.multiattach ? "1" : "0") + ", " + q.P(v.created_at) + ", " + q.Opt(v.group_id) + ", " +
      ClusterOfHost(&q, v.host) + ")";
  Exec(s, q);
  for (const auto& [k, val] : v.metadata) {
    Query m;
    m.sql = "INSERT INTO volume_metadata (volume_id, key, value, created_at) VALUES (" + m.P(v.id) + ", " + m.P(k) +
            ", " + m.P(val) + ", " + m.P(v.created_at) + ")";
    Exec(s, m);
  }
  InheritImageMetadata(s, v);
  return Status::OK();
}

}  // namespace db

Status Store::InsertVolume(const Volume& v, const QuotaCharge* charge, QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    CINDER_RETURN_IF_ERROR(InsertVolumeRow(s, v));
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

void Store::Impl::AttachMetadata(soci::session& s, const std::vector<Volume*>& vols) {
  if (vols.empty()) return;
  std::map<std::string_view, Volume*> by_id;
  for (Volume* v : vols) by_id[v->id] = v;
  Query q;
  q.sql = "SELECT volume_id, key, value FROM volume_metadata WHERE deleted = 0 AND volume_id IN (";
  if (pg) {
    // The ids come from the volumes just read; quoted literals keep the statement simple.
    for (size_t i = 0; i < vols.size(); ++i) {
      q.sql += i ? ",'" : "'";
      for (char c : vols[i]->id) q.sql += c == '\'' ? std::string("''") : std::string(1, c);
      q.sql += "'";
    }
    q.sql += ")";
    for (const auto& r : Select(s, q)) {
      auto it = by_id.find(r[0].value_or(""));
      if (it != by_id.end()) it->second->metadata[r[1].value_or("")] = r[2].value_or("");
    }
    return;
  }
  // SQLite: positional parameters, so the statement is prepared once per page size.
  for (size_t i = 0; i < vols.size(); ++i) {
    q.sql += i ? ",?" : "?";
    q.params.push_back(vols[i]->id);
  }
  q.sql += ")";
  sqlite::Run(s, q, [&by_id](sqlite::sq::sqlite3_stmt* st) {
    auto id = sqlite::Text(st, 0).value_or("");
    auto it = by_id.find(id);
    if (it != by_id.end()) it->second->metadata[sqlite::Text(st, 1).value_or("")] = sqlite::Text(st, 2).value_or("");
  });
}

namespace {

void AddScope(Query* q, const ProjectScope& scope) {
  if (scope) q->sql += " AND v.project_id = " + q->P(*scope);
}

}  // namespace

Result<Volume> Store::GetVolume(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<Volume>([&](soci::session& s) -> Result<Volume> {
    Query q;
    q.sql = std::string("SELECT ") + kVolumeColumns + kVolumeFrom + " WHERE v.deleted = 0 AND v.id = " + q.P(id);
    AddScope(&q, scope);
    std::vector<Volume> vols = impl_->FetchVolumes(s, q);
    if (vols.empty()) return NotFound("Volume " + id + " could not be found.");
    return vols[0];
  });
}

namespace {

// The generation of `project`'s lists plus the global one ('*': a volume type renamed), read
// on `s`. Both only grow, so their sum changes with every change of either.
int64_t ReadGeneration(soci::session& s, bool pg, const std::string& project) {
  Query q;
  q.sql = "SELECT COALESCE(SUM(generation), 0) FROM list_generations WHERE project_id IN (" + q.P(project) + ", '*')";
  if (pg) return pg::Run(s, q).Int(0, 0);
  int64_t g = 0;
  sqlite::Run(s, q, [&g](sqlite::sq::sqlite3_stmt* st) { g = sqlite::sq::sqlite3_column_int64(st, 0); });
  return g;
}

}  // namespace

Result<VolumeList> Store::Impl::ReadVolumeList(soci::session& s, const VolumeListQuery& lq, const ProjectScope& scope,
                                               const SqlSort& sort, int64_t limit) {
  Query q;
  q.sql = std::string("SELECT ") + kVolumeColumns + kVolumeFrom + " WHERE v.deleted = 0";
  AddScope(&q, scope);
  if (lq.name) q.sql += " AND v.display_name = " + q.P(*lq.name);
  if (lq.status) q.sql += " AND v.status = " + q.P(*lq.status);
  if (lq.availability_zone) q.sql += " AND v.availability_zone = " + q.P(*lq.availability_zone);
  if (lq.migration_status) q.sql += " AND v.migration_status = " + q.P(*lq.migration_status);
  if (lq.group_id) q.sql += " AND v.group_id = " + q.P(*lq.group_id);
  if (lq.bootable) q.sql += *lq.bootable ? " AND v.bootable = 1" : " AND v.bootable = 0";
  if (lq.use_quota && !*lq.use_quota) q.sql += " AND 1 = 0";
  if (lq.size) {
    std::optional<int64_t> size = ParseInt(*lq.size);
    q.sql += size ? " AND v.size = " + std::to_string(*size) : std::string(" AND 1 = 0");
  }
  q.sql += TimeFilter(&q, "v.created_at", lq.created_at);
  q.sql += TimeFilter(&q, "v.updated_at", lq.updated_at);
  for (const auto& [k, val] : lq.like) {
    static const std::map<std::string, std::string> kLikeColumns = {{"name", "v.display_name"},
                                                                    {"description", "v.display_description"},
                                                                    {"status", "v.status"},
                                                                    {"availability_zone", "v.availability_zone"},
                                                                    {"migration_status", "v.migration_status"}};
    auto col = kLikeColumns.find(k);
    if (col == kLikeColumns.end()) return InvalidArgument("Invalid filters " + k + "~ are found in query options.");
    q.sql += LikeFilter(&q, pg, col->second, val);
  }
  for (const auto& [k, val] : lq.metadata) {
    // Cinder matches a volume's metadata or its admin metadata; the admin metadata kept here
    // are the two keys its views show, columns of the volume's row.
    static const std::map<std::string, std::string> kAdminColumns = {{"readonly", "v.admin_readonly"},
                                                                     {"attached_mode", "v.attached_mode"}};
    auto admin = kAdminColumns.find(k);
    q.sql +=
        std::string(" AND (") + (admin != kAdminColumns.end() ? admin->second + " = " + q.P(val) + " OR " : "") +
        "EXISTS (SELECT 1 FROM volume_metadata m WHERE m.volume_id = v.id AND m.deleted = 0 AND m.key = " + q.P(k) +
        " AND m.value = " + q.P(val) + "))";
  }
  for (const auto& [k, val] : lq.glance_metadata) {
    q.sql +=
        " AND EXISTS (SELECT 1 FROM volume_glance_metadata g WHERE g.volume_id = v.id AND "
        "g.deleted = 0 AND g.key = " +
        q.P(k) + " AND g.value = " + q.P(val) + ")";
  }
  VolumeList out;
  if (lq.with_count) {
    Query c = q;
    c.sql = "SELECT COUNT(*)" + c.sql.substr(c.sql.find(" FROM volumes v"));
    out.count = ToInt(Select(s, c).at(0)[0]);
  }
  if (lq.marker) {
    Query m;
    m.sql = "SELECT ";
    for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
    m.sql += std::string(kVolumeFrom) + " WHERE v.deleted = 0 AND v.id = " + m.P(*lq.marker);
    AddScope(&m, scope);
    auto rows = Select(s, m);
    if (rows.empty()) return NotFound("Volume " + *lq.marker + " could not be found.");
    q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
  }
  q.sql += OrderBy(sort);
  q.sql += " LIMIT " + std::to_string(limit + 1);
  out.volumes = FetchVolumes(s, q, static_cast<size_t>(std::min<int64_t>(limit + 1, 10000)));
  if (static_cast<int64_t>(out.volumes.size()) > limit) {
    out.volumes.pop_back();
    out.more = true;
  }
  return out;
}

Result<VolumeList> Store::ListVolumes(const VolumeListQuery& lq, const ProjectScope& scope, int64_t max_limit) {
  // API keys to SQL expressions; created_at and id follow as tie-breakers.
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, SortColumns(), {"created_at", "id"}));
  int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  if (!scope) {  // every project's: not cached
    return impl_->Run<VolumeList>(
        [&](soci::session& s) -> Result<VolumeList> { return impl_->ReadVolumeList(s, lq, scope, sort, limit); });
  }

  const std::string key = ListCacheKey(*scope, lq, limit);
  const std::shared_ptr<const ListCache::Entry> cached = impl_->list_cache.Find(key);
  std::optional<int64_t> filled_at;  // the generation a list read from the rows was read at
  Result<VolumeList> out = impl_->Run<VolumeList>([&](soci::session& s) -> Result<VolumeList> {
    filled_at.reset();
    // Every change a committed transaction made to what this list shows bumped the generation
    // in that transaction: the same generation means the same rows.
    const int64_t generation = ReadGeneration(s, impl_->pg, *scope);
    if (cached && generation == cached->generation) return cached->list;
    // The rows are read after the generation, so they are at least as new as it says: a change
    // committed in between makes them newer than their generation, which only costs a refill
    // (the next read finds a larger generation), never an older list under a newer generation.
    // No transaction is needed for that: a miss costs one small query more than no cache.
    Result<VolumeList> list = impl_->ReadVolumeList(s, lq, scope, sort, limit);
    if (list.ok()) filled_at = generation;
    return list;
  });
  if (!out.ok()) return out;
  if (filled_at) {
    impl_->list_cache.CountMiss();
    impl_->list_cache.Put(key, *filled_at, *out);
  } else {
    impl_->list_cache.CountHit();
  }
  return out;
}

Store::ListCacheStats Store::GetListCacheStats() const {
  const ListCache::Stats st = impl_->list_cache.stats();
  return ListCacheStats{st.hits, st.misses, st.entries, st.volumes};
}

void Store::SetListCacheLimits(std::size_t max_entries, std::size_t max_volumes) {
  impl_->list_cache.SetLimits(ListCache::Limits{max_entries, max_volumes});
}

Result<int64_t> Store::ListGeneration(const std::string& project) {
  return impl_->Run<int64_t>(
      [&](soci::session& s) -> Result<int64_t> { return ReadGeneration(s, impl_->pg, project); });
}

namespace {

// The compare-and-swap of a volume's status (Store::CasVolumeStatus).
Query CasStatusQuery(const std::string& id, const std::vector<std::string>& expected, const std::string& new_status,
                     const std::vector<FieldUpdate>& fields, const std::optional<std::string>& expected_host,
                     const std::vector<std::pair<std::string, std::string>>& conditions) {
  Query q;
  q.sql = "UPDATE volumes SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
  for (const auto& [col, val] : fields) {
    q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    if (col == "host") q.sql += ", cluster_name = " + ClusterOfHost(&q, val.value_or(""));
  }
  q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
  if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
  if (expected_host) q.sql += " AND host = " + q.P(*expected_host);
  for (const auto& [expr, val] : conditions) q.sql += " AND " + expr + " = " + q.P(val);
  return q;
}

// Statuses whose operation holds more than the volume's row: an extend's or a retype's quota
// reservations, a revert's snapshot ("restoring").
bool Holds(const std::string& status) { return HoldsReservations(status) || status == "reverting"; }

// Whether a change from one of `expected` (any status when empty) to `new_status` may end an
// operation that holds something.
bool MayEndHolding(const std::vector<std::string>& expected, const std::string& new_status) {
  if (Holds(new_status)) return false;
  return expected.empty() || std::any_of(expected.begin(), expected.end(), Holds);
}

// Gives back what the operation in flight on volume `id` held: its reservations are rolled
// back and a snapshot it was reverting to is available again.
void ReleaseHeld(soci::session& s, bool pg, const std::string& id) {
  ReleaseHeldReservations(s, pg, id);
  Query q;
  q.sql = "UPDATE snapshots SET status = 'available', updated_at = " + q.P(NowIso()) +
          " WHERE deleted = 0 AND status = 'restoring' AND volume_id = " + q.P(id);
  Exec(s, q);
}

}  // namespace

Result<bool> Store::CasVolumeStatus(const std::string& id, const std::vector<std::string>& expected,
                                    const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                    const std::optional<std::string>& expected_host,
                                    const std::vector<std::pair<std::string, std::string>>& conditions) {
  Query q = CasStatusQuery(id, expected, new_status, fields, expected_host, conditions);
  if (!MayEndHolding(expected, new_status)) {
    return impl_->Run<bool>([&](soci::session& s) -> Result<bool> { return Exec(s, q) > 0; });
  }
  // The operation it ends (its own end, a failure, a reset-status, a sweep) gives back what
  // it held.
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = Exec(s, q) > 0;
    if (changed) ReleaseHeld(s, impl_->pg, id);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::CasVolumeStatusHolding(const std::string& id, const std::vector<std::string>& expected,
                                           const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                           const std::vector<std::pair<std::string, std::string>>& conditions,
                                           const std::vector<std::string>& reservations) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = Exec(s, CasStatusQuery(id, expected, new_status, fields, std::nullopt, conditions)) > 0;
    if (changed) HoldReservations(s, id, reservations);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::UpdateVolume(const std::string& id, const std::vector<FieldUpdate>& fields,
                                 const std::optional<Metadata>& metadata) {
  bool found = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volumes SET updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) {
      q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
      if (col == "host") q.sql += ", cluster_name = " + ClusterOfHost(&q, val.value_or(""));
    }
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    found = Exec(s, q) > 0;
    if (found && metadata) WriteMetadata(s, "volume_metadata", "volume_id", id, *metadata, /*replace=*/true);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return found;
}

Result<bool> Store::CasVolumeStatusCommit(const std::string& id, const std::vector<std::string>& expected,
                                          const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                          const std::vector<std::string>& reservations,
                                          const std::vector<std::pair<std::string, std::string>>& conditions) {
  bool changed = false;
  bool superseded = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = superseded = false;
    if (Exec(s, CasStatusQuery(id, expected, new_status, fields, std::nullopt, conditions)) == 0) return Status::OK();
    if (!reservations.empty()) {
      // The operation's reservations must still be there, now that the volume's row is held
      // (whatever gives them back changes that row first): when they were given back, the
      // operation was ended meanwhile (a reset-status, a force-delete), and the volume in this
      // status now is another operation's, which this one may not finish.
      std::set<std::string> ids(reservations.begin(), reservations.end());
      Query c;
      c.sql = "SELECT COUNT(*) FROM reservations WHERE deleted = 0 AND id IN " +
              c.In(std::vector<std::string>(ids.begin(), ids.end()));
      if (ToInt(Select(s, c).at(0)[0]) != static_cast<int64_t>(ids.size())) {
        superseded = true;
        return Aborted("superseded");  // rolls the change of the volume back
      }
    }
    changed = true;
    CommitReservationRows(s, impl_->pg, reservations);
    // Anything else held for the volume (nothing, when the caller's are the held ones).
    if (!HoldsReservations(new_status)) ReleaseHeldReservations(s, impl_->pg, id);
    return Status::OK();
  });
  if (superseded) return false;
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::RestorePreviousStatus(const std::string& id, const std::string& from,
                                          const std::optional<std::string>& expected_host) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql =
        "UPDATE volumes SET status = COALESCE(previous_status, 'available'), previous_status = NULL, "
        "updated_at = " +
        q.P(NowIso()) + " WHERE deleted = 0 AND id = " + q.P(id) + " AND status = " + q.P(from);
    if (expected_host) q.sql += " AND host = " + q.P(*expected_host);
    changed = Exec(s, q) > 0;
    // The operation did not happen: what it held goes back.
    if (changed && HoldsReservations(from)) ReleaseHeldReservations(s, impl_->pg, id);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::AbandonVolumeOperation(const std::string& id, const std::string& from, const std::string& to,
                                           const std::optional<std::string>& expected_host) {
  // Leaving "extending" or "retyping" otherwise than by the operation's success rolls back the
  // reservations it held, in the same transaction (CasVolumeStatusHolding).
  if (to.empty()) return RestorePreviousStatus(id, from, expected_host);
  return CasVolumeStatus(id, {from}, to, {{"previous_status", std::nullopt}}, expected_host);
}

Result<bool> Store::HandToSweep(const std::string& id, const std::string& status) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE volumes SET updated_at = " + q.P(IsoSecondsAgo(86400)) + " WHERE id = " + q.P(id) +
            " AND deleted = 0 AND status = " + q.P(status);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::StartVolumeDelete(const std::string& id, const std::vector<std::string>& expected, bool cascade,
                                      bool any_snapshot_status, bool other_projects_snapshots,
                                      const std::string& new_status) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    // The volume's row first: a snapshot or clone of it being recorded (which touches this row
    // in its transaction) has committed or waits; the checks below, statements of their own,
    // then see it.
    if (!LockRow(s, impl_->pg, "volumes", id)) return Status::OK();
    if (cascade && impl_->pg) {
      // And its snapshots' rows: a volume being made from one of them touches that row, not
      // this one.
      Query l;
      l.sql = "SELECT id FROM snapshots WHERE deleted = 0 AND volume_id = " + l.P(id) + " ORDER BY id FOR UPDATE";
      Select(s, l);
    }
    auto none = [&s](const std::string& sql, const std::string& vid) {
      Query q;
      q.sql = sql;
      const std::string p = q.P(vid);
      for (auto pos = q.sql.find("$V"); pos != std::string::npos; pos = q.sql.find("$V")) q.sql.replace(pos, 2, p);
      return ToInt(Select(s, q).at(0)[0]) == 0;
    };
    // Not while a clone of it, or a volume from one of its snapshots, is being made.
    if (!none("SELECT COUNT(*) FROM volumes WHERE source_volid = $V AND deleted = 0 AND status = 'creating'", id) ||
        !none("SELECT COUNT(*) FROM snapshots sn JOIN volumes cv ON cv.snapshot_id = sn.id WHERE sn.volume_id = $V "
              "AND sn.deleted = 0 AND cv.deleted = 0 AND cv.status = 'creating'",
              id)) {
      return Status::OK();
    }
    if (!cascade && !none("SELECT COUNT(*) FROM snapshots WHERE volume_id = $V AND deleted = 0", id)) {
      return Status::OK();
    }
    // Cinder's volume_has_undeletable_snapshots_filter, and (for a non-admin) snapshots that
    // another project owns after a transfer without them.
    if (cascade && !any_snapshot_status &&
        !none("SELECT COUNT(*) FROM snapshots WHERE volume_id = $V AND deleted = 0 AND status NOT IN "
              "('available', 'error')",
              id)) {
      return Status::OK();
    }
    // Snapshots of a group snapshot go only with it (Cinder's expected group_snapshot_id None).
    if (cascade && !none("SELECT COUNT(*) FROM snapshots WHERE volume_id = $V AND deleted = 0 AND "
                         "group_snapshot_id IS NOT NULL",
                         id)) {
      return Status::OK();
    }
    if (cascade && !other_projects_snapshots &&
        !none("SELECT COUNT(*) FROM snapshots sn JOIN volumes v ON v.id = sn.volume_id WHERE sn.volume_id = $V AND "
              "sn.deleted = 0 AND sn.project_id <> v.project_id",
              id)) {
      return Status::OK();
    }
    const std::string now = NowIso();
    Query q;
    // Never while attached (Cinder's delete requires attach_status <> 'attached' even forced).
    q.sql = "UPDATE volumes SET status = " + q.P(new_status) + ", updated_at = " + q.P(now) + " WHERE id = " + q.P(id) +
            " AND deleted = 0 AND attach_status <> 'attached' AND group_id IS NULL";
    // A volume of a group is deleted with its group, and not unmanaged (Cinder's expected
    // group_id None).
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    changed = Exec(s, q) > 0;
    // A force-delete may end an extend or a retype in flight: what it held goes back.
    if (changed && MayEndHolding(expected, new_status)) ReleaseHeldReservations(s, impl_->pg, id);
    if (changed && cascade) {
      Query c;
      c.sql = "UPDATE snapshots SET status = 'deleting', updated_at = " + c.P(now) +
              " WHERE deleted = 0 AND volume_id = " + c.P(id);
      Exec(s, c);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<Volume>> Store::VolumesOfGroup(const std::string& group_id) {
  return impl_->Run<std::vector<Volume>>([&](soci::session& s) -> Result<std::vector<Volume>> {
    Query q;
    q.sql = std::string("SELECT ") + kVolumeColumns + kVolumeFrom +
            " WHERE v.deleted = 0 AND v.group_id = " + q.P(group_id) + " ORDER BY v.created_at, v.id";
    return impl_->FetchVolumes(s, q);
  });
}

Result<bool> Store::SoftDeleteVolume(const std::string& id, const std::string& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    std::string now = NowIso();
    Query r;
    r.sql =
        "SELECT v.project_id, v.size, v.volume_type_id FROM volumes v "
        "WHERE v.id = " +
        r.P(id) + " AND v.deleted = 0 AND v.status = " + r.P(expected);
    if (impl_->pg) r.sql += " FOR UPDATE";  // its project, size and type as they are when it goes
    auto rows = Select(s, r);
    if (rows.empty()) {
      changed = false;
      return Status::OK();
    }
    Query q;
    q.sql = "UPDATE volumes SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = " + q.P(expected);
    changed = Exec(s, q) > 0;
    if (changed) {
      Query m;
      m.sql = "UPDATE volume_metadata SET deleted = 1, deleted_at = " + m.P(now) + " WHERE volume_id = " + m.P(id) +
              " AND deleted = 0";
      Exec(s, m);
      Query g;  // and its image metadata (Cinder's volume_glance_metadata_delete_by_volume)
      g.sql = "UPDATE volume_glance_metadata SET deleted = 1, deleted_at = " + g.P(now) +
              " WHERE volume_id = " + g.P(id) + " AND deleted = 0";
      Exec(s, g);
      // Its attachments go with it (Cinder's VOLUME_DEPENDENT_MODELS).
      Query a;
      a.sql = "UPDATE volume_attachment SET deleted = 1, attach_status = 'detached', deleted_at = " + a.P(now) +
              ", detach_time = " + a.P(now) + " WHERE volume_id = " + a.P(id) + " AND deleted = 0";
      Exec(s, a);
      AddQuotaInUse(s, impl_->pg, rows[0][0].value_or(""),
                    VolumeQuotaDeltas(LockedTypeName(s, impl_->pg, rows[0][2].value_or("")), ToInt(rows[0][1]), -1));
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<Volume>> Store::VolumesInStatus(const std::string& host_prefix,
                                                   const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<Volume>>([&](soci::session& s) -> Result<std::vector<Volume>> {
    Query q;
    // By the status index (the statuses sought are transient ones, a few volumes among all):
    // SQLite is told, as statistics from ANALYZE may count the statuses' rows as equal.
    std::string from = kVolumeFrom;
    if (!impl_->pg) from.replace(from.find(" v ") + 2, 0, " INDEXED BY volumes_status");
    q.sql = std::string("SELECT ") + kVolumeColumns + from + " WHERE v.deleted = 0 AND v.status IN " + q.In(statuses) +
            " AND substr(v.host, 1, " + std::to_string(host_prefix.size()) + ") = " + q.P(host_prefix);
    return impl_->FetchVolumes(s, q);
  });
}

Result<std::map<std::string, std::pair<std::string, std::string>>> Store::VolumeHostsAndStatuses(
    const std::vector<std::string>& ids) {
  using Out = std::map<std::string, std::pair<std::string, std::string>>;
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Out out;
    constexpr size_t kBatch = 500;  // by primary key, a statement per batch
    for (size_t at = 0; at < ids.size(); at += kBatch) {
      Query q;
      q.sql = "SELECT id, COALESCE(host, ''), status FROM volumes WHERE deleted = 0 AND id IN " +
              q.In(std::vector<std::string>(ids.begin() + at, ids.begin() + std::min(ids.size(), at + kBatch)));
      for (const auto& r : Select(s, q)) out[r[0].value_or("")] = {r[1].value_or(""), r[2].value_or("")};
    }
    return out;
  });
}

Result<Store::VolumeSummary> Store::SummarizeVolumes(const ProjectScope& scope) {
  return impl_->Run<VolumeSummary>([&](soci::session& s) -> Result<VolumeSummary> {
    VolumeSummary out;
    Query q;
    q.sql = "SELECT COUNT(*), COALESCE(SUM(v.size), 0) FROM volumes v WHERE v.deleted = 0";
    AddScope(&q, scope);
    auto rows = Select(s, q);
    out.count = ToInt(rows.at(0)[0]);
    out.size = ToInt(rows.at(0)[1]);
    Query m;
    m.sql =
        "SELECT DISTINCT m.key, m.value FROM volume_metadata m JOIN volumes v ON v.id = m.volume_id "
        "WHERE m.deleted = 0 AND v.deleted = 0";
    AddScope(&m, scope);
    m.sql += " ORDER BY m.key, m.value";
    for (const auto& r : Select(s, m)) out.metadata[r[0].value_or("")].push_back(r[1].value_or(""));
    return out;
  });
}

Result<Metadata> Store::GetVolumeMetadata(const std::string& id) {
  return impl_->Run<Metadata>([&](soci::session& s) -> Result<Metadata> {
    Query q;
    q.sql = "SELECT key, value FROM volume_metadata WHERE deleted = 0 AND volume_id = " + q.P(id);
    Metadata out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")] = r[1].value_or("");
    return out;
  });
}

Status Store::SetVolumeMetadata(const std::string& id, const Metadata& metadata, bool replace) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query live;
    live.sql = "SELECT 1 FROM volumes WHERE deleted = 0 AND id = " + live.P(id);
    if (Select(s, live).empty()) return NotFound("Volume " + id + " could not be found.");
    WriteMetadata(s, "volume_metadata", "volume_id", id, metadata, replace);
    return Status::OK();
  });
}

Result<bool> Store::DeleteVolumeMetadataKey(const std::string& id, const std::string& key) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    std::string now = NowIso();
    q.sql = "UPDATE volume_metadata SET deleted = 1, deleted_at = " + q.P(now) +
            " WHERE deleted = 0 AND volume_id = " + q.P(id) + " AND key = " + q.P(key);
    return Exec(s, q) > 0;
  });
}

}  // namespace cinder
