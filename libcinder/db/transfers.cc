// The transfers table: volumes offered to another project.
#include <algorithm>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kTransferColumns[] =
    "id, volume_id, display_name, no_snapshots, source_project_id, destination_project_id, accepted, created_at, "
    "salt, crypt_hash";

Transfer ToTransfer(const Row& r) {
  Transfer t;
  t.id = r[0].value_or("");
  t.volume_id = r[1].value_or("");
  t.name = r[2];
  t.no_snapshots = ToInt(r[3]) != 0;
  t.source_project_id = r[4].value_or("");
  t.destination_project_id = r[5];
  t.accepted = ToInt(r[6]) != 0;
  t.created_at = r[7].value_or("");
  return t;
}

Status NoSuchTransfer(const std::string& id) { return NotFound("Transfer " + id + " could not be found."); }

}  // namespace

Status Store::CreateTransfer(const Transfer& t, const std::string& salt, const std::string& crypt_hash) {
  return impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    Query v;
    v.sql = "UPDATE volumes SET status = 'awaiting-transfer', updated_at = " + v.P(now) +
            " WHERE deleted = 0 AND id = " + v.P(t.volume_id) + " AND status = 'available'";
    if (Exec(s, v) == 0) return FailedPrecondition("Invalid volume: status must be available");
    if (!t.no_snapshots) {
      // The snapshots that go along, as they are now that the volume's row is held (a snapshot
      // being recorded touches it first): each must be available.
      Query sn;
      sn.sql =
          "SELECT id FROM snapshots WHERE deleted = 0 AND status <> 'available' AND volume_id = " + sn.P(t.volume_id) +
          " ORDER BY id LIMIT 1";
      auto busy = Select(s, sn);
      if (!busy.empty()) {
        return FailedPrecondition("Invalid snapshot: snapshot: " + busy[0][0].value_or("") +
                                  " status must be available");
      }
    }
    Query q;
    q.sql = std::string("INSERT INTO transfers (id, volume_id, display_name, salt, crypt_hash, no_snapshots, ") +
            "source_project_id, created_at) VALUES (" + q.P(t.id) + ", " + q.P(t.volume_id) + ", " +
            (t.name ? q.P(*t.name) : "NULL") + ", " + q.P(salt) + ", " + q.P(crypt_hash) + ", " +
            (t.no_snapshots ? "1" : "0") + ", " + q.P(t.source_project_id) + ", " + q.P(now) + ")";
    Exec(s, q);
    return Status::OK();
  });
}

Result<std::pair<Transfer, std::pair<std::string, std::string>>> Store::GetTransfer(const std::string& id,
                                                                                    const ProjectScope& scope) {
  using Out = std::pair<Transfer, std::pair<std::string, std::string>>;
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = std::string("SELECT ") + kTransferColumns + " FROM transfers WHERE deleted = 0 AND id = " + q.P(id);
    if (scope) q.sql += " AND source_project_id = " + q.P(*scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NoSuchTransfer(id);
    return Out{ToTransfer(rows[0]), {rows[0][8].value_or(""), rows[0][9].value_or("")}};
  });
}

Result<std::vector<Transfer>> Store::ListTransfers(const ProjectScope& scope) {
  return impl_->Run<std::vector<Transfer>>([&](soci::session& s) -> Result<std::vector<Transfer>> {
    Query q;
    q.sql = std::string("SELECT ") + kTransferColumns + " FROM transfers WHERE deleted = 0";
    if (scope) q.sql += " AND source_project_id = " + q.P(*scope);
    q.sql += " ORDER BY created_at DESC, id DESC";
    std::vector<Transfer> out;
    for (const auto& r : Select(s, q)) out.push_back(ToTransfer(r));
    return out;
  });
}

Status Store::DeleteTransfer(const std::string& id, const ProjectScope& scope) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query t;
    t.sql = "SELECT volume_id FROM transfers WHERE deleted = 0 AND id = " + t.P(id);
    if (scope) t.sql += " AND source_project_id = " + t.P(*scope);
    auto rows = Select(s, t);
    if (rows.empty()) return NoSuchTransfer(id);
    const std::string now = NowIso();
    Query d;
    d.sql = "UPDATE transfers SET deleted = 1, deleted_at = " + d.P(now) + " WHERE deleted = 0 AND id = " + d.P(id);
    Exec(s, d);
    Query v;
    v.sql = "UPDATE volumes SET status = 'available', updated_at = " + v.P(now) +
            " WHERE deleted = 0 AND id = " + v.P(rows[0][0].value_or("")) + " AND status = 'awaiting-transfer'";
    Exec(s, v);
    return Status::OK();
  });
}

Status Store::AcceptTransfer(const std::string& id, const std::string& project, const std::string& user,
                             const std::vector<std::string>& commit_reservations, bool count_snapshot_gigabytes,
                             const std::vector<std::string>& snapshot_ids, int64_t volume_size,
                             const std::string& volume_type_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query t;
    t.sql =
        "SELECT t.volume_id, t.no_snapshots, v.project_id, v.size, v.volume_type_id FROM transfers t JOIN "
        "volumes v ON v.id = t.volume_id WHERE t.deleted = 0 AND t.id = " +
        t.P(id);
    // The volume's row first, as every writer of it takes it (then the usage rows): what it is
    // now is what changes hands.
    if (impl_->pg) t.sql += " FOR UPDATE OF v";
    auto rows = Select(s, t);
    if (rows.empty()) return NoSuchTransfer(id);  // accepted or deleted meanwhile
    if (ToInt(rows[0][3]) != volume_size || rows[0][4].value_or("") != volume_type_id) {
      return Aborted("The volume changed while it was being accepted; try again.");
    }
    const std::string volume_id = rows[0][0].value_or("");
    const bool with_snapshots = ToInt(rows[0][1]) == 0;
    const std::string donor = rows[0][2].value_or("");
    const std::string type_name = LockedTypeName(s, impl_->pg, rows[0][4].value_or(""));
    const std::string now = NowIso();
    // The donor's usage goes down by what changes hands; the receiver's reservations commit.
    QuotaDeltas donor_deltas = VolumeQuotaDeltas(type_name, ToInt(rows[0][3]), -1);
    if (with_snapshots) {
      Query sn;
      sn.sql =
          "SELECT s.id, s.volume_size, s.volume_type_id FROM snapshots s WHERE s.deleted = 0 AND s.use_quota = 1 "
          "AND s.volume_id = " +
          sn.P(volume_id);
      if (impl_->pg) sn.sql += " FOR UPDATE OF s";  // a delete of one finishes first, or waits
      std::vector<std::string> found;
      for (const auto& r : Select(s, sn)) {
        found.push_back(r[0].value_or(""));
        const std::string snap_type = LockedTypeName(s, impl_->pg, r[2].value_or(""));
        for (const auto& [k, d] : SnapshotQuotaDeltas(snap_type, ToInt(r[1]), -1, count_snapshot_gigabytes)) {
          donor_deltas[k] += d;
        }
      }
      std::vector<std::string> expected = snapshot_ids;
      std::sort(found.begin(), found.end());
      std::sort(expected.begin(), expected.end());
      if (found != expected) return Aborted("The volume's snapshots changed while it was being accepted; try again.");
      Query mv;
      mv.sql = "UPDATE snapshots SET project_id = " + mv.P(project) + ", user_id = " + mv.P(user) +
               ", updated_at = " + mv.P(now) + " WHERE deleted = 0 AND volume_id = " + mv.P(volume_id);
      Exec(s, mv);
    }
    AddQuotaInUse(s, impl_->pg, donor, donor_deltas);
    CommitReservationRows(s, impl_->pg, commit_reservations);
    Query v;
    v.sql = "UPDATE volumes SET status = 'available', project_id = " + v.P(project) + ", user_id = " + v.P(user) +
            ", updated_at = " + v.P(now) + " WHERE deleted = 0 AND id = " + v.P(volume_id) +
            " AND status = 'awaiting-transfer'";
    if (Exec(s, v) == 0) return FailedPrecondition("Invalid volume: status must be awaiting-transfer");
    Query d;
    d.sql = "UPDATE transfers SET deleted = 1, deleted_at = " + d.P(now) +
            ", accepted = 1, destination_project_id = " + d.P(project) + " WHERE deleted = 0 AND id = " + d.P(id);
    Exec(s, d);
    return Status::OK();
  });
}

}  // namespace cinder
