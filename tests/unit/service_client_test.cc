// cinder::ServiceClient: the API side of a distributed deployment in this process. The test
// runs a deployment's cinder-scheduler and cinder-volume as the daemons do (RunSchedulerService,
// RunVolumeService), each on a thread of its own, sharing a SQLite database and reaching each
// other over ZeroMQ with CURVE, the services table as their directory; the client joins them.
#include <doctest/doctest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "cinder/options.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "rpc/transport_key.h"
#include "test_util.h"

namespace cinder {
namespace {

using testing::TempDir;
using Clock = std::chrono::steady_clock;

// A daemon's Run*Service on a thread, stopped as the daemon is: SIGTERM, which its thread
// takes with sigwait. The stop signals are blocked in the threads from their start (they
// inherit the mask of the thread that made them), so a signal sent early waits for sigwait.
class DaemonThread {
 public:
  DaemonThread(std::function<Status(const Options&)> run, Options options) {
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    thread_ = std::thread([this, run = std::move(run), options = std::move(options)] {
      status_ = run(options);
      exited_ = true;
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~DaemonThread() { (void)Stop(); }
  // Stops the service (if it still runs) and returns what its Run*Service returned.
  Status Stop() {
    if (thread_.joinable()) {
      if (!exited_) pthread_kill(thread_.native_handle(), SIGTERM);
      thread_.join();
    }
    return status_;
  }
  bool exited() const { return exited_; }
  const Status& status() const { return status_; }

 private:
  std::thread thread_;
  std::atomic<bool> exited_{false};
  Status status_;
};

Options DeploymentOptions(const std::string& dir, const std::string& key_file, const std::string& db_url) {
  const std::string conf =
      "[DEFAULT]\nhost = sctest\nstate_path = " + dir + "/state\ntransport_key_file = " + key_file +
      "\nreport_interval = 1\nosapi_volume_listen_port = 0\nenabled_backends = file\n"
      "[database]\nconnection = " +
      db_url + "\n[file]\nvolume_driver = file\nvolume_backend_name = file\nfile_volume_directory = " + dir +
      "/volumes\n";
  auto o = ParseConfig(conf, "service_client_test");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  return *o;
}

// Polls `done` until it holds or `seconds` pass.
bool Eventually(const std::function<bool()>& done, int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// The flow of the first case, on the database at `db_url` (schema synced here).
void CreateAndDeleteThroughADeployment(const std::string& dir, const std::string& key_file, const std::string& db_url) {
  CAPTURE(db_url);
  const Options o = DeploymentOptions(dir, key_file, db_url);
  REQUIRE(DbSync(o).ok());

  DaemonThread scheduler(RunSchedulerService, o);
  DaemonThread volume(RunVolumeService, o);
  auto client = ServiceClient::Connect(o);
  REQUIRE_MESSAGE(client.ok(), client.status().ToString());
  VolumeManager& vm = (*client)->volumes();
  const RequestContext ctx = RequestContext::Admin("u", "p");

  // Up once both have registered in the services table and reported.
  bool up = Eventually(
      [&] {
        auto s = vm.ListServices(ctx, std::nullopt, std::nullopt);
        if (!s.ok()) return false;
        int n = 0;
        for (const auto& sv : *s) n += sv.up && (sv.binary == "cinder-scheduler" || sv.binary == "cinder-volume");
        return n == 2;
      },
      20);
  REQUIRE_MESSAGE(up, "scheduler: " << scheduler.status().ToString() << ", volume: " << volume.status().ToString());

  VolumeCreate req;
  req.size = 1;
  req.name = "remote";
  auto created = vm.CreateVolume(ctx, req);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->status == "creating");
  const std::string id = created->id;
  Volume v;
  REQUIRE(Eventually(
      [&] {
        auto r = vm.GetVolume(ctx, id);
        if (r.ok()) v = *r;
        return r.ok() && r->status != "creating";
      },
      30));
  CHECK(v.status == "available");
  CHECK(v.host == "sctest@file#file");
  CHECK(v.size == 1);
  auto path = vm.LocalPath(ctx, id);  // answered by the volume host, over the transport
  REQUIRE(path.ok());
  CHECK(path->find(dir + "/volumes/") == 0);

  REQUIRE(vm.DeleteVolume(ctx, id, false, false).ok());
  CHECK(Eventually([&] { return vm.GetVolume(ctx, id).status().code() == Code::kNotFound; }, 30));
  auto left = vm.ListVolumes(ctx, VolumeListQuery{});
  REQUIRE(left.ok());
  CHECK(left->volumes.empty());

  (*client)->Stop();
  CHECK(scheduler.Stop().ok());
  CHECK(volume.Stop().ok());
}

TEST_CASE("ServiceClient: a joined deployment creates and deletes a volume on its volume host") {
  TempDir keys;
  const std::string key_file = keys.path() + "/transport.key";
  REQUIRE(rpc::WriteTransportKey(key_file, testing::TestTransportKey()).ok());
  TempDir db_dir;
  for (const std::string& url : testing::DatabaseUrls(db_dir.path())) {
    TempDir dir;  // a deployment's state of its own per database
    CreateAndDeleteThroughADeployment(dir.path(), key_file, url);
  }
}

TEST_CASE("ServiceClient: options naming a database out of reach give a clear error") {
  TempDir dir;
  const std::string key_file = dir.path() + "/transport.key";
  REQUIRE(rpc::WriteTransportKey(key_file, testing::TestTransportKey()).ok());
  SUBCASE("PostgreSQL that does not answer") {
    const Options o = DeploymentOptions(dir.path(), key_file, "postgresql://cinder@127.0.0.1:1/cinder");
    auto client = ServiceClient::Connect(o);
    REQUIRE_FALSE(client.ok());
    INFO(client.status().ToString());
    CHECK(client.status().code() == Code::kUnavailable);
    CHECK(client.status().message().find("127.0.0.1") != std::string::npos);
  }
  SUBCASE("a SQLite file in a directory that does not exist") {
    const Options o = DeploymentOptions(dir.path(), key_file, "sqlite:///" + dir.path() + "/none/cinder.sqlite");
    auto client = ServiceClient::Connect(o);
    REQUIRE_FALSE(client.ok());
    INFO(client.status().ToString());
    CHECK(client.status().message().find(dir.path() + "/none/cinder.sqlite") != std::string::npos);
  }
  SUBCASE("a database whose schema was never synced") {
    const Options o = DeploymentOptions(dir.path(), key_file, "sqlite:///" + dir.path() + "/empty.sqlite");
    auto client = ServiceClient::Connect(o);
    REQUIRE_FALSE(client.ok());
    INFO(client.status().ToString());
    CHECK(client.status().message().find("db sync") != std::string::npos);
  }
}

}  // namespace
}  // namespace cinder
