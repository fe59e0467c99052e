// The backup host (backup/backup_service.h) in process: a real SQLite file, the in-process
// transport, the file driver's volume host, the backup engine on a posix store in a temporary
// directory, and the BackupManager that hands work to it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backup/backup_rpc.h"
#include "backup/backup_service.h"
#include "cinder/backup_manager.h"
#include "cinder/volume_manager.h"
#include "common/log.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

namespace fs = std::filesystem;
namespace bs = backup_status;

const RequestContext kCtx = RequestContext::Admin("user", "proj");
constexpr int64_t kMiB = 1 << 20;

// Everything of one backup host and its volume host, in one process.
struct Cluster {
  explicit Cluster(const std::function<void(Options&)>& tweak = {}, bool start_backup = true) {
    o = testing::ManagerOptions(dir.path());
    o.quota_volumes = -1;
    o.quota_gigabytes = -1;
    o.report_interval = 3600;  // no sweep of its own during a case
    if (tweak) tweak(o);
    volumes = testing::OpenManager(o);
    auto* impl = static_cast<VolumeManagerImpl*>(volumes.get());
    store = impl->store();
    transport = impl->transport();
    BackupManagerOptions bmo;
    bmo.options = o;
    bmo.transport = transport;
    bmo.volumes = volumes.get();
    auto m = BackupManager::Open(bmo);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    backups = std::move(m).value();
    if (start_backup) StartBackup();
  }
  ~Cluster() {
    Settle();
    transport->Stop();
    service.reset();
  }

  void StartBackup() {
    auto s = BackupService::Start(o, store, transport, [this](const BackupProgress& p) {
      if (p.bytes_done == p.bytes_total) ++progress_done;
      if (on_progress) on_progress(p);
    });
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    service = std::move(s).value();
  }

  // Until nothing is in flight between the volume host and the backup host.
  void Settle() {
    for (int i = 0; i < 4; ++i) {
      volumes->Drain();
      if (service) service->Drain();
    }
  }

  Volume NewVolume(int64_t size_gb = 1) {
    VolumeCreate c;
    c.size = size_gb;
    c.name = "v";
    auto v = volumes->CreateVolume(kCtx, c);
    REQUIRE_MESSAGE(v.ok(), v.status().ToString());
    Settle();
    auto got = volumes->GetVolume(kCtx, v->id);
    REQUIRE(got.ok());
    REQUIRE(got->status == "available");
    return *got;
  }

  std::string PathOf(const std::string& volume_id) {
    auto p = volumes->LocalPath(kCtx, volume_id);
    REQUIRE(p.ok());
    REQUIRE(!p->empty());
    return *p;
  }

  // Writes `n` bytes of `byte` at `offset` into the volume's file.
  void Write(const std::string& volume_id, int64_t offset, int64_t n, char byte) {
    int fd = ::open(PathOf(volume_id).c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    std::vector<char> buf(n, byte);
    REQUIRE(::pwrite(fd, buf.data(), n, offset) == n);
    ::close(fd);
  }

  // The volume's bytes, as a hash of each MiB (cheap to keep and compare for 1 GiB).
  std::vector<size_t> Bytes(const std::string& volume_id) {
    std::ifstream in(PathOf(volume_id), std::ios::binary);
    std::vector<size_t> out;
    std::vector<char> buf(kMiB);
    while (in.read(buf.data(), kMiB) || in.gcount() > 0) {
      out.push_back(std::hash<std::string_view>{}(std::string_view(buf.data(), in.gcount())));
    }
    return out;
  }

  Backup Create(const std::string& volume_id, bool incremental = false, bool force = false) {
    BackupCreate c;
    c.volume_id = volume_id;
    c.incremental = incremental;
    c.force = force;
    c.name = "b";
    auto b = backups->CreateBackup(kCtx, c);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    Settle();
    return Get(b->id);
  }

  Backup Get(const std::string& id) {
    auto b = store->GetBackup(id, std::nullopt);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    return *b;
  }

  Volume GetVolume(const std::string& id) {
    auto v = volumes->GetVolume(kCtx, id);
    REQUIRE_MESSAGE(v.ok(), v.status().ToString());
    return *v;
  }

  // The files under the backup store (the objects and the JSON files), temporary ones too.
  std::vector<std::string> StoredFiles() {
    std::vector<std::string> out;
    const fs::path root = o.BackupPosixPath();
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
    }
    return out;
  }

  testing::TempDir dir;
  Options o;
  std::unique_ptr<VolumeManager> volumes;
  Store* store = nullptr;
  Transport* transport = nullptr;
  std::unique_ptr<BackupManager> backups;
  std::unique_ptr<BackupService> service;
  std::atomic<int> progress_done{0};  // operations that reported their end
  // Called on the engine's thread with each progress report (set before the work starts): a
  // case may hold the operation there.
  std::function<void(const BackupProgress&)> on_progress;
};

// Holds each operation at its first progress report until Release (or 30 s), and tells when
// one is held.
class Gate {
 public:
  void Hold(const BackupProgress&) {
    std::unique_lock<std::mutex> l(mu_);
    if (passed_) return;
    held_ = true;
    cv_.notify_all();
    cv_.wait_for(l, std::chrono::seconds(30), [this] { return released_; });
    passed_ = true;
  }
  bool WaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(30), [this] { return held_; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }
  ~Gate() { Release(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, released_ = false, passed_ = false;
};

// Logs into a file while alive; its lines read back with Lines().
class LogCapture {
 public:
  LogCapture() {
    log::LogOptions lo;
    lo.log_file = dir_.path() + "/test.log";
    lo.use_stderr = false;
    REQUIRE(log::Configure(lo).ok());
  }
  ~LogCapture() { (void)log::Configure(log::LogOptions()); }
  std::vector<std::string> Lines(const std::string& containing) {
    std::ifstream in(dir_.path() + "/test.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (line.find(containing) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  testing::TempDir dir_;
};

// A row like the API's, "creating" on this host, its volume "backing-up".
Backup InsertCreating(Cluster& c, const Volume& v, const std::string& host = "testhost",
                      const std::string& volume_status = "available") {
  Backup b;
  b.id = NewUuid();
  b.user_id = "user";
  b.project_id = "proj";
  b.volume_id = v.id;
  b.host = host;
  b.availability_zone = "nova";
  b.status = bs::kCreating;
  b.size = v.size;
  b.created_at = NowIso();
  REQUIRE(c.store->InsertBackup(b, {volume_status}).ok());
  return b;
}

}  // namespace

TEST_CASE("backup service: registers cinder-backup in the services table") {
  Cluster c;
  auto svcs = c.store->ListServices(std::string("testhost"), std::string("cinder-backup"));
  REQUIRE(svcs.ok());
  REQUIRE(svcs->size() == 1);
  CHECK((*svcs)[0].topic == "cinder-backup");
}

TEST_CASE("backup service: a full and an incremental backup restore byte-exact, onto an existing and a new volume") {
  Cluster c;
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 3 * kMiB, 'a');
  c.Write(v.id, 700 * kMiB, 64 * 1024, 'b');
  const auto first = c.Bytes(v.id);

  Backup full = c.Create(v.id);
  REQUIRE(full.status == bs::kAvailable);
  CHECK(full.object_count.value_or(0) > 0);
  CHECK(full.service_metadata.has_value());
  CHECK(!full.temp_snapshot_id);
  CHECK(c.GetVolume(v.id).status == "available");
  CHECK(!c.StoredFiles().empty());
  CHECK(c.progress_done > 0);

  c.Write(v.id, 1 * kMiB, 32 * 1024, 'c');  // one changed block
  c.Write(v.id, 900 * kMiB, 5 * kMiB, 'd');
  const auto second = c.Bytes(v.id);
  Backup incr = c.Create(v.id, /*incremental=*/true);
  REQUIRE(incr.status == bs::kAvailable);
  CHECK(incr.parent_id == full.id);
  CHECK(c.Get(full.id).num_dependent_backups == 1);
  CHECK(incr.object_count.value_or(0) < full.object_count.value_or(0) + 3);

  SUBCASE("onto an existing volume, junk included") {
    Volume target = c.NewVolume();
    c.Write(target.id, 0, 8 * kMiB, 'x');
    c.Write(target.id, 950 * kMiB, 1 * kMiB, 'y');
    auto r = c.backups->RestoreBackup(kCtx, incr.id, target.id, std::nullopt);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    c.Settle();
    Volume after = c.GetVolume(target.id);
    CHECK(after.status == "available");
    CHECK(c.Get(incr.id).status == bs::kAvailable);
    CHECK(c.Bytes(target.id) == second);
    CHECK(after.metadata["src_backup_id"] == incr.id);
  }
  SUBCASE("the full backup onto a new volume") {
    auto r = c.backups->RestoreBackup(kCtx, full.id, std::nullopt, std::nullopt);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    c.Settle();
    Volume after = c.GetVolume(r->volume_id);
    CHECK(after.status == "available");
    CHECK(c.Get(full.id).status == bs::kAvailable);
    CHECK(c.Bytes(r->volume_id) == first);
  }
  SUBCASE("the chain onto a new volume, named by the backup's volume") {
    auto r = c.backups->RestoreBackup(kCtx, incr.id, std::nullopt, std::nullopt);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    c.Settle();
    Volume after = c.GetVolume(r->volume_id);
    CHECK(after.status == "available");
    CHECK(c.Get(incr.id).status == bs::kAvailable);
    CHECK(c.Get(incr.id).restore_volume_id.value_or("none") == "none");
    CHECK(c.Bytes(r->volume_id) == second);
    CHECK(after.name == "v");  // restore_backup_<id> takes the source's name (volume_meta)
  }
  SUBCASE("delete removes the objects; the parent only after its incremental") {
    CHECK(!c.backups->DeleteBackup(kCtx, full.id, false).ok());
    REQUIRE(c.backups->DeleteBackup(kCtx, incr.id, false).ok());
    c.Settle();
    REQUIRE(c.backups->DeleteBackup(kCtx, full.id, false).ok());
    c.Settle();
    CHECK(c.store->GetBackup(full.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(c.StoredFiles().empty());
  }
}

// A backup and a restore by a backup host that is not the volume's: the volume host exports the
// volume for it and it opens that with the connector.
static void CrossHostBackupAndRestore(const std::function<void(Options&)>& tweak) {
  Cluster c(tweak);
  // A second backup host: the volume host exports for it ("local" connection_info here, iSCSI
  // with tgtd), and it opens that with the connector.
  Options other = c.o;
  other.host = "otherhost";
  auto s = BackupService::Start(other, c.store, c.transport);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  std::unique_ptr<BackupService> remote = std::move(s).value();
  BackupRpc rpc(c.transport);

  Volume v = c.NewVolume();
  c.Write(v.id, 2 * kMiB, 3 * kMiB, 'r');
  const auto want = c.Bytes(v.id);
  Backup b = InsertCreating(c, v, "otherhost");
  REQUIRE(rpc.CreateBackup(kCtx, "otherhost", b.id).ok());
  auto settle = [&] {
    for (int i = 0; i < 2; ++i) {
      c.Settle();  // the transport first: the cast reaches the remote host's queue
      remote->Drain();
    }
  };
  settle();
  Backup done = c.Get(b.id);
  REQUIRE_MESSAGE(done.status == bs::kAvailable, done.fail_reason.value_or(""));
  CHECK(c.GetVolume(v.id).status == "available");

  // Attached: a forced backup reads a temporary snapshot, exported for the remote host.
  REQUIRE(*c.store->CasVolumeStatus(v.id, {"available"}, "in-use", {{"attach_status", std::string("attached")}}));
  Backup forced = InsertCreating(c, v, "otherhost", "in-use");
  REQUIRE(rpc.CreateBackup(kCtx, "otherhost", forced.id).ok());
  settle();
  Backup forced_done = c.Get(forced.id);
  CHECK_MESSAGE(forced_done.status == bs::kAvailable, forced_done.fail_reason.value_or(""));
  CHECK(!forced_done.temp_snapshot_id);
  CHECK(c.GetVolume(v.id).status == "in-use");
  auto snaps = c.store->SnapshotsOfVolume(v.id);
  REQUIRE(snaps.ok());
  CHECK(snaps->empty());

  Volume target = c.NewVolume();
  c.Write(target.id, 0, 4 * kMiB, 'x');
  REQUIRE(*c.store->StartRestore(b.id, target.id, false) == Store::RestoreStart::kStartedReady);
  REQUIRE(rpc.RestoreBackup(kCtx, "otherhost", HostRestoreBackup{b.id, target.id, false}).ok());
  settle();
  CHECK(c.GetVolume(target.id).status == "available");
  CHECK(c.Bytes(target.id) == want);
  c.transport->Stop();
  remote.reset();
}

// The harness's tgtd (scripts/tgtd-harness.sh, CINDER_TEST_TGTD_DIR under ctest): the backend
// exports over iSCSI through it. Empty when there is none.
static std::function<void(Options&)> HarnessTgtdBackend(std::string* why) {
  const char* dir = std::getenv("CINDER_TEST_TGTD_DIR");
  if (dir == nullptr || fs::exists(std::string(dir) + "/unavailable")) {
    *why = dir ? "tgtd is unavailable" : "CINDER_TEST_TGTD_DIR is not set";
    return {};
  }
  auto read = [&](const char* name) {
    std::ifstream in(std::string(dir) + "/" + name);
    std::string line;
    std::getline(in, line);
    return line;
  };
  const std::string socket = read("socket");
  const int port = std::atoi(read("port").c_str());
  if (socket.empty() || port <= 0) {
    *why = "no running tgtd harness in " + std::string(dir);
    return {};
  }
  return [socket, port](Options& o) {
    for (auto& b : o.backends) {
      b.target_helper = "tgtadm";
      b.target_ip_address = "127.0.0.1";
      b.target_port = port;
      b.tgt_ipc_socket = socket;
      b.volumes_dir = o.state_path + "/targets";
    }
  };
}

TEST_CASE("backup service: a backup host that is not the volume's reads and writes it through an export") {
  SUBCASE("a local export (no target daemon)") {
    CrossHostBackupAndRestore([](Options& o) {
      for (auto& b : o.backends) b.target_helper = "fake";
    });
  }
  SUBCASE("over iSCSI (tgtd)") {
    std::string why;
    auto tgtd = HarnessTgtdBackend(&why);
    if (!tgtd) {
      MESSAGE("skipped: " << why);
      return;
    }
    CrossHostBackupAndRestore(tgtd);
  }
}

TEST_CASE("backup service: a failed backup is error with a reason, the volume available, no objects") {
  Cluster c([](Options& o) { o.backup.compression_algorithm = "lzma"; });
  Volume v = c.NewVolume();
  c.Write(v.id, 0, kMiB, 'a');
  Backup b = c.Create(v.id);
  CHECK(b.status == bs::kError);
  CHECK(b.fail_reason.value_or("").find("lzma") != std::string::npos);
  CHECK(c.GetVolume(v.id).status == "available");
  for (const auto& f : c.StoredFiles()) CHECK_MESSAGE(false, "left behind: " << f);
}

TEST_CASE("backup service: a forced backup of an attached volume reads a temporary snapshot, then removes it") {
  Cluster c;
  Volume v = c.NewVolume();
  c.Write(v.id, 0, kMiB, 'a');
  // Attached (in-use), as os-attach leaves it.
  REQUIRE(*c.store->CasVolumeStatus(v.id, {"available"}, "in-use", {{"attach_status", std::string("attached")}}));
  Backup b = c.Create(v.id, false, /*force=*/true);
  CHECK(b.status == bs::kAvailable);
  CHECK(!b.temp_snapshot_id);
  CHECK(c.GetVolume(v.id).status == "in-use");
  auto snaps = c.store->SnapshotsOfVolume(v.id);
  REQUIRE(snaps.ok());
  CHECK(snaps->empty());
}

TEST_CASE("backup service: a restart fails what was being made and removes its partial objects") {
  Cluster c({}, /*start_backup=*/false);
  Volume v = c.NewVolume();
  Backup b;
  b.id = NewUuid();
  b.user_id = "user";
  b.project_id = "proj";
  b.volume_id = v.id;
  b.host = "testhost";
  b.availability_zone = "nova";
  b.status = bs::kCreating;
  b.size = v.size;
  b.container = "ab/cd/" + b.id;
  b.service_metadata = "volume_" + v.id + "_20260101000000_backup_" + b.id;
  b.created_at = NowIso();
  REQUIRE(c.store->InsertBackup(b, {"available"}).ok());
  CHECK(c.GetVolume(v.id).status == "backing-up");
  // A partial object the killed run had written.
  const fs::path container = fs::path(c.o.BackupPosixPath()) / *b.container;
  fs::create_directories(container);
  std::ofstream(container / (*b.service_metadata + "-00001")) << "partial";

  c.StartBackup();
  Backup after = c.Get(b.id);
  CHECK(after.status == bs::kError);
  CHECK(after.fail_reason == std::string("incomplete backup reset on manager restart"));
  CHECK(c.GetVolume(v.id).status == "available");
  CHECK(c.StoredFiles().empty());
}

TEST_CASE("backup service: the sweep fails a backup its host never received") {
  Cluster c([](Options& o) { o.backup.stale_seconds = 1; });
  Volume v = c.NewVolume();
  Backup b = InsertCreating(c, v);  // the API died before its cast
  CHECK(c.GetVolume(v.id).status == "backing-up");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  c.service->SweepStale();
  Backup after = c.Get(b.id);
  CHECK(after.status == bs::kError);
  CHECK(after.fail_reason.value_or("").find("never received") != std::string::npos);
  CHECK(c.GetVolume(v.id).status == "available");
}

TEST_CASE("backup service: the sweep starts a restore into a new volume whose hand-over was lost") {
  Cluster c;
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 2 * kMiB, 'q');
  const auto want = c.Bytes(v.id);
  Backup b = c.Create(v.id);
  REQUIRE(b.status == bs::kAvailable);
  // Restores into volumes made for them, as the API records them, whose volume host's cast
  // never came: one made (available), one whose create failed.
  Volume made = c.NewVolume();
  REQUIRE(*c.store->CasBackupStatus(b.id, {bs::kAvailable}, bs::kRestoring, {{"restore_volume_id", made.id}}));
  c.service->SweepStale();
  c.Settle();
  CHECK(c.GetVolume(made.id).status == "available");
  CHECK(c.Get(b.id).status == bs::kAvailable);
  CHECK(c.Bytes(made.id) == want);

  Volume failed = c.NewVolume();
  REQUIRE(*c.store->CasVolumeStatus(failed.id, {"available"}, "error"));
  REQUIRE(*c.store->CasBackupStatus(b.id, {bs::kAvailable}, bs::kRestoring, {{"restore_volume_id", failed.id}}));
  c.service->SweepStale();
  c.Settle();
  Backup after = c.Get(b.id);
  CHECK(after.status == bs::kAvailable);
  CHECK(!after.restore_volume_id);
  CHECK(c.GetVolume(failed.id).status == "error");
}

TEST_CASE("backup service: a restart ends a restore it was doing: the backup available, the volume error_restoring") {
  Cluster c;
  Volume v = c.NewVolume();
  Backup b = c.Create(v.id);
  REQUIRE(b.status == bs::kAvailable);
  Volume target = c.NewVolume();
  REQUIRE(*c.store->StartRestore(b.id, target.id, false) == Store::RestoreStart::kStartedReady);
  // The process died before the cast was run: a new service on this host finds it.
  c.transport->Stop();
  c.service.reset();
  auto transport = NewInProcessTransport(1);
  auto again = BackupService::Start(c.o, c.store, transport.get());
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(c.Get(b.id).status == bs::kAvailable);
  CHECK(c.GetVolume(target.id).status == "error_restoring");
  transport->Stop();
}

TEST_CASE("backup service: import_record makes a backup available when its objects are readable, else error") {
  Cluster c;
  Volume v = c.NewVolume();
  Backup b = c.Create(v.id);
  REQUIRE(b.status == bs::kAvailable);
  BackupRpc rpc(c.transport);
  // As an import leaves the row: "creating", the record's fields in it.
  REQUIRE(*c.store->CasBackupStatus(b.id, {bs::kAvailable}, bs::kCreating));
  REQUIRE(rpc.ImportRecord(kCtx, "testhost", b.id).ok());
  c.Settle();
  CHECK(c.Get(b.id).status == bs::kAvailable);

  REQUIRE(*c.store->CasBackupStatus(b.id, {bs::kAvailable}, bs::kCreating,
                                    {{"service_metadata", std::string("volume_x_20260101000000_backup_gone")}}));
  REQUIRE(rpc.ImportRecord(kCtx, "testhost", b.id).ok());
  c.Settle();
  Backup after = c.Get(b.id);
  CHECK(after.status == bs::kError);
  CHECK(after.fail_reason.value_or("").find("Import of backup") != std::string::npos);
}

TEST_CASE("backup service: a force-delete of a backup being made leaves no backup, no objects, the volume available") {
  Cluster c;
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 16 * kMiB, 'a');
  BackupCreate req;
  req.volume_id = v.id;
  auto b = c.backups->CreateBackup(kCtx, req);
  REQUIRE(b.ok());
  // Wherever the backup is by now (queued, running or done), the delete cancels or follows it.
  Status del = c.backups->DeleteBackup(kCtx, b->id, /*force=*/true);
  REQUIRE_MESSAGE(del.ok(), del.ToString());
  c.Settle();
  CHECK(c.store->GetBackup(b->id, std::nullopt).status().code() == Code::kNotFound);
  CHECK(c.GetVolume(v.id).status == "available");
  CHECK(c.StoredFiles().empty());
}

TEST_CASE("backup service: a reset-status of a backup being made stops it and gives its volume back at once") {
  Cluster c;
  Gate gate;
  c.on_progress = [&](const BackupProgress& p) { gate.Hold(p); };
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 24 * kMiB, 'a');
  BackupCreate req;
  req.volume_id = v.id;
  auto b = c.backups->CreateBackup(kCtx, req);
  REQUIRE(b.ok());
  REQUIRE(gate.WaitHeld());  // the engine is running it
  REQUIRE(c.GetVolume(v.id).status == "backing-up");
  REQUIRE(c.backups->ResetStatus(kCtx, b->id, bs::kError).ok());
  CHECK(c.GetVolume(v.id).status == "available");  // in the reset's transaction, not when the host stops
  gate.Release();
  c.Settle();
  Backup after = c.Get(b->id);
  CHECK(after.status == bs::kError);
  CHECK(c.GetVolume(v.id).status == "available");
  for (const auto& f : c.StoredFiles()) CHECK_MESSAGE(false, "left behind: " << f);  // the cancel removed them
}

TEST_CASE(
    "backup service: a restore into a new volume still being made is left to its hand-over by the sweep and a "
    "restart") {
  Cluster c([](Options& o) { o.backup.stale_seconds = 1; });
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 2 * kMiB, 'n');
  const auto want = c.Bytes(v.id);
  Backup b = c.Create(v.id);
  REQUIRE(b.status == bs::kAvailable);
  // A restore into a new volume whose create is slow (still "creating" after
  // backup_stale_seconds), recorded for a backup host that has since died.
  Volume fresh = c.NewVolume();
  REQUIRE(*c.store->CasVolumeStatus(fresh.id, {"available"}, "creating"));
  REQUIRE(*c.store->StartRestore(b.id, fresh.id, /*volume_is_new=*/true) == Store::RestoreStart::kStartedPending);
  REQUIRE(*c.store->UpdateBackup(b.id, {{"host", std::string("deadhost")}}, std::nullopt));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  c.service->SweepStale();
  c.Settle();
  // Reset now, the volume would be made later and end "available" and empty.
  CHECK(c.Get(b.id).status == bs::kRestoring);
  CHECK(c.Get(b.id).restore_volume_id == fresh.id);
  CHECK(c.GetVolume(fresh.id).status == "creating");

  // Made at last, and its hand-over lost with the dead host: this host takes the row back and
  // claims it, and the restore runs.
  REQUIRE(*c.store->UpdateBackup(b.id, {{"host", std::string("testhost")}}, std::nullopt));
  REQUIRE(*c.store->CasVolumeStatus(fresh.id, {"creating"}, "available"));
  c.service->SweepStale();
  c.Settle();
  CHECK(c.GetVolume(fresh.id).status == "available");
  CHECK(c.Get(b.id).status == bs::kAvailable);
  CHECK(c.Bytes(fresh.id) == want);

  // This host's restart leaves such a restore alone too.
  Volume slow = c.NewVolume();
  REQUIRE(*c.store->CasVolumeStatus(slow.id, {"available"}, "creating"));
  REQUIRE(*c.store->StartRestore(b.id, slow.id, /*volume_is_new=*/true) == Store::RestoreStart::kStartedPending);
  c.transport->Stop();
  c.service.reset();
  auto transport = NewInProcessTransport(1);
  auto again = BackupService::Start(c.o, c.store, transport.get());
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(c.Get(b.id).status == bs::kRestoring);
  CHECK(c.Get(b.id).restore_volume_id == slow.id);
  CHECK(c.GetVolume(slow.id).status == "creating");
  transport->Stop();
}

TEST_CASE("backup service: a restart finishes the deletes it had started") {
  Cluster c;
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 2 * kMiB, 'd');
  Backup b = c.Create(v.id);
  REQUIRE(b.status == bs::kAvailable);
  REQUIRE(!c.StoredFiles().empty());
  // Deleting, and the host died before it removed anything.
  REQUIRE(*c.store->StartBackupDelete(b.id, {}) == Store::BackupDeleteStart::kStarted);
  c.transport->Stop();
  c.service.reset();
  auto transport = NewInProcessTransport(1);
  auto again = BackupService::Start(c.o, c.store, transport.get());
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  (*again)->Drain();
  CHECK(c.store->GetBackup(b.id, std::nullopt).status().code() == Code::kNotFound);
  CHECK(c.StoredFiles().empty());
  CHECK(c.store->GetQuotaUsage("proj")->at("backups").in_use == 0);
  transport->Stop();
}

TEST_CASE("backup service: the sweep finishes deletes nobody is doing: never received here, or of a dead host") {
  Cluster c([](Options& o) { o.backup.stale_seconds = 1; });
  Volume v = c.NewVolume();
  c.Write(v.id, 0, 2 * kMiB, 'd');
  // Never received: the API died between recording the delete and casting it.
  Backup lost = c.Create(v.id);
  // A dead backup host's, its objects in the store this host shares.
  Backup orphan = c.Create(v.id);
  // A dead backup host's whose objects are not here: left for that host's restart.
  Backup elsewhere = c.Create(v.id);
  REQUIRE(*c.store->UpdateBackup(elsewhere.id, {{"container", std::string("other/store")}}, std::nullopt));
  for (const Backup& b : {orphan, elsewhere}) {
    REQUIRE(*c.store->UpdateBackup(b.id, {{"host", std::string("deadhost")}}, std::nullopt));
  }
  for (const Backup& b : {lost, orphan, elsewhere}) {
    REQUIRE(*c.store->StartBackupDelete(b.id, {}) == Store::BackupDeleteStart::kStarted);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  c.service->SweepStale();
  c.Settle();
  CHECK(c.store->GetBackup(lost.id, std::nullopt).status().code() == Code::kNotFound);
  CHECK(c.store->GetBackup(orphan.id, std::nullopt).status().code() == Code::kNotFound);
  Backup kept = c.Get(elsewhere.id);
  CHECK(kept.status == bs::kDeleting);
  CHECK(kept.host == "deadhost");
  for (const auto& f : c.StoredFiles()) {
    CHECK_MESSAGE(f.find(lost.id) == std::string::npos, "left behind: " << f);
    CHECK_MESSAGE(f.find(orphan.id) == std::string::npos, "left behind: " << f);
  }
  CHECK(c.store->GetQuotaUsage("proj")->at("backups").in_use == 1);
}

TEST_CASE("backup service: a backup of a snapshot holds the snapshot's size and bytes, not the volume's since") {
  Cluster c;
  Volume v = c.NewVolume(1);
  c.Write(v.id, 0, 2 * kMiB, 's');
  const auto at_snapshot = c.Bytes(v.id);
  SnapshotCreate sc;
  sc.volume_id = v.id;
  auto sn = c.volumes->CreateSnapshot(kCtx, sc);
  REQUIRE_MESSAGE(sn.ok(), sn.status().ToString());
  c.Settle();
  REQUIRE(c.volumes->ExtendVolume(kCtx, v.id, 2).ok());
  c.Settle();
  REQUIRE(c.GetVolume(v.id).size == 2);
  c.Write(v.id, 0, 2 * kMiB, 't');  // after the snapshot
  BackupCreate req;
  req.volume_id = v.id;
  req.snapshot_id = sn->id;
  auto b = c.backups->CreateBackup(kCtx, req);
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  CHECK(b->size == 1);
  c.Settle();
  Backup done = c.Get(b->id);
  REQUIRE_MESSAGE(done.status == bs::kAvailable, done.fail_reason.value_or(""));
  CHECK(done.size == 1);
  CHECK(c.store->GetQuotaUsage("proj")->at("backup_gigabytes").in_use == 1);
  auto r = c.backups->RestoreBackup(kCtx, b->id, std::nullopt, std::nullopt);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  c.Settle();
  Volume restored = c.GetVolume(r->volume_id);
  CHECK(restored.status == "available");
  CHECK(restored.size == 1);
  CHECK(c.Bytes(r->volume_id) == at_snapshot);
}

TEST_CASE(
    "backup service: with backup_enable_progress_timer, one INFO line per backup_timer_interval of a backup and a "
    "restore") {
  for (const bool timer : {true, false}) {
    CAPTURE(timer);
    LogCapture logs;
    Cluster c([&](Options& o) {
      o.backup.enable_progress_timer = timer;
      o.backup.timer_interval = 1;
    });
    // Each operation is held 2.5 s at its first progress report: two intervals.
    std::atomic<bool> hold_next{true};
    c.on_progress = [&](const BackupProgress&) {
      if (hold_next.exchange(false)) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    };
    Volume v = c.NewVolume();
    c.Write(v.id, 0, 4 * kMiB, 'p');
    Backup b = c.Create(v.id);
    REQUIRE(b.status == bs::kAvailable);
    hold_next = true;
    auto r = c.backups->RestoreBackup(kCtx, b.id, std::nullopt, std::nullopt);
    REQUIRE(r.ok());
    c.Settle();
    REQUIRE(c.GetVolume(r->volume_id).status == "available");
    auto backup_lines = logs.Lines("backup " + b.id + " of volume " + v.id + ": ");
    auto restore_lines = logs.Lines("restore of backup " + b.id + " into volume " + r->volume_id + ": ");
    if (!timer) {
      CHECK(backup_lines.empty());
      CHECK(restore_lines.empty());
      continue;
    }
    CHECK(backup_lines.size() >= 2);
    CHECK(restore_lines.size() >= 2);
    for (const auto& line : backup_lines) {
      CHECK(line.find(" INFO cinder-backup ") != std::string::npos);
      CHECK(line.find("% done (") != std::string::npos);
    }
  }
}

TEST_CASE(
    "backup service: the engine's threads are backup_workers (or the cores), at most backup_native_threads_pool_size") {
  Options o;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  o.backup.workers = 8;
  o.backup.native_threads_pool_size = 3;
  CHECK(BackupPipelineOptions(o).workers == 3);
  o.backup.native_threads_pool_size = 60;
  CHECK(BackupPipelineOptions(o).workers == 8);
  o.backup.workers = 0;
  CHECK(BackupPipelineOptions(o).workers == std::min(cores, 60));
  o.backup.native_threads_pool_size = 1;
  CHECK(BackupPipelineOptions(o).workers == 1);
  // The rest as configured.
  o.backup.compression_algorithm = "bz2";
  o.backup.object_size = 1 << 20;
  o.backup.verify_on_restore = false;
  auto p = BackupPipelineOptions(o);
  CHECK(p.compression == "bz2");
  CHECK(p.object_size == 1 << 20);
  CHECK_FALSE(p.verify_on_restore);
}

}  // namespace cinder
