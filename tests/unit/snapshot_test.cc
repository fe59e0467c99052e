// Snapshots, volumes made from snapshots and volumes, revert, retype and the quota usage they
// move, through the VolumeManager (embedded, SQLite, the file driver).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "cinder/service.h"
#include "cinder/volume_driver.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

const RequestContext kCtx = RequestContext::Admin("user", "proj");

using testing::OpenManager;
const auto& TestOptions = testing::ManagerOptions;

void WriteAt(const std::string& path, int64_t offset, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data.data(), data.size(), offset) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

std::string ReadAt(const std::string& path, int64_t offset, size_t n) {
  std::string out(n, '\0');
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, out.data(), n, offset) == static_cast<ssize_t>(n));
  ::close(fd);
  return out;
}

Volume MakeVolume(VolumeManager& m, int64_t size, const std::optional<std::string>& type = std::nullopt) {
  VolumeCreate c;
  c.size = size;
  c.volume_type = type;
  auto v = m.CreateVolume(kCtx, c);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  m.Drain();
  auto got = m.GetVolume(kCtx, v->id);
  REQUIRE(got->status == "available");
  return *got;
}

void MakeType(VolumeManager& m, const std::string& name) {
  VolumeType t;
  t.name = name;
  REQUIRE(m.CreateVolumeType(kCtx, t).ok());
}

Snapshot MakeSnapshot(VolumeManager& m, const std::string& volume_id) {
  SnapshotCreate c;
  c.volume_id = volume_id;
  auto s = m.CreateSnapshot(kCtx, c);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  CHECK(s->status == "creating");
  m.Drain();
  auto got = m.GetSnapshot(kCtx, s->id);
  REQUIRE(got->status == "available");
  return *got;
}

// in_use of each resource asked for (0 when absent).
std::map<std::string, int64_t> InUse(VolumeManager& m, const std::vector<std::string>& keys) {
  auto set = m.GetQuotaSet(kCtx, kCtx.project_id, /*defaults=*/false);
  REQUIRE_MESSAGE(set.ok(), set.status().ToString());
  std::map<std::string, int64_t> out;
  for (const auto& k : keys) {
    auto it = set->find(k);
    out[k] = it == set->end() ? 0 : it->second.in_use;
    CHECK_MESSAGE((it == set->end() || it->second.reserved == 0), k);
  }
  return out;
}

// Creates succeed without writing anything; extends fail: for the reservation of an extend.
class FailingExtendDriver : public VolumeDriver {
 public:
  Status CreateVolume(const std::string&, int64_t) override { return Status::OK(); }
  Status ExtendVolume(const std::string&, int64_t) override { return Internal("disk on fire"); }
  Status DeleteVolume(const std::string&) override { return Status::OK(); }
  bool VolumeExists(const std::string&) override { return true; }
  std::string LocalPath(const std::string&) override { return ""; }
  Result<BackendCapacity> GetCapacity() override { return BackendCapacity{100, 100}; }
};

}  // namespace

TEST_CASE("a snapshot keeps its bytes; volumes from it and clones are copies; revert restores") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  Volume v = MakeVolume(*m, 1);
  const std::string vpath = *m->LocalPath(kCtx, v.id);
  WriteAt(vpath, 4096, "first");
  Snapshot s = MakeSnapshot(*m, v.id);
  CHECK(s.size == 1);
  CHECK(s.progress == "100%");
  WriteAt(vpath, 4096, "later");

  VolumeCreate from;
  from.snapshot_id = s.id;  // no size: the snapshot's
  auto f = m->CreateVolume(kCtx, from);
  REQUIRE(f.ok());
  CHECK(f->size == 1);
  CHECK(f->snapshot_id == s.id);
  VolumeCreate clone;
  clone.source_volid = v.id;
  clone.size = 3;
  auto c = m->CreateVolume(kCtx, clone);
  REQUIRE(c.ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, f->id)->status == "available");
  CHECK(m->GetVolume(kCtx, c->id)->status == "available");
  CHECK(ReadAt(*m->LocalPath(kCtx, f->id), 4096, 5) == "first");
  CHECK(ReadAt(*m->LocalPath(kCtx, c->id), 4096, 5) == "later");

  // Smaller than the source, or a source in the wrong state: refused.
  from.size = 0;
  VolumeCreate small;
  small.source_volid = c->id;
  small.size = 2;
  CHECK(m->CreateVolume(kCtx, small).status().message() ==
        "Invalid input received: Volume size '2'GB cannot be smaller than original volume size  3GB. "
        "They must be >= original volume size.");

  // Revert: only to the latest snapshot.
  CHECK(m->RevertToSnapshot(kCtx, v.id, NewUuid()).code() == Code::kInvalidArgument);
  REQUIRE(m->RevertToSnapshot(kCtx, v.id, s.id).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v.id)->status == "available");
  CHECK(m->GetSnapshot(kCtx, s.id)->status == "available");
  CHECK(ReadAt(vpath, 4096, 5) == "first");
  Snapshot s2 = MakeSnapshot(*m, v.id);
  CHECK(m->RevertToSnapshot(kCtx, v.id, s.id).message() ==
        "Specified snapshot " + s.id + " is None or not the latest one of volume " + v.id + ".");

  // A volume with snapshots goes only with them.
  CHECK(m->DeleteVolume(kCtx, v.id, false, false).code() == Code::kFailedPrecondition);
  REQUIRE(m->DeleteVolume(kCtx, v.id, false, /*cascade=*/true).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v.id).status().code() == Code::kNotFound);
  CHECK(m->GetSnapshot(kCtx, s.id).status().code() == Code::kNotFound);
  CHECK(m->GetSnapshot(kCtx, s2.id).status().code() == Code::kNotFound);
  CHECK(::access(vpath.c_str(), F_OK) != 0);
}

TEST_CASE("quota usage follows what exists: volumes, snapshots, extends, deletes") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  const std::vector<std::string> keys = {
      "volumes", "gigabytes", "snapshots", "volumes___DEFAULT__", "gigabytes___DEFAULT__", "snapshots___DEFAULT__"};
  Volume v = MakeVolume(*m, 2);
  CHECK(InUse(*m, keys) == std::map<std::string, int64_t>{{"volumes", 1},
                                                          {"gigabytes", 2},
                                                          {"snapshots", 0},
                                                          {"volumes___DEFAULT__", 1},
                                                          {"gigabytes___DEFAULT__", 2},
                                                          {"snapshots___DEFAULT__", 0}});
  Snapshot s = MakeSnapshot(*m, v.id);
  CHECK(InUse(*m, keys) == std::map<std::string, int64_t>{{"volumes", 1},
                                                          {"gigabytes", 4},
                                                          {"snapshots", 1},
                                                          {"volumes___DEFAULT__", 1},
                                                          {"gigabytes___DEFAULT__", 4},
                                                          {"snapshots___DEFAULT__", 1}});
  REQUIRE(m->ExtendVolume(kCtx, v.id, 3).ok());
  m->Drain();
  CHECK(InUse(*m, keys)["gigabytes"] == 5);
  REQUIRE(m->DeleteSnapshot(kCtx, s.id, false).ok());
  m->Drain();
  CHECK(InUse(*m, keys)["snapshots"] == 0);
  CHECK(InUse(*m, keys)["gigabytes"] == 3);
  REQUIRE(m->DeleteVolume(kCtx, v.id, false, false).ok());
  m->Drain();
  for (const auto& [k, n] : InUse(*m, keys)) CHECK_MESSAGE(n == 0, k);

  // Over quota: Cinder's 413, and nothing is created or reserved.
  REQUIRE(m->UpdateQuotaSet(kCtx, kCtx.project_id, {{"snapshots", 1}, {"gigabytes", 20}}).ok());
  Volume w = MakeVolume(*m, 4);
  MakeSnapshot(*m, w.id);
  SnapshotCreate again;
  again.volume_id = w.id;
  auto over = m->CreateSnapshot(kCtx, again);
  CHECK(over.status().code() == Code::kResourceExhausted);
  CHECK(over.status().message() == "Maximum number of snapshots allowed (1) exceeded");
  REQUIRE(m->UpdateQuotaSet(kCtx, kCtx.project_id, {{"gigabytes", 10}}).ok());
  VolumeCreate big;
  big.size = 3;
  auto too_big = m->CreateVolume(kCtx, big);
  CHECK(too_big.status().code() == Code::kResourceExhausted);
  CHECK(too_big.status().message() ==
        "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 10G and 8G has "
        "been consumed.");
  CHECK(m->ExtendVolume(kCtx, w.id, 7).code() == Code::kResourceExhausted);
  CHECK(m->GetVolume(kCtx, w.id)->status == "available");
  CHECK(InUse(*m, keys)["gigabytes"] == 8);
  CHECK(m->ListVolumes(kCtx, {})->volumes.size() == 1);
}

TEST_CASE("a failed extend gives its reservation back") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  BackendOptions b;
  b.name = "flaky";
  b.volume_driver = "flaky";
  b.volume_backend_name = "flaky";
  o.backends = {b};
  DriverRegistry drivers;
  drivers.Register("flaky", DriverInfo{[](const DriverContext&) -> Result<std::unique_ptr<VolumeDriver>> {
                                         return std::unique_ptr<VolumeDriver>(new FailingExtendDriver);
                                       },
                                       {}});
  auto m = OpenManager(o, &drivers);
  Volume v = MakeVolume(*m, 1);
  REQUIRE(m->ExtendVolume(kCtx, v.id, 5).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v.id)->status == "error_extending");
  auto set = m->GetQuotaSet(kCtx, kCtx.project_id, false);
  CHECK(set->at("gigabytes").in_use == 1);
  CHECK(set->at("gigabytes").reserved == 0);
}

TEST_CASE("a transfer moves the volume's usage, and the receiver's quota must hold it") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  Volume v = MakeVolume(*m, 2);
  MakeSnapshot(*m, v.id);
  const RequestContext other = RequestContext::Admin("u2", "proj2");
  auto t = m->CreateTransfer(kCtx, v.id, std::nullopt, /*no_snapshots=*/false);
  REQUIRE(t.ok());
  REQUIRE(m->UpdateQuotaSet(kCtx, "proj2", {{"gigabytes", 3}}).ok());
  auto refused = m->AcceptTransfer(other, t->id, t->auth_key);
  CHECK(refused.status().code() == Code::kResourceExhausted);
  CHECK(m->GetVolume(kCtx, v.id)->project_id == "proj");
  REQUIRE(m->UpdateQuotaSet(kCtx, "proj2", {{"gigabytes", 4}}).ok());
  REQUIRE(m->AcceptTransfer(other, t->id, t->auth_key).ok());
  auto mine = m->GetQuotaSet(kCtx, "proj", false);
  auto theirs = m->GetQuotaSet(kCtx, "proj2", false);
  for (const char* k : {"volumes", "gigabytes", "snapshots"}) {
    CHECK_MESSAGE(mine->at(k).in_use == 0, k);
    CHECK_MESSAGE(mine->at(k).reserved == 0, k);
  }
  CHECK(theirs->at("volumes").in_use == 1);
  CHECK(theirs->at("gigabytes").in_use == 4);
  CHECK(theirs->at("snapshots").in_use == 1);
  CHECK(theirs->at("gigabytes").reserved == 0);
}

TEST_CASE("a retype moves the per-type usage") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  MakeType(*m, "gold");
  Volume v = MakeVolume(*m, 2);
  REQUIRE(m->RetypeVolume(kCtx, v.id, "gold", "never").ok());
  m->Drain();
  auto got = m->GetVolume(kCtx, v.id);
  CHECK(got->status == "available");
  CHECK(got->volume_type_name == "gold");
  auto set = m->GetQuotaSet(kCtx, kCtx.project_id, false);
  CHECK(set->at("volumes_gold").in_use == 1);
  CHECK(set->at("gigabytes_gold").in_use == 2);
  CHECK(set->at("volumes___DEFAULT__").in_use == 0);
  CHECK(set->at("gigabytes").in_use == 2);
  CHECK(m->RetypeVolume(kCtx, v.id, "gold", "never").code() == Code::kFailedPrecondition);
  // Renaming the type renames its quota resources, usage and limits alike.
  REQUIRE(m->UpdateQuotaSet(kCtx, kCtx.project_id, {{"volumes_gold", 5}}).ok());
  auto renamed = m->UpdateVolumeType(kCtx, got->volume_type_id, std::string("platinum"), std::nullopt, std::nullopt);
  REQUIRE_MESSAGE(renamed.ok(), renamed.status().ToString());
  set = m->GetQuotaSet(kCtx, kCtx.project_id, false);
  CHECK(set->count("volumes_gold") == 0);
  CHECK(set->at("volumes_platinum").in_use == 1);
  CHECK(set->at("volumes_platinum").limit == 5);
  CHECK(set->at("gigabytes_platinum").in_use == 2);
  CHECK(m->RetypeVolume(kCtx, v.id, "tin", "never").message() ==
        "Invalid input received: Invalid volume_type passed: tin.");
}

TEST_CASE("a snapshot's per-type usage stays with the type it was taken under") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  MakeType(*m, "gold");
  Volume v = MakeVolume(*m, 2);
  Snapshot s = MakeSnapshot(*m, v.id);
  CHECK(s.volume_type_name == "__DEFAULT__");
  REQUIRE(m->RetypeVolume(kCtx, v.id, "gold", "never").ok());  // stays: snapshots may
  m->Drain();
  CHECK(m->GetVolume(kCtx, v.id)->volume_type_name == "gold");
  REQUIRE(m->DeleteSnapshot(kCtx, s.id, false).ok());
  m->Drain();
  auto set = m->GetQuotaSet(kCtx, kCtx.project_id, false);
  for (const char* k : {"snapshots___DEFAULT__", "snapshots_gold", "gigabytes___DEFAULT__", "volumes___DEFAULT__"}) {
    CHECK_MESSAGE(set->at(k).in_use == 0, k);
  }
  CHECK(set->at("gigabytes_gold").in_use == 2);
  CHECK(set->at("gigabytes").in_use == 2);
}

TEST_CASE("a clone is retyped freely once its source is gone; a pool renamed on the same backend is no move") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  auto m = OpenManager(o);
  MakeType(*m, "gold");
  Volume src = MakeVolume(*m, 1);
  VolumeCreate c;
  c.source_volid = src.id;
  auto clone = m->CreateVolume(kCtx, c);
  REQUIRE(clone.ok());
  m->Drain();
  WriteAt(*m->LocalPath(kCtx, clone->id), 0, "clone data");
  REQUIRE(m->DeleteVolume(kCtx, src.id, false, false).ok());
  m->Drain();
  // The volume's pool as an earlier volume_backend_name named it: the backend is the same.
  auto store = Store::Open(o.DatabaseUrl());
  REQUIRE(store.ok());
  REQUIRE(*(*store)->UpdateVolume(clone->id, {{"host", std::string("testhost@file#oldname")}}, std::nullopt));
  REQUIRE(m->RetypeVolume(kCtx, clone->id, "gold", "on-demand").ok());
  m->Drain();
  auto got = m->GetVolume(kCtx, clone->id);
  CHECK(got->status == "available");
  CHECK(got->volume_type_name == "gold");
  CHECK(got->host == "testhost@file#oldname");
  CHECK(ReadAt(*m->LocalPath(kCtx, clone->id), 0, 10) == "clone data");
}

}  // namespace cinder
