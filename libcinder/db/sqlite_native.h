// SQLite statements run on a SOCI session's own sqlite3 connection, prepared once per
// connection and kept (SOCI's backend prepares every statement anew, and reads an INTEGER column
// as a 32-bit int). Rows are read straight from the statement. Internal to libcinder/db.
#ifndef CINDER_DB_SQLITE_NATIVE_H_
#define CINDER_DB_SQLITE_NATIVE_H_

#include <optional>
#include <stdexcept>
#include <string>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "db/sql.h"

namespace cinder::db::sqlite {

namespace sq = ::sqlite_api;

// Whether `s` is an open SQLite session.
bool IsSqlite(soci::session& s);

// The connection's statement for `sql`: kept per connection (up to 128 texts; DDL is not kept)
// and reset when the returned handle goes. A statement is not re-entrant: run no other query of
// the same text while reading its rows.
class Statement {
 public:
  Statement(soci::session& s, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sq::sqlite3_stmt* get() const { return stmt_; }
  sq::sqlite3* db() const { return db_; }

 private:
  sq::sqlite3* db_;
  sq::sqlite3_stmt* stmt_;
  bool owned_;  // not kept: finalized with this handle
};

// Binds q's parameters (":pN" by name, "?" by position) as text.
void Bind(const Statement& st, const Query& q);
[[noreturn]] void Fail(sq::sqlite3* db);

// Runs `q` on the connection of the SQLite session `s`, calling on_row(stmt) for each row;
// returns the rows an INSERT, UPDATE or DELETE changed (0 for anything else). Throws
// std::runtime_error with SQLite's message.
template <typename Fn>
long long Run(soci::session& s, const Query& q, Fn on_row) {
  Statement st(s, q.sql);
  Bind(st, q);
  while (true) {
    const int rc = sq::sqlite3_step(st.get());
    if (rc == SQLITE_ROW) {
      on_row(st.get());
    } else if (rc == SQLITE_DONE) {
      break;
    } else {
      Fail(st.db());
    }
  }
  return sq::sqlite3_stmt_readonly(st.get()) ? 0 : sq::sqlite3_changes(st.db());
}

// The text of column i (integers in full), nullopt for NULL. One call that takes the
// connection's mutex instead of three (sqlite3_column_type, _text and _bytes each take it): the
// column's value is read unprotected, which is safe because a connection is used by one
// thread at a time (the session pool's lease). A list of 1,000 volumes reads 23,000 columns.
inline std::optional<std::string> Text(sq::sqlite3_stmt* st, int i) {
  sq::sqlite3_value* v = sq::sqlite3_column_value(st, i);
  if (sq::sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  const unsigned char* t = sq::sqlite3_value_text(v);
  return std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sq::sqlite3_value_bytes(v)));
}

// Finalizes the statements kept for the connection of `s` (before it closes).
void Forget(soci::session& s);

}  // namespace cinder::db::sqlite

#endif  // CINDER_DB_SQLITE_NATIVE_H_
