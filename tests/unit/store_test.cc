// The store against real SQLite and a real PostgreSQL (started by the ctest fixture).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "common/metrics.h"
#include "common/util.h"
#include "db/sql.h"
#include "db/status_metrics.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

Volume MakeVolume(const Store& s, const std::string& project, const std::string& name, int64_t size,
                  const std::string& created_at) {
  Volume v;
  v.id = NewUuid();
  v.has_name = !name.empty();
  v.name = name;
  v.size = size;
  v.status = "available";
  v.project_id = project;
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.created_at = created_at;
  return v;
}

}  // namespace

TEST_CASE("migrations apply once, report their version, and create __DEFAULT__") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = Store::Open(url);
    REQUIRE(s.ok());
    CHECK(*(*s)->SchemaVersion() == 0);
    CHECK((*s)->CheckSchema().code() == Code::kFailedPrecondition);
    REQUIRE((*s)->Migrate().ok());
    REQUIRE((*s)->Migrate().ok());  // idempotent
    CHECK(*(*s)->SchemaVersion() == Store::kLatestVersion);
    CHECK((*s)->CheckSchema().ok());
    auto t = (*s)->GetVolumeType("__DEFAULT__");
    REQUIRE(t.ok());
    CHECK(IsUuid(t->id));
    CHECK(t->description == "Default Volume Type");
    CHECK((*s)->GetVolumeType(t->id)->name == "__DEFAULT__");
    CHECK((*s)->GetVolumeType("gold").status().message() == "Volume type with name gold could not be found.");
    if (url.rfind("postgresql", 0) == 0) {
      // Lists sort by created_at byte by byte, not by the database's locale (schema 7).
      std::string cmd = "psql -At '" + url +
                        "' -c \"SELECT string_agg(table_name || '=' || collation_name, ',' ORDER BY table_name) "
                        "FROM information_schema.columns WHERE column_name = 'created_at' AND table_name IN "
                        "('volumes', 'snapshots', 'messages', 'transfers')\"";
      FILE* p = popen(cmd.c_str(), "r");
      REQUIRE(p);
      char buf[256] = {};
      std::string out = fgets(buf, sizeof buf, p) ? buf : "";
      pclose(p);
      CHECK(out == "messages=C,snapshots=C,transfers=C,volumes=C\n");
    }
  }
}

TEST_CASE("volumes round-trip with metadata, scoped by project") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p1", "vol", 3, NowIso());
    v.metadata = {{"k", "v"}, {"x", "y"}};
    v.volume_type_id = s->GetVolumeType("__DEFAULT__")->id;
    REQUIRE(s->InsertVolume(v).ok());
    auto got = s->GetVolume(v.id, std::string("p1"));
    REQUIRE(got.ok());
    CHECK(got->name == "vol");
    CHECK(got->has_name);
    CHECK_FALSE(got->has_description);
    CHECK(got->size == 3);
    CHECK(got->metadata == v.metadata);
    CHECK(got->volume_type_name == "__DEFAULT__");
    CHECK(got->created_at == v.created_at);
    CHECK_FALSE(got->updated_at.has_value());
    CHECK(s->GetVolume(v.id, std::string("p2")).status().code() == Code::kNotFound);
    CHECK(s->GetVolume(v.id, std::nullopt).ok());  // admin scope
  }
}

TEST_CASE("status changes are compare-and-swap") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "", 1, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    CHECK(*s->CasVolumeStatus(v.id, {"available"}, "extending"));
    CHECK_FALSE(*s->CasVolumeStatus(v.id, {"available"}, "deleting"));  // lost the race
    CHECK(s->GetVolume(v.id, std::nullopt)->status == "extending");
    CHECK(*s->CasVolumeStatus(v.id, {"extending"}, "available", {{"size", std::string("5")}}));
    auto got = s->GetVolume(v.id, std::nullopt);
    CHECK(got->size == 5);
    CHECK(got->updated_at.has_value());
    CHECK_FALSE(*s->CasVolumeStatus(NewUuid(), {}, "error"));  // no such volume
  }
}

TEST_CASE("CountByStatus: live rows by status, for the metrics (docs/metrics.md)") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    CHECK(s->CountByStatus("volumes")->empty());
    std::vector<Volume> made;
    for (int i = 0; i < 4; ++i) {
      made.push_back(MakeVolume(*s, "p", "", 1, NowIso()));
      REQUIRE(s->InsertVolume(made.back()).ok());
    }
    REQUIRE(*s->CasVolumeStatus(made[0].id, {"available"}, "error"));
    REQUIRE(*s->CasVolumeStatus(made[1].id, {"available"}, "deleting"));
    REQUIRE(*s->SoftDeleteVolume(made[1].id, "deleting"));  // deleted rows are not counted
    auto counts = s->CountByStatus("volumes");
    REQUIRE(counts.ok());
    CHECK(*counts == std::map<std::string, int64_t>{{"available", 2}, {"error", 1}});
    CHECK(s->CountByStatus("snapshots")->empty());
    CHECK(s->CountByStatus("backups")->empty());
    CHECK(s->CountByStatus("users").status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("StatusMetrics: volumes by status and services up, rendered for /metrics; an emptied status shows 0") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    ServiceInfo svc;
    svc.host = "h1@b";
    svc.binary = "cinder-volume";
    svc.topic = "cinder-volume";
    svc.availability_zone = "nova";
    REQUIRE(s->RegisterService(svc).ok());
    Volume v = MakeVolume(*s, "p", "", 1, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    Options o;
    o.metrics.refresh_interval = 3600;  // only the first count, and the ones asked for
    auto m = StatusMetrics::Start(o, s.get());
    REQUIRE(m);
    std::string text = metrics::Registry::Default().Text();
    CHECK(text.find("# TYPE cinder_volumes gauge\ncinder_volumes{status=\"available\"} 1\n") != std::string::npos);
    CHECK(text.find("cinder_service_up{binary=\"cinder-volume\",host=\"h1@b\",zone=\"nova\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("cinder_metrics_database_refresh_ok 1\n") != std::string::npos);
    REQUIRE(*s->CasVolumeStatus(v.id, {"available"}, "error"));
    m->Refresh();
    text = metrics::Registry::Default().Text();
    CHECK(text.find("cinder_volumes{status=\"available\"} 0\ncinder_volumes{status=\"error\"} 1\n") !=
          std::string::npos);
    m.reset();  // its section goes with it
    CHECK(metrics::Registry::Default().Text().find("cinder_volumes") == std::string::npos);
    o.metrics.enabled = false;
    CHECK_FALSE(StatusMetrics::Start(o, s.get()));
  }
}

TEST_CASE("soft delete hides a volume and purge removes it") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "a", 1, NowIso());
    v.metadata = {{"k", "v"}};
    REQUIRE(s->InsertVolume(v).ok());
    CHECK_FALSE(*s->SoftDeleteVolume(v.id, "deleting"));  // not in the expected status
    REQUIRE(*s->CasVolumeStatus(v.id, {"available"}, "deleting"));
    CHECK(*s->SoftDeleteVolume(v.id, "deleting"));
    CHECK(s->GetVolume(v.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(*s->Purge(IsoSecondsAgo(3600)) == 0);  // deleted just now: kept for an hour-old cutoff
    CHECK(*s->Purge(IsoSecondsAgo(-60)) == 2);   // the volume and its metadata row
    CHECK(*s->Purge(IsoSecondsAgo(-60)) == 0);
  }
}

TEST_CASE("snapshots: a volume goes only without them, their usage goes with them, purge takes them") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "a", 2, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    Snapshot sn;
    sn.id = NewUuid();
    sn.volume_id = v.id;
    sn.size = v.size;
    sn.status = "available";
    sn.project_id = "p";
    sn.user_id = "u";
    sn.volume_type_id = v.volume_type_id;
    sn.metadata = {{"k", "v"}};
    sn.created_at = NowIso();
    // Only while the volume is in one of the statuses given, at the size its quota is for.
    CHECK_FALSE(*s->InsertSnapshot(sn, {"in-use"}, {}));
    sn.size = 5;
    CHECK_FALSE(*s->InsertSnapshot(sn, {"available"}, {}));
    sn.size = v.size;
    REQUIRE(*s->InsertSnapshot(sn, {"available"}, {}));
    auto got = s->GetSnapshot(sn.id, std::string("p"));
    REQUIRE(got.ok());
    CHECK(got->size == 2);
    CHECK(got->metadata == Metadata{{"k", "v"}});
    CHECK(s->GetSnapshot(sn.id, std::string("other")).status().code() == Code::kNotFound);
    // Not without cascade; with it, the snapshot is deleting too.
    CHECK_FALSE(*s->StartVolumeDelete(v.id, {"available"}, false, false, true));
    REQUIRE(*s->StartVolumeDelete(v.id, {"available"}, true, false, true));
    CHECK(s->GetSnapshot(sn.id, std::nullopt)->status == "deleting");
    REQUIRE(*s->SoftDeleteSnapshot(sn.id, "deleting", true));
    CHECK_FALSE(*s->SoftDeleteSnapshot(sn.id, "deleting", true));  // once only
    REQUIRE(*s->SoftDeleteVolume(v.id, "deleting"));
    // Usage went down by what went (nothing was charged here, so it is now negative by that).
    auto usage = s->GetQuotaUsage("p");
    CHECK(usage->at("snapshots").in_use == -1);
    CHECK(usage->at("volumes").in_use == -1);
    CHECK(usage->at("gigabytes").in_use == -4);
    CHECK(*s->Purge(IsoSecondsAgo(-60)) == 3);  // the volume, the snapshot, its metadata row
  }
}

TEST_CASE("concurrent creates and deletes in one project keep usage equal to what exists") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const std::string type_name = "__DEFAULT__";
    const std::string type_id = s->GetVolumeType(type_name)->id;
    // Usage rows made in another order than their names sort in (as an upgraded database has).
    for (const char* r : {"volumes___DEFAULT__", "gigabytes", "volumes", "gigabytes___DEFAULT__"}) {
      REQUIRE(s->ReserveQuota("p", {{r, 0}}, {}, 60).ok());
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 15; ++i) {
          Volume v = MakeVolume(*s, "p", "c" + std::to_string(t), 1 + (i % 3), NowIso());
          v.volume_type_id = type_id;
          // Created with its usage, grown through a reservation (committed with the new size),
          // deleted: the three orders in which writers take the usage rows.
          QuotaCharge charge{"p", VolumeQuotaDeltas(type_name, v.size, 1), {{"volumes", 1000}}, true, v.size, "", ""};
          if (!s->InsertVolume(v, &charge).ok()) {
            ++failures;
            continue;
          }
          auto r = s->ReserveQuota("p", {{"gigabytes", 1}, {"gigabytes___DEFAULT__", 1}}, {}, 60);
          auto grown = r.ok() ? s->CasVolumeStatusCommit(v.id, {"available"}, "available",
                                                         {{"size", std::to_string(v.size + 1)}}, r->ids)
                              : Result<bool>(r.status());
          if (!grown.ok() || !*grown) ++failures;
          auto del = s->CasVolumeStatus(v.id, {"available"}, "deleting");
          auto gone = s->SoftDeleteVolume(v.id, "deleting");
          if (!del.ok() || !*del || !gone.ok() || !*gone) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    auto usage = s->GetQuotaUsage("p");
    for (const char* r : {"volumes", "gigabytes", "volumes___DEFAULT__", "gigabytes___DEFAULT__"}) {
      CHECK_MESSAGE(usage->at(r).in_use == 0, r);
      CHECK_MESSAGE(usage->at(r).reserved == 0, r);
    }
  }
}

TEST_CASE("a create's usage is added with its row, only when it fits") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    QuotaCharge charge{"p", VolumeQuotaDeltas("gold", 3, 1), {{"volumes", 2}, {"gigabytes", 5}}, true, 3, "", ""};
    Volume a = MakeVolume(*s, "p", "a", 3, NowIso());
    auto first = s->InsertVolume(a, &charge);
    REQUIRE_MESSAGE(first.ok(), first.ToString());
    Volume b = MakeVolume(*s, "p", "b", 3, NowIso());
    Store::QuotaReservation over;
    auto refused = s->InsertVolume(b, &charge, &over);
    CHECK(refused.code() == Code::kResourceExhausted);
    CHECK(over.over == std::vector<std::string>{"gigabytes"});
    CHECK(over.usages["gigabytes"].in_use == 3);
    CHECK(s->GetVolume(b.id, std::nullopt).status().code() == Code::kNotFound);
    auto usage = s->GetQuotaUsage("p");
    CHECK(usage->at("volumes").in_use == 1);
    CHECK(usage->at("gigabytes").in_use == 3);
    CHECK(usage->at("volumes_gold").in_use == 1);
    CHECK(usage->at("gigabytes_gold").in_use == 3);
    // The limits are read with the charge: the class "default" over the options, the
    // project's own over both, per_volume_gigabytes too.
    QuotaCharge other{"q", VolumeQuotaDeltas("", 1, 1), {{"volumes", 10}}, true, 1, "", ""};
    REQUIRE(s->SetQuotaClass("default", {{"volumes", 1}, {"per_volume_gigabytes", 5}}).ok());
    REQUIRE(s->InsertVolume(MakeVolume(*s, "q", "1", 1, NowIso()), &other).ok());
    over = {};
    CHECK(s->InsertVolume(MakeVolume(*s, "q", "2", 1, NowIso()), &other, &over).code() == Code::kResourceExhausted);
    CHECK(over.limits["volumes"] == 1);
    REQUIRE(s->SetProjectQuotas("q", {{"volumes", 3}}).ok());
    REQUIRE(s->InsertVolume(MakeVolume(*s, "q", "3", 1, NowIso()), &other).ok());
    other.volume_size = 6;
    over = {};
    CHECK(s->InsertVolume(MakeVolume(*s, "q", "4", 6, NowIso()), &other, &over).code() == Code::kResourceExhausted);
    CHECK(over.over == std::vector<std::string>{"per_volume_gigabytes"});
    other.use_default_class = false;  // use_default_quota_class = false: the options' limits
    REQUIRE(s->InsertVolume(MakeVolume(*s, "q", "5", 6, NowIso()), &other).ok());
    // Per-type deltas made under a type's old name are refused once it is renamed.
    VolumeType t;
    t.id = NewUuid();
    t.name = "silver";
    t.created_at = NowIso();
    REQUIRE(s->CreateVolumeType(t).ok());
    REQUIRE(s->UpdateVolumeType(t.id, std::string("bronze"), std::nullopt, std::nullopt).ok());
    QuotaCharge stale{"q", VolumeQuotaDeltas("silver", 1, 1), {}, true, 1, t.id, "silver"};
    Volume typed = MakeVolume(*s, "q", "6", 1, NowIso());
    typed.volume_type_id = t.id;
    CHECK(s->InsertVolume(typed, &stale).code() == Code::kAborted);
    CHECK(s->GetVolume(typed.id, std::nullopt).status().code() == Code::kNotFound);
  }
}

TEST_CASE("a volume is made from a snapshot or volume only while that source is usable") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "src", 1, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    Snapshot sn;
    sn.id = NewUuid();
    sn.volume_id = v.id;
    sn.size = v.size;
    sn.status = "deleting";
    sn.project_id = "other";  // left with the donor by a transfer without snapshots
    sn.created_at = NowIso();
    REQUIRE(*s->InsertSnapshot(sn, {"available"}, {}));
    Volume from = MakeVolume(*s, "p", "from", 1, NowIso());
    from.snapshot_id = sn.id;
    CHECK(s->InsertVolume(from).message() ==
          "Invalid snapshot: Originating snapshot status must be one of 'available' values");
    REQUIRE(*s->CasSnapshotStatus(sn.id, {}, "available"));
    REQUIRE(s->InsertVolume(from).ok());  // now it may
    from.status = "creating";
    // Neither the snapshot nor its volume goes while a volume is being made from it.
    REQUIRE(*s->CasVolumeStatus(from.id, {}, "creating"));
    CHECK_FALSE(*s->StartSnapshotDelete(sn.id, {"available"}));
    CHECK_FALSE(*s->StartVolumeDelete(v.id, {}, true, true, true));
    REQUIRE(*s->CasVolumeStatus(from.id, {}, "available"));
    // A clone of a volume that is not available or in-use is refused.
    Volume clone = MakeVolume(*s, "p", "clone", 1, NowIso());
    clone.source_volid = v.id;
    REQUIRE(*s->CasVolumeStatus(v.id, {}, "error"));
    CHECK(s->InsertVolume(clone).code() == Code::kFailedPrecondition);
    REQUIRE(*s->CasVolumeStatus(v.id, {}, "available"));
    // Cascade: not over another project's snapshot unless allowed (an admin).
    CHECK_FALSE(*s->StartVolumeDelete(v.id, {"available"}, true, false, /*other_projects_snapshots=*/false));
    CHECK(*s->StartVolumeDelete(v.id, {"available"}, true, false, /*other_projects_snapshots=*/true));
  }
}

TEST_CASE("an interrupted operation gives the volume its previous status back") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "a", 1, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    REQUIRE(*s->CasVolumeStatus(v.id, {}, "retyping", {{"previous_status", std::string("in-use")}}));
    CHECK_FALSE(*s->RestorePreviousStatus(v.id, "retyping", std::string("elsewhere@b#p")));
    CHECK(*s->RestorePreviousStatus(v.id, "retyping", v.host));
    CHECK(s->GetVolume(v.id, std::nullopt)->status == "in-use");
    REQUIRE(*s->CasVolumeStatus(v.id, {}, "retyping"));
    CHECK(*s->RestorePreviousStatus(v.id, "retyping"));
    CHECK(s->GetVolume(v.id, std::nullopt)->status == "available");  // none recorded
  }
}

TEST_CASE("metadata merges, replaces and deletes keys") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "a", 1, NowIso());
    v.metadata = {{"a", "1"}};
    REQUIRE(s->InsertVolume(v).ok());
    REQUIRE(s->SetVolumeMetadata(v.id, {{"b", "2"}, {"a", "9"}}, false).ok());
    CHECK(*s->GetVolumeMetadata(v.id) == Metadata{{"a", "9"}, {"b", "2"}});
    REQUIRE(s->SetVolumeMetadata(v.id, {{"c", "3"}}, true).ok());
    CHECK(*s->GetVolumeMetadata(v.id) == Metadata{{"c", "3"}});
    CHECK(*s->DeleteVolumeMetadataKey(v.id, "c"));
    CHECK_FALSE(*s->DeleteVolumeMetadataKey(v.id, "c"));
    CHECK(s->GetVolumeMetadata(v.id)->empty());
    REQUIRE(s->SetVolumeMetadata(v.id, {{"c", "again"}}, false).ok());  // a deleted key comes back
    CHECK(*s->GetVolumeMetadata(v.id) == Metadata{{"c", "again"}});
    CHECK(s->SetVolumeMetadata(NewUuid(), {{"k", "v"}}, false).code() == Code::kNotFound);
  }
}

TEST_CASE("lists filter, sort and page with markers") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) {
      Volume v = MakeVolume(*s, i < 6 ? "p" : "other", "v" + std::to_string(i % 3), i + 1,
                            "2024-01-01T00:00:0" + std::to_string(i) + ".000000");
      if (i == 2) v.metadata = {{"tier", "gold"}};
      if (i == 4) v.status = "error";
      REQUIRE(s->InsertVolume(v).ok());
      ids.push_back(v.id);
    }
    VolumeListQuery q;
    auto all = s->ListVolumes(q, std::string("p"), 1000);
    REQUIRE(all.ok());
    REQUIRE(all->volumes.size() == 6);
    CHECK(all->volumes[0].id == ids[5]);  // default: created_at desc
    CHECK(all->volumes[5].id == ids[0]);
    CHECK(s->ListVolumes(q, std::nullopt, 1000)->volumes.size() == 7);

    q.name = "v1";
    CHECK(s->ListVolumes(q, std::string("p"), 1000)->volumes.size() == 2);
    q = {};
    q.status = "error";
    CHECK(s->ListVolumes(q, std::string("p"), 1000)->volumes.at(0).id == ids[4]);
    q = {};
    q.metadata = {{"tier", "gold"}};
    auto gold = s->ListVolumes(q, std::string("p"), 1000);
    REQUIRE(gold->volumes.size() == 1);
    CHECK(gold->volumes[0].metadata.at("tier") == "gold");

    // Pages of 4 by size ascending: [1..4], then [5,6].
    q = {};
    q.sort = {{"size", true}};
    q.limit = 4;
    q.with_count = true;
    auto p1 = s->ListVolumes(q, std::string("p"), 1000);
    REQUIRE(p1->volumes.size() == 4);
    CHECK(p1->more);
    CHECK(p1->count == 6);
    CHECK(p1->volumes[3].size == 4);
    q.marker = p1->volumes.back().id;
    auto p2 = s->ListVolumes(q, std::string("p"), 1000);
    REQUIRE(p2->volumes.size() == 2);
    CHECK_FALSE(p2->more);
    CHECK(p2->volumes[0].size == 5);
    CHECK(p2->volumes[1].size == 6);

    // Paging by a key with ties (name) still visits every volume once.
    q = {};
    q.sort = {{"name", true}};
    q.limit = 1;
    std::set<std::string> seen;
    for (int page = 0; page < 10; ++page) {
      auto r = s->ListVolumes(q, std::string("p"), 1000);
      REQUIRE(r.ok());
      for (const auto& v : r->volumes) seen.insert(v.id);
      if (!r->more) break;
      q.marker = r->volumes.back().id;
    }
    CHECK(seen.size() == 6);

    q = {};
    q.marker = NewUuid();
    CHECK(s->ListVolumes(q, std::string("p"), 1000).status().code() == Code::kNotFound);
    q = {};
    q.sort = {{"nope", true}};
    CHECK(s->ListVolumes(q, std::string("p"), 1000).status().message() ==
          "Invalid input received: Invalid sort key nope");
    q = {};
    CHECK(s->ListVolumes(q, std::string("p"), 2)->volumes.size() == 2);  // capped by max_limit
  }
}

TEST_CASE("keyset paging leads with a range on the first sort key, so that a page starts at its marker") {
  // Without the leading term, neither SQLite nor PostgreSQL takes a range on an index over
  // (created_at, id) from the OR, and each page re-reads every row before its marker.
  db::Query q;
  const db::SqlSort sort = {{"v.created_at", false}, {"v.id", false}};
  CHECK(db::SeekAfter(&q, sort, {std::string("2026-12-08T00:00:00"), std::string("id-1")}) ==
        "(v.created_at <= :p3 AND ((v.created_at < :p0) OR (v.created_at = :p1 AND v.id < :p2)))");
  CHECK(q.params ==
        std::vector<std::string>{"2026-12-08T00:00:00", "2026-12-08T00:00:00", "id-1", "2026-12-08T00:00:00"});
  db::Query asc;
  CHECK(db::SeekAfter(&asc, {{"v.size", true}}, {std::string("5")}) == "(v.size >= :p1 AND ((v.size > :p0)))");
}

TEST_CASE("messages: insert, scoped reads, filters, sort and paging, delete, expiry") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    std::vector<Message> made;
    for (int i = 0; i < 5; ++i) {
      Message m;
      m.id = NewUuid();
      m.project_id = i < 4 ? "p1" : "p2";
      m.request_id = "req-" + std::to_string(i);
      m.resource_type = "VOLUME";
      m.resource_uuid = i % 2 ? std::optional<std::string>("vol-odd") : std::nullopt;
      m.action_id = "001";
      m.detail_id = i == 3 ? "003" : "001";
      m.event_id = "VOLUME_VOLUME_001_" + m.detail_id;
      m.created_at = "2026-01-0" + std::to_string(i + 1) + "T00:00:00.000000";
      m.expires_at = i == 0 ? "2026-01-02T00:00:00.000000" : "2099-01-01T00:00:00.000000";
      REQUIRE(s->InsertMessage(m).ok());
      made.push_back(m);
    }
    auto got = s->GetMessage(made[1].id, std::string("p1"));
    REQUIRE(got.ok());
    CHECK(got->request_id == "req-1");
    CHECK(got->resource_uuid == "vol-odd");
    CHECK(!s->GetMessage(made[0].id, std::string("p1"))->resource_uuid);
    CHECK(s->GetMessage(made[4].id, std::string("p1")).status().message() ==
          "Message " + made[4].id + " could not be found.");
    CHECK(s->GetMessage(made[4].id, std::nullopt).ok());  // every project

    MessageListQuery q;
    auto all = s->ListMessages(q, std::string("p1"), 1000);
    REQUIRE(all->messages.size() == 4);
    CHECK(all->messages[0].id == made[3].id);  // created_at desc
    q.resource_uuid = "vol-odd";
    CHECK(s->ListMessages(q, std::string("p1"), 1000)->messages.size() == 2);
    q = MessageListQuery{};
    q.event_id = "VOLUME_VOLUME_001_003";
    CHECK(s->ListMessages(q, std::string("p1"), 1000)->messages.at(0).id == made[3].id);
    q = MessageListQuery{};
    q.sort = {{"created_at", true}};
    q.limit = 2;
    auto page = s->ListMessages(q, std::string("p1"), 1000);
    REQUIRE(page->messages.size() == 2);
    CHECK(page->more);
    CHECK(page->messages[0].id == made[0].id);
    q.marker = page->messages[1].id;
    page = s->ListMessages(q, std::string("p1"), 1000);
    REQUIRE(page->messages.size() == 2);
    CHECK(page->messages[0].id == made[2].id);
    CHECK(!page->more);
    q = MessageListQuery{};
    q.offset = 3;
    CHECK(s->ListMessages(q, std::string("p1"), 1000)->messages.size() == 1);
    q = MessageListQuery{};
    q.sort = {{"bogus", true}};
    CHECK(s->ListMessages(q, std::nullopt, 1000).status().message() ==
          "Invalid input received: Invalid sort key bogus");
    q = MessageListQuery{};
    q.marker = made[4].id;  // another project's
    CHECK(s->ListMessages(q, std::string("p1"), 1000).status().code() == Code::kNotFound);

    CHECK(!*s->DeleteMessage(made[4].id, std::string("p1")));
    CHECK(*s->DeleteMessage(made[2].id, std::string("p1")));
    CHECK(!*s->DeleteMessage(made[2].id, std::string("p1")));
    CHECK(s->GetMessage(made[2].id, std::nullopt).status().code() == Code::kNotFound);

    CHECK(*s->DeleteExpiredMessages("2026-06-01T00:00:00.000000") == 1);
    CHECK(s->GetMessage(made[0].id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(s->ListMessages(MessageListQuery{}, std::nullopt, 1000)->messages.size() == 3);
    CHECK(*s->Purge("2999-01-01T00:00:00.000000") >= 1);  // the soft-deleted one
  }
}

TEST_CASE("a bad database URL is a clear error") {
  auto s = Store::Open("mysql://x");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Code::kInvalidArgument);
  auto pg = Store::Open("postgresql://nobody@127.0.0.1:1/none");
  REQUIRE_FALSE(pg.ok());
  CHECK(pg.status().code() == Code::kUnavailable);
}

}  // namespace cinder

namespace cinder {

TEST_CASE("concurrent compare-and-swaps: exactly one wins") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    for (int round = 0; round < 5; ++round) {
      Volume v = MakeVolume(*s, "p", "", 1, NowIso());
      REQUIRE(s->InsertVolume(v).ok());
      std::atomic<int> wins{0}, errors{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
          auto r = s->CasVolumeStatus(v.id, {"available"}, t % 2 ? "deleting" : "extending");
          if (!r.ok())
            ++errors;
          else if (*r)
            ++wins;
        });
      }
      for (auto& th : threads) th.join();
      CHECK(errors == 0);
      CHECK(wins == 1);
    }
  }
}

TEST_CASE("concurrent metadata writes of the same new key all succeed, leaving one row") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = MakeVolume(*s, "p", "", 1, NowIso());
    REQUIRE(s->InsertVolume(v).ok());
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          if (!s->SetVolumeMetadata(v.id, {{"k" + std::to_string(i), std::to_string(t)}}, false).ok()) {
            ++errors;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors == 0);
    CHECK(s->GetVolumeMetadata(v.id)->size() == 5);
  }
}

TEST_CASE("the store reconnects when PostgreSQL drops its connections") {
  std::string base = testing::PostgresUrl();
  if (base.empty()) return;  // outside ctest: no cluster (under ctest the fixture always runs)
  std::string url = testing::FreshPostgresDatabase(base);
  auto s = testing::OpenMigratedStore(url);
  Volume v = MakeVolume(*s, "p", "kept", 1, NowIso());
  REQUIRE(s->InsertVolume(v).ok());
  // What a server restart does to established sessions.
  std::string db = url.substr(url.rfind('/') + 1);
  std::string cmd = "psql -q '" + base +
                    "' -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = '" +
                    db + "'\" >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  for (int i = 0; i < 8; ++i) {  // every pooled connection in turn
    auto got = s->GetVolume(v.id, std::nullopt);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(got->name == "kept");
    CHECK(s->CasVolumeStatus(v.id, {}, "available").ok());
  }
}

TEST_CASE("purge accepts any age without overflowing the clock") {
  testing::TempDir dir;
  auto s = testing::OpenMigratedStore("sqlite:///" + dir.path() + "/c.sqlite");
  CHECK(s->Purge(IsoSecondsAgo(200000LL * 86400)).ok());
  CHECK(IsoSecondsAgo(200000LL * 86400) == "1970-01-01T00:00:00.000000");
}

}  // namespace cinder

namespace cinder {

TEST_CASE("pool usage follows each volume's placement, size, status and deletion") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    // host -> {count, GiB} as VolumeUsageByHost reports it, all volumes or only settled ones.
    auto usage = [&](bool settled) {
      std::map<std::string, std::pair<int64_t, double>> out;
      auto u = s->VolumeUsageByHost(settled);
      REQUIRE(u.ok());
      for (const auto& [host, h] : *u) out[host] = {h.count, h.gb};
      return out;
    };
    using U = std::map<std::string, std::pair<int64_t, double>>;
    Volume a = MakeVolume(*s, "p", "a", 2, NowIso());  // available on h@b#p
    Volume b = MakeVolume(*s, "p", "b", 3, NowIso());
    b.status = "creating";
    b.host = "";  // not placed yet
    REQUIRE(s->InsertVolume(a).ok());
    REQUIRE(s->InsertVolume(b).ok());
    CHECK(usage(false) == U{{"h@b#p", {1, 2}}});
    CHECK(usage(true) == U{{"h@b#p", {1, 2}}});

    // A claim places b: it counts, but is not settled while creating.
    PoolRecord pool;
    pool.host = "h@b#q";
    pool.backend_host = "h@b";
    pool.reported_at = NowIso();
    REQUIRE(s->ReportPools("h@b", {pool}).ok());
    double seen = -1;
    auto claim = s->ClaimPool(b.id, "h@b#q", "nova", [&](const PoolRecord&, double allocated_now) {
      seen = allocated_now;
      return true;
    });
    REQUIRE(claim.ok());
    CHECK(*claim == ClaimResult::kClaimed);
    CHECK(seen == 0);
    CHECK(usage(false) == U{{"h@b#p", {1, 2}}, {"h@b#q", {1, 3}}});
    CHECK(usage(true) == U{{"h@b#p", {1, 2}}});
    REQUIRE(*s->CasVolumeStatus(b.id, {"creating"}, "available"));
    CHECK(usage(true) == U{{"h@b#p", {1, 2}}, {"h@b#q", {1, 3}}});

    // The next claim on that pool sees b's space.
    Volume c = MakeVolume(*s, "p", "c", 1, NowIso());
    c.status = "creating";
    c.host = "";
    REQUIRE(s->InsertVolume(c).ok());
    REQUIRE(*s->ClaimPool(c.id, "h@b#q", "nova", [&](const PoolRecord&, double allocated_now) {
      seen = allocated_now;
      return true;
    }) == ClaimResult::kClaimed);
    CHECK(seen == 3);
    REQUIRE(*s->ReleaseClaim(c.id, "h@b#q"));  // given back: no longer counts
    CHECK(usage(false) == U{{"h@b#p", {1, 2}}, {"h@b#q", {1, 3}}});

    // An extend, a move to another pool, a deletion.
    REQUIRE(*s->CasVolumeStatus(a.id, {"available"}, "available", {{"size", std::string("7")}}));
    CHECK(usage(false) == U{{"h@b#p", {1, 7}}, {"h@b#q", {1, 3}}});
    REQUIRE(*s->UpdateVolume(b.id, {{"host", std::string("h@b#p")}}, std::nullopt));
    CHECK(usage(false) == U{{"h@b#p", {2, 10}}});
    CHECK(usage(true) == U{{"h@b#p", {2, 10}}});
    REQUIRE(*s->CasVolumeStatus(a.id, {"available"}, "deleting"));
    REQUIRE(*s->SoftDeleteVolume(a.id, "deleting"));
    CHECK(usage(false) == U{{"h@b#p", {1, 3}}});
    REQUIRE(*s->Purge(IsoSecondsAgo(-60)) > 0);  // a deleted row going changes nothing
    CHECK(usage(false) == U{{"h@b#p", {1, 3}}});
  }
}

}  // namespace cinder

namespace cinder {

TEST_CASE("quota limits and usage past 2^31 read back exactly on both databases") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const int64_t big = (int64_t{1} << 31) - 1;  // the largest size Cinder accepts
    REQUIRE(s->SetProjectQuotas("p", {{"gigabytes", int64_t{1} << 40}}).ok());
    REQUIRE(s->SetQuotaClass("default", {{"gigabytes", int64_t{1} << 41}}).ok());
    for (int i = 0; i < 3; ++i) {
      Volume v = MakeVolume(*s, "p", "big" + std::to_string(i), big, NowIso());
      QuotaCharge charge;
      charge.project = "p";
      charge.deltas = VolumeQuotaDeltas("", big, +1);
      REQUIRE(s->InsertVolume(v, &charge).ok());
    }
    auto usage = s->GetQuotaUsage("p");
    REQUIRE(usage.ok());
    CHECK(usage->at("gigabytes").in_use == 3 * big);
    CHECK(usage->at("volumes").in_use == 3);
    auto r = s->ReserveQuota("p", {{"gigabytes", big}}, {{"gigabytes", int64_t{1} << 40}}, 3600);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(s->GetQuotaUsage("p")->at("gigabytes").reserved == big);
    CHECK(s->GetProjectQuotas("p")->at("gigabytes") == int64_t{1} << 40);
    CHECK(s->GetQuotaClass("default")->at("gigabytes") == int64_t{1} << 41);
    auto summary = s->SummarizeVolumes(std::string("p"));
    REQUIRE(summary.ok());
    CHECK(summary->size == 3 * big);
  }
}

}  // namespace cinder

namespace cinder {

TEST_CASE("a database out of reach is Unavailable, and the store comes back with it") {
  std::string base = testing::PostgresUrl();
  if (base.empty()) return;  // outside ctest: no cluster (under ctest the fixture always runs)
  std::string url = testing::FreshPostgresDatabase(base);
  auto s = testing::OpenMigratedStore(url);
  Volume v = MakeVolume(*s, "p", "kept", 1, NowIso());
  REQUIRE(s->InsertVolume(v).ok());
  const std::string db = url.substr(url.rfind('/') + 1);
  auto psql = [&](const std::string& sql) {
    std::string cmd = "psql -q '" + base + "' -c \"" + sql + "\" >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  };
  // What a restart looks like from here: sessions dropped, new connections refused.
  psql("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
  psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
  for (int i = 0; i < 4; ++i) {
    auto got = s->GetVolume(v.id, std::nullopt);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Code::kUnavailable);
    CHECK(got.status().message() == "The server is currently unavailable. Please try again at a later time.");
    CHECK(s->InsertVolume(MakeVolume(*s, "p", "x", 1, NowIso())).code() == Code::kUnavailable);
  }
  psql("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
  for (int i = 0; i < 8; ++i) {  // every pooled connection reconnects
    auto got = s->GetVolume(v.id, std::nullopt);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(got->name == "kept");
  }
}

TEST_CASE("a database error's text stays out of the status") {
  testing::TempDir dir;
  auto s = testing::OpenMigratedStore("sqlite:///" + dir.path() + "/c.sqlite");
  Volume v = MakeVolume(*s, "p", "one", 1, NowIso());
  REQUIRE(s->InsertVolume(v).ok());
  Status again = s->InsertVolume(v);  // the primary key refuses it
  CHECK(again.code() == Code::kAlreadyExists);
  CHECK(again.message().find("volumes") == std::string::npos);
  CHECK(again.message().find("INSERT") == std::string::npos);
}

}  // namespace cinder

namespace cinder {

TEST_CASE("clusters: made once by the first service that joins, counted with it, disabled for it") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    for (const char* host : {"a@file", "b@file", "c@file"}) {
      ServiceInfo svc;
      svc.host = host;
      svc.binary = "cinder-volume";
      svc.topic = "cinder-volume";
      if (std::string(host) != "c@file") svc.cluster_name = "rack1@file";
      REQUIRE(s->RegisterService(svc).ok());
      REQUIRE(s->RegisterService(svc).ok());  // again (a restart): still one cluster row
    }
    auto clusters = s->ListClusters();
    REQUIRE(clusters.ok());
    REQUIRE(clusters->size() == 1);
    CHECK((*clusters)[0].name == "rack1@file");
    CHECK((*clusters)[0].binary == "cinder-volume");
    CHECK_FALSE((*clusters)[0].disabled);

    auto services = s->ListServices(std::nullopt, std::string("cinder-volume"));
    REQUIRE(services.ok());
    REQUIRE(services->size() == 3);
    CHECK((*services)[0].cluster_name == std::optional<std::string>("rack1@file"));
    CHECK_FALSE((*services)[2].cluster_name);

    auto found = s->SetClusterDisabled("rack1@file", "cinder-volume", true, std::string("maintenance"));
    REQUIRE(found.ok());
    CHECK(*found);
    CHECK(*s->SetClusterDisabled("rack1@file", "cinder-backup", true, std::nullopt) == false);
    services = s->ListServices(std::nullopt, std::string("cinder-volume"));
    REQUIRE(services.ok());
    CHECK((*services)[0].cluster_disabled);
    CHECK((*services)[1].cluster_disabled);
    CHECK_FALSE((*services)[2].cluster_disabled);
    CHECK_FALSE((*services)[0].disabled);  // its own flag is untouched
    clusters = s->ListClusters();
    CHECK((*clusters)[0].disabled_reason == std::optional<std::string>("maintenance"));
    REQUIRE(s->SetClusterDisabled("rack1@file", "cinder-volume", false, std::nullopt).ok());
    clusters = s->ListClusters();
    CHECK_FALSE((*clusters)[0].disabled);
    CHECK_FALSE((*clusters)[0].disabled_reason);

    // Volumes carry their service's cluster: written with the host (an insert, a CAS that
    // moves it), and set for a backend's volumes when its service joins or leaves a cluster.
    Volume placed = MakeVolume(*s, "p", "placed", 1, NowIso());
    placed.host = "a@file#file";
    REQUIRE(s->InsertVolume(placed).ok());
    CHECK(s->GetVolume(placed.id, std::nullopt)->cluster_name == std::optional<std::string>("rack1@file"));
    REQUIRE(*s->CasVolumeStatus(placed.id, {placed.status}, placed.status, {{"host", std::string("c@file#file")}}));
    CHECK_FALSE(s->GetVolume(placed.id, std::nullopt)->cluster_name);
    CHECK(*s->SetVolumesCluster("c@file", std::string("rack2@file")) == 1);
    CHECK(*s->SetVolumesCluster("c@file", std::string("rack2@file")) == 0);  // nothing left to change
    CHECK(s->GetVolume(placed.id, std::nullopt)->cluster_name == std::optional<std::string>("rack2@file"));
    CHECK(*s->SetVolumesCluster("c@file", std::nullopt) == 1);
    CHECK_FALSE(s->GetVolume(placed.id, std::nullopt)->cluster_name);

    // A service that leaves its cluster (restarted without `cluster`) names none.
    ServiceInfo left;
    left.host = "a@file";
    left.binary = "cinder-volume";
    left.topic = "cinder-volume";
    REQUIRE(s->RegisterService(left).ok());
    services = s->ListServices(std::string("a@file"), std::nullopt);
    REQUIRE(services.ok());
    CHECK_FALSE((*services)[0].cluster_name);
  }
}

}  // namespace cinder
