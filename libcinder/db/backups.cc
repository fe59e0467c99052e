// The backups table and their metadata (schema 12). Every status change is a conditional
// UPDATE; what a backup holds (its volume or snapshot, its quota, its parent's dependents
// count) changes in the transaction of the change that takes or gives it.
#include <algorithm>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

std::map<std::string, int64_t> BackupQuotaDeltas(int64_t size, int sign) {
  return {{"backups", sign}, {"backup_gigabytes", sign * size}};
}

namespace {

const char kBackupColumns[] =
    "b.id, b.user_id, b.project_id, b.volume_id, b.host, b.availability_zone, b.display_name, "
    "b.display_description, b.container, b.status, b.fail_reason, b.service_metadata, b.service, b.size, "
    "b.object_count, b.parent_id, b.num_dependent_backups, b.snapshot_id, b.data_timestamp, b.restore_volume_id, "
    "b.temp_volume_id, b.temp_snapshot_id, b.encryption_key_id, b.progress_bytes, b.created_at, b.updated_at, "
    "b.deleted_at, b.deleted";

Backup ToBackup(const Row& r) {
  Backup b;
  b.id = r[0].value_or("");
  b.user_id = r[1].value_or("");
  b.project_id = r[2].value_or("");
  b.volume_id = r[3].value_or("");
  b.host = r[4].value_or("");
  b.availability_zone = r[5].value_or("");
  b.display_name = r[6];
  b.display_description = r[7];
  b.container = r[8];
  b.status = r[9].value_or("");
  b.fail_reason = r[10];
  b.service_metadata = r[11];
  b.service = r[12];
  b.size = ToInt(r[13]);
  if (r[14]) b.object_count = ToInt(r[14]);
  b.parent_id = r[15];
  b.num_dependent_backups = ToInt(r[16]);
  b.snapshot_id = r[17];
  b.data_timestamp = r[18];
  b.restore_volume_id = r[19];
  b.temp_volume_id = r[20];
  b.temp_snapshot_id = r[21];
  b.encryption_key_id = r[22];
  b.progress_bytes = ToInt(r[23]);
  b.created_at = r[24].value_or("");
  b.updated_at = r[25];
  b.deleted_at = r[26];
  b.deleted = ToInt(r[27]) != 0;
  return b;
}

void AddScope(Query* q, const ProjectScope& scope) {
  if (scope) q->sql += " AND b.project_id = " + q->P(*scope);
}

std::vector<Backup> FetchBackups(soci::session& s, const Query& q) {
  std::vector<Backup> out;
  for (const auto& r : Select(s, q)) out.push_back(ToBackup(r));
  ReadMetadata(s, "backup_metadata", "backup_id", &out);
  return out;
}

std::optional<Backup> FetchOne(soci::session& s, const std::string& where_sql, Query q) {
  q.sql = std::string("SELECT ") + kBackupColumns + " FROM backups b WHERE b.deleted = 0 AND " + where_sql;
  auto rows = FetchBackups(s, q);
  if (rows.empty()) return std::nullopt;
  return std::move(rows[0]);
}

std::optional<Backup> LiveBackup(soci::session& s, bool pg, const std::string& id, bool lock) {
  Query q;
  std::string where = "b.id = " + q.P(id);
  if (lock && pg) where += " FOR UPDATE";
  return FetchOne(s, where, std::move(q));
}

const std::map<std::string, std::string>& BackupSortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "b.id"},
      {"created_at", "b.created_at"},
      {"updated_at", "COALESCE(b.updated_at, '')"},
      {"name", "COALESCE(b.display_name, '')"},
      {"display_name", "COALESCE(b.display_name, '')"},
      {"status", "b.status"},
      {"size", "COALESCE(b.size, 0)"},
      {"volume_id", "b.volume_id"},
      {"project_id", "COALESCE(b.project_id, '')"},
      {"availability_zone", "COALESCE(b.availability_zone, '')"},
      {"container", "COALESCE(b.container, '')"},
      {"data_timestamp", "COALESCE(b.data_timestamp, '')"},
  };
  return kCols;
}

// The filterable columns (API name -> column).
const std::map<std::string, std::string>& BackupFilterColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"name", "b.display_name"},
      {"display_name", "b.display_name"},
      {"description", "b.display_description"},
      {"display_description", "b.display_description"},
      {"status", "b.status"},
      {"volume_id", "b.volume_id"},
      {"availability_zone", "b.availability_zone"},
      {"host", "b.host"},
      {"project_id", "b.project_id"},
      {"user_id", "b.user_id"},
      {"parent_id", "b.parent_id"},
      {"snapshot_id", "b.snapshot_id"},
      {"container", "b.container"},
      {"restore_volume_id", "b.restore_volume_id"},
      {"id", "b.id"},
      {"size", "b.size"},
      {"object_count", "b.object_count"},
      {"service", "b.service"},
  };
  return kCols;
}

// Gives back what the backup `b` holds of its source, if it still does: its snapshot
// "backing-up" -> "available"; else its volume "backing-up" -> its previous_status (then
// previous_status = `previous_status_after`).
// Only the holder gives it back: a source is held by one backup at a time (the "creating" one
// that moved it to backing-up), so while another backup of it is "creating" this one is not
// the holder (deleting an older backup, or an imported record naming the same volume).
void ReleaseSource(soci::session& s, const Backup& b, const std::string& previous_status_after) {
  const std::string now = NowIso();
  if (b.snapshot_id) {
    Query q;
    q.sql = "UPDATE snapshots SET status = 'available', updated_at = " + q.P(now) +
            " WHERE id = " + q.P(*b.snapshot_id) + " AND deleted = 0 AND status = 'backing-up'" +
            " AND NOT EXISTS (SELECT 1 FROM backups o WHERE o.deleted = 0 AND o.status = 'creating' AND "
            "o.snapshot_id = " +
            q.P(*b.snapshot_id) + " AND o.id <> " + q.P(b.id) + ")";
    Exec(s, q);
    return;
  }
  Query q;
  q.sql = "UPDATE volumes SET status = COALESCE(previous_status, 'available'), previous_status = " +
          q.P(previous_status_after) + ", updated_at = " + q.P(now) + " WHERE id = " + q.P(b.volume_id) +
          " AND deleted = 0 AND status = 'backing-up'" +
          " AND NOT EXISTS (SELECT 1 FROM backups o WHERE o.deleted = 0 AND o.status = 'creating' AND "
          "o.volume_id = " +
          q.P(b.volume_id) + " AND o.id <> " + q.P(b.id) + ")";
  Exec(s, q);
}

std::string CurrentStatus(soci::session& s, const std::string& table, const std::string& id) {
  Query q;
  q.sql = "SELECT status FROM " + table + " WHERE deleted = 0 AND id = " + q.P(id);
  auto rows = Select(s, q);
  return rows.empty() ? std::string() : rows[0][0].value_or("");
}

// The backup `id` locked for the transaction, and before it, when it is restoring, its target
// volume's row: the order StartRestore and ClaimRestoreTarget take them in (the volume, then
// the backup), so that a reset and a claim of the same restore wait for each other instead of
// deadlocking. nullopt when the backup is gone, or its target changed between the two reads.
std::optional<Backup> LockRestoreTargetThenBackup(soci::session& s, bool pg, const std::string& id) {
  auto peek = LiveBackup(s, pg, id, /*lock=*/false);
  if (!peek) return std::nullopt;
  if (peek->status != backup_status::kRestoring || !peek->restore_volume_id) {
    return LiveBackup(s, pg, id, /*lock=*/true);
  }
  LockRow(s, pg, "volumes", *peek->restore_volume_id);
  auto b = LiveBackup(s, pg, id, /*lock=*/true);
  if (b && b->status == backup_status::kRestoring && b->restore_volume_id != peek->restore_volume_id) {
    return std::nullopt;
  }
  return b;
}

void InsertBackupRow(soci::session& s, const Backup& b) {
  Query q;
  q.sql =
      "INSERT INTO backups (id, user_id, project_id, volume_id, host, availability_zone, display_name, "
      "display_description, container, status, fail_reason, service_metadata, service, size, object_count, "
      "parent_id, num_dependent_backups, snapshot_id, data_timestamp, restore_volume_id, temp_volume_id, "
      "temp_snapshot_id, encryption_key_id, progress_bytes, created_at, updated_at) VALUES (" +
      q.P(b.id) + ", " + q.P(b.user_id) + ", " + q.P(b.project_id) + ", " + q.P(b.volume_id) + ", " + q.P(b.host) +
      ", " + q.P(b.availability_zone) + ", " + q.Opt(b.display_name) + ", " + q.Opt(b.display_description) + ", " +
      q.Opt(b.container) + ", " + q.P(b.status) + ", " + q.Opt(b.fail_reason) + ", " + q.Opt(b.service_metadata) +
      ", " + q.Opt(b.service) + ", " + std::to_string(b.size) + ", " +
      (b.object_count ? std::to_string(*b.object_count) : std::string("NULL")) + ", " + q.Opt(b.parent_id) + ", " +
      std::to_string(b.num_dependent_backups) + ", " + q.Opt(b.snapshot_id) + ", " + q.Opt(b.data_timestamp) + ", " +
      q.Opt(b.restore_volume_id) + ", " + q.Opt(b.temp_volume_id) + ", " + q.Opt(b.temp_snapshot_id) + ", " +
      q.Opt(b.encryption_key_id) + ", 0, " + q.P(b.created_at) + ", " + q.Opt(b.updated_at) + ")";
  Exec(s, q);
}

}  // namespace

Status Store::InsertBackup(const Backup& b, const std::vector<std::string>& volume_statuses, const QuotaCharge* charge,
                           QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    if (b.snapshot_id) {
      Query q;
      q.sql = "UPDATE snapshots SET status = 'backing-up', updated_at = " + q.P(now) +
              " WHERE id = " + q.P(*b.snapshot_id) + " AND deleted = 0 AND volume_id = " + q.P(b.volume_id) +
              " AND status = 'available'";
      if (Exec(s, q) == 0) {
        std::string st = CurrentStatus(s, "snapshots", *b.snapshot_id);
        if (st.empty()) return NotFound("Snapshot " + *b.snapshot_id + " could not be found.");
        return FailedPrecondition(
            "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"" + st + "\".");
      }
      // The volume must still exist (serialises with its deletion).
      Query v;
      v.sql = "UPDATE volumes SET updated_at = updated_at WHERE deleted = 0 AND id = " + v.P(b.volume_id);
      if (Exec(s, v) == 0) return NotFound("Volume " + b.volume_id + " could not be found.");
    } else {
      Query q;
      q.sql = "UPDATE volumes SET previous_status = status, status = 'backing-up', updated_at = " + q.P(now) +
              " WHERE id = " + q.P(b.volume_id) + " AND deleted = 0 AND status IN " + q.In(volume_statuses);
      if (Exec(s, q) == 0) {
        std::string st = CurrentStatus(s, "volumes", b.volume_id);
        if (st.empty()) return NotFound("Volume " + b.volume_id + " could not be found.");
        return FailedPrecondition(
            "Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"" + st +
            "\".");
      }
    }
    if (b.parent_id) {
      // The parent must still be there (a delete of it locks its row and then looks for
      // children: it sees this one once committed, or this finds it deleting).
      Query p;
      p.sql = "UPDATE backups SET updated_at = updated_at WHERE id = " + p.P(*b.parent_id) +
              " AND deleted = 0 AND status = 'available'";
      if (Exec(s, p) == 0)
        return FailedPrecondition("Invalid backup: No backups available to do an incremental backup.");
    }
    InsertBackupRow(s, b);
    WriteMetadata(s, "backup_metadata", "backup_id", b.id, b.metadata, /*replace=*/false);
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

Result<Backup> Store::GetBackup(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<Backup>([&](soci::session& s) -> Result<Backup> {
    Query q;
    std::string where = "b.id = " + q.P(id);
    if (scope) where += " AND b.project_id = " + q.P(*scope);
    auto b = FetchOne(s, where, std::move(q));
    if (!b) return NotFound("Backup " + id + " could not be found.");
    return std::move(*b);
  });
}

Result<BackupList> Store::ListBackups(const BackupListQuery& lq, const ProjectScope& scope, int64_t max_limit) {
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, BackupSortColumns(), {"created_at", "id"}));
  for (const auto& [k, v] : lq.filters) {
    if (!BackupFilterColumns().count(k)) return InvalidArgument("Invalid filter keys: " + k);
  }
  const int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  return impl_->Run<BackupList>([&](soci::session& s) -> Result<BackupList> {
    Query q;
    q.sql = " FROM backups b WHERE b.deleted = 0";
    AddScope(&q, scope);
    for (const auto& [k, val] : lq.filters) q.sql += " AND " + BackupFilterColumns().at(k) + " = " + q.P(val);
    BackupList out;
    if (lq.with_count) {
      Query c = q;
      c.sql = "SELECT COUNT(*)" + q.sql;
      out.count = ToInt(Select(s, c)[0][0]);
    }
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += " FROM backups b WHERE b.deleted = 0 AND b.id = " + m.P(*lq.marker);
      AddScope(&m, scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("Backup " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql = std::string("SELECT ") + kBackupColumns + q.sql + OrderBy(sort) + " LIMIT " + std::to_string(limit + 1);
    if (lq.offset > 0) q.sql += " OFFSET " + std::to_string(lq.offset);
    out.backups = FetchBackups(s, q);
    if (static_cast<int64_t>(out.backups.size()) > limit) {
      out.backups.pop_back();
      out.more = true;
    }
    return out;
  });
}

Result<std::optional<Backup>> Store::LatestAvailableBackup(const std::string& volume_id, const std::string& project_id,
                                                           const std::optional<std::string>& data_before) {
  return impl_->Run<std::optional<Backup>>([&](soci::session& s) -> Result<std::optional<Backup>> {
    Query q;
    std::string where =
        "b.volume_id = " + q.P(volume_id) + " AND b.project_id = " + q.P(project_id) + " AND b.status = 'available'";
    if (data_before) where += " AND COALESCE(b.data_timestamp, b.created_at) < " + q.P(*data_before);
    where +=
        " ORDER BY COALESCE(b.data_timestamp, b.created_at) DESC, b.created_at DESC, b.id DESC "
        "LIMIT 1";
    return FetchOne(s, where, std::move(q));
  });
}

Result<bool> Store::UpdateBackup(const std::string& id, const std::vector<FieldUpdate>& fields,
                                 const std::optional<Metadata>& metadata) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE backups SET updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    changed = Exec(s, q) > 0;
    if (changed && metadata) WriteMetadata(s, "backup_metadata", "backup_id", id, *metadata, /*replace=*/true);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::CasBackupStatus(const std::string& id, const std::vector<std::string>& expected,
                                    const std::string& new_status, const std::vector<FieldUpdate>& fields) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE backups SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::FinishBackup(const std::string& id, const BackupOutcome& outcome) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    auto b = LiveBackup(s, impl_->pg, id, /*lock=*/true);
    if (!b || b->status != backup_status::kCreating) return Status::OK();
    Query q;
    q.sql = "UPDATE backups SET status = 'available', fail_reason = NULL, progress_bytes = 0, object_count = " +
            std::to_string(outcome.object_count) + ", updated_at = " + q.P(NowIso());
    if (outcome.container) q.sql += ", container = " + q.P(*outcome.container);
    if (outcome.service_metadata) q.sql += ", service_metadata = " + q.P(*outcome.service_metadata);
    if (outcome.service) q.sql += ", service = " + q.P(*outcome.service);
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = 'creating'";
    changed = Exec(s, q) > 0;
    if (!changed) return Status::OK();
    ReleaseSource(s, *b, "backing-up");
    if (b->parent_id) {
      Query p;
      p.sql = "UPDATE backups SET num_dependent_backups = num_dependent_backups + 1 WHERE id = " + p.P(*b->parent_id);
      Exec(s, p);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::FailBackup(const std::string& id, const std::string& fail_reason,
                               const std::vector<std::string>& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    auto b = LiveBackup(s, impl_->pg, id, /*lock=*/true);
    if (!b) return Status::OK();
    if (!expected.empty() && std::find(expected.begin(), expected.end(), b->status) == expected.end()) {
      return Status::OK();
    }
    Query q;
    q.sql = "UPDATE backups SET status = 'error', fail_reason = " + q.P(fail_reason) +
            ", progress_bytes = 0, updated_at = " + q.P(NowIso()) + " WHERE id = " + q.P(id) + " AND deleted = 0";
    changed = Exec(s, q) > 0;
    if (changed) ReleaseSource(s, *b, "error_backing-up");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::ResetBackupStatus(const std::string& id, const std::string& new_status) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    auto b = LockRestoreTargetThenBackup(s, impl_->pg, id);
    if (!b) return Status::OK();
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE backups SET status = " + q.P(new_status) + ", progress_bytes = 0, updated_at = " + q.P(now);
    if (b->status == backup_status::kRestoring) q.sql += ", restore_volume_id = NULL";
    // The status read under the lock: a change since then (SQLite has no row lock) loses.
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = " + q.P(b->status);
    changed = Exec(s, q) > 0;
    if (!changed) return Status::OK();
    if (b->status == backup_status::kCreating) {
      ReleaseSource(s, *b, new_status == backup_status::kError ? "error_backing-up" : "backing-up");
    } else if (b->status == backup_status::kRestoring && b->restore_volume_id) {
      // Its bytes are partial (or, for a volume still being made for it, never came).
      Query v;
      v.sql = "UPDATE volumes SET status = 'error_restoring', updated_at = " + v.P(now) +
              " WHERE id = " + v.P(*b->restore_volume_id) +
              " AND deleted = 0 AND status IN ('restoring-backup', 'creating')";
      Exec(s, v);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<Store::RestoreReset> Store::ResetRestore(const std::string& id) {
  RestoreReset result = RestoreReset::kNotRestoring;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    result = RestoreReset::kNotRestoring;
    auto b = LockRestoreTargetThenBackup(s, impl_->pg, id);
    if (!b || b->status != backup_status::kRestoring) return Status::OK();
    // A volume still being made for it: its host's claim will hand it over (to this host, or to
    // a dead one, whose cast then fails and frees the backup); reset now, the volume would
    // end "available" and empty.
    if (b->restore_volume_id && CurrentStatus(s, "volumes", *b->restore_volume_id) == volume_status::kCreating) {
      result = RestoreReset::kPending;
      return Status::OK();
    }
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE backups SET status = 'available', restore_volume_id = NULL, progress_bytes = 0, updated_at = " +
            q.P(now) + " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = 'restoring'";
    if (Exec(s, q) == 0) return Status::OK();
    result = RestoreReset::kReset;
    if (b->restore_volume_id) {
      Query v;
      v.sql = "UPDATE volumes SET status = 'error_restoring', updated_at = " + v.P(now) +
              " WHERE id = " + v.P(*b->restore_volume_id) + " AND deleted = 0 AND status = 'restoring-backup'";
      Exec(s, v);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return result;
}

Result<Store::RestoreStart> Store::StartRestore(const std::string& backup_id, const std::string& volume_id,
                                                bool volume_is_new) {
  RestoreStart result = RestoreStart::kBackupBusy;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    // The volume's row first: its host's creating -> available then waits for this change,
    // and its claim (ClaimRestoreTarget) sees this backup restoring.
    if (!LockRow(s, impl_->pg, "volumes", volume_id)) {
      result = RestoreStart::kVolumeBusy;
      return Status::OK();
    }
    Query b;
    b.sql = "UPDATE backups SET status = 'restoring', restore_volume_id = " + b.P(volume_id) +
            ", updated_at = " + b.P(now) + " WHERE id = " + b.P(backup_id) +
            " AND deleted = 0 AND status = 'available'";
    if (Exec(s, b) == 0) {
      result = RestoreStart::kBackupBusy;
      return Status::OK();
    }
    Query v;
    v.sql = "UPDATE volumes SET status = 'restoring-backup', updated_at = " + v.P(now) +
            " WHERE id = " + v.P(volume_id) + " AND deleted = 0 AND status = 'available'";
    if (Exec(s, v) > 0) {
      result = RestoreStart::kStartedReady;
      return Status::OK();
    }
    if (volume_is_new && CurrentStatus(s, "volumes", volume_id) == volume_status::kCreating) {
      result = RestoreStart::kStartedPending;
      return Status::OK();
    }
    result = RestoreStart::kVolumeBusy;
    return Aborted("rolled back");  // the backup's CAS goes with it
  });
  if (!st.ok() && !(st.code() == Code::kAborted && result == RestoreStart::kVolumeBusy)) return st;
  return result;
}

Result<std::optional<Backup>> Store::ClaimRestoreTarget(const std::string& volume_id, bool from_creating) {
  std::optional<Backup> out;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    out.reset();
    if (!LockRow(s, impl_->pg, "volumes", volume_id)) return Status::OK();
    Query q;
    std::string where = "b.restore_volume_id = " + q.P(volume_id) + " AND b.status = 'restoring'";
    auto b = FetchOne(s, where, std::move(q));
    if (!b) return Status::OK();
    Query v;
    v.sql = "UPDATE volumes SET status = 'restoring-backup', updated_at = " + v.P(NowIso()) +
            " WHERE id = " + v.P(volume_id) +
            " AND deleted = 0 AND status = " + v.P(std::string(from_creating ? "creating" : "available"));
    if (Exec(s, v) > 0) out = std::move(b);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Result<bool> Store::FinishRestore(const std::string& backup_id, const std::string& volume_id, bool ok,
                                  bool volume_is_new) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    Query b;
    b.sql = "UPDATE backups SET status = 'available', restore_volume_id = NULL, progress_bytes = 0, updated_at = " +
            b.P(now) + " WHERE id = " + b.P(backup_id) + " AND deleted = 0 AND status = 'restoring' AND " +
            "restore_volume_id = " + b.P(volume_id);
    changed = Exec(s, b) > 0;
    const std::string to = ok ? "available" : (volume_is_new ? "error" : "error_restoring");
    Query v;
    v.sql = "UPDATE volumes SET status = " + v.P(to) + ", updated_at = " + v.P(now) + " WHERE id = " + v.P(volume_id) +
            " AND deleted = 0 AND status = 'restoring-backup'";
    Exec(s, v);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<std::pair<Backup, std::string>>> Store::PendingRestores(const std::string& host) {
  using Out = std::vector<std::pair<Backup, std::string>>;
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = std::string("SELECT ") + kBackupColumns +
            " FROM backups b WHERE b.deleted = 0 AND b.status = 'restoring' AND b.host = " + q.P(host) +
            " AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.id = b.restore_volume_id AND v.deleted = 0 AND "
            "v.status = 'restoring-backup') ORDER BY b.created_at, b.id";
    Out out;
    for (auto& b : FetchBackups(s, q)) {
      std::string status;
      if (b.restore_volume_id) status = CurrentStatus(s, "volumes", *b.restore_volume_id);
      out.emplace_back(std::move(b), std::move(status));
    }
    return out;
  });
}

Result<std::optional<Backup>> Store::BackupRestoringInto(const std::string& volume_id) {
  return impl_->Run<std::optional<Backup>>([&](soci::session& s) -> Result<std::optional<Backup>> {
    Query q;
    std::string where = "b.restore_volume_id = " + q.P(volume_id) + " AND b.status = 'restoring'";
    return FetchOne(s, where, std::move(q));
  });
}

Result<Store::BackupDeleteStart> Store::StartBackupDelete(const std::string& id,
                                                          const std::vector<std::string>& expected) {
  BackupDeleteStart result = BackupDeleteStart::kNotFound;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    // Locked first: an incremental of it being recorded either committed (and is seen by the
    // statement below, which reads after the lock) or finds this one deleting.
    if (!LockRow(s, impl_->pg, "backups", id)) {
      result = BackupDeleteStart::kNotFound;
      return Status::OK();
    }
    Query q;
    q.sql = "UPDATE backups SET status = 'deleting', updated_at = " + q.P(NowIso()) + " WHERE id = " + q.P(id) +
            " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    q.sql += " AND NOT EXISTS (SELECT 1 FROM backups c WHERE c.parent_id = " + q.P(id) + " AND c.deleted = 0)";
    if (Exec(s, q) > 0) {
      result = BackupDeleteStart::kStarted;
      return Status::OK();
    }
    Query c;
    c.sql = "SELECT COUNT(*) FROM backups WHERE deleted = 0 AND parent_id = " + c.P(id);
    result = ToInt(Select(s, c)[0][0]) > 0 ? BackupDeleteStart::kHasDependents : BackupDeleteStart::kBadStatus;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return result;
}

Result<bool> Store::SoftDeleteBackup(const std::string& id, const std::string& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    auto b = LiveBackup(s, impl_->pg, id, /*lock=*/true);
    if (!b || b->status != expected) return Status::OK();
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE backups SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = " + q.P(expected);
    changed = Exec(s, q) > 0;
    if (!changed) return Status::OK();
    Query m;
    m.sql = "UPDATE backup_metadata SET deleted = 1, deleted_at = " + m.P(now) + " WHERE backup_id = " + m.P(id) +
            " AND deleted = 0";
    Exec(s, m);
    AddQuotaInUse(s, impl_->pg, b->project_id, BackupQuotaDeltas(b->size, -1));
    // Only an available backup counted for its parent (FinishBackup); one deleted before it
    // finished did not.
    if (b->parent_id && b->object_count) {
      Query p;
      p.sql = "UPDATE backups SET num_dependent_backups = num_dependent_backups - 1 WHERE id = " + p.P(*b->parent_id) +
              " AND num_dependent_backups > 0";
      Exec(s, p);
    }
    // A create cancelled by a force-delete still held its source.
    ReleaseSource(s, *b, "error_backing-up");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<Backup>> Store::BackupsOnHost(const std::string& host, const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<Backup>>([&](soci::session& s) -> Result<std::vector<Backup>> {
    Query q;
    q.sql = std::string("SELECT ") + kBackupColumns + " FROM backups b WHERE b.deleted = 0 AND b.host = " + q.P(host);
    if (!statuses.empty()) q.sql += " AND b.status IN " + q.In(statuses);
    q.sql += " ORDER BY b.created_at, b.id";
    return FetchBackups(s, q);
  });
}

Result<std::vector<Backup>> Store::StaleBackups(const std::vector<std::string>& statuses,
                                                const std::string& older_than) {
  return impl_->Run<std::vector<Backup>>([&](soci::session& s) -> Result<std::vector<Backup>> {
    Query q;
    q.sql = std::string("SELECT ") + kBackupColumns + " FROM backups b WHERE b.deleted = 0 AND b.status IN " +
            q.In(statuses) + " AND COALESCE(b.updated_at, b.created_at) < " + q.P(older_than) +
            " ORDER BY b.created_at, b.id";
    return FetchBackups(s, q);
  });
}

Result<bool> Store::TouchBackupProgress(const std::string& id, int64_t progress_bytes,
                                        const std::vector<std::string>& expected) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE backups SET progress_bytes = " + std::to_string(progress_bytes) +
            ", updated_at = " + q.P(NowIso()) + " WHERE id = " + q.P(id) + " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    return Exec(s, q) > 0;
  });
}

Status Store::ImportBackup(const Backup& b, const QuotaCharge* charge, QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query l;
    l.sql = "SELECT deleted FROM backups WHERE id = " + l.P(b.id);
    if (impl_->pg) l.sql += " FOR UPDATE";
    auto rows = Select(s, l);
    if (!rows.empty() && ToInt(rows[0][0]) == 0) {
      return FailedPrecondition("Invalid backup: Backup already exists in database.");
    }
    if (!rows.empty()) {
      // A soft-deleted backup of that id comes back (Cinder's import of a deleted backup).
      Query d;
      d.sql = "DELETE FROM backup_metadata WHERE backup_id = " + d.P(b.id);
      Exec(s, d);
      Query r;
      r.sql = "DELETE FROM backups WHERE id = " + r.P(b.id);
      Exec(s, r);
    }
    InsertBackupRow(s, b);
    WriteMetadata(s, "backup_metadata", "backup_id", b.id, b.metadata, /*replace=*/false);
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

Result<bool> Store::CompleteImport(const std::string& id, const std::vector<FieldUpdate>& fields,
                                   const std::optional<Metadata>& metadata, const std::string& new_status) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE backups SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = 'creating'";
    changed = Exec(s, q) > 0;
    if (changed && metadata) WriteMetadata(s, "backup_metadata", "backup_id", id, *metadata, /*replace=*/true);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

}  // namespace cinder
