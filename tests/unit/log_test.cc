// Logging: oslo.log-shaped lines with the request id, one line per message whatever it holds,
// and no password from a database URL.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/log.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

// Logs through `fn` into a file and returns its lines; stderr again afterwards.
template <typename Fn>
std::vector<std::string> Logged(Fn fn) {
  testing::TempDir dir;
  log::LogOptions lo;
  lo.log_file = dir.path() + "/test.log";
  lo.use_stderr = false;
  REQUIRE(log::Configure(lo).ok());
  fn();
  REQUIRE(log::Configure(log::LogOptions()).ok());
  std::ifstream in(lo.log_file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("a database URL's password is never shown") {
  CHECK(log::RedactUrl("postgresql://cinder:s3cret@db:5432/cinder") == "postgresql://cinder:***@db:5432/cinder");
  CHECK(log::RedactUrl("postgresql://cinder:a/b@c@db/cinder") == "postgresql://cinder:***@db/cinder");
  CHECK(log::RedactUrl("postgresql://cinder@db/cinder") == "postgresql://cinder@db/cinder");
  CHECK(log::RedactUrl("sqlite:////var/lib/cinder/cinder.sqlite") == "sqlite:////var/lib/cinder/cinder.sqlite");
  // A server that is not there: the error names the URL without its password.
  auto store = Store::Open("postgresql://cinder:Pw-n0t-shown@127.0.0.1:1/cinder?connect_timeout=2");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find("Pw-n0t-shown") == std::string::npos);
  CHECK(store.status().message().find("postgresql://cinder:***@127.0.0.1:1/cinder") != std::string::npos);
  auto bad = ParseConfig("[database]\nconnection = mysql://cinder:Pw-n0t-shown@db/cinder\n", "my.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("Pw-n0t-shown") == std::string::npos);
}

TEST_CASE("a line carries its level, service and request id, and stays one line") {
  auto lines = Logged([] {
    log::ScopedRequestId id("req-0a1b2c3d-0000-4000-8000-000000000000");
    CINDER_LOG(kWarning, "cinder-api") << "GET /v3/p/volumes/x\n2026-01-01 00:00:00.000 1 ERROR forged";
    CINDER_LOG(kDebug, "cinder-api") << "not shown without debug";
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" WARNING cinder-api [req-0a1b2c3d-0000-4000-8000-000000000000] GET /v3/p/volumes/x\\x0a2026") !=
        std::string::npos);
}

}  // namespace cinder
