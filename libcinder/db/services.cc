// Service rows (registration, heartbeats, enable/disable) and the purge of deleted rows.
#include "db/store.h"

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

Status Store::RegisterService(const ServiceInfo& svc) {
  return impl_->Tx([&](soci::session& s) -> Status {
    std::string now = NowIso();
    if (svc.cluster_name) {
      // Its cluster's row, made by the first service that joins it (Cinder's Cluster.create).
      Query c;
      c.sql = "INSERT INTO clusters (name, \"binary\", created_at) VALUES (" + c.P(*svc.cluster_name) + ", " +
              c.P(svc.binary) + ", " + c.P(now) + ") ON CONFLICT (name, \"binary\") WHERE deleted = 0 DO NOTHING";
      Exec(s, c);
    }
    Query u;
    u.sql = "UPDATE services SET topic = " + u.P(svc.topic) + ", availability_zone = " + u.P(svc.availability_zone) +
            ", endpoint = " + u.P(svc.endpoint) + ", rpc_current_version = " + u.P(std::to_string(svc.rpc_version)) +
            ", cluster_name = " + (svc.cluster_name ? u.P(*svc.cluster_name) : std::string("NULL")) +
            ", updated_at = " + u.P(now) +
            ", report_count = report_count + 1 WHERE deleted = 0 AND host = " + u.P(svc.host) +
            " AND \"binary\" = " + u.P(svc.binary);
    if (Exec(s, u) == 0) {
      Query i;
      i.sql =
          "INSERT INTO services (host, \"binary\", topic, availability_zone, endpoint, "
          "rpc_current_version, cluster_name, created_at, updated_at) VALUES (" +
          i.P(svc.host) + ", " + i.P(svc.binary) + ", " + i.P(svc.topic) + ", " + i.P(svc.availability_zone) + ", " +
          i.P(svc.endpoint) + ", " + i.P(std::to_string(svc.rpc_version)) + ", " +
          (svc.cluster_name ? i.P(*svc.cluster_name) : std::string("NULL")) + ", " + i.P(now) + ", " + i.P(now) + ")";
      Exec(s, i);
    }
    return Status::OK();
  });
}

Result<bool> Store::Heartbeat(const std::string& host, const std::string& binary, const std::string& at) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE services SET updated_at = " + q.P(at.empty() ? NowIso() : at) +
            ", report_count = report_count + 1 WHERE deleted = 0 AND host = " + q.P(host) +
            " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Result<std::vector<ServiceInfo>> Store::ListServices(const std::optional<std::string>& host,
                                                     const std::optional<std::string>& binary) {
  return impl_->Run<std::vector<ServiceInfo>>([&](soci::session& s) -> Result<std::vector<ServiceInfo>> {
    Query q;
    q.sql =
        "SELECT s.host, s.\"binary\", s.topic, s.availability_zone, s.disabled, s.disabled_reason, s.endpoint, "
        "s.rpc_current_version, s.created_at, s.updated_at, s.cluster_name, c.disabled, s.frozen FROM services s "
        "LEFT JOIN clusters c ON c.name = s.cluster_name AND c.\"binary\" = s.\"binary\" AND c.deleted = 0 "
        "WHERE s.deleted = 0";
    if (host) {
      // As Cinder: the host itself, or a backend or pool of it (host@backend, host#pool).
      std::string n = std::to_string(host->size() + 1);
      q.sql += " AND (s.host = " + q.P(*host) + " OR substr(s.host, 1, " + n + ") = " + q.P(*host + "@") +
               " OR substr(s.host, 1, " + n + ") = " + q.P(*host + "#") + ")";
    }
    if (binary) q.sql += " AND s.\"binary\" = " + q.P(*binary);
    q.sql += " ORDER BY s.id";
    std::vector<ServiceInfo> out;
    for (const auto& r : Select(s, q)) {
      ServiceInfo svc;
      svc.host = r[0].value_or("");
      svc.binary = r[1].value_or("");
      svc.topic = r[2].value_or("");
      svc.availability_zone = r[3].value_or("");
      svc.disabled = ToInt(r[4]) != 0;
      svc.disabled_reason = r[5];
      svc.endpoint = r[6].value_or("");
      svc.rpc_version = static_cast<int>(ToInt(r[7]));
      svc.created_at = r[8].value_or("");
      svc.updated_at = r[9];
      svc.cluster_name = r[10];
      svc.cluster_disabled = ToInt(r[11]) != 0;
      svc.frozen = ToInt(r[12]) != 0;
      out.push_back(std::move(svc));
    }
    return out;
  });
}

Result<std::map<std::pair<std::string, std::string>, int64_t>> Store::ServiceIds() {
  using Ids = std::map<std::pair<std::string, std::string>, int64_t>;
  return impl_->Run<Ids>([&](soci::session& s) -> Result<Ids> {
    Query q;
    q.sql = "SELECT host, \"binary\", id FROM services WHERE deleted = 0";
    Ids out;
    for (const auto& r : Select(s, q)) out[{r[0].value_or(""), r[1].value_or("")}] = ToInt(r[2]);
    return out;
  });
}

Result<bool> Store::SetServiceDisabled(const std::string& host, const std::string& binary, bool disabled,
                                       const std::optional<std::string>& reason) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = std::string("UPDATE services SET disabled = ") + (disabled ? "1" : "0");
    // Enabling keeps the last reason, as Cinder does; disabling records the new one (or none).
    if (disabled) q.sql += ", disabled_reason = " + (reason ? q.P(*reason) : std::string("NULL"));
    q.sql += " WHERE deleted = 0 AND host = " + q.P(host) + " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Result<std::vector<ClusterInfo>> Store::ListClusters() {
  return impl_->Run<std::vector<ClusterInfo>>([&](soci::session& s) -> Result<std::vector<ClusterInfo>> {
    Query q;
    q.sql =
        "SELECT name, \"binary\", disabled, disabled_reason, created_at, updated_at, frozen FROM clusters "
        "WHERE deleted = 0 ORDER BY id";
    std::vector<ClusterInfo> out;
    for (const auto& r : Select(s, q)) {
      ClusterInfo c;
      c.name = r[0].value_or("");
      c.binary = r[1].value_or("");
      c.disabled = ToInt(r[2]) != 0;
      c.disabled_reason = r[3];
      c.created_at = r[4].value_or("");
      c.updated_at = r[5];
      c.frozen = ToInt(r[6]) != 0;
      out.push_back(std::move(c));
    }
    return out;
  });
}

Result<bool> Store::SetClusterDisabled(const std::string& name, const std::string& binary, bool disabled,
                                       const std::optional<std::string>& reason) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    // Cinder's cluster update: the reason is set (or cleared) either way.
    q.sql = std::string("UPDATE clusters SET disabled = ") + (disabled ? "1" : "0") +
            ", disabled_reason = " + (reason ? q.P(*reason) : std::string("NULL")) + ", updated_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND name = " + q.P(name) + " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Status Store::FreezeBackend(const std::optional<std::string>& host, const std::optional<std::string>& cluster,
                            bool frozen) {
  return impl_->Tx([&](soci::session& s) -> Status {
    const std::string expected = frozen ? "0" : "1";
    const std::string wanted = frozen ? "1" : "0";
    auto services_where = [&](Query* q, const std::string& column, const std::string& value, bool backends) {
      std::string w = " WHERE deleted = 0 AND \"binary\" = 'cinder-volume' AND (" + column + " = " + q->P(value);
      if (backends) {
        w += " OR substr(" + column + ", 1, " + std::to_string(value.size() + 1) + ") = " + q->P(value + "@");
      }
      return w + ")";
    };
    Query f;
    f.sql = "SELECT host, cluster_name FROM services" +
            (cluster ? services_where(&f, "cluster_name", *cluster, false) : services_where(&f, "host", *host, true)) +
            " ORDER BY id";
    auto rows = Select(s, f);
    if (rows.empty()) {
      return NotFound(cluster ? "No service found with cluster=" + *cluster : "No service found with host=" + *host);
    }
    const std::optional<std::string> in_cluster = rows[0][1];
    for (const auto& r : rows) {
      if (cluster ? r[1] != in_cluster : r[0] != rows[0][0]) {
        return InvalidArgument("Services from different clusters found.");
      }
    }
    auto py_bool = [](bool b) { return std::string(b ? "True" : "False"); };
    auto refused = [&](const std::string& who) {
      return "frozen in " + who + " must be " + py_bool(!frozen) + " to failover.";
    };
    std::vector<std::string> hosts;
    if (in_cluster) {
      Query c;
      c.sql = "UPDATE clusters SET frozen = " + wanted + ", updated_at = " + c.P(NowIso()) +
              " WHERE deleted = 0 AND \"binary\" = 'cinder-volume' AND name = " + c.P(*in_cluster) +
              " AND frozen = " + expected;
      if (Exec(s, c) == 0) return InvalidArgument(refused(*in_cluster));
      // A host given for a clustered backend stands for every service of its cluster.
      Query all;
      all.sql = "SELECT host FROM services" + services_where(&all, "cluster_name", *in_cluster, false) + " ORDER BY id";
      for (const auto& r : Select(s, all)) hosts.push_back(r[0].value_or(""));
    } else {
      for (const auto& r : rows) hosts.push_back(r[0].value_or(""));
    }
    std::vector<std::string> not_changed;
    for (const auto& h : hosts) {
      Query u;
      u.sql = "UPDATE services SET frozen = " + wanted + ", disabled = " + wanted +
              ", disabled_reason = " + u.P(frozen ? "frozen" : "") +
              " WHERE deleted = 0 AND \"binary\" = 'cinder-volume' AND host = " + u.P(h) + " AND frozen = " + expected;
      if (Exec(s, u) == 0) not_changed.push_back("'" + h + "'");
    }
    if (!not_changed.empty() && not_changed.size() == hosts.size()) {
      return InvalidArgument("No service could be changed: " + refused("[" + Join(not_changed, ", ") + "]"));
    }
    return Status::OK();
  });
}

Result<bool> Store::IsBackendFrozen(const std::string& host, const std::optional<std::string>& cluster_name) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    auto backend = [](const std::string& h) { return h.substr(0, h.find('#')); };
    Query q;
    if (cluster_name && !cluster_name->empty()) {
      q.sql =
          "SELECT COUNT(*) FROM clusters WHERE deleted = 0 AND frozen = 1 AND name = " + q.P(backend(*cluster_name));
    } else {
      q.sql = "SELECT COUNT(*) FROM services WHERE deleted = 0 AND frozen = 1 AND host = " + q.P(backend(host));
    }
    return ToInt(Select(s, q).at(0)[0]) > 0;
  });
}

Result<std::vector<HostProjectUsage>> Store::HostVolumeUsage(const std::string& host) {
  return impl_->Run<std::vector<HostProjectUsage>>([&](soci::session& s) -> Result<std::vector<HostProjectUsage>> {
    // The host or a pool of it, as Cinder's volume_data_get_for_host.
    auto on_host = [&host](Query* q, const char* column) {
      std::string n = std::to_string(host.size() + 1);
      return std::string("(") + column + " = " + q->P(host) + " OR substr(" + column + ", 1, " + n +
             ") = " + q->P(host + "#") + ")";
    };
    Query v;
    v.sql =
        "SELECT COALESCE(v.project_id, ''), COUNT(*), COALESCE(SUM(v.size), 0) FROM volumes v "
        "WHERE v.deleted = 0 AND " +
        on_host(&v, "v.host") + " GROUP BY v.project_id ORDER BY 1";
    Query sn;
    sn.sql =
        "SELECT COALESCE(sn.project_id, ''), COUNT(*), COALESCE(SUM(sn.volume_size), 0) FROM snapshots sn "
        "JOIN volumes v ON v.id = sn.volume_id WHERE sn.deleted = 0 AND " +
        on_host(&sn, "v.host") + " GROUP BY sn.project_id";
    std::map<std::string, std::pair<int64_t, int64_t>> snaps;
    for (const auto& r : Select(s, sn)) snaps[r[0].value_or("")] = {ToInt(r[1]), ToInt(r[2])};
    std::vector<HostProjectUsage> out(1);
    out[0].project = "(total)";
    for (const auto& r : Select(s, v)) {
      HostProjectUsage u;
      u.project = r[0].value_or("");
      u.volume_count = ToInt(r[1]);
      u.total_volume_gb = ToInt(r[2]);
      auto it = snaps.find(u.project);
      if (it != snaps.end()) std::tie(u.snapshot_count, u.total_snapshot_gb) = it->second;
      out[0].volume_count += u.volume_count;
      out[0].total_volume_gb += u.total_volume_gb;
      // Cinder's total counts the snapshots of the projects with volumes there.
      out[0].snapshot_count += u.snapshot_count;
      out[0].total_snapshot_gb += u.total_snapshot_gb;
      out.push_back(std::move(u));
    }
    return out;
  });
}

Result<bool> Store::RemoveService(const std::string& host, const std::string& binary) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "DELETE FROM services WHERE host = " + q.P(host) + " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Result<int64_t> Store::Purge(const std::string& before_iso) {
  int64_t removed = 0;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    removed = 0;  // a deadlock retry runs it all again
    auto run = [&](const std::string& sql) {
      Query q;
      q.sql = sql;
      std::string cutoff = q.P(before_iso);
      auto pos = q.sql.find("$CUTOFF");
      while (pos != std::string::npos) {
        q.sql.replace(pos, 7, cutoff);
        pos = q.sql.find("$CUTOFF");
      }
      removed += Exec(s, q);
    };
    // Children first: metadata of purged volumes, then rows deleted on their own.
    run("DELETE FROM transfers WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM transfers WHERE volume_id IN (SELECT id FROM volumes WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM snapshot_metadata WHERE snapshot_id IN (SELECT id FROM snapshots WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM snapshot_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM snapshots WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM backup_metadata WHERE backup_id IN (SELECT id FROM backups WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM backup_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM backups WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM reservations WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM quotas WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM quota_classes WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_metadata WHERE volume_id IN (SELECT id FROM volumes WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_glance_metadata WHERE volume_id IN (SELECT id FROM volumes WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_glance_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volumes WHERE deleted = 1 AND deleted_at < $CUTOFF");
    // Group snapshots (schema 16), before the groups they are of.
    run("DELETE FROM group_snapshots WHERE deleted = 1 AND deleted_at < $CUTOFF");
    // Generic volume groups (schema 14): a group's type mappings, then groups, then group types.
    run("DELETE FROM group_volume_type_mapping WHERE group_id IN (SELECT id FROM groups WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM group_volume_type_mapping WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM groups WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM group_type_specs WHERE group_type_id IN (SELECT id FROM group_types WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM group_type_specs WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM group_types WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_extra_specs WHERE volume_type_id IN (SELECT id FROM volume_types "
        "WHERE deleted = 1 AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_type_extra_specs WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM encryption WHERE volume_type_id IN (SELECT id FROM volume_types "
        "WHERE deleted = 1 AND deleted_at < $CUTOFF)");
    run("DELETE FROM encryption WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM qos_specs_keys WHERE qos_specs_id IN (SELECT id FROM qos_specs WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM qos_specs_keys WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM qos_specs WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_projects WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_projects WHERE volume_type_id IN (SELECT id FROM volume_types "
        "WHERE deleted = 1 AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_types WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM services WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM messages WHERE deleted = 1 AND deleted_at < $CUTOFF");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return removed;
}

}  // namespace cinder
