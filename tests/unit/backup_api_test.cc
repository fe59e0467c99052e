// The backup REST API through api::Router with a BackupManager, and a fake cinder-backup host
// (a BackupRpcServer on the manager's in-process transport that records each cast and finishes
// it in the database, as the real service does).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>

#include "api/router.h"
#include "backup/backup_rpc.h"
#include "cinder/backup_manager.h"
#include "cinder/service.h"
#include "cinder/transport.h"
#include "common/digest.h"
#include "common/json.h"
#include "common/util.h"
#include "db/store.h"
#include "rpc/topics.h"
#include "test_util.h"
#include "volume/manager_impl.h"

namespace cinder {

namespace {

// The host side, reduced to its outcome.
class FakeBackupHost : public BackupRpcServer {
 public:
  explicit FakeBackupHost(Store* store) : store_(store) {}
  // While held, casts are only recorded (the operation stays in flight).
  std::atomic<bool> hold{false};
  Status CreateBackup(const RequestContext&, const BackupRef& r) override {
    Note("create_backup " + r.backup_id);
    if (hold) return Status::OK();
    Store::BackupOutcome out;
    out.object_count = 3;
    out.container = "c/" + r.backup_id;
    out.service_metadata = "volume_x_backup_" + r.backup_id;
    return store_->FinishBackup(r.backup_id, out).status();
  }
  Status RestoreBackup(const RequestContext&, const HostRestoreBackup& r) override {
    Note("restore_backup " + r.backup_id + " " + r.volume_id + (r.volume_is_new ? " new" : ""));
    if (hold) return Status::OK();
    return store_->FinishRestore(r.backup_id, r.volume_id, true, r.volume_is_new).status();
  }
  Status DeleteBackup(const RequestContext&, const BackupRef& r) override {
    Note("delete_backup " + r.backup_id);
    return store_->SoftDeleteBackup(r.backup_id).status();
  }
  Status ImportRecord(const RequestContext&, const BackupRef& r) override {
    Note("import_record " + r.backup_id);
    return store_->CompleteImport(r.backup_id, {}, std::nullopt, "available").status();
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  void Note(std::string s) {
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back(std::move(s));
  }
  Store* store_;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

struct Fixture {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<Store> store;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<BackupManager> backups;
  std::unique_ptr<FakeBackupHost> host;
  std::unique_ptr<api::Router> router;

  explicit Fixture(bool with_backup_service = true) {
    options = DefaultOptions(dir.path());
    options.host = "h";
    REQUIRE(DbSync(options).ok());
    store = std::move(Store::Open(options.DatabaseUrl())).value();
    VolumeManagerOptions vmo;
    vmo.options = options;
    volumes = std::move(VolumeManager::Open(vmo)).value();
    BackupManagerOptions bmo;
    bmo.options = options;
    bmo.volumes = volumes.get();
    // The volume manager's in-process transport, as cinder-all's: its volume host hands a
    // volume made for a restore to the backup host there.
    bmo.transport = static_cast<VolumeManagerImpl*>(volumes.get())->transport();
    auto b = BackupManager::Open(bmo);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    backups = std::move(b).value();
    host = std::make_unique<FakeBackupHost>(store.get());
    if (with_backup_service) {
      ServiceInfo svc;
      svc.host = "bk1";
      svc.binary = "cinder-backup";
      svc.topic = rpc::BackupTopic("bk1");
      svc.availability_zone = "nova";
      REQUIRE(store->RegisterService(svc).ok());
      REQUIRE(backups->transport()->Serve(rpc::BackupTopic("bk1"), BackupRpcHandler(host.get())).ok());
    }
    router = std::make_unique<api::Router>(options, volumes.get(), nullptr, backups.get());
  }
  ~Fixture() {
    Drain();
    backups->transport()->Stop();
  }

  void Drain() {
    for (int i = 0; i < 3; ++i) {
      volumes->Drain();
      backups->Drain();
    }
  }

  api::ApiResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                        const std::string& version = "volume 3.70") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:abc123");
    return router->Handle(req);
  }

  std::string NewVolume(int size = 1) {
    auto r = Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": )" + std::to_string(size) + "}}");
    REQUIRE(r.status == 202);
    Drain();
    return json::Parse(r.body)->Find("volume")->Find("id")->as_string();
  }

  std::string NewBackup(const std::string& volume_id, const std::string& extra = "") {
    auto r = Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + volume_id + "\"" + extra + "}}");
    REQUIRE_MESSAGE(r.status == 202, r.body);
    Drain();
    return json::Parse(r.body)->Find("backup")->Find("id")->as_string();
  }

  json::Value Show(const std::string& id, const std::string& version = "volume 3.70") {
    auto r = Call("GET", "/v3/abc123/backups/" + id, "", version);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return *json::Parse(r.body)->Find("backup");
  }

  std::string VolumeStatus(const std::string& id) { return store->GetVolume(id, std::nullopt)->status; }
};

std::string Header(const api::ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string BadRequest(const std::string& message) {
  return "{\"badRequest\": {\"code\": 400, \"message\": \"" + message + "\"}}";
}

std::vector<std::string> Keys(const json::Value& o) {
  std::vector<std::string> out;
  for (const auto& [k, v] : o.as_object()) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("backup create answers 202 with the summary view; the host's outcome shows in the detail view") {
  Fixture f;
  std::string vol = f.NewVolume(2);
  auto r = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "name": " b1 "}})");
  REQUIRE(r.status == 202);
  auto body = json::Parse(r.body);
  const json::Value& b = *body->Find("backup");
  CHECK(Keys(b) == std::vector<std::string>{"id", "name", "links"});
  CHECK(b.Find("name")->as_string() == "b1");
  std::string id = b.Find("id")->as_string();
  CHECK(Contains(r.body, "\"href\": \"http://h:1/v3/abc123/backups/" + id + "\""));
  f.Drain();
  CHECK(f.host->calls() == std::vector<std::string>{"create_backup " + id});
  CHECK(f.VolumeStatus(vol) == "available");

  json::Value d30 = f.Show(id, "volume 3.0");
  CHECK(Keys(d30) == std::vector<std::string>{"id", "status", "size", "object_count", "availability_zone", "container",
                                              "created_at", "updated_at", "name", "description", "fail_reason",
                                              "volume_id", "links", "is_incremental", "has_dependent_backups",
                                              "snapshot_id", "data_timestamp"});
  CHECK(d30.Find("status")->as_string() == "available");
  CHECK(d30.Find("size")->as_int() == 2);
  CHECK(d30.Find("object_count")->as_int() == 3);
  CHECK(d30.Find("availability_zone")->as_string() == "nova");
  CHECK(d30.Find("is_incremental")->as_bool() == false);
  CHECK(d30.Find("description")->is_null());
  json::Value d = f.Show(id);
  auto keys = Keys(d);
  CHECK(std::vector<std::string>(keys.end() - 3, keys.end()) ==
        std::vector<std::string>{"metadata", "os-backup-project-attr:project_id", "user_id"});
  CHECK(d.Find("os-backup-project-attr:project_id")->as_string() == "abc123");
  CHECK(d.Find("user_id")->as_string() == "u1");
  CHECK(Keys(f.Show(id, "volume 3.18")).back() == "os-backup-project-attr:project_id");
  CHECK(Keys(f.Show(id, "volume 3.43")).back() == "os-backup-project-attr:project_id");

  auto missing = f.Call("GET", "/v3/abc123/backups/" + NewUuid());
  CHECK(missing.status == 404);
  CHECK(Contains(missing.body, "could not be found."));
}

TEST_CASE("a backup being made shows object_count 0, as Cinder's column default (Tempest's schema)") {
  Fixture f;
  std::string vol = f.NewVolume(1);
  f.host->hold = true;
  std::string id = f.NewBackup(vol);
  json::Value b = f.Show(id);
  CHECK(b.Find("status")->as_string() == "creating");
  REQUIRE(b.Find("object_count")->is_int());
  CHECK(b.Find("object_count")->as_int() == 0);
  // GET .../progress: what the backup service recorded, as a share of the volume.
  REQUIRE(*f.store->TouchBackupProgress(id, int64_t{256} << 20, {"creating"}));
  auto p = f.Call("GET", "/v3/abc123/backups/" + id + "/progress");
  REQUIRE_MESSAGE(p.status == 200, p.body);
  auto parsed = json::Parse(p.body);
  REQUIRE(parsed.ok());
  const json::Value& bp = *parsed->Find("backup_progress");
  CHECK(bp.Find("status")->as_string() == "creating");
  CHECK(bp.Find("done_bytes")->as_int() == int64_t{256} << 20);
  CHECK(bp.Find("total_bytes")->as_int() == int64_t{1} << 30);
  CHECK(bp.Find("percent")->as_int() == 25);
  CHECK(f.Call("POST", "/v3/abc123/backups/" + id + "/progress").status == 405);
  CHECK(f.Call("GET", "/v3/abc123/backups/00000000-0000-4000-8000-000000000000/progress").status == 404);
}

TEST_CASE("without a cinder-backup service a create is 503 and changes nothing") {
  Fixture f(/*with_backup_service=*/false);
  std::string vol = f.NewVolume();
  auto r = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + "\"}}");
  CHECK(r.status == 503);
  CHECK(Contains(r.body, "Service cinder-backup could not be found."));
  CHECK(f.VolumeStatus(vol) == "available");
  CHECK(f.Call("GET", "/v3/abc123/backups").body == "{\"backups\": []}");
}

TEST_CASE("backup create refuses what Cinder refuses, with its messages") {
  Fixture f;
  std::string vol = f.NewVolume();
  auto bad_uuid = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": "x"}})");
  CHECK(bad_uuid.status == 400);
  auto extra = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "bogus": 1}})");
  CHECK(extra.status == 400);
  CHECK(Contains(extra.body, "'bogus'"));
  auto maybe = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "force": "maybe"}})");
  CHECK(maybe.status == 400);
  auto md_old = f.Call("POST", "/v3/abc123/backups",
                       R"({"backup": {"volume_id": ")" + vol + R"(", "metadata": {"a": "b"}}})", "volume 3.42");
  CHECK(md_old.status == 400);
  auto incr =
      f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "incremental": true}})");
  CHECK(incr.body == BadRequest("Invalid backup: No backups available to do an incremental backup."));
  auto escape =
      f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "container": "../../etc"}})");
  CHECK(escape.status == 400);
  REQUIRE(*f.store->CasVolumeStatus(vol, {"available"}, "in-use"));
  auto inuse = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + "\"}}");
  CHECK(inuse.body == BadRequest("Invalid volume: Backing up an in-use volume must use the force flag."));
  std::string forced = f.NewBackup(vol, R"(, "force": true)");
  CHECK(f.Show(forced).Find("status")->as_string() == "available");
  CHECK(f.VolumeStatus(vol) == "in-use");
  REQUIRE(*f.store->CasVolumeStatus(vol, {"in-use"}, "error"));
  auto err = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + R"(", "force": true}})");
  CHECK(err.body == BadRequest("Invalid volume: Volume to be backed up must be available or in-use, but the "
                               "current status is \\\"error\\\"."));
  auto gone = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + NewUuid() + "\"}}");
  CHECK(gone.status == 404);
}

TEST_CASE("backup quotas: 413 with Cinder's message and Retry-After; a delete gives the usage back") {
  Fixture f;
  REQUIRE(f.Call("PUT", "/v3/abc123/os-quota-sets/abc123", R"({"quota_set": {"backups": 1}})").status == 200);
  std::string v1 = f.NewVolume(), v2 = f.NewVolume();
  std::string b1 = f.NewBackup(v1);
  auto over = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + v2 + "\"}}");
  CHECK(over.status == 413);
  CHECK(over.body ==
        "{\"overLimit\": {\"code\": 413, \"message\": \"Maximum number of backups allowed (1) exceeded\"}}");
  CHECK(Header(over, "Retry-After") == "0");
  CHECK(f.VolumeStatus(v2) == "available");
  REQUIRE(f.Call("PUT", "/v3/abc123/os-quota-sets/abc123", R"({"quota_set": {"backups": 5, "backup_gigabytes": 1}})")
              .status == 200);
  std::string big = f.NewVolume(2);
  auto gb = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + big + "\"}}");
  CHECK(gb.status == 413);
  CHECK(Contains(gb.body,
                 "Requested backup exceeds allowed Backup gigabytes quota. Requested 2G, quota is 1G and 1G "
                 "has been consumed."));
  REQUIRE(f.Call("DELETE", "/v3/abc123/backups/" + b1).status == 202);
  f.Drain();
  CHECK(f.Call("GET", "/v3/abc123/backups/" + b1).status == 404);
  auto usage = f.store->GetQuotaUsage("abc123");
  CHECK(usage->at("backups").in_use == 0);
  CHECK(usage->at("backup_gigabytes").in_use == 0);
}

TEST_CASE("incrementals: a parent with incrementals is not deleted; the incremental first, then the parent") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string full = f.NewBackup(vol);
  std::string inc = f.NewBackup(vol, R"(, "incremental": true)");
  json::Value d = f.Show(inc);
  CHECK(d.Find("is_incremental")->as_bool());
  CHECK(f.Show(full).Find("has_dependent_backups")->as_bool());
  auto refused = f.Call("DELETE", "/v3/abc123/backups/" + full);
  CHECK(refused.body == BadRequest("Invalid backup: Incremental backups exist for this backup."));
  auto forced = f.Call("POST", "/v3/abc123/backups/" + full + "/action", R"({"os-force_delete": {}})");
  CHECK(forced.status == 400);  // force does not bypass it
  REQUIRE(f.Call("DELETE", "/v3/abc123/backups/" + inc).status == 202);
  f.Drain();
  CHECK(f.Show(full).Find("has_dependent_backups")->as_bool() == false);
  REQUIRE(f.Call("DELETE", "/v3/abc123/backups/" + full).status == 202);
  f.Drain();
  CHECK(f.Call("GET", "/v3/abc123/backups/" + full).status == 404);
}

TEST_CASE("update is 3.9, metadata 3.43; reset-status; delete needs available or error") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string id = f.NewBackup(vol);
  CHECK(f.Call("PUT", "/v3/abc123/backups/" + id, R"({"backup": {"name": "x"}})", "volume 3.8").status == 404);
  auto up = f.Call("PUT", "/v3/abc123/backups/" + id, R"({"backup": {"name": "x", "description": "d"}})", "volume 3.9");
  CHECK(up.status == 200);
  CHECK(Keys(*json::Parse(up.body)->Find("backup")) == std::vector<std::string>{"id", "name", "links"});
  CHECK(f.Show(id).Find("description")->as_string() == "d");
  CHECK(f.Call("PUT", "/v3/abc123/backups/" + id, R"({"backup": {"metadata": {"a": "b"}}})", "volume 3.42").status ==
        400);
  CHECK(f.Call("PUT", "/v3/abc123/backups/" + id, R"({"backup": {"metadata": {"a": "b"}}})", "volume 3.43").status ==
        200);
  CHECK(f.Show(id).Find("metadata")->Find("a")->as_string() == "b");
  auto bad = f.Call("POST", "/v3/abc123/backups/" + id + "/action", R"({"os-reset_status": {"status": "creating"}})");
  CHECK(bad.status == 400);
  REQUIRE(
      f.Call("POST", "/v3/abc123/backups/" + id + "/action", R"({"os-reset_status": {"status": "error"}})").status ==
      202);
  CHECK(f.Show(id).Find("status")->as_string() == "error");
  REQUIRE(*f.store->CasBackupStatus(id, {}, "restoring"));
  CHECK(f.Call("DELETE", "/v3/abc123/backups/" + id).body ==
        BadRequest("Invalid backup: Backup status must be available or error"));
  CHECK(f.Call("POST", "/v3/abc123/backups/" + id + "/action", R"({"os-force_delete": {}})").status == 202);
  f.Drain();
  CHECK(f.Call("GET", "/v3/abc123/backups/" + id).status == 404);
}

TEST_CASE("restore onto a volume, onto a new one by name, and POST /volumes with backup_id (3.47)") {
  Fixture f;
  std::string vol = f.NewVolume(2);
  std::string id = f.NewBackup(vol);
  std::string small = f.NewVolume(1);
  auto too_small =
      f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"volume_id": ")" + small + "\"}}");
  CHECK(too_small.body == BadRequest("Invalid volume: volume size 1 is too small to restore backup of size 2."));
  std::string target = f.NewVolume(3);
  f.host->hold = true;
  auto r = f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"volume_id": ")" + target + "\"}}");
  REQUIRE_MESSAGE(r.status == 202, r.body);
  CHECK(r.body ==
        "{\"restore\": {\"backup_id\": \"" + id + "\", \"volume_id\": \"" + target + "\", \"volume_name\": null}}");
  CHECK(f.VolumeStatus(target) == "restoring-backup");
  CHECK(f.Show(id).Find("status")->as_string() == "restoring");
  auto busy =
      f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"volume_id": ")" + target + "\"}}");
  CHECK(busy.body == BadRequest("Invalid backup: Backup status must be available"));
  f.Drain();
  CHECK(f.host->calls().back() == "restore_backup " + id + " " + target);
  REQUIRE(*f.store->FinishRestore(id, target, true, false));
  f.host->hold = false;
  CHECK(f.VolumeStatus(target) == "available");
  CHECK(f.Show(id).Find("status")->as_string() == "available");

  // A new volume, named: its host makes it, then the restore is cast (here the volume is made
  // by the embedded volume service before the test looks; either side casts exactly once).
  auto named = f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"name": "fresh"}})");
  REQUIRE_MESSAGE(named.status == 202, named.body);
  auto nb = json::Parse(named.body);
  CHECK(nb->Find("restore")->Find("volume_name")->as_string() == "fresh");
  std::string fresh = nb->Find("restore")->Find("volume_id")->as_string();
  CHECK(f.store->GetVolume(fresh, std::nullopt)->size == 2);
  f.Drain();
  // The volume host claimed it once made (or the API, had it been made first) and cast the
  // restore exactly once; the fake backup host finished it.
  auto casts = [&](const std::string& volume) {
    auto calls = f.host->calls();
    return std::count(calls.begin(), calls.end(), "restore_backup " + id + " " + volume + " new");
  };
  CHECK(casts(fresh) == 1);
  CHECK(f.VolumeStatus(fresh) == "available");

  auto old = f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"backup_id": ")" + id + "\"}}", "volume 3.46");
  CHECK(old.status == 400);
  auto small_vol =
      f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "backup_id": ")" + id + "\"}}", "volume 3.47");
  CHECK(small_vol.body == BadRequest("Invalid input received: Volume size 1GB cannot be smaller than the backup size "
                                     "2GB. It must be >= backup size."));
  f.host->hold = true;
  auto from = f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"backup_id": ")" + id + "\"}}", "volume 3.47");
  REQUIRE_MESSAGE(from.status == 202, from.body);
  std::string made = json::Parse(from.body)->Find("volume")->Find("id")->as_string();
  CHECK(json::Parse(from.body)->Find("volume")->Find("size")->as_int() == 2);
  CHECK(f.Show(id).Find("restore_volume_id") == nullptr);  // not a view field
  CHECK(f.store->GetBackup(id, std::nullopt)->restore_volume_id == made);
  CHECK(f.Show(id).Find("status")->as_string() == "restoring");
  f.Drain();
  // Exactly one side casts: the API (the volume was made first) or the volume host's claim,
  // which moved the volume from creating straight to restoring-backup; nothing is left to claim.
  CHECK(casts(made) == 1);
  auto claimed = f.store->ClaimRestoreTarget(made);
  REQUIRE(claimed.ok());
  CHECK(!claimed->has_value());
  CHECK(f.VolumeStatus(made) == "restoring-backup");
  REQUIRE(*f.store->FinishRestore(id, made, true, true));
  f.host->hold = false;
  CHECK(f.VolumeStatus(made) == "available");
  CHECK(f.Show(id).Find("status")->as_string() == "available");
}

TEST_CASE("an imported record cannot name files outside the store or another project's backup") {
  Fixture f;
  auto import = [&](const std::string& fields) {
    const std::string rec = "{\"id\": \"" + NewUuid() + "\", \"size\": 1, \"volume_id\": \"" + NewUuid() +
                            "\", \"object_count\": 1, \"display_name\": \"x\", \"display_description\": null, " +
                            fields + "}";
    return f.Call("POST", "/v3/abc123/backups/import_record",
                  "{\"backup-record\": {\"backup_service\": \"posix\", \"backup_url\": \"" + ToBase64(rec) + "\"}}");
  };
  for (const std::string container : {"../../etc", "/etc", "a/./b", "a/../../b"}) {
    CAPTURE(container);
    auto r = import("\"container\": \"" + container + "\", \"service_metadata\": \"volume_x\"");
    CHECK(r.status == 400);
    CHECK(r.body.find("container") != std::string::npos);
  }
  for (const std::string prefix : {"../x", "a/b", "..", ""}) {
    CAPTURE(prefix);
    auto r = import("\"container\": \"c/d\", \"service_metadata\": \"" + prefix + "\"");
    CHECK(r.body == BadRequest("Invalid input received: the backup record has an invalid service_metadata."));
  }
  auto neg = import("\"container\": \"c/d\", \"service_metadata\": \"p\", \"num_dependent_backups\": -3");
  CHECK(neg.body == BadRequest("Invalid input received: the backup record has a negative size or count."));
  auto bad_parent = import("\"container\": \"c/d\", \"service_metadata\": \"p\", \"parent_id\": \"../x\"");
  CHECK(bad_parent.body == BadRequest("Invalid input received: the backup record has an invalid parent_id."));
}

TEST_CASE("export and import records round-trip; a live id is refused") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string id = f.NewBackup(vol, R"(, "name": "exported")");
  auto ex = f.Call("GET", "/v3/abc123/backups/" + id + "/export_record");
  REQUIRE_MESSAGE(ex.status == 200, ex.body);
  auto rec = json::Parse(ex.body);
  const json::Value& r = *rec->Find("backup-record");
  CHECK(r.Find("backup_service")->as_string() == "cinder.backup.drivers.posix.PosixBackupDriver");
  std::string text;
  REQUIRE(FromBase64(r.Find("backup_url")->as_string(), &text));
  auto decoded = json::Parse(text);
  REQUIRE(decoded.ok());
  CHECK(Keys(*decoded)[0] == "driver_info");
  CHECK(decoded->Find("id")->as_string() == id);
  CHECK(decoded->Find("display_name")->as_string() == "exported");
  CHECK(decoded->Find("size")->as_int() == 1);
  CHECK(decoded->Find("deleted")->as_bool() == false);
  const std::string created = decoded->Find("created_at")->as_string();
  CHECK(created.size() == 20);
  CHECK(created.back() == 'Z');
  std::string import_body = "{\"backup-record\": {\"backup_service\": \"" + r.Find("backup_service")->as_string() +
                            "\", \"backup_url\": \"" + r.Find("backup_url")->as_string() + "\"}}";
  auto exists = f.Call("POST", "/v3/abc123/backups/import_record", import_body);
  CHECK(exists.body == BadRequest("Invalid backup: Backup already exists in database."));
  REQUIRE(f.Call("DELETE", "/v3/abc123/backups/" + id).status == 202);
  f.Drain();
  auto im = f.Call("POST", "/v3/abc123/backups/import_record", import_body);
  REQUIRE_MESSAGE(im.status == 201, im.body);
  CHECK(Keys(*json::Parse(im.body)->Find("backup")) == std::vector<std::string>{"id", "name", "links"});
  f.Drain();
  json::Value d = f.Show(id);
  CHECK(d.Find("status")->as_string() == "available");
  CHECK(d.Find("name")->as_string() == "exported");
  CHECK(d.Find("volume_id")->as_string() == vol);

  auto garbage = f.Call("POST", "/v3/abc123/backups/import_record",
                        R"({"backup-record": {"backup_service": "cinder.backup.drivers.posix", "backup_url": "!!"}})");
  CHECK(garbage.body == BadRequest("Invalid input received: Can't decode backup record."));
  auto no_id = f.Call(
      "POST", "/v3/abc123/backups/import_record",
      "{\"backup-record\": {\"backup_service\": \"posix\", \"backup_url\": \"" + ToBase64("{\"size\": 1}") + "\"}}");
  CHECK(no_id.body == BadRequest("Invalid input received: Provided backup record is missing an id"));
  auto not_json =
      f.Call("POST", "/v3/abc123/backups/import_record",
             "{\"backup-record\": {\"backup_service\": \"posix\", \"backup_url\": \"" + ToBase64("{x") + "\"}}");
  CHECK(not_json.body == BadRequest("Invalid input received: Can't parse backup record."));
  std::string vol2 = f.NewVolume();
  std::string creating = f.NewBackup(vol2);
  REQUIRE(*f.store->CasBackupStatus(creating, {}, "error"));
  CHECK(f.Call("GET", "/v3/abc123/backups/" + creating + "/export_record").body ==
        BadRequest("Invalid backup: Backup status must be available and not error."));
}

TEST_CASE("backup lists: summary and detail, name filter, paging, count (3.45), name sort (3.37), 3.67 URLs") {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(f.NewBackup(f.NewVolume(), R"(, "name": ")" + std::string(i % 2 ? "odd" : "even") + "\""));
  auto all = f.Call("GET", "/v3/abc123/backups");
  REQUIRE(all.status == 200);
  auto body = json::Parse(all.body);
  CHECK(body->Find("backups")->size() == 5);
  CHECK(Keys(*body->Find("backups")->At(0)) == std::vector<std::string>{"id", "name", "links"});
  auto odd = json::Parse(f.Call("GET", "/v3/abc123/backups/detail?name=odd&with_count=true").body);
  CHECK(odd->Find("backups")->size() == 2);
  CHECK(odd->Find("count")->as_int() == 2);
  CHECK(odd->Find("backups")->At(0)->Find("status") != nullptr);
  auto page = json::Parse(f.Call("GET", "/v3/abc123/backups?limit=2").body);
  CHECK(page->Find("backups")->size() == 2);
  CHECK(page->Find("backups_links") != nullptr);
  CHECK(f.Call("GET", "/v3/abc123/backups?sort=name:asc", "", "volume 3.36").status == 400);
  auto sorted = json::Parse(f.Call("GET", "/v3/abc123/backups?sort=name:asc", "", "volume 3.37").body);
  CHECK(sorted->Find("backups")->At(0)->Find("name")->as_string() == "even");
  CHECK(f.Call("GET", "/v3/backups", "", "volume 3.67").status == 200);
  // A user's unknown filters are dropped, as Cinder's (noauth is admin: the admin's too).
  CHECK(f.Call("GET", "/v3/abc123/backups?bogus=1").status == 200);
}

}  // namespace cinder

namespace cinder {

TEST_CASE("a member sees its project's backups only, filters by name/status/volume_id only, and may not import") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string id = f.NewBackup(vol, R"(, "name": "mine")");
  RequestContext member;
  member.user_id = "u2";
  member.project_id = "abc123";
  member.roles = {"member", "reader"};
  RequestContext stranger = member;
  stranger.project_id = "zzz";
  auto got = f.backups->GetBackup(member, id);
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CHECK(got->display_name == "mine");
  auto hidden = f.backups->GetBackup(stranger, id);
  CHECK(hidden.status().code() == Code::kNotFound);
  CHECK(hidden.status().message() == "Backup " + id + " could not be found.");
  BackupListQuery q;
  q.filters = {{"host", "nowhere"}};  // not a user's filter: dropped
  CHECK(f.backups->ListBackups(member, q)->backups.size() == 1);
  q.filters = {{"name", "other"}};
  CHECK(f.backups->ListBackups(member, q)->backups.empty());
  q.filters.clear();
  q.all_tenants = true;  // an admin's option only
  CHECK(f.backups->ListBackups(stranger, q)->backups.empty());
  CHECK(f.backups->ExportRecord(member, id).status().code() == Code::kPermissionDenied);
  CHECK(f.backups->ImportRecord(member, {"posix", "e30="}).status().code() == Code::kPermissionDenied);
  CHECK(f.backups->ResetStatus(member, id, "error").code() == Code::kPermissionDenied);
  CHECK(f.backups->DeleteBackup(member, id, /*force=*/true).code() == Code::kPermissionDenied);
  CHECK(f.backups->DeleteBackup(stranger, id, false).code() == Code::kNotFound);
  BackupCreate c;
  c.volume_id = vol;
  CHECK(f.backups->CreateBackup(stranger, c).status().code() == Code::kNotFound);  // not its volume
  auto mine = f.backups->CreateBackup(member, c);
  REQUIRE_MESSAGE(mine.ok(), mine.status().ToString());
  CHECK(mine->user_id == "u2");
  f.Drain();
  CHECK(f.backups->DeleteBackup(member, mine->id, false).ok());
}

}  // namespace cinder

namespace cinder {

TEST_CASE("a restore whose backup host is down makes no volume and answers Cinder's ServiceNotFound") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string id = f.NewBackup(vol);
  REQUIRE(*f.store->SetServiceDisabled("bk1", "cinder-backup", true, std::string("maintenance")));
  const size_t before = json::Parse(f.Call("GET", "/v3/abc123/volumes").body)->Find("volumes")->size();
  auto r = f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"name": "x"}})");
  CHECK(r.status == 404);
  CHECK(Contains(r.body, "Service cinder-backup could not be found."));
  auto v = f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"backup_id": ")" + id + "\"}}", "volume 3.47");
  CHECK(v.status == 404);
  f.Drain();
  CHECK(json::Parse(f.Call("GET", "/v3/abc123/volumes").body)->Find("volumes")->size() == before);
  CHECK(f.Show(id).Find("status")->as_string() == "available");
  CHECK(f.Call("DELETE", "/v3/abc123/backups/" + id).status == 404);
  CHECK(f.Show(id).Find("status")->as_string() == "available");
}

}  // namespace cinder

namespace cinder {

TEST_CASE(
    "reset-status of a backup in flight lets go of its volume: the source back, a restore's target error_restoring") {
  Fixture f;
  std::string vol = f.NewVolume();
  std::string forced_vol = f.NewVolume();
  REQUIRE(*f.store->CasVolumeStatus(forced_vol, {"available"}, "in-use"));
  f.host->hold = true;  // the backup host takes the casts and does not finish them
  std::string creating = f.NewBackup(vol);
  std::string creating_in_use = f.NewBackup(forced_vol, R"(, "force": true)");
  REQUIRE(f.Show(creating).Find("status")->as_string() == "creating");
  REQUIRE(f.VolumeStatus(vol) == "backing-up");
  REQUIRE(f.VolumeStatus(forced_vol) == "backing-up");
  auto reset = [&](const std::string& id, const std::string& status) {
    return f.Call("POST", "/v3/abc123/backups/" + id + "/action",
                  R"({"os-reset_status": {"status": ")" + status + "\"}}");
  };
  REQUIRE(reset(creating, "error").status == 202);
  CHECK(f.Show(creating).Find("status")->as_string() == "error");
  CHECK(f.VolumeStatus(vol) == "available");
  REQUIRE(reset(creating_in_use, "available").status == 202);
  CHECK(f.Show(creating_in_use).Find("status")->as_string() == "available");
  CHECK(f.VolumeStatus(forced_vol) == "in-use");

  // A restore in flight: the target's bytes are partial.
  std::string target = f.NewVolume();
  auto r = f.Call("POST", "/v3/abc123/backups/" + creating_in_use + "/restore",
                  R"({"restore": {"volume_id": ")" + target + "\"}}");
  REQUIRE_MESSAGE(r.status == 202, r.body);
  REQUIRE(f.VolumeStatus(target) == "restoring-backup");
  REQUIRE(reset(creating_in_use, "available").status == 202);
  CHECK(f.Show(creating_in_use).Find("status")->as_string() == "available");
  CHECK(f.VolumeStatus(target) == "error_restoring");
  CHECK(!f.store->GetBackup(creating_in_use, std::nullopt)->restore_volume_id);
  // The volumes can be used again.
  f.host->hold = false;
  CHECK(f.NewBackup(vol) != "");
  CHECK(f.Call("DELETE", "/v3/abc123/backups/" + creating).status == 202);
}

TEST_CASE("a backup of a snapshot is sized and charged by the snapshot, not by the volume grown since") {
  Fixture f;
  std::string vol = f.NewVolume(1);
  auto sn = f.Call("POST", "/v3/abc123/snapshots", R"({"snapshot": {"volume_id": ")" + vol + "\"}}");
  REQUIRE_MESSAGE(sn.status == 202, sn.body);
  f.Drain();
  std::string snap = json::Parse(sn.body)->Find("snapshot")->Find("id")->as_string();
  REQUIRE(f.Call("POST", "/v3/abc123/volumes/" + vol + "/action", R"({"os-extend": {"new_size": 3}})").status == 202);
  f.Drain();
  REQUIRE(f.store->GetVolume(vol, std::nullopt)->size == 3);
  // 1 GiB of backup quota is room for the snapshot's 1 GiB, not for the volume's 3.
  REQUIRE(f.Call("PUT", "/v3/abc123/os-quota-sets/abc123", R"({"quota_set": {"backup_gigabytes": 1}})").status == 200);
  std::string id = f.NewBackup(vol, R"(, "snapshot_id": ")" + snap + "\"");
  json::Value d = f.Show(id);
  CHECK(d.Find("size")->as_int() == 1);
  CHECK(d.Find("snapshot_id")->as_string() == snap);
  CHECK(f.store->GetQuotaUsage("abc123")->at("backup_gigabytes").in_use == 1);
  // The volume itself is 3 GiB: over the quota, and the message says by how much.
  auto over = f.Call("POST", "/v3/abc123/backups", R"({"backup": {"volume_id": ")" + vol + "\"}}");
  CHECK(over.status == 413);
  CHECK(Contains(over.body, "Requested 3G, quota is 1G and 1G has been consumed."));
  // A new volume restored from it is the snapshot's size.
  auto restored = f.Call("POST", "/v3/abc123/backups/" + id + "/restore", R"({"restore": {"name": "r"}})");
  REQUIRE_MESSAGE(restored.status == 202, restored.body);
  std::string made = json::Parse(restored.body)->Find("restore")->Find("volume_id")->as_string();
  CHECK(f.store->GetVolume(made, std::nullopt)->size == 1);
  f.Drain();
}

// A request as a member of project abc123 (not admin), straight to the backups handler.
api::ApiResponse MemberCall(Fixture& f, const std::string& target, int minor) {
  api::ApiRequest req = testing::ApiRequestFor("GET", target, "", "", "");
  req.ctx.user_id = "u2";
  req.ctx.project_id = "abc123";
  req.ctx.roles = {"member", "reader"};
  req.ctx.is_admin = false;
  req.version = api::ApiVersion{3, minor};
  req.url_project = "abc123";
  std::vector<std::string> rest;
  const std::string prefix = "/v3/abc123/backups";
  for (const auto& seg : Split(req.path.substr(prefix.size()), '/')) {
    if (!seg.empty()) rest.push_back(seg);
  }
  return api::HandleBackups(f.options, f.backups.get(), req, rest);
}

TEST_CASE("from 3.31 a member may use only the configured list filters; before, the others are dropped") {
  Fixture f;
  std::string vol = f.NewVolume();
  f.NewBackup(vol, R"(, "name": "mine")");
  for (const std::string path : {"/v3/abc123/backups", "/v3/abc123/backups/detail"}) {
    CAPTURE(path);
    // resource_query_filters_file's "backup" (Cinder's default: name, status, volume_id).
    auto bad = MemberCall(f, path + "?host=nowhere&name=mine", 31);
    CHECK(bad.status == 400);
    CHECK(bad.body == BadRequest("Invalid filters host are found in query options."));
    auto two = MemberCall(f, path + "?bogus=1&project_id=x", 60);
    CHECK(two.body == BadRequest("Invalid filters bogus,project_id are found in query options."));
    // Before 3.31 they are dropped, as Cinder's remove_invalid_filter_options.
    auto old = MemberCall(f, path + "?host=nowhere", 30);
    CHECK(old.status == 200);
    CHECK(json::Parse(old.body)->Find("backups")->size() == 1);
    auto dropped_name = MemberCall(f, path + "?name=other&host=nowhere", 30);
    CHECK(json::Parse(dropped_name.body)->Find("backups")->size() == 0);  // name still filters
    // A member's own filters, paging, sorting, with_count and the client's all_tenants pass.
    auto ok = MemberCall(f,
                         path + "?name=mine&status=available&volume_id=" + vol +
                             "&all_tenants=1&limit=5&sort=created_at:desc&with_count=true",
                         45);
    REQUIRE_MESSAGE(ok.status == 200, ok.body);
    CHECK(json::Parse(ok.body)->Find("backups")->size() == 1);
    CHECK(MemberCall(f, path + "?with_count=true", 44).status == 400);  // not a parameter before 3.45
    CHECK(MemberCall(f, path + "?na\xc3\xafve=1", 33).body ==
          BadRequest("Filter keys can only contain ASCII characters."));
  }
  // An operator's file enables another filter for members: availability_zone.
  const std::string file = f.dir.path() + "/filters.json";
  {
    std::ofstream out(file);
    out << R"({"backup": ["availability_zone"]})";
  }
  f.options.resource_query_filters_file = file;
  CHECK(MemberCall(f, "/v3/abc123/backups?name=mine", 31).body ==
        BadRequest("Invalid filters name are found in query options."));
  auto zone = MemberCall(f, "/v3/abc123/backups?availability_zone=nowhere", 31);
  REQUIRE_MESSAGE(zone.status == 200, zone.body);
  CHECK(json::Parse(zone.body)->Find("backups")->size() == 0);
  f.options.resource_query_filters_file.clear();
  // An admin's unknown filters are still dropped.
  CHECK(f.Call("GET", "/v3/abc123/backups?bogus=1", "", "volume 3.33").status == 200);
}

TEST_CASE("import_record with no backup service up is 404 ServiceNotFound, recording nothing") {
  Fixture f(/*with_backup_service=*/false);
  const std::string rec = "{\"id\": \"" + NewUuid() + "\", \"size\": 1, \"volume_id\": \"" + NewUuid() +
                          "\", \"container\": \"c/d\", \"service_metadata\": \"p\"}";
  auto r = f.Call("POST", "/v3/abc123/backups/import_record",
                  "{\"backup-record\": {\"backup_service\": \"cinder.backup.drivers.posix.PosixBackupDriver\", "
                  "\"backup_url\": \"" +
                      ToBase64(rec) + "\"}}");
  CHECK(r.status == 404);
  CHECK(r.body ==
        "{\"itemNotFound\": {\"code\": 404, \"message\": \"Service cinder.backup.drivers.posix.PosixBackupDriver "
        "could not be found.\"}}");
  CHECK(f.Call("GET", "/v3/abc123/backups").body == "{\"backups\": []}");
  auto usage = f.store->GetQuotaUsage("abc123");
  CHECK((usage->count("backups") == 0 || usage->at("backups").in_use == 0));
}

TEST_CASE("an incremental's parent is the caller's own backup of the volume, an admin's too") {
  Fixture f;
  std::string vol = f.NewVolume();
  RequestContext member;
  member.user_id = "u2";
  member.project_id = "abc123";
  member.roles = {"member", "reader"};
  BackupCreate c;
  c.volume_id = vol;
  auto mine = f.backups->CreateBackup(member, c);
  REQUIRE_MESSAGE(mine.ok(), mine.status().ToString());
  f.Drain();
  // An admin of another project backs the same volume up: its backup is newer, and its own.
  RequestContext admin = RequestContext::Admin("root", "ops");
  auto admins = f.backups->CreateBackup(admin, c);
  REQUIRE_MESSAGE(admins.ok(), admins.status().ToString());
  f.Drain();
  c.incremental = true;
  auto inc = f.backups->CreateBackup(member, c);
  REQUIRE_MESSAGE(inc.ok(), inc.status().ToString());
  CHECK(inc->parent_id == mine->id);
  f.Drain();
  auto admin_inc = f.backups->CreateBackup(admin, c);
  REQUIRE_MESSAGE(admin_inc.ok(), admin_inc.status().ToString());
  CHECK(admin_inc->parent_id == admins->id);
  f.Drain();
  // A project with no backup of its own gets Cinder's refusal, not someone else's parent.
  auto none = f.backups->CreateBackup(RequestContext::Admin("root", "third"), c);
  CHECK(none.status().message() == "Invalid backup: No backups available to do an incremental backup.");
}

}  // namespace cinder
