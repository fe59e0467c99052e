// The quotas and quota_classes tables: the limits of projects and of quota classes (the class
// "default" holds the defaults), as Cinder's quota_* and quota_class_* database calls.
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

// `table` is quotas (keyed by project_id) or quota_classes (keyed by class_name).
std::map<std::string, int64_t> ReadLimits(soci::session& s, const char* table, const char* key_column,
                                          const std::string& key) {
  Query q;
  q.sql = std::string("SELECT resource, hard_limit FROM ") + table + " WHERE deleted = 0 AND " + key_column + " = " +
          q.P(key);
  std::map<std::string, int64_t> out;
  for (const auto& r : Select(s, q)) out[r[0].value_or("")] = r[1] ? ToInt(r[1]) : -1;
  return out;
}

// One upsert per resource on the live row, so that two concurrent sets never add a second row.
void UpsertLimits(soci::session& s, const char* table, const char* key_column, const std::string& key,
                  const std::map<std::string, int64_t>& limits) {
  const std::string now = NowIso();
  for (const auto& [resource, limit] : limits) {
    Query u;
    u.sql = std::string("INSERT INTO ") + table + " (" + key_column + ", resource, hard_limit, created_at) VALUES (" +
            u.P(key) + ", " + u.P(resource) + ", " + u.P(std::to_string(limit)) + ", " + u.P(now) + ") ON CONFLICT (" +
            key_column +
            ", resource) WHERE deleted = 0 DO UPDATE SET hard_limit = excluded.hard_limit, "
            "updated_at = excluded.created_at";
    Exec(s, u);
  }
}

}  // namespace

Result<std::map<std::string, int64_t>> Store::GetProjectQuotas(const std::string& project) {
  using Out = std::map<std::string, int64_t>;
  return impl_->Run<Out>(
      [&](soci::session& s) -> Result<Out> { return ReadLimits(s, "quotas", "project_id", project); });
}

Status Store::SetProjectQuotas(const std::string& project, const std::map<std::string, int64_t>& limits,
                               const std::function<Status(const std::map<std::string, QuotaUsage>&)>& check) {
  if (limits.empty()) return Status::OK();
  return impl_->Tx([&](soci::session& s) -> Status {
    if (check) {
      std::vector<std::string> resources;
      for (const auto& [resource, limit] : limits) resources.push_back(resource);
      Query q;
      q.sql = "SELECT resource, in_use, reserved FROM quota_usages WHERE deleted = 0 AND project_id = " + q.P(project) +
              " AND resource IN " + q.In(resources) + " ORDER BY resource";
      if (impl_->pg) q.sql += " FOR UPDATE";  // as ReserveQuota locks them
      std::map<std::string, QuotaUsage> usage;
      for (const auto& r : Select(s, q)) usage[r[0].value_or("")] = QuotaUsage{ToInt(r[1]), ToInt(r[2])};
      Status st = check(usage);
      if (!st.ok()) return st;
    }
    UpsertLimits(s, "quotas", "project_id", project, limits);
    return Status::OK();
  });
}

Status Store::DeleteProjectQuotas(const std::string& project) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE quotas SET deleted = 1, deleted_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND project_id = " + q.P(project);
    Exec(s, q);
    return Status::OK();
  });
}

Result<std::map<std::string, int64_t>> Store::GetQuotaClass(const std::string& class_name) {
  using Out = std::map<std::string, int64_t>;
  return impl_->Run<Out>(
      [&](soci::session& s) -> Result<Out> { return ReadLimits(s, "quota_classes", "class_name", class_name); });
}

Status Store::SetQuotaClass(const std::string& class_name, const std::map<std::string, int64_t>& limits) {
  if (limits.empty()) return Status::OK();
  return impl_->Tx([&](soci::session& s) -> Status {
    UpsertLimits(s, "quota_classes", "class_name", class_name, limits);
    return Status::OK();
  });
}

}  // namespace cinder
