// PostgreSQL statements run on a SOCI session's own libpq connection: one round trip each,
// prepared once per connection (SOCI's backend prepares, executes and deallocates every
// statement: three round trips and a plan each time). Rows are read as text straight from
// libpq's result. Internal to libcinder/db; libpq is the one SOCI's backend loaded.
#ifndef CINDER_DB_PG_NATIVE_H_
#define CINDER_DB_PG_NATIVE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <soci/soci.h>

#include "db/sql.h"

struct pg_result;  // libpq's PGresult

namespace cinder::db::pg {

struct Pq;  // libpq's entry points (pg_native.cc)

// Whether `s` is an open PostgreSQL session.
bool IsPostgres(soci::session& s);

// The result of one statement: its rows as text (libpq's text format) and the number of rows
// a command changed. Owns libpq's result.
class Rows {
 public:
  Rows(const Pq& pq, pg_result* r) : pq_(&pq), r_(r) {}
  ~Rows();
  Rows(Rows&& o) noexcept : pq_(o.pq_), r_(o.r_) { o.r_ = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Rows& operator=(Rows&&) = delete;

  int size() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  // The value as libpq holds it ("" for NULL); valid while this object lives.
  std::string_view Text(int row, int col) const;
  std::optional<std::string> Optional(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return std::string(Text(row, col));
  }
  int64_t Int(int row, int col) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  long long Affected() const;

 private:
  const Pq* pq_;
  pg_result* r_;
};

// Runs `q` on the connection of the PostgreSQL session `s` (its ":pN" placeholders bound as
// text). A statement with parameters, or a query, is prepared the first time this connection
// sees its text; BEGIN, COMMIT, SET and the like go as they are. Throws std::runtime_error with
// PostgreSQL's message on failure, as SOCI does.
Rows Run(soci::session& s, const Query& q);

// Forgets what was prepared on the connection of `s` (before it is reconnected or closed).
void Forget(soci::session& s);

// ":p0 ... :p1" -> "$1 ... $2", outside quoted strings and identifiers and "::" casts.
std::string Numbered(std::string_view sql);

}  // namespace cinder::db::pg

#endif  // CINDER_DB_PG_NATIVE_H_
