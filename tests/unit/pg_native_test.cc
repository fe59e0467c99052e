// PostgreSQL statements on the session's own libpq connection (db/pg_native.h), against the
// cluster the ctest fixture started.
#include <doctest/doctest.h>

#include <string>

#include <soci/soci.h>

#include "db/pg_native.h"
#include "test_util.h"

namespace cinder::db {

namespace {

Query Q(std::string sql, std::vector<std::string> params = {}) { return Query{std::move(sql), std::move(params)}; }

std::string One(soci::session& s, const Query& q) {
  pg::Rows rows = pg::Run(s, q);
  REQUIRE(rows.size() == 1);
  return std::string(rows.Text(0, 0));
}

// "postgresql://user@host:port/db?..." as the key=value string SOCI's backend takes.
std::string ConnString(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('?'));
  const size_t at = rest.find('@'), colon = rest.find(':', at), slash = rest.find('/', at);
  return "user=" + rest.substr(0, at) + " host=" + rest.substr(at + 1, colon - at - 1) +
         " port=" + rest.substr(colon + 1, slash - colon - 1) + " dbname=" + rest.substr(slash + 1) +
         " gssencmode=disable";
}

}  // namespace

TEST_CASE("placeholders are numbered for libpq outside literals, identifiers and casts") {
  CHECK(pg::Numbered("SELECT a FROM t WHERE b = :p0 AND c = :p1") == "SELECT a FROM t WHERE b = $1 AND c = $2");
  CHECK(pg::Numbered("x = :p10 OR y = :p9") == "x = $11 OR y = $10");
  CHECK(pg::Numbered("SELECT ':p0', 'it''s :p1', \"col:p2\", z::text, :p3::int") ==
        "SELECT ':p0', 'it''s :p1', \"col:p2\", z::text, $4::int");
  CHECK(pg::Numbered("DO $$BEGIN PERFORM ':p0'; END$$; SELECT :p1") == "DO $$BEGIN PERFORM ':p0'; END$$; SELECT $2");
  CHECK(pg::Numbered("a = :name, b = :p") == "a = :name, b = :p");
  CHECK(pg::Numbered("'unterminated :p0") == "'unterminated :p0");
}

TEST_CASE("PostgreSQL statements are prepared once per connection and survive what a connection goes through") {
  std::string base = testing::PostgresUrl();
  if (base.empty()) return;  // outside ctest: no cluster (under ctest the fixture always runs)
  soci::session s("postgresql", ConnString(testing::FreshPostgresDatabase(base)));
  REQUIRE(pg::IsPostgres(s));
  pg::Run(s, Q("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)"));

  SUBCASE("the same text runs again from its prepared statement, NULLs and changed rows read back") {
    for (int i = 0; i < 20; ++i) {
      CHECK(pg::Run(s, Q("INSERT INTO kv (k, v) VALUES (:p0, :p1)", {std::to_string(i), "v"})).Affected() == 1);
    }
    CHECK(pg::Run(s, Q("UPDATE kv SET v = NULL WHERE k <> :p0", {"3"})).Affected() == 19);
    pg::Rows rows = pg::Run(s, Q("SELECT k, v FROM kv WHERE k = :p0 OR k = :p1 ORDER BY k", {"3", "4"}));
    REQUIRE(rows.size() == 2);
    CHECK(rows.Text(0, 0) == "3");
    CHECK(rows.Optional(0, 1) == std::optional<std::string>("v"));
    CHECK(rows.IsNull(1, 1));
    CHECK_FALSE(rows.Optional(1, 1).has_value());
    // INSERT, UPDATE, SELECT, and this count: one prepared statement each, however often run.
    CHECK(One(s, Q("SELECT COUNT(*) FROM pg_prepared_statements")) == "4");
  }

  SUBCASE("a statement prepared in a transaction that rolled back still runs") {
    pg::Run(s, Q("BEGIN"));
    CHECK(One(s, Q("SELECT CAST(:p0 AS int) + 1", {"41"})) == "42");
    pg::Run(s, Q("ROLLBACK"));
    CHECK(One(s, Q("SELECT CAST(:p0 AS int) + 1", {"1"})) == "2");
  }

  SUBCASE("an error is PostgreSQL's message, and the connection goes on") {
    pg::Run(s, Q("INSERT INTO kv (k, v) VALUES (:p0, :p1)", {"dup", "1"}));
    try {
      pg::Run(s, Q("INSERT INTO kv (k, v) VALUES (:p0, :p1)", {"dup", "2"}));
      FAIL("a duplicate key was accepted");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("duplicate key value violates unique constraint") != std::string::npos);
    }
    CHECK_THROWS_AS(pg::Run(s, Q("SELECT nothing FROM nowhere WHERE x = :p0", {"1"})), std::runtime_error);
    CHECK(One(s, Q("SELECT v FROM kv WHERE k = :p0", {"dup"})) == "1");
  }

  SUBCASE("a connection that prepared its share still runs new statements") {
    for (int i = 0; i < 300; ++i) {
      CHECK(One(s, Q("SELECT CAST(:p0 AS int) + " + std::to_string(i), {"1"})) == std::to_string(i + 1));
    }
    CHECK(std::stoi(One(s, Q("SELECT COUNT(*) FROM pg_prepared_statements"))) <= 300);
  }

  SUBCASE("after a reconnect, statements are prepared again on the new connection") {
    CHECK(One(s, Q("SELECT CAST(:p0 AS int) * 2", {"21"})) == "42");
    pg::Forget(s);
    s.reconnect();
    CHECK(One(s, Q("SELECT CAST(:p0 AS int) * 2", {"5"})) == "10");
  }
}

}  // namespace cinder::db
