// The work in progress on volumes, read from their statuses: what waits in the services'
// queues or runs there (an unplaced create waits for a scheduler; a volume in a transitional
// status on a host waits for, or is in, that host's volume service).
#include <map>
#include <string>
#include <vector>

#include "db/store.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

Result<int64_t> Store::CountVolumesInStatus(const std::string& status) {
  return impl_->Run<int64_t>([&](soci::session& s) -> Result<int64_t> {
    Query q;
    // By the partial status index (deleted = 0): the rows counted are the index's entries.
    q.sql = std::string("SELECT COUNT(*) FROM volumes") + (impl_->pg ? "" : " INDEXED BY volumes_status") +
            " WHERE deleted = 0 AND status = " + q.P(status);
    return ToInt(Select(s, q).at(0)[0]);
  });
}

Result<std::map<std::string, int64_t>> Store::CountByStatus(const std::string& table) {
  if (table != "volumes" && table != "snapshots" && table != "backups") {
    return InvalidArgument("no status counts for table " + table);
  }
  return impl_->Run<std::map<std::string, int64_t>>([&](soci::session& s) -> Result<std::map<std::string, int64_t>> {
    Query q;
    q.sql = "SELECT status, COUNT(*) FROM " + table + " WHERE deleted = 0 GROUP BY status";
    std::map<std::string, int64_t> out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")] = ToInt(r[1]);
    return out;
  });
}

Result<std::vector<Store::BacklogEntry>> Store::VolumeBacklog(const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<BacklogEntry>>([&](soci::session& s) -> Result<std::vector<BacklogEntry>> {
    Query q;
    q.sql =
        std::string("SELECT COALESCE(host, ''), status, COUNT(*), MIN(COALESCE(updated_at, created_at)) FROM volumes") +
        (impl_->pg ? "" : " INDEXED BY volumes_status") + " WHERE deleted = 0 AND status IN " + q.In(statuses) +
        " GROUP BY COALESCE(host, ''), status ORDER BY 1, 2";
    std::vector<BacklogEntry> out;
    for (const auto& r : Select(s, q)) {
      BacklogEntry e;
      e.host = r[0].value_or("");
      e.status = r[1].value_or("");
      e.count = ToInt(r[2]);
      e.oldest = r[3].value_or("");
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace cinder
