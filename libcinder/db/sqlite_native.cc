#include "db/sqlite_native.h"

#include <map>
#include <mutex>

namespace cinder::db::sqlite {

namespace {

constexpr size_t kMaxKept = 128;  // per connection: varied filters must not grow it forever

std::mutex registry_mu;
std::map<sq::sqlite3*, std::map<std::string, sq::sqlite3_stmt*>> registry;  // guarded by registry_mu

sq::sqlite3* Conn(soci::session& s) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
  if (backend == nullptr) throw std::runtime_error("Session is not connected.");
  return backend->conn_;
}

// Schema changes run once: not worth a place in the cache.
bool Kept(const std::string& sql) {
  return sql.compare(0, 7, "CREATE ") != 0 && sql.compare(0, 6, "ALTER ") != 0 && sql.compare(0, 5, "DROP ") != 0;
}

sq::sqlite3_stmt* Prepare(sq::sqlite3* db, const std::string& sql) {
  sq::sqlite3_stmt* st = nullptr;
  if (sq::sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK) Fail(db);
  return st;
}

}  // namespace

bool IsSqlite(soci::session& s) { return s.get_backend() != nullptr && s.get_backend_name() == "sqlite3"; }

void Fail(sq::sqlite3* db) { throw std::runtime_error(std::string("sqlite: ") + sq::sqlite3_errmsg(db)); }

Statement::Statement(soci::session& s, const std::string& sql) : db_(Conn(s)), stmt_(nullptr), owned_(!Kept(sql)) {
  if (owned_) {
    stmt_ = Prepare(db_, sql);
    return;
  }
  std::lock_guard<std::mutex> l(registry_mu);
  auto& stmts = registry[db_];
  auto it = stmts.find(sql);
  if (it != stmts.end()) {
    stmt_ = it->second;
    return;
  }
  if (stmts.size() >= kMaxKept) {  // this connection runs no other statement now: drop them all
    for (auto& [text, st] : stmts) sq::sqlite3_finalize(st);
    stmts.clear();
  }
  stmt_ = Prepare(db_, sql);
  stmts.emplace(sql, stmt_);
}

Statement::~Statement() {
  if (owned_) {
    sq::sqlite3_finalize(stmt_);
  } else {
    sq::sqlite3_reset(stmt_);
    sq::sqlite3_clear_bindings(stmt_);
  }
}

void Bind(const Statement& st, const Query& q) {
  for (size_t i = 0; i < q.params.size(); ++i) {
    const std::string name = ":p" + std::to_string(i);
    int idx = sq::sqlite3_bind_parameter_index(st.get(), name.c_str());
    if (idx == 0) idx = static_cast<int>(i) + 1;  // positional (?) parameters
    sq::sqlite3_bind_text(st.get(), idx, q.params[i].data(), static_cast<int>(q.params[i].size()), SQLITE_STATIC);
  }
}

void Forget(soci::session& s) {
  if (!IsSqlite(s)) return;
  std::lock_guard<std::mutex> l(registry_mu);
  auto it = registry.find(Conn(s));
  if (it == registry.end()) return;
  for (auto& [text, st] : it->second) sq::sqlite3_finalize(st);
  registry.erase(it);
}

}  // namespace cinder::db::sqlite
