// Quota usage and reservations: quota_usages holds, per project and resource, what exists
// (in_use) and what operations under way hold (reserved); reservations holds each operation's
// deltas until it commits or rolls back. Rows of a project's resources are locked
// (FOR UPDATE on PostgreSQL; SQLite's write transactions are serial) so that concurrent
// reservations never pass a limit together.
#include <chrono>
#include <utility>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

struct UsageRow {
  int64_t id = 0;
  int64_t in_use = 0;
  int64_t reserved = 0;
};

std::map<std::string, UsageRow> SelectUsages(soci::session& s, bool pg, const std::string& project,
                                             const std::vector<std::string>& resources) {
  Query q;
  q.sql = "SELECT resource, id, in_use, reserved FROM quota_usages WHERE deleted = 0 AND project_id = " + q.P(project) +
          " AND resource IN " + q.In(resources) + " ORDER BY resource";
  if (pg) q.sql += " FOR UPDATE";
  std::map<std::string, UsageRow> out;
  for (const auto& row : Select(s, q)) {
    out[row[0].value_or("")] = UsageRow{ToInt(row[1]), ToInt(row[2]), ToInt(row[3])};
  }
  return out;
}

// Locks (creating when missing) the usage rows of `project` for `resources`, in resource order.
std::map<std::string, UsageRow> LockUsages(soci::session& s, bool pg, const std::string& project,
                                           const std::vector<std::string>& resources) {
  auto rows = SelectUsages(s, pg, project, resources);
  if (rows.size() == resources.size()) return rows;  // the usual case: one statement
  const std::string now = NowIso();
  for (const auto& r : resources) {
    if (rows.count(r)) continue;
    Query i;
    i.sql = "INSERT INTO quota_usages (project_id, resource, in_use, reserved, created_at) VALUES (" + i.P(project) +
            ", " + i.P(r) + ", 0, 0, " + i.P(now) + ") ON CONFLICT (project_id, resource) WHERE deleted = 0 DO NOTHING";
    Exec(s, i);
  }
  return SelectUsages(s, pg, project, resources);
}

std::vector<std::string> Keys(const QuotaDeltas& deltas) {
  std::vector<std::string> out;
  for (const auto& [k, v] : deltas) out.push_back(k);
  return out;
}

// Usage row id -> what to add to its in_use and reserved.
using UsageChanges = std::map<int64_t, std::pair<int64_t, int64_t>>;

// Adds `changes` in one statement (the numbers are ours, not a user's: written as literals).
void ApplyAll(soci::session& s, const UsageChanges& changes, const std::string& now) {
  if (changes.empty()) return;
  std::string in_use = "CASE id", reserved = "CASE id", ids;
  for (const auto& [id, d] : changes) {
    in_use += " WHEN " + std::to_string(id) + " THEN " + std::to_string(d.first);
    reserved += " WHEN " + std::to_string(id) + " THEN " + std::to_string(d.second);
    ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  }
  Query u;
  u.sql = "UPDATE quota_usages SET in_use = in_use + " + in_use + " ELSE 0 END, reserved = reserved + " + reserved +
          " ELSE 0 END, updated_at = " + u.P(now) + " WHERE id IN (" + ids + ")";
  Exec(s, u);
}

// Settles reservations: commit moves their deltas into in_use; both release what they reserved.
void Settle(soci::session& s, bool pg, const std::vector<std::string>& ids, bool commit) {
  if (ids.empty()) return;
  if (pg) {
    // The usage rows first, in the order every writer locks them (project, resource).
    Query lock;
    lock.sql =
        "SELECT id FROM quota_usages WHERE id IN (SELECT usage_id FROM reservations WHERE deleted = 0 AND "
        "id IN " +
        lock.In(ids) + ") ORDER BY project_id, resource FOR UPDATE";
    Select(s, lock);
  }
  Query q;
  q.sql =
      "SELECT id, usage_id, delta FROM reservations WHERE deleted = 0 AND id IN " + q.In(ids) + " ORDER BY usage_id";
  if (pg) q.sql += " FOR UPDATE";
  const std::string now = NowIso();
  UsageChanges changes;
  std::vector<std::string> settled;
  for (const auto& r : Select(s, q)) {
    const int64_t delta = ToInt(r[2]);
    auto& c = changes[ToInt(r[1])];
    c.first += commit ? delta : 0;
    c.second += delta > 0 ? -delta : 0;
    settled.push_back(r[0].value_or(""));
  }
  if (settled.empty()) return;  // expired or settled already
  ApplyAll(s, changes, now);
  Query d;
  d.sql = "UPDATE reservations SET deleted = 1, deleted_at = " + d.P(now) + " WHERE id IN " + d.In(settled);
  Exec(s, d);
}

}  // namespace

namespace db {

void AddQuotaInUse(soci::session& s, bool pg, const std::string& project, const QuotaDeltas& deltas) {
  if (deltas.empty()) return;
  auto rows = LockUsages(s, pg, project, Keys(deltas));
  UsageChanges changes;
  for (const auto& [resource, delta] : deltas) {
    auto it = rows.find(resource);
    if (it != rows.end() && delta != 0) changes[it->second.id].first += delta;
  }
  ApplyAll(s, changes, NowIso());
}

Status ChargeQuota(soci::session& s, bool pg, const QuotaCharge& charge, Store::QuotaReservation* over) {
  if (charge.deltas.empty()) return Status::OK();
  if (!charge.type_id.empty() && LockedTypeName(s, pg, charge.type_id) != charge.type_name) {
    return Aborted("Volume type " + charge.type_id + " was renamed meanwhile; try again.");
  }
  Store::QuotaReservation check;
  // One statement adds the deltas and answers the new figures; the rows' locks last until the
  // commit, and a charge that does not fit is rolled back with the whole transaction. (On
  // PostgreSQL the rows are locked in the order the plan visits them; writers that lock the same
  // rows in another order deadlock at worst, and Tx runs the one PostgreSQL aborts again. A
  // sub-select that orders the locks cost a fifth of the create throughput.)
  auto add = [&](const QuotaDeltas& deltas) {
    Query u;
    std::string in_use = "CASE resource";
    for (const auto& [resource, delta] : deltas) {
      in_use += " WHEN " + u.P(resource) + " THEN " + std::to_string(delta);
    }
    u.sql = "UPDATE quota_usages SET in_use = in_use + " + in_use + " ELSE 0 END, updated_at = " + u.P(NowIso()) +
            " WHERE deleted = 0 AND project_id = " + u.P(charge.project) + " AND resource IN " + u.In(Keys(deltas)) +
            " RETURNING resource, in_use, reserved";
    return Select(s, u);
  };
  auto rows = add(charge.deltas);
  if (rows.size() < charge.deltas.size()) {
    // Resources this project never used: make their rows, then add to those.
    QuotaDeltas missing = charge.deltas;
    for (const auto& r : rows) missing.erase(r[0].value_or(""));
    LockUsages(s, pg, charge.project, Keys(missing));
    for (auto& r : add(missing)) rows.push_back(std::move(r));
  }
  // The limits as they are now that the usage is locked (a limit lowered meanwhile has
  // committed), in one statement: the project's rows win over the class's.
  std::vector<std::string> names = Keys(charge.deltas);
  if (charge.volume_size) names.push_back("per_volume_gigabytes");
  check.limits = charge.default_limits;
  Query l;
  l.sql = "SELECT 1, resource, hard_limit FROM quotas WHERE deleted = 0 AND project_id = " + l.P(charge.project) +
          " AND resource IN " + l.In(names);
  if (charge.use_default_class) {
    l.sql +=
        " UNION ALL SELECT 0, resource, hard_limit FROM quota_classes WHERE deleted = 0 AND class_name = "
        "'default' AND resource IN " +
        l.In(names);
  }
  l.sql += " ORDER BY 1";  // class rows first, so that the project's overwrite them
  for (const auto& r : Select(s, l)) {
    if (r[2]) check.limits[r[1].value_or("")] = ToInt(r[2]);
  }
  for (const auto& r : rows) {
    const std::string resource = r[0].value_or("");
    const int64_t delta = charge.deltas.at(resource);
    const int64_t in_use = ToInt(r[1]), reserved = ToInt(r[2]);
    check.usages[resource] = Store::QuotaUsage{in_use - delta, reserved};
    auto limit = check.limits.find(resource);
    if (delta > 0 && limit != check.limits.end() && limit->second >= 0 && in_use + reserved > limit->second) {
      check.over.push_back(resource);
    }
  }
  if (charge.volume_size) {
    auto limit = check.limits.find("per_volume_gigabytes");
    if (limit != check.limits.end() && limit->second >= 0 && *charge.volume_size > limit->second) {
      check.over = {"per_volume_gigabytes"};
    }
  }
  if (!check.over.empty()) {
    if (over) *over = std::move(check);
    return ResourceExhausted("over quota");  // the caller's transaction rolls the additions back
  }
  return Status::OK();
}

void CommitReservationRows(soci::session& s, bool pg, const std::vector<std::string>& ids) {
  Settle(s, pg, ids, /*commit=*/true);
}

void RollbackReservationRows(soci::session& s, bool pg, const std::vector<std::string>& ids) {
  Settle(s, pg, ids, /*commit=*/false);
}

void ReserveRows(soci::session& s, bool pg, const std::string& project, const QuotaDeltas& deltas,
                 const std::map<std::string, int64_t>& limits, int64_t expire_seconds, Store::QuotaReservation* out) {
  *out = Store::QuotaReservation{};
  if (deltas.empty()) return;
  auto rows = LockUsages(s, pg, project, Keys(deltas));
  for (const auto& [resource, delta] : deltas) {
    const UsageRow& u = rows[resource];
    out->usages[resource] = Store::QuotaUsage{u.in_use, u.reserved};
    auto limit = limits.find(resource);
    if (delta > 0 && limit != limits.end() && limit->second >= 0 && u.in_use + u.reserved + delta > limit->second) {
      out->over.push_back(resource);
    }
  }
  if (!out->over.empty()) return;  // nothing reserved
  const std::string now = NowIso();
  const std::string expire = IsoSecondsAgo(-expire_seconds);
  UsageChanges reserved;
  for (const auto& [resource, delta] : deltas) {
    const UsageRow& u = rows[resource];
    std::string id = NewUuid();
    Query r;
    r.sql = "INSERT INTO reservations (id, usage_id, project_id, resource, delta, expire, created_at) VALUES (" +
            r.P(id) + ", " + r.P(std::to_string(u.id)) + ", " + r.P(project) + ", " + r.P(resource) + ", " +
            r.P(std::to_string(delta)) + ", " + r.P(expire) + ", " + r.P(now) + ")";
    Exec(s, r);
    if (delta > 0) reserved[u.id].second += delta;
    out->ids.push_back(std::move(id));
  }
  ApplyAll(s, reserved, now);
}

}  // namespace db

std::map<std::string, int64_t> VolumeQuotaDeltas(const std::string& type_name, int64_t size, int sign) {
  std::map<std::string, int64_t> d = {{"volumes", sign}, {"gigabytes", sign * size}};
  if (!type_name.empty()) {
    d["volumes_" + type_name] = sign;
    d["gigabytes_" + type_name] = sign * size;
  }
  return d;
}

std::map<std::string, int64_t> SnapshotQuotaDeltas(const std::string& type_name, int64_t size, int sign,
                                                   bool count_gigabytes) {
  std::map<std::string, int64_t> d = {{"snapshots", sign}};
  if (!type_name.empty()) d["snapshots_" + type_name] = sign;
  if (count_gigabytes) {
    d["gigabytes"] = sign * size;
    if (!type_name.empty()) d["gigabytes_" + type_name] = sign * size;
  }
  return d;
}

Result<Store::QuotaReservation> Store::ReserveQuota(const std::string& project,
                                                    const std::map<std::string, int64_t>& deltas,
                                                    const std::map<std::string, int64_t>& limits,
                                                    int64_t expire_seconds) {
  QuotaReservation out;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    ReserveRows(s, impl_->pg, project, deltas, limits, expire_seconds, &out);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Status Store::CommitQuota(const std::vector<std::string>& reservations) {
  if (reservations.empty()) return Status::OK();
  return impl_->Tx([&](soci::session& s) -> Status {
    Settle(s, impl_->pg, reservations, /*commit=*/true);
    return Status::OK();
  });
}

Status Store::RollbackQuota(const std::vector<std::string>& reservations) {
  if (reservations.empty()) return Status::OK();
  return impl_->Tx([&](soci::session& s) -> Status {
    Settle(s, impl_->pg, reservations, /*commit=*/false);
    return Status::OK();
  });
}

Result<int64_t> Store::ExpireQuotaReservations(const std::string& now_iso) {
  int64_t n = 0;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "SELECT id FROM reservations WHERE deleted = 0 AND expire < " + q.P(now_iso);
    std::vector<std::string> ids;
    for (const auto& r : Select(s, q)) ids.push_back(r[0].value_or(""));
    Settle(s, impl_->pg, ids, /*commit=*/false);
    n = static_cast<int64_t>(ids.size());
    return Status::OK();
  });
  if (!st.ok()) return st;
  return n;
}

Result<std::map<std::string, Store::QuotaUsage>> Store::GetQuotaUsage(const std::string& project) {
  using Out = std::map<std::string, QuotaUsage>;
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = "SELECT resource, in_use, reserved FROM quota_usages WHERE deleted = 0 AND project_id = " + q.P(project);
    Out out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")] = QuotaUsage{ToInt(r[1]), ToInt(r[2])};
    return out;
  });
}

}  // namespace cinder
