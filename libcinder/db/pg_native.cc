#include "db/pg_native.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>

namespace cinder::db::pg {

// libpq's entry points, taken from the copy SOCI's PostgreSQL backend loaded (the daemons do
// not link libpq: a SQLite deployment never loads it).
struct Pq {
  decltype(&PQprepare) prepare;
  decltype(&PQexecPrepared) exec_prepared;
  decltype(&PQexecParams) exec_params;
  decltype(&PQexec) exec;
  decltype(&PQresultStatus) status;
  decltype(&PQresultErrorMessage) result_error;
  decltype(&PQerrorMessage) conn_error;
  decltype(&PQntuples) ntuples;
  decltype(&PQnfields) nfields;
  decltype(&PQgetvalue) getvalue;
  decltype(&PQgetlength) getlength;
  decltype(&PQgetisnull) getisnull;
  decltype(&PQcmdTuples) cmd_tuples;
  decltype(&PQclear) clear;
  decltype(&PQbackendPID) backend_pid;
};

namespace {

template <typename F>
void Resolve(void* lib, const char* name, F* out) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) throw std::runtime_error(std::string("libpq has no ") + name);
  *out = reinterpret_cast<F>(sym);
}

Pq Load() {
  void* lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) lib = dlopen("libpq.so.5", RTLD_NOW);
  if (lib == nullptr) throw std::runtime_error("cannot load libpq.so.5");
  Pq pq{};
  Resolve(lib, "PQprepare", &pq.prepare);
  Resolve(lib, "PQexecPrepared", &pq.exec_prepared);
  Resolve(lib, "PQexecParams", &pq.exec_params);
  Resolve(lib, "PQexec", &pq.exec);
  Resolve(lib, "PQresultStatus", &pq.status);
  Resolve(lib, "PQresultErrorMessage", &pq.result_error);
  Resolve(lib, "PQerrorMessage", &pq.conn_error);
  Resolve(lib, "PQntuples", &pq.ntuples);
  Resolve(lib, "PQnfields", &pq.nfields);
  Resolve(lib, "PQgetvalue", &pq.getvalue);
  Resolve(lib, "PQgetlength", &pq.getlength);
  Resolve(lib, "PQgetisnull", &pq.getisnull);
  Resolve(lib, "PQcmdTuples", &pq.cmd_tuples);
  Resolve(lib, "PQclear", &pq.clear);
  Resolve(lib, "PQbackendPID", &pq.backend_pid);
  return pq;
}

const Pq& Lib() {
  static const Pq pq = Load();
  return pq;
}

// The session's connection; a session whose reconnect failed has none.
PGconn* Conn(soci::session& s) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  if (backend == nullptr) throw std::runtime_error("Session is not connected.");
  return backend->conn_;
}

// What each connection has prepared: SQL text -> statement name. A connection is keyed by its
// address and its server process, so that a new connection at a reused address starts empty.
using ConnKey = std::pair<PGconn*, int>;
constexpr size_t kMaxPrepared = 256;  // per connection: varied filters must not grow it forever

std::mutex registry_mu;
std::map<ConnKey, std::unordered_map<std::string, std::string>> registry;  // guarded by registry_mu
std::atomic<unsigned long long> next_name{0};

// Statements worth a server-side plan: anything with parameters, and plain queries.
bool Preparable(const Query& q) {
  if (!q.params.empty()) return true;
  return q.sql.compare(0, 7, "SELECT ") == 0 || q.sql.compare(0, 5, "WITH ") == 0;
}

[[noreturn]] void Fail(const Pq& pq, PGconn* c, pg_result* r) {
  std::string msg = r != nullptr ? pq.result_error(r) : pq.conn_error(c);
  if (r != nullptr) pq.clear(r);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  throw std::runtime_error(msg.empty() ? "PostgreSQL request failed" : msg);
}

pg_result* Check(const Pq& pq, PGconn* c, pg_result* r) {
  if (r == nullptr) Fail(pq, c, r);
  const ExecStatusType st = pq.status(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Fail(pq, c, r);
  return r;
}

}  // namespace

bool IsPostgres(soci::session& s) { return s.get_backend() != nullptr && s.get_backend_name() == "postgresql"; }

Rows::~Rows() {
  if (r_ != nullptr) pq_->clear(r_);
}
int Rows::size() const { return pq_->ntuples(r_); }
int Rows::columns() const { return pq_->nfields(r_); }
bool Rows::IsNull(int row, int col) const { return pq_->getisnull(r_, row, col) != 0; }
std::string_view Rows::Text(int row, int col) const {
  return {pq_->getvalue(r_, row, col), static_cast<size_t>(pq_->getlength(r_, row, col))};
}
int64_t Rows::Int(int row, int col) const { return std::strtoll(pq_->getvalue(r_, row, col), nullptr, 10); }
long long Rows::Affected() const { return std::strtoll(pq_->cmd_tuples(r_), nullptr, 10); }

std::string Numbered(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or quoted identifier, doubled quotes inside
      size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      end = std::min(end + 1, sql.size());
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] == '$') {  // $$ ... $$
      const size_t close = sql.find("$$", i + 2);
      const size_t end = close == std::string_view::npos ? sql.size() : close + 2;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {  // a cast
      out.append("::");
      i += 2;
    } else if (c == ':' && i + 2 < sql.size() && sql[i + 1] == 'p' && sql[i + 2] >= '0' && sql[i + 2] <= '9') {
      size_t end = i + 2;
      unsigned long n = 0;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9')
        n = n * 10 + static_cast<unsigned>(sql[end++] - '0');
      out += '$';
      out += std::to_string(n + 1);
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

Rows Run(soci::session& s, const Query& q) {
  const Pq& pq = Lib();
  PGconn* c = Conn(s);
  if (!Preparable(q)) return Rows(pq, Check(pq, c, pq.exec(c, q.sql.c_str())));

  std::vector<const char*> values(q.params.size());
  for (size_t i = 0; i < q.params.size(); ++i) values[i] = q.params[i].c_str();
  const int n = static_cast<int>(values.size());

  std::string name;
  bool prepare = false;
  {
    std::lock_guard<std::mutex> l(registry_mu);
    auto& stmts = registry[{c, pq.backend_pid(c)}];
    auto it = stmts.find(q.sql);
    if (it != stmts.end()) {
      name = it->second;
    } else if (stmts.size() < kMaxPrepared) {
      prepare = true;
      name = "cinder_" + std::to_string(next_name++);
    }
  }
  if (name.empty()) {  // this connection has prepared its share: a one-off statement
    const std::string sql = Numbered(q.sql);
    return Rows(pq, Check(pq, c, pq.exec_params(c, sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)));
  }
  if (prepare) {
    pq.clear(Check(pq, c, pq.prepare(c, name.c_str(), Numbered(q.sql).c_str(), n, nullptr)));
    std::lock_guard<std::mutex> l(registry_mu);
    registry[{c, pq.backend_pid(c)}].emplace(q.sql, name);
  }
  return Rows(pq, Check(pq, c, pq.exec_prepared(c, name.c_str(), n, values.data(), nullptr, nullptr, 0)));
}

void Forget(soci::session& s) {
  if (!IsPostgres(s)) return;
  PGconn* c = Conn(s);
  std::lock_guard<std::mutex> l(registry_mu);
  for (auto it = registry.lower_bound({c, 0}); it != registry.end() && it->first.first == c;) {
    it = registry.erase(it);
  }
}

}  // namespace cinder::db::pg
