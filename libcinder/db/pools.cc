// The pools table (what volume services report) and claims of pool space by schedulers.
#include "common/json.h"
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

std::string EncodeCapabilities(const std::map<std::string, std::string>& caps) {
  json::Value o = json::Value::MakeObject();
  for (const auto& [k, v] : caps) o.Set(k, json::Value(v));
  return json::Serialize(o);
}

std::map<std::string, std::string> DecodeCapabilities(const std::string& text) {
  std::map<std::string, std::string> caps;
  auto v = json::Parse(text);
  if (!v.ok()) return caps;
  for (const auto& [k, val] : v->as_object()) caps[k] = val.as_string();
  return caps;
}

double ToDouble(const std::optional<std::string>& v) { return v ? std::strtod(v->c_str(), nullptr) : 0; }

}  // namespace

Status Store::ReportPools(const std::string& backend_host, const std::vector<PoolRecord>& pools) {
  return impl_->Tx([&](soci::session& s) -> Status {
    std::vector<std::string> hosts;
    for (const auto& p : pools) {
      hosts.push_back(p.host);
      Query q;
      q.sql =
          "INSERT INTO pools (host, backend_host, capabilities, allocated_at_report, generation, reported_at) "
          "VALUES (" +
          q.P(p.host) + ", " + q.P(backend_host) + ", " + q.P(EncodeCapabilities(p.capabilities)) + ", " +
          q.P(std::to_string(p.allocated_at_report)) + ", 0, " + q.P(p.reported_at) +
          ") ON CONFLICT (host) DO UPDATE SET backend_host = excluded.backend_host, capabilities = "
          "excluded.capabilities, allocated_at_report = excluded.allocated_at_report, reported_at = "
          "excluded.reported_at, generation = pools.generation + 1";
      Exec(s, q);
    }
    Query d;
    d.sql = "DELETE FROM pools WHERE backend_host = " + d.P(backend_host);
    if (!hosts.empty()) d.sql += " AND host NOT IN " + d.In(hosts);
    Exec(s, d);
    return Status::OK();
  });
}

Result<std::vector<PoolRecord>> Store::ListPools() {
  return impl_->Run<std::vector<PoolRecord>>([&](soci::session& s) -> Result<std::vector<PoolRecord>> {
    Query q;
    q.sql = "SELECT host, backend_host, capabilities, allocated_at_report, reported_at FROM pools ORDER BY host";
    std::vector<PoolRecord> out;
    for (const auto& r : Select(s, q)) {
      PoolRecord p;
      p.host = r[0].value_or("");
      p.backend_host = r[1].value_or("");
      p.capabilities = DecodeCapabilities(r[2].value_or("{}"));
      p.allocated_at_report = ToDouble(r[3]);
      p.reported_at = r[4].value_or("");
      out.push_back(std::move(p));
    }
    return out;
  });
}

Result<std::map<std::string, HostUsage>> Store::VolumeUsageByHost(bool exclude_creating) {
  return impl_->Run<std::map<std::string, HostUsage>>(
      [&](soci::session& s) -> Result<std::map<std::string, HostUsage>> {
        // pool_usage, kept by the triggers of schema version 5: one row per pool ever used.
        Query q;
        q.sql = exclude_creating
                    ? "SELECT host, settled_volumes, settled_gigabytes FROM pool_usage WHERE settled_volumes > 0"
                    : "SELECT host, volumes, gigabytes FROM pool_usage WHERE volumes > 0";
        std::map<std::string, HostUsage> out;
        for (const auto& r : Select(s, q)) out[r[0].value_or("")] = HostUsage{ToInt(r[1]), ToDouble(r[2])};
        return out;
      });
}

Result<ClaimResult> Store::ClaimPool(const std::string& volume_id, const std::string& pool_host,
                                     const std::string& availability_zone,
                                     const std::function<bool(const PoolRecord&, double)>& fits) {
  ClaimResult result = ClaimResult::kNoRoom;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    result = ClaimResult::kNoRoom;  // a deadlock retry starts over
    // The lock: every claim on this pool bumps its generation first, so claims on one pool
    // run one at a time and each sees the volumes the previous ones placed.
    Query lock;
    lock.sql = "UPDATE pools SET generation = generation + 1 WHERE host = " + lock.P(pool_host) +
               " RETURNING host, backend_host, capabilities, allocated_at_report, reported_at";
    auto rows = Select(s, lock);
    if (rows.empty()) return Status::OK();  // the pool is gone: no room
    PoolRecord p;
    p.host = rows[0][0].value_or("");
    p.backend_host = rows[0][1].value_or("");
    p.capabilities = DecodeCapabilities(rows[0][2].value_or("{}"));
    p.allocated_at_report = ToDouble(rows[0][3]);
    p.reported_at = rows[0][4].value_or("");
    Query used;
    used.sql = "SELECT gigabytes FROM pool_usage WHERE host = " + used.P(pool_host);
    auto used_rows = Select(s, used);
    double allocated_now = used_rows.empty() ? 0 : ToDouble(used_rows[0][0]);
    if (!fits(p, allocated_now)) return Status::OK();
    Query place;
    place.sql = "UPDATE volumes SET host = " + place.P(pool_host) +
                ", cluster_name = " + ClusterOfHost(&place, pool_host) +
                ", availability_zone = " + place.P(availability_zone) + ", updated_at = " + place.P(NowIso()) +
                " WHERE id = " + place.P(volume_id) +
                " AND deleted = 0 AND status = 'creating' AND (host IS NULL OR host = '')";
    result = Exec(s, place) > 0 ? ClaimResult::kClaimed : ClaimResult::kVolumeGone;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return result;
}

Result<int64_t> Store::SetVolumesCluster(const std::string& backend_host, const std::optional<std::string>& cluster) {
  int64_t changed = 0;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volumes SET cluster_name = " + q.Opt(cluster) +
            " WHERE deleted = 0 AND (host = " + q.P(backend_host) + " OR host LIKE " + q.P(backend_host + "#%") +
            ") AND COALESCE(cluster_name, '') <> " + q.P(cluster.value_or(""));
    changed = Exec(s, q);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::ReleaseClaim(const std::string& volume_id, const std::string& pool_host) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volumes SET host = '', cluster_name = NULL, updated_at = " + q.P(NowIso()) +
            " WHERE id = " + q.P(volume_id) + " AND deleted = 0 AND status = 'creating' AND host = " + q.P(pool_host);
    changed = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

}  // namespace cinder
