// The backups table (schema 12) against real SQLite and PostgreSQL: each compare-and-swap, what a
// backup holds of its volume or snapshot, its quota charged and given back exactly once, and a
// delete refused while incrementals exist.
#include <doctest/doctest.h>

#include <thread>

#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

Volume AddVolume(Store& s, const std::string& status = "available", int64_t size = 2) {
  Volume v;
  v.id = NewUuid();
  v.size = size;
  v.status = status;
  v.project_id = "p";
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.created_at = NowIso();
  REQUIRE(s.InsertVolume(v).ok());
  return v;
}

// An available snapshot of `v`, inserted while `v` has status `volume_status`.
Snapshot AddSnapshot(Store& s, const Volume& v, const std::string& volume_status) {
  Snapshot sn;
  sn.id = NewUuid();
  sn.volume_id = v.id;
  sn.status = "available";
  sn.size = v.size;
  sn.project_id = "p";
  sn.user_id = "u";
  sn.created_at = NowIso();
  REQUIRE(*s.InsertSnapshot(sn, {volume_status}));
  return sn;
}

Backup NewBackup(const Volume& v) {
  Backup b;
  b.id = NewUuid();
  b.user_id = "u";
  b.project_id = "p";
  b.volume_id = v.id;
  b.host = "bk1";
  b.availability_zone = "nova";
  b.status = backup_status::kCreating;
  b.size = v.size;
  b.service = kPosixBackupService;
  b.created_at = NowIso();
  b.data_timestamp = b.created_at;
  return b;
}

// A backup of `v` recorded and finished with `out` (available, its volume given back), as a
// backup host leaves one; `charge` is counted when given.
Backup AddAvailableBackup(Store& s, const Volume& v, const Store::BackupOutcome& out = {},
                          const QuotaCharge* charge = nullptr) {
  Backup b = NewBackup(v);
  REQUIRE(s.InsertBackup(b, {"available", "in-use"}, charge).ok());
  REQUIRE(*s.FinishBackup(b.id, out));
  auto got = s.GetBackup(b.id, std::nullopt);
  REQUIRE(got.ok());
  return *got;
}

QuotaCharge Charge(int64_t size) {
  QuotaCharge c;
  c.project = "p";
  c.deltas = BackupQuotaDeltas(size, 1);
  return c;
}

int64_t InUse(Store& s, const std::string& resource) {
  auto u = s.GetQuotaUsage("p");
  REQUIRE(u.ok());
  auto it = u->find(resource);
  return it == u->end() ? 0 : it->second.in_use;
}

std::string VolumeStatus(Store& s, const std::string& id) { return s.GetVolume(id, std::nullopt)->status; }
std::string BackupStatus(Store& s, const std::string& id) { return s.GetBackup(id, std::nullopt)->status; }

}  // namespace

TEST_CASE("a backup's insert holds its volume and charges its quota in one transaction") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s, "in-use");
    Backup b = NewBackup(v);
    b.display_name = "n";
    b.metadata = {{"k", "v"}};
    QuotaCharge c = Charge(v.size);
    // In-use needs force: the statuses the caller allows.
    Status refused = s->InsertBackup(b, {"available"}, &c);
    CHECK(refused.code() == Code::kFailedPrecondition);
    CHECK(refused.message() ==
          "Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"in-use\".");
    CHECK(InUse(*s, "backups") == 0);
    CHECK(s->GetBackup(b.id, std::nullopt).status().code() == Code::kNotFound);
    REQUIRE(s->InsertBackup(b, {"available", "in-use"}, &c).ok());
    CHECK(VolumeStatus(*s, v.id) == "backing-up");
    CHECK(InUse(*s, "backups") == 1);
    CHECK(InUse(*s, "backup_gigabytes") == 2);
    auto got = s->GetBackup(b.id, std::string("p"));
    REQUIRE(got.ok());
    CHECK(got->display_name == "n");
    CHECK(got->metadata == Metadata{{"k", "v"}});
    CHECK(got->size == 2);
    CHECK_FALSE(got->object_count);
    CHECK(s->GetBackup(b.id, std::string("other")).status().code() == Code::kNotFound);
    // A second backup of the volume now: it is backing-up.
    Backup b2 = NewBackup(v);
    CHECK(s->InsertBackup(b2, {"available", "in-use"}, &c).code() == Code::kFailedPrecondition);
    CHECK(InUse(*s, "backups") == 1);

    // Finish: available with its outcome, the volume back to in-use.
    Store::BackupOutcome out;
    out.object_count = 7;
    out.container = "ab/cd/" + b.id;
    out.service_metadata = "volume_x_backup_y";
    CHECK(*s->FinishBackup(b.id, out));
    CHECK_FALSE(*s->FinishBackup(b.id, out));  // once
    got = s->GetBackup(b.id, std::nullopt);
    CHECK(got->status == "available");
    CHECK(got->object_count == 7);
    CHECK(got->container == out.container);
    CHECK(got->service_metadata == out.service_metadata);
    CHECK(VolumeStatus(*s, v.id) == "in-use");
  }
}

TEST_CASE("over quota records nothing and names the resource") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    REQUIRE(s->SetProjectQuotas("p", {{"backups", 1}}).ok());
    Volume v1 = AddVolume(*s), v2 = AddVolume(*s);
    QuotaCharge c = Charge(2);
    c.default_limits = {{"backups", 10}, {"backup_gigabytes", 1000}};
    REQUIRE(s->InsertBackup(NewBackup(v1), {"available"}, &c).ok());
    Store::QuotaReservation over;
    Backup b2 = NewBackup(v2);
    Status st = s->InsertBackup(b2, {"available"}, &c, &over);
    CHECK(st.code() == Code::kResourceExhausted);
    CHECK(over.over == std::vector<std::string>{"backups"});
    CHECK(VolumeStatus(*s, v2.id) == "available");  // rolled back with it
    CHECK(s->GetBackup(b2.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(InUse(*s, "backups") == 1);
  }
}

TEST_CASE("a failed backup gives its volume back and keeps its quota until deleted") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    Backup b = NewBackup(v);
    QuotaCharge c = Charge(v.size);
    REQUIRE(s->InsertBackup(b, {"available"}, &c).ok());
    CHECK(*s->FailBackup(b.id, "No space left on device"));
    CHECK_FALSE(*s->FailBackup(b.id, "again"));  // only from creating
    auto got = s->GetBackup(b.id, std::nullopt);
    CHECK(got->status == "error");
    CHECK(got->fail_reason == "No space left on device");
    CHECK(VolumeStatus(*s, v.id) == "available");
    CHECK(InUse(*s, "backups") == 1);
    // Delete: error -> deleting -> soft-deleted, quota given back once.
    CHECK(*s->StartBackupDelete(b.id, {"available", "error"}) == Store::BackupDeleteStart::kStarted);
    CHECK(BackupStatus(*s, b.id) == "deleting");
    CHECK(*s->SoftDeleteBackup(b.id));
    CHECK_FALSE(*s->SoftDeleteBackup(b.id));
    CHECK(s->GetBackup(b.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(InUse(*s, "backups") == 0);
    CHECK(InUse(*s, "backup_gigabytes") == 0);
  }
}

TEST_CASE("a backup of a snapshot holds the snapshot, not the volume") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s, "in-use");
    Snapshot sn = AddSnapshot(*s, v, "in-use");
    Backup b = NewBackup(v);
    b.snapshot_id = sn.id;
    REQUIRE(s->InsertBackup(b, {}).ok());
    CHECK(s->GetSnapshot(sn.id, std::nullopt)->status == "backing-up");
    CHECK(VolumeStatus(*s, v.id) == "in-use");
    Backup b2 = NewBackup(v);
    b2.snapshot_id = sn.id;
    Status busy = s->InsertBackup(b2, {});
    CHECK(busy.message() ==
          "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"backing-up\".");
    CHECK(*s->FinishBackup(b.id, Store::BackupOutcome{}));
    CHECK(s->GetSnapshot(sn.id, std::nullopt)->status == "available");
  }
}

TEST_CASE("incrementals: the parent must be available, counts its dependents, and is not deleted under them") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    Backup full = NewBackup(v);
    REQUIRE(s->InsertBackup(full, {"available"}).ok());
    // No available parent yet.
    Backup early = NewBackup(v);
    early.parent_id = full.id;
    CHECK(s->InsertBackup(early, {"available"}).code() == Code::kFailedPrecondition);  // volume backing-up
    REQUIRE(*s->FinishBackup(full.id, Store::BackupOutcome{}));
    auto latest = s->LatestAvailableBackup(v.id, "p");
    REQUIRE(latest.ok());
    REQUIRE(latest->has_value());
    CHECK((*latest)->id == full.id);

    Backup inc = NewBackup(v);
    inc.parent_id = full.id;
    REQUIRE(s->InsertBackup(inc, {"available"}).ok());
    // A live child (even one still creating) blocks the parent's delete, force or not.
    CHECK(*s->StartBackupDelete(full.id, {}) == Store::BackupDeleteStart::kHasDependents);
    CHECK(BackupStatus(*s, full.id) == "available");
    REQUIRE(*s->FinishBackup(inc.id, Store::BackupOutcome{}));
    CHECK(s->GetBackup(full.id, std::nullopt)->num_dependent_backups == 1);
    CHECK(*s->StartBackupDelete(full.id, {"available", "error"}) == Store::BackupDeleteStart::kHasDependents);
    // The incremental first, then the parent.
    CHECK(*s->StartBackupDelete(inc.id, {"available", "error"}) == Store::BackupDeleteStart::kStarted);
    REQUIRE(*s->SoftDeleteBackup(inc.id));
    CHECK(s->GetBackup(full.id, std::nullopt)->num_dependent_backups == 0);
    CHECK(*s->StartBackupDelete(full.id, {"available", "error"}) == Store::BackupDeleteStart::kStarted);
    // A parent being deleted takes no new incremental.
    Backup late = NewBackup(v);
    late.parent_id = full.id;
    Status st = s->InsertBackup(late, {"available"});
    CHECK(st.message() == "Invalid backup: No backups available to do an incremental backup.");
    CHECK(VolumeStatus(*s, v.id) == "available");
    CHECK(*s->StartBackupDelete(NewUuid(), {}) == Store::BackupDeleteStart::kNotFound);
  }
}

TEST_CASE("a delete needs available or error unless forced; a forced delete of a creating backup frees its volume") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    Backup b = NewBackup(v);
    QuotaCharge c = Charge(v.size);
    REQUIRE(s->InsertBackup(b, {"available"}, &c).ok());
    CHECK(*s->StartBackupDelete(b.id, {"available", "error"}) == Store::BackupDeleteStart::kBadStatus);
    CHECK(*s->StartBackupDelete(b.id, {}) == Store::BackupDeleteStart::kStarted);
    // The host cancels: its FinishBackup loses, its delete completes.
    CHECK_FALSE(*s->FinishBackup(b.id, Store::BackupOutcome{}));
    CHECK(VolumeStatus(*s, v.id) == "backing-up");
    CHECK(*s->SoftDeleteBackup(b.id));
    CHECK(VolumeStatus(*s, v.id) == "available");
    CHECK(InUse(*s, "backups") == 0);
  }
}

TEST_CASE("deleting an older backup while another backup of its volume runs leaves the volume held") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    QuotaCharge c1 = Charge(v.size);
    Store::BackupOutcome out;
    out.object_count = 1;
    out.container = "c";
    out.service_metadata = "p";
    Backup old = AddAvailableBackup(*s, v, out, &c1);
    Backup running = NewBackup(v);
    QuotaCharge c2 = Charge(v.size);
    REQUIRE(s->InsertBackup(running, {"available"}, &c2).ok());
    REQUIRE(VolumeStatus(*s, v.id) == "backing-up");
    REQUIRE(*s->StartBackupDelete(old.id, {"available", "error"}) == Store::BackupDeleteStart::kStarted);
    CHECK(*s->SoftDeleteBackup(old.id));
    CHECK(VolumeStatus(*s, v.id) == "backing-up");  // still the running backup's
    REQUIRE(*s->FinishBackup(running.id, out));
    CHECK(VolumeStatus(*s, v.id) == "available");
  }
}

TEST_CASE("restore onto an existing volume: both move together, and back") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    Backup b = NewBackup(v);
    REQUIRE(s->InsertBackup(b, {"available"}).ok());
    Volume target = AddVolume(*s, "in-use");
    CHECK(*s->StartRestore(b.id, target.id, false) == Store::RestoreStart::kBackupBusy);  // creating
    REQUIRE(*s->FinishBackup(b.id, Store::BackupOutcome{}));
    CHECK(*s->StartRestore(b.id, target.id, false) == Store::RestoreStart::kVolumeBusy);
    CHECK(BackupStatus(*s, b.id) == "available");  // rolled back with the volume's refusal
    Volume t2 = AddVolume(*s);
    CHECK(*s->StartRestore(b.id, t2.id, false) == Store::RestoreStart::kStartedReady);
    CHECK(BackupStatus(*s, b.id) == "restoring");
    CHECK(s->GetBackup(b.id, std::nullopt)->restore_volume_id == t2.id);
    CHECK(VolumeStatus(*s, t2.id) == "restoring-backup");
    CHECK(*s->TouchBackupProgress(b.id, 4096, {"restoring"}));
    CHECK(s->GetBackup(b.id, std::nullopt)->progress_bytes == 4096);
    CHECK((*s->BackupRestoringInto(t2.id))->id == b.id);
    CHECK(*s->FinishRestore(b.id, t2.id, /*ok=*/false, /*volume_is_new=*/false));
    CHECK(BackupStatus(*s, b.id) == "available");
    CHECK_FALSE(s->GetBackup(b.id, std::nullopt)->restore_volume_id);
    CHECK(VolumeStatus(*s, t2.id) == "error_restoring");
    CHECK_FALSE(s->BackupRestoringInto(t2.id)->has_value());
    CHECK_FALSE(*s->TouchBackupProgress(b.id, 1, {"restoring"}));
  }
}

TEST_CASE("restore into a new volume: exactly one of the API and the volume host casts") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    Backup b = AddAvailableBackup(*s, v);
    // The volume is still being made: the host claims it later.
    Volume fresh = AddVolume(*s, "creating");
    CHECK(*s->StartRestore(b.id, fresh.id, true) == Store::RestoreStart::kStartedPending);
    CHECK(VolumeStatus(*s, fresh.id) == "creating");
    auto pending = s->PendingRestores("bk1");
    REQUIRE(pending->size() == 1);
    CHECK((*pending)[0].first.id == b.id);
    CHECK((*pending)[0].second == "creating");
    CHECK(s->PendingRestores("bk2")->empty());
    CHECK_FALSE(s->ClaimRestoreTarget(fresh.id)->has_value());  // not made yet
    REQUIRE(*s->CasVolumeStatus(fresh.id, {"creating"}, "available"));
    auto claimed = s->ClaimRestoreTarget(fresh.id);
    REQUIRE(claimed.ok());
    REQUIRE(claimed->has_value());
    CHECK((*claimed)->id == b.id);
    CHECK(VolumeStatus(*s, fresh.id) == "restoring-backup");
    CHECK(s->PendingRestores("bk1")->empty());                  // claimed: in flight
    CHECK_FALSE(s->ClaimRestoreTarget(fresh.id)->has_value());  // once
    CHECK(*s->FinishRestore(b.id, fresh.id, /*ok=*/false, /*volume_is_new=*/true));
    CHECK(VolumeStatus(*s, fresh.id) == "error");
    // Made before the restore started: the API takes it at once.
    Volume made = AddVolume(*s);
    CHECK(*s->StartRestore(b.id, made.id, true) == Store::RestoreStart::kStartedReady);
    CHECK_FALSE(s->ClaimRestoreTarget(made.id)->has_value());
    CHECK(*s->FinishRestore(b.id, made.id, true, true));
    CHECK(VolumeStatus(*s, made.id) == "available");
  }
}

TEST_CASE("backup lists filter, sort, page and count; host and stale queries") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
      Volume v = AddVolume(*s);
      Backup b = NewBackup(v);
      b.display_name = i % 2 ? "odd" : "even";
      b.created_at = "2026-01-0" + std::to_string(i + 1) + "T00:00:00.000000";
      if (i == 4) b.project_id = "q";
      REQUIRE(s->InsertBackup(b, {"available"}).ok());
      ids.push_back(b.id);
    }
    BackupListQuery q;
    auto all = s->ListBackups(q, std::string("p"), 1000);
    REQUIRE(all.ok());
    REQUIRE(all->backups.size() == 4);
    CHECK(all->backups[0].id == ids[3]);  // created_at desc
    q.filters = {{"name", "odd"}};
    q.with_count = true;
    auto odd = s->ListBackups(q, std::string("p"), 1000);
    CHECK(odd->backups.size() == 2);
    CHECK(odd->count == 2);
    BackupListQuery page;
    page.limit = 2;
    page.sort = {{"created_at", true}};
    auto p1 = s->ListBackups(page, std::nullopt, 1000);
    REQUIRE(p1->backups.size() == 2);
    CHECK(p1->more);
    page.marker = p1->backups.back().id;
    auto p2 = s->ListBackups(page, std::nullopt, 1000);
    CHECK(p2->backups[0].id == ids[2]);
    BackupListQuery bad;
    bad.filters = {{"nonsense", "x"}};
    CHECK(s->ListBackups(bad, std::nullopt, 1000).status().code() == Code::kInvalidArgument);
    CHECK(s->BackupsOnHost("bk1", {"creating"})->size() == 5);
    CHECK(s->BackupsOnHost("bk2", {})->empty());
    CHECK(s->StaleBackups({"creating"}, "2000-01-01T00:00:00.000000")->empty());
    CHECK(s->StaleBackups({"creating"}, "2999-01-01T00:00:00.000000")->size() == 5);
    CHECK(*s->CasBackupStatus(ids[0], {"available"}, "error") == false);
    CHECK(*s->CasBackupStatus(ids[0], {}, "error"));
    CHECK(*s->UpdateBackup(ids[0], {{"display_name", std::string("renamed")}}, Metadata{{"a", "b"}}));
    auto r = s->GetBackup(ids[0], std::nullopt);
    CHECK(r->display_name == "renamed");
    CHECK(r->metadata == Metadata{{"a", "b"}});
  }
}

TEST_CASE("import inserts, refuses a live id, and revives a deleted one") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Backup b;
    b.id = NewUuid();
    b.project_id = "p";
    b.user_id = "u";
    b.volume_id = "00000000-0000-0000-0000-000000000000";
    b.host = "bk1";
    b.status = "creating";
    b.size = 3;
    b.created_at = NowIso();
    QuotaCharge c = Charge(3);
    REQUIRE(s->ImportBackup(b, &c).ok());
    CHECK(InUse(*s, "backup_gigabytes") == 3);
    Status again = s->ImportBackup(b, &c);
    CHECK(again.message() == "Invalid backup: Backup already exists in database.");
    CHECK(InUse(*s, "backups") == 1);
    CHECK(*s->CompleteImport(b.id, {{"object_count", std::string("4")}, {"container", std::string("c")}}, std::nullopt,
                             "available"));
    CHECK(s->GetBackup(b.id, std::nullopt)->object_count == 4);
    REQUIRE(*s->StartBackupDelete(b.id, {}) == Store::BackupDeleteStart::kStarted);
    REQUIRE(*s->SoftDeleteBackup(b.id));
    CHECK(InUse(*s, "backups") == 0);
    REQUIRE(s->ImportBackup(b, &c).ok());
    CHECK(BackupStatus(*s, b.id) == "creating");
    CHECK(InUse(*s, "backups") == 1);
    // Purge takes a deleted backup with its metadata.
    REQUIRE(*s->UpdateBackup(b.id, {}, Metadata{{"k", "v"}}));
    REQUIRE(*s->StartBackupDelete(b.id, {}) == Store::BackupDeleteStart::kStarted);
    REQUIRE(*s->SoftDeleteBackup(b.id));
    auto purged = s->Purge("2999-01-01T00:00:00.000000");
    REQUIRE(purged.ok());
    CHECK(*purged >= 2);
  }
}

TEST_CASE("a parent's delete racing an incremental of it: never both") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    for (int round = 0; round < 10; ++round) {
      Volume v = AddVolume(*s);
      Backup full = AddAvailableBackup(*s, v);
      Backup inc = NewBackup(v);
      inc.parent_id = full.id;
      Status inserted;
      Result<Store::BackupDeleteStart> deleted = Store::BackupDeleteStart::kNotFound;
      std::thread a([&] { inserted = s->InsertBackup(inc, {"available"}); });
      std::thread b([&] { deleted = s->StartBackupDelete(full.id, {"available", "error"}); });
      a.join();
      b.join();
      REQUIRE(deleted.ok());
      const bool delete_started = *deleted == Store::BackupDeleteStart::kStarted;
      CHECK(inserted.ok() != delete_started);
      if (!inserted.ok()) CHECK(inserted.code() == Code::kFailedPrecondition);
    }
  }
}

TEST_CASE("the parent of an incremental is the latest available backup of the volume in the caller's project") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = AddVolume(*s);
    auto backup_at = [&](const std::string& project, const std::string& data_timestamp) {
      Backup b = NewBackup(v);
      b.project_id = project;
      b.data_timestamp = data_timestamp;
      REQUIRE(s->InsertBackup(b, {"available"}).ok());
      REQUIRE(*s->FinishBackup(b.id, Store::BackupOutcome{}));
      return b;
    };
    Backup older = backup_at("p", "2026-01-01T00:00:00.000000");
    Backup mine = backup_at("p", "2026-01-02T00:00:00.000000");
    // The volume went to project q (a transfer), which backed it up since.
    Backup theirs = backup_at("q", "2026-01-03T00:00:00.000000");
    // p's newest is not available: not a parent.
    Backup failed = NewBackup(v);
    failed.data_timestamp = "2026-01-04T00:00:00.000000";
    REQUIRE(s->InsertBackup(failed, {"available"}).ok());
    REQUIRE(*s->FailBackup(failed.id, "broken"));

    auto latest = [&](const std::string& project, std::optional<std::string> before = std::nullopt) {
      auto r = s->LatestAvailableBackup(v.id, project, before);
      REQUIRE(r.ok());
      return r->has_value() ? (*r)->id : std::string("none");
    };
    CHECK(latest("p") == mine.id);
    CHECK(latest("q") == theirs.id);
    CHECK(latest("r") == "none");
    // Of a snapshot taken before `mine`: only a backup whose data is older than the snapshot.
    CHECK(latest("p", "2026-01-02T00:00:00.000000") == older.id);
    CHECK(latest("p", "2025-12-31T00:00:00.000000") == "none");
    CHECK(latest("q", "2026-01-02T12:00:00.000000") == "none");
  }
}

TEST_CASE("reset-status gives back what the backup held, in the transaction of its change") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    // Creating: the volume goes back to its status before the backup.
    Volume v = AddVolume(*s, "in-use");
    Backup b = NewBackup(v);
    REQUIRE(s->InsertBackup(b, {"in-use"}).ok());
    REQUIRE(VolumeStatus(*s, v.id) == "backing-up");
    CHECK(*s->ResetBackupStatus(b.id, "error"));
    CHECK(BackupStatus(*s, b.id) == "error");
    CHECK(VolumeStatus(*s, v.id) == "in-use");
    CHECK(*s->ResetBackupStatus(b.id, "available"));  // holds nothing now: the volume stays
    CHECK(VolumeStatus(*s, v.id) == "in-use");
    CHECK_FALSE(*s->ResetBackupStatus(NewUuid(), "error"));

    // Creating from a snapshot: the snapshot is available again.
    Volume sv = AddVolume(*s);
    Snapshot sn = AddSnapshot(*s, sv, "available");
    Backup of_snap = NewBackup(sv);
    of_snap.snapshot_id = sn.id;
    REQUIRE(s->InsertBackup(of_snap, {}).ok());
    REQUIRE(s->GetSnapshot(sn.id, std::nullopt)->status == "backing-up");
    CHECK(*s->ResetBackupStatus(of_snap.id, "available"));
    CHECK(s->GetSnapshot(sn.id, std::nullopt)->status == "available");
    CHECK(VolumeStatus(*s, sv.id) == "available");

    // Restoring onto a volume: its bytes are partial, it is error_restoring.
    Backup done = AddAvailableBackup(*s, AddVolume(*s));
    Volume target = AddVolume(*s);
    REQUIRE(*s->StartRestore(done.id, target.id, false) == Store::RestoreStart::kStartedReady);
    CHECK(*s->ResetBackupStatus(done.id, "available"));
    CHECK(BackupStatus(*s, done.id) == "available");
    CHECK_FALSE(s->GetBackup(done.id, std::nullopt)->restore_volume_id);
    CHECK(VolumeStatus(*s, target.id) == "error_restoring");

    // Restoring into a new volume its host is still making: error_restoring too, never
    // "available" and empty once made (its host's claim finds no restore, and its
    // creating -> available loses).
    Volume fresh = AddVolume(*s, "creating");
    REQUIRE(*s->StartRestore(done.id, fresh.id, true) == Store::RestoreStart::kStartedPending);
    CHECK(*s->ResetBackupStatus(done.id, "error"));
    CHECK(VolumeStatus(*s, fresh.id) == "error_restoring");
    CHECK_FALSE(s->ClaimRestoreTarget(fresh.id, /*from_creating=*/true)->has_value());
    CHECK_FALSE(*s->CasVolumeStatus(fresh.id, {"creating"}, "available"));
  }
}

TEST_CASE("a restart's or the sweep's restore reset leaves a new volume still being made to its hand-over") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Backup b = AddAvailableBackup(*s, AddVolume(*s));
    Volume fresh = AddVolume(*s, "creating");
    REQUIRE(*s->StartRestore(b.id, fresh.id, true) == Store::RestoreStart::kStartedPending);
    CHECK(*s->ResetRestore(b.id) == Store::RestoreReset::kPending);
    CHECK(BackupStatus(*s, b.id) == "restoring");
    CHECK(VolumeStatus(*s, fresh.id) == "creating");
    // Made and claimed: now a reset ends it.
    REQUIRE(s->ClaimRestoreTarget(fresh.id, /*from_creating=*/true)->has_value());
    CHECK(*s->ResetRestore(b.id) == Store::RestoreReset::kReset);
    CHECK(BackupStatus(*s, b.id) == "available");
    CHECK_FALSE(s->GetBackup(b.id, std::nullopt)->restore_volume_id);
    CHECK(VolumeStatus(*s, fresh.id) == "error_restoring");
    CHECK(*s->ResetRestore(b.id) == Store::RestoreReset::kNotRestoring);
    // A target that is gone (or failed) does not hold the backup.
    Volume failed = AddVolume(*s, "creating");
    REQUIRE(*s->StartRestore(b.id, failed.id, true) == Store::RestoreStart::kStartedPending);
    REQUIRE(*s->CasVolumeStatus(failed.id, {"creating"}, "error"));
    CHECK(*s->ResetRestore(b.id) == Store::RestoreReset::kReset);
    CHECK(BackupStatus(*s, b.id) == "available");
    CHECK(VolumeStatus(*s, failed.id) == "error");
  }
}

}  // namespace cinder
