// Helpers shared by the unit tests: temporary folders, the test databases, scratch mounts.
#ifndef CINDER_TESTS_UNIT_TEST_UTIL_H_
#define CINDER_TESTS_UNIT_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api/http.h"
#include "cinder/service.h"
#include "cinder/transport.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/store.h"
#include "rpc/transport_key.h"

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

// The Store at `url` with the schema migrated to the latest version.
inline std::unique_ptr<Store> OpenMigratedStore(const std::string& url) {
  auto s = Store::Open(url);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  REQUIRE((*s)->Migrate().ok());
  return std::move(s).value();
}

// Runs `cmd` through the shell; returns its exit status (-1 if it could not run) and puts what
// it printed (stdout and stderr) in *output.
inline int RunShell(const std::string& cmd, std::string* output) {
  output->clear();
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int rc = ::pclose(p);
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// A file system of its own for one test, mounted on a fresh directory, and unmounted (its loop
// device detached) at the end of the scope even when the test fails. Needs root and the tools:
// when they are missing, unavailable() says why and the test should skip with a MESSAGE; a
// setup step that fails anyway is in error().
class ScratchMount {
 public:
  enum Kind {
    kXfsReflink,  // XFS with reflink (mkfs.xfs -m reflink=1) on a sparse image on a loop device
    kTmpfs,       // tmpfs: nothing shared, no loop device
  };

  ScratchMount(Kind kind, int64_t size_mb) {
    if (::geteuid() != 0) {
      unavailable_ = "needs root (mount, loop devices)";
      return;
    }
    std::string out;
    const char* tools = kind == kXfsReflink ? "losetup mkfs.xfs mount umount" : "mount umount";
    if (RunShell(std::string("for t in ") + tools + "; do command -v $t >/dev/null || echo $t; done", &out) != 0 ||
        !out.empty()) {
      unavailable_ = "missing tools: " + out;
      return;
    }
    if (kind == kXfsReflink && ::access("/dev/loop-control", F_OK) != 0) {
      unavailable_ = "no loop devices (/dev/loop-control is missing)";
      return;
    }
    mount_point_ = dir_.path() + "/mnt";
    std::filesystem::create_directory(mount_point_);
    std::string source = "tmpfs";
    std::string options = "-t tmpfs -o size=" + std::to_string(size_mb) + "m";
    if (kind == kXfsReflink) {
      const std::string image = dir_.path() + "/xfs.img";
      if (!Run("truncate -s " + std::to_string(size_mb) + "M " + image, &out)) return;
      if (!Run("losetup --find --show " + image, &out)) return;
      loop_device_ = out.substr(0, out.find('\n'));
      if (!Run("mkfs.xfs -q -K -m reflink=1 " + loop_device_, &out)) return;
      source = loop_device_;
      options = "-t xfs";
    }
    if (!Run("mount " + options + " " + source + " " + mount_point_, &out)) return;
    mounted_ = true;
  }

  ~ScratchMount() {
    std::string out;
    if (mounted_ && RunShell("umount " + mount_point_, &out) != 0) {
      RunShell("umount -l " + mount_point_, &out);  // still busy: detach it anyway
    }
    if (!loop_device_.empty()) RunShell("losetup -d " + loop_device_, &out);
  }

  ScratchMount(const ScratchMount&) = delete;
  ScratchMount& operator=(const ScratchMount&) = delete;

  bool ok() const { return mounted_; }
  const std::string& unavailable() const { return unavailable_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return mount_point_; }

 private:
  bool Run(const std::string& cmd, std::string* out) {
    if (RunShell(cmd, out) == 0) return true;
    error_ = "'" + cmd + "' failed: " + *out;
    return false;
  }

  TempDir dir_;  // first in, last out: removed after the unmount
  std::string mount_point_;
  std::string loop_device_;
  bool mounted_ = false;
  std::string unavailable_;
  std::string error_;
};

// Options for an embedded manager under `dir`, on host "testhost".
inline Options ManagerOptions(const std::string& dir) {
  Options o = DefaultOptions(dir);
  o.host = "testhost";
  return o;
}

// Syncs the schema of `o`'s database and opens an embedded VolumeManager on it.
inline std::unique_ptr<VolumeManager> OpenManager(const Options& o, const DriverRegistry* drivers = nullptr) {
  REQUIRE(DbSync(o).ok());
  VolumeManagerOptions vmo;
  vmo.options = o;
  vmo.drivers = drivers;
  auto m = VolumeManager::Open(vmo);
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  return std::move(m).value();
}

// A request for api::Router: `target` is "/path?k=v&...", authenticated by the noauth
// token "user:project"; an empty `version` sends no OpenStack-API-Version header.
inline api::ApiRequest ApiRequestFor(const std::string& method, const std::string& target, const std::string& body,
                                     const std::string& version, const std::string& token) {
  api::ApiRequest req;
  req.method = method;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    for (const auto& kv : Split(target.substr(q + 1), '&')) {
      auto eq = kv.find('=');
      req.query.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
  }
  req.headers["x-auth-token"] = token;
  if (!version.empty()) req.headers["openstack-api-version"] = version;
  req.body = body;
  req.host_url = "http://h:1";
  return req;
}

// The transports every transport case runs over: in process, ZeroMQ in plain TCP, and ZeroMQ
// with CURVE (both ends holding one deployment key).
enum class Wire { kInProcess, kZmq, kZmqCurve };
inline constexpr Wire kEveryWire[] = {Wire::kInProcess, Wire::kZmq, Wire::kZmqCurve};
inline const char* WireName(Wire w) {
  return w == Wire::kInProcess ? "in process" : w == Wire::kZmq ? "zmq" : "zmq+curve";
}

// A deployment key for the tests, made once.
inline const rpc::TransportKey& TestTransportKey() {
  static const rpc::TransportKey key = std::move(rpc::NewTransportKey()).value();
  return key;
}

// ZeroMQ options with the test deployment key (or `key`).
inline ZmqTransportOptions CurveOptions(const rpc::TransportKey& key = TestTransportKey()) {
  ZmqTransportOptions o;
  o.curve_public_key = key.public_key;
  o.curve_secret_key = key.secret_key;
  return o;
}

// A transport pair for the cases every transport must pass: `server` serves, `client` calls;
// the same object in process, two over ZeroMQ on loopback.
struct TransportPair {
  std::unique_ptr<Transport> server_owner, client_owner;
  Transport* server = nullptr;
  Transport* client = nullptr;
  std::shared_ptr<StaticDirectory> directory = std::make_shared<StaticDirectory>();

  explicit TransportPair(bool zmq) : TransportPair(zmq ? Wire::kZmq : Wire::kInProcess) {}
  explicit TransportPair(Wire wire) {
    if (wire == Wire::kInProcess) {
      server_owner = NewInProcessTransport();
      server = client = server_owner.get();
      return;
    }
    ZmqTransportOptions o = wire == Wire::kZmqCurve ? CurveOptions() : ZmqTransportOptions();
    o.directory = directory;
    server_owner = std::move(NewZmqTransport(o)).value();
    client_owner = std::move(NewZmqTransport(o)).value();
    server = server_owner.get();
    client = client_owner.get();
  }
  ~TransportPair() {
    if (client_owner) client_owner->Stop();
    server_owner->Stop();
  }
  void Serve(const std::string& topic, RpcHandler h) {
    auto ep = server->Serve(topic, std::move(h));
    REQUIRE(ep.ok());
    directory->Set(topic, {*ep});
  }
};

}  // namespace cinder::testing

#endif  // CINDER_TESTS_UNIT_TEST_UTIL_H_
