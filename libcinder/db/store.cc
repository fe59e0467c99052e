// The store: opening SQLite or PostgreSQL behind SOCI. Its tables live beside it: schema.cc,
// volumes.cc, snapshots.cc, types.cc, qos.cc, quotas.cc, services.cc, ...
#include "db/store.h"

#include <sys/stat.h>

#include <cctype>
#include <string>

#include "common/log.h"
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

namespace {

// Undoes URL percent-encoding (%40 -> @), as SQLAlchemy does for the parts of a URL.
std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string PgConnString(const std::string& url) {
  // postgresql[+driver]://user:pass@host:port/db?host=/dir&...
  std::string rest = url.substr(url.find("://") + 3);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string userinfo, hostport, db;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    db = rest.substr(slash + 1);
    hostport = rest.substr(0, slash);
  } else {
    hostport = rest;
  }
  auto quote = [](const std::string& encoded) {
    std::string v = PercentDecode(encoded);
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string cs;
  if (!userinfo.empty()) {
    auto colon = userinfo.find(':');
    cs += "user=" + quote(userinfo.substr(0, colon)) + " ";
    if (colon != std::string::npos) cs += "password=" + quote(userinfo.substr(colon + 1)) + " ";
  }
  if (!hostport.empty()) {
    auto colon = hostport.rfind(':');
    cs += "host=" + quote(hostport.substr(0, colon)) + " ";
    if (colon != std::string::npos) cs += "port=" + quote(hostport.substr(colon + 1)) + " ";
  }
  if (!db.empty()) cs += "dbname=" + quote(db) + " ";
  for (const auto& kv : Split(query, '&')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      continue;  // not a libpq parameter name
    }
    cs += key + "=" + quote(kv.substr(eq + 1)) + " ";
  }
  return cs;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& url) {
  auto impl = std::make_unique<Impl>();
  try {
    if (url.rfind("sqlite://", 0) == 0) {
      std::string path = url.substr(std::string("sqlite://").size());
      if (path.empty() || path == "/" || path == "/:memory:") {
        path = ":memory:";
      } else {
        path = path.substr(1);  // sqlite:///rel -> rel, sqlite:////abs -> /abs
      }
      impl->pool_size = path == ":memory:" ? 1 : 4;
      impl->pool = std::make_unique<soci::connection_pool>(impl->pool_size);
      for (std::size_t i = 0; i < impl->pool_size; ++i) {
        soci::session& s = impl->pool->at(i);
        s.open(soci::sqlite3, "db=\"" + path + "\" timeout=30");
        // The database holds transfer keys' hashes and every project's data: its owner's only.
        // SQLite creates the -wal and -shm files with the database file's permissions.
        if (i == 0 && path != ":memory:") ::chmod(path.c_str(), 0600);
        soci::row r;
        s << "PRAGMA journal_mode=WAL", soci::into(r);
        Exec(s, "PRAGMA synchronous=NORMAL");
        // A burst of writes under constant reads grows the WAL past the auto-checkpoint (no
        // moment without a reader lets it restart): 10,000 creates left a WAL of 450-850 MB.
        // When it restarts, it is cut back to this size instead of being kept at its largest.
        s << "PRAGMA journal_size_limit=67108864", soci::into(r);
        Exec(s, "PRAGMA foreign_keys=ON");
      }
    } else if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgresql+", 0) == 0) {
      impl->pg = true;
      impl->pool_size = 4;
      impl->pool = std::make_unique<soci::connection_pool>(impl->pool_size);
      std::string cs = PgConnString(url);
      for (std::size_t i = 0; i < impl->pool_size; ++i) {
        soci::session& s = impl->pool->at(i);
        // By name: SOCI loads its PostgreSQL backend (and libpq with its TLS and Kerberos
        // stacks) only when a PostgreSQL database is used.
        s.open("postgresql", cs);
        PgSessionSettings(s);
      }
    } else {
      return InvalidArgument("unsupported database URL '" + log::RedactUrl(url) +
                             "' (expected sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB)");
    }
  } catch (const std::exception& e) {
    // The URL may carry a password, and libpq's message may quote it: neither reaches a log.
    std::string why = e.what();
    const std::string redacted = log::RedactUrl(url);
    const size_t pw = redacted.find("***");
    if (pw != std::string::npos) {
      const std::string password = url.substr(pw, url.size() - redacted.size() + 3);
      for (size_t at; !password.empty() && (at = why.find(password)) != std::string::npos;) {
        why.replace(at, password.size(), "***");
      }
    }
    return Unavailable("cannot open database '" + log::RedactUrl(url) + "': " + why);
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

}  // namespace cinder
