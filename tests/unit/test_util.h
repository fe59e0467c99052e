// Helpers shared by the unit tests: temporary folders and the test databases.
#ifndef CINDER_TESTS_UNIT_TEST_UTIL_H_
#define CINDER_TESTS_UNIT_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cinder::testing {

// A fresh directory, removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cinder-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(mkdtemp(buf.data()) != nullptr);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The PostgreSQL URL the ctest fixture started (scripts/pg-harness.sh), or "" when these
// tests run outside ctest. Under ctest a missing cluster is a failure, not a skip.
inline std::string PostgresUrl() {
  const char* file = std::getenv("CINDER_TEST_PG_URL_FILE");
  if (!file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  REQUIRE_MESSAGE(!url.empty(), "CINDER_TEST_PG_URL_FILE is set but " << file << " has no URL");
  return url;
}

// A new, empty database in the test cluster (through psql); returns its URL.
inline std::string FreshPostgresDatabase(const std::string& base_url) {
  static int counter = 0;
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  std::string cmd = "psql -q '" + base_url + "' -c 'CREATE DATABASE " + name + "' >/dev/null";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "cannot create database: " << cmd);
  return base_url.substr(0, base_url.rfind('/') + 1) + name;
}

// The database URLs every store test runs against: a SQLite file in `dir`, and a fresh
// PostgreSQL database when the harness started one.
inline std::vector<std::string> DatabaseUrls(const std::string& dir) {
  std::vector<std::string> urls = {"sqlite:///" + dir + "/cinder.sqlite"};
  std::string pg = PostgresUrl();
  if (!pg.empty()) urls.push_back(FreshPostgresDatabase(pg));
  return urls;
}

}  // namespace cinder::testing

#endif  // CINDER_TESTS_UNIT_TEST_UTIL_H_
