// The SQL helpers every table of the Store uses: queries with bound text parameters, and
// keyset paging. Internal to libcinder/db (SOCI stays in this folder).
#ifndef CINDER_DB_SQL_H_
#define CINDER_DB_SQL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cinder/status.h"
#include "cinder/volume.h"

#include <soci/soci.h>

namespace cinder::db {

using Row = std::vector<std::optional<std::string>>;

// A query under construction: SQL text plus its positional parameters (all bound as text;
// both SQLite and PostgreSQL convert them by the column they are compared with).
struct Query {
  std::string sql;
  std::vector<std::string> params;
  // Appends a placeholder for `v` and returns it.
  std::string P(std::string v) {
    params.push_back(std::move(v));
    return ":p" + std::to_string(params.size() - 1);
  }
  // A placeholder for `v`, or NULL when it is absent.
  std::string Opt(const std::optional<std::string>& v) { return v ? P(*v) : std::string("NULL"); }
  std::string In(const std::vector<std::string>& values) {
    std::string out = "(";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + P(values[i]);
    return out + ")";
  }
};

// Binds q's parameters by name to a statement being prepared from q.sql.
void BindAll(soci::details::prepare_temp_type& p, const Query& q);
std::vector<Row> Select(soci::session& s, const Query& q);
// Runs a statement; returns the number of rows it changed.
long long Exec(soci::session& s, const Query& q);
long long Exec(soci::session& s, const std::string& sql);
int64_t ToInt(const std::optional<std::string>& v);
// Writes the key/value metadata of row `id` into `table` (volume_metadata / volume_id,
// snapshot_metadata / snapshot_id): with `replace`, live keys not in `metadata` are marked
// deleted; each key is one upsert on the live-key index, so concurrent writers of a new key
// cannot collide.
void WriteMetadata(soci::session& s, const std::string& table, const std::string& id_column, const std::string& id,
                   const Metadata& metadata, bool replace);
// Reads the key/value metadata of `rows` from `table` (snapshot_metadata / snapshot_id,
// backup_metadata / backup_id) in one query, into each row's `metadata` (rows are matched by
// their `id`; a row without live metadata keeps what it had). The volumes' own reader
// (Store::Impl::AttachMetadata) stays separate: it reads only the rows flagged as having
// metadata and binds natively on each backend, for the list's speed.
template <typename T>
void ReadMetadata(soci::session& s, const std::string& table, const std::string& id_column, std::vector<T>* rows) {
  if (rows->empty()) return;
  std::vector<std::string> ids;
  ids.reserve(rows->size());
  for (const T& r : *rows) ids.push_back(r.id);
  Query q;
  q.sql =
      "SELECT " + id_column + ", key, value FROM " + table + " WHERE deleted = 0 AND " + id_column + " IN " + q.In(ids);
  std::map<std::string, Metadata> by_id;
  for (const Row& r : Select(s, q)) by_id[r[0].value_or("")][r[1].value_or("")] = r[2].value_or("");
  for (T& r : *rows) {
    auto it = by_id.find(r.id);
    if (it != by_id.end()) r.metadata = std::move(it->second);
  }
}
// The name of the volume type `type_id` ("" for none), its row share-locked on PostgreSQL for
// the rest of the transaction: per-type quota resources carry the name, and a rename (which
// moves them) then waits, or has finished, before they are counted.
std::string LockedTypeName(soci::session& s, bool pg, const std::string& type_id);
// Locks the live row `id` of `table` for the rest of the transaction (FOR UPDATE on PostgreSQL;
// SQLite's write transactions run one at a time); false when there is no such row. Checks made
// by later statements then see whatever committed before the lock was granted.
bool LockRow(soci::session& s, bool pg, const std::string& table, const std::string& id);

// One resolved sort: SQL expression (NULLs read as something comparable), ascending.
using SqlSort = std::vector<std::pair<std::string, bool>>;

// Cinder's process_sort_params: the requested keys, then `defaults` not already requested, in
// the first key's direction (`defaults` descending when nothing was requested); each key
// mapped through `columns`. InvalidArgument names an unknown key.
Result<SqlSort> ResolveSort(const std::vector<SortKey>& requested, const std::map<std::string, std::string>& columns,
                            const std::vector<std::string>& defaults);

// Keyset paging after a marker: `marker_values` are the marker row's values of `sort`;
// returns the condition "k1 >= v1 AND ((k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...)" (flipped
// for descending; the first term, implied by the rest, lets an index on k1 start at the marker).
std::string SeekAfter(Query* q, const SqlSort& sort, const Row& marker_values);
// " ORDER BY k1 ASC, k2 DESC ..."
std::string OrderBy(const SqlSort& sort);

// " AND (column op t1 OR column op t2 ...)" for a time filter (Cinder ORs a field's
// comparisons); "" when `times` is empty. The ops are gt, gte, eq, neq, lt, lte.
std::string TimeFilter(Query* q, const std::string& column, const std::vector<TimeComparison>& times);
// Marks `table`'s live row `id` "deleting" (from one of `expected`; any status when empty) and,
// when it changed, every live row of `members` whose `fk` names it: a group's volumes, a
// group snapshot's snapshots. Inside the caller's transaction; true when the row changed.
bool MarkDeleting(soci::session& s, const std::string& table, const std::string& id,
                  const std::vector<std::string>& expected, const std::string& members, const std::string& fk);
// The cluster of the cinder-volume service holding `host` (host@backend[#pool]), as a scalar
// subquery: NULL when the service is in none, or the host is empty.
std::string ClusterOfHost(Query* q, const std::string& host);
// " AND column LIKE '%value%'" (Cinder's `key~` filters, case-insensitive on both databases as
// on MySQL; '%' and '_' in `value` match as in Cinder, which does not escape them).
std::string LikeFilter(Query* q, bool pg, const std::string& column, const std::string& value);

}  // namespace cinder::db

#endif  // CINDER_DB_SQL_H_
