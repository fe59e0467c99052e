// Store::Impl: the connection pool and transactions every table of the Store runs on, and the
// cache of prepared SQLite statements of the fast read paths. Internal to libcinder/db.
#ifndef CINDER_DB_STORE_IMPL_H_
#define CINDER_DB_STORE_IMPL_H_

#include <soci/connection-pool.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/log.h"
#include "db/directory.h"
#include "db/list_cache.h"
#include "db/pg_native.h"
#include "db/sql.h"
#include "db/sqlite_native.h"
#include "db/store.h"

namespace cinder {

namespace db {

// Quota usage rows, inside a caller's transaction (quota_usage.cc).
using QuotaDeltas = std::map<std::string, int64_t>;
// Adds `deltas` to the in_use of `project`'s usage rows (creating missing rows), without a
// limit check: for changes that only free (deletes) or that a reservation already checked.
void AddQuotaInUse(soci::session& s, bool pg, const std::string& project, const QuotaDeltas& deltas);
// Adds a create's deltas to in_use iff every positive one fits its limit (in_use + reserved +
// delta <= limit); otherwise ResourceExhausted with `over` filled (the caller's transaction
// then rolls back). Aborted when the charge's type was renamed since its deltas were made.
Status ChargeQuota(soci::session& s, bool pg, const QuotaCharge& charge, Store::QuotaReservation* over);
// Commits reservations: their deltas move from reserved to in_use and the rows go. Reservations
// no longer there (expired and rolled back) are skipped.
void CommitReservationRows(soci::session& s, bool pg, const std::vector<std::string>& ids);
// Rolls back reservations (reserved goes down by what they held); settled ones are skipped.
void RollbackReservationRows(soci::session& s, bool pg, const std::vector<std::string>& ids);

// Statuses in which a volume's operation holds quota reservations (reservations.volume_id):
// "extending" (the growth) and "retyping" (the per-type moves).
bool HoldsReservations(const std::string& status);
// Makes `ids` the reservations that volume `volume_id`'s operation in flight holds.
void HoldReservations(soci::session& s, const std::string& volume_id, const std::vector<std::string>& ids);
// Rolls back whatever volume `volume_id`'s operation still holds: for every change that moves
// the volume out of a status that holds reservations other than the operation's own success.
// Image metadata (image_metadata.cc) as Cinder's volume manager carries it along: a snapshot
// of a bootable volume gets a copy of the volume's; a volume made from a bootable volume, or
// from a snapshot of one, becomes bootable and gets a copy of its source's; a deleted snapshot's
// copy is deleted. Each runs in the transaction of the change it belongs to.
void CopyImageMetadataToSnapshot(soci::session& s, const std::string& snapshot_id, const std::string& volume_id,
                                 const std::string& now);
void InheritImageMetadata(soci::session& s, const Volume& v);
// A volume's row, its metadata and inherited image metadata (Store::InsertVolume without the
// quota), iff its snapshot, source volume and group are still usable (FailedPrecondition).
Status InsertVolumeRow(soci::session& s, const Volume& v);
void DeleteSnapshotImageMetadata(soci::session& s, const std::string& snapshot_id, const std::string& now);
void ReleaseHeldReservations(soci::session& s, bool pg, const std::string& volume_id);

}  // namespace db

using db::Exec;
using db::Query;

// What every PostgreSQL session of the store sets when it connects: warnings only, and random
// reads costed at about sequential ones (Cinder's tables stay in memory and every query is an
// indexed lookup or an ordered page), so that a page of a list is read in index order rather
// than by reading and sorting the whole project (a server configured lower keeps its value).
inline void PgSessionSettings(soci::session& s) {
  Exec(s, "SET client_min_messages TO WARNING");
  Exec(s,
       "DO $$BEGIN PERFORM set_config('random_page_cost', CAST(LEAST(CAST(current_setting('random_page_cost') AS "
       "float8), 1.1) AS text), false); END$$");
}

// What a database failure answers. The driver's text goes to the log only (it may quote SQL or
// values): the database out of reach (a restart, a dropped connection, SQLite locked past its
// busy timeout) is Unavailable, which the API answers 503 and a client retries; a unique index
// refusing a row is AlreadyExists (a concurrent request made it first); anything else Internal.
inline Status DatabaseError(const std::string& what) {
  static const char* const kUnreachable[] = {"server closed the connection",
                                             "could not connect",
                                             "Connection refused",
                                             "terminating connection",
                                             "the database system is",
                                             "no connection to the server",
                                             "connection to server",
                                             "not currently accepting",
                                             "could not send data",
                                             "could not receive data",
                                             "SSL connection has been closed",
                                             "Cannot establish connection",
                                             "Session is not connected",
                                             "database is locked"};
  for (const char* m : kUnreachable) {
    if (what.find(m) != std::string::npos) {
      CINDER_LOG(kWarning, "cinder-db") << "database unavailable: " << what;
      NoteDatabaseUnreachable();
      return Unavailable("The server is currently unavailable. Please try again at a later time.");
    }
  }
  if (what.find("UNIQUE constraint") != std::string::npos || what.find("unique constraint") != std::string::npos) {
    return AlreadyExists("A concurrent request created the same resource first (unique constraint).");
  }
  CINDER_LOG(kError, "cinder-db") << "database error: " << what;
  return Internal("database error");
}

struct Store::Impl {
  bool pg = false;
  std::unique_ptr<soci::connection_pool> pool;
  std::size_t pool_size = 0;
  // Volume lists with the generation they were read at (volumes.cc, db/list_cache.h).
  db::ListCache list_cache;

  ~Impl() {  // before the pool closes the connections
    if (!pool) return;
    for (std::size_t i = 0; i < pool_size; ++i) {
      if (pg) {
        db::pg::Forget(pool->at(i));
      } else {
        db::sqlite::Forget(pool->at(i));
      }
    }
  }

  // Reads the volumes of `q` (a SELECT of kVolumeColumns) with their metadata (volumes.cc).
  // `expected`: how many rows the query may give at most (a page's limit), to size the result
  // once instead of growing it (a Volume is 768 bytes).
  std::vector<Volume> FetchVolumes(soci::session& s, const Query& q, size_t expected = 0);
  void AttachMetadata(soci::session& s, const std::vector<Volume*>& vols);
  // A page of a list of volumes (Store::ListVolumes without the cache), on `s`.
  Result<VolumeList> ReadVolumeList(soci::session& s, const VolumeListQuery& lq, const ProjectScope& scope,
                                    const db::SqlSort& sort, int64_t limit);
  // Fills the `attachments` of `vols` with their attached rows (attachments.cc).
  void AttachAttachments(soci::session& s, const std::vector<Volume*>& vols);

  // A leased connection; the lease returns on destruction.
  struct Lease {
    explicit Lease(soci::connection_pool& p) : session(p) {}
    soci::session session;
  };

  // After a failure on PostgreSQL: reconnects the session if the server dropped it (a restart,
  // a terminated backend); returns whether the operation should be tried again.
  bool Reconnect(soci::session& s) {
    if (!pg) return false;
    try {
      if (s.is_connected()) return false;
      db::pg::Forget(s);
      s.reconnect();
      PgSessionSettings(s);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // Runs `fn` in a write transaction (BEGIN IMMEDIATE on SQLite, so that two writers never
  // deadlock on a lock upgrade) and converts database exceptions into a Status.
  template <typename Fn>
  Status Tx(Fn fn) {
    for (int attempt = 0;; ++attempt) {
      Lease l(*pool);
      try {
        Exec(l.session, pg ? "BEGIN" : "BEGIN IMMEDIATE");
        try {
          Status st = fn(l.session);
          Exec(l.session, st.ok() ? "COMMIT" : "ROLLBACK");
          return st;
        } catch (...) {
          try {
            Exec(l.session, "ROLLBACK");
          } catch (...) {
          }
          throw;
        }
      } catch (const std::exception& e) {
        if (attempt == 0 && Reconnect(l.session)) continue;
        // PostgreSQL chose this transaction to break a deadlock (40P01) or a serialization
        // conflict (40001): it was rolled back whole, so it runs again.
        const std::string what = e.what();
        if (pg && attempt < 4 &&
            (what.find("deadlock detected") != std::string::npos ||
             what.find("could not serialize") != std::string::npos)) {
          continue;
        }
        return DatabaseError(what);
      }
    }
  }

  // Runs `fn` on a leased connection (autocommit), converting exceptions.
  template <typename T, typename Fn>
  Result<T> Run(Fn fn) {
    for (int attempt = 0;; ++attempt) {
      Lease l(*pool);
      try {
        return fn(l.session);
      } catch (const std::exception& e) {
        if (attempt == 0 && Reconnect(l.session)) continue;
        return DatabaseError(e.what());
      }
    }
  }
};

}  // namespace cinder

#endif  // CINDER_DB_STORE_IMPL_H_
