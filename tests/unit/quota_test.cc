// Quotas: limits (options, the class "default", a project's own), their updates and Cinder's
// errors, reservations (commit, rollback, expiry, races), through the VolumeManager, QuotaApi,
// the Store and the REST router.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "api/router.h"
#include "auth/policy.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"
#include "volume/quota_api.h"

namespace cinder {

namespace {

const RequestContext kAdmin = RequestContext::Admin("admin", "adminproj");

RequestContext Member(const std::string& project) {
  RequestContext c;
  c.user_id = "u";
  c.project_id = project;
  c.roles = {"member", "reader"};  // as Keystone gives them: member implies reader
  c.is_admin = false;
  return c;
}

// A Store and a QuotaApi over it (QuotaApi keeps a reference to the options).
struct Engine {
  explicit Engine(const std::string& url, Options o = Options())
      : options(std::move(o)), store(testing::OpenMigratedStore(url)) {
    auto p = auth::Policy::Open(options);
    REQUIRE(p.ok());
    policy = *p;
    api = std::make_unique<QuotaApi>(store.get(), policy.get(), options);
  }
  Options options;
  std::unique_ptr<Store> store;
  std::shared_ptr<auth::Policy> policy;
  std::unique_ptr<QuotaApi> api;

  Store::QuotaUsage Usage(const std::string& project, const std::string& resource) {
    auto u = store->GetQuotaUsage(project);
    REQUIRE(u.ok());
    auto it = u->find(resource);
    return it == u->end() ? Store::QuotaUsage{} : it->second;
  }
  // Reserves and commits: what a finished create leaves.
  void Use(const std::string& project, const QuotaDeltas& deltas) {
    auto r = api->Reserve(project, deltas, "volumes", 0);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    REQUIRE(api->Commit(*r).ok());
  }
};

VolumeType Type(const std::string& name) {
  VolumeType t;
  t.id = NewUuid();
  t.name = name;
  t.created_at = NowIso();
  return t;
}

using testing::OpenManager;

std::map<std::string, int64_t> LimitsOf(const QuotaSet& set) {
  std::map<std::string, int64_t> out;
  for (const auto& [k, d] : set) out[k] = d.limit;
  return out;
}

}  // namespace

TEST_CASE("quota defaults come from the options, with every volume type's resources at -1") {
  testing::TempDir dir;
  Options o = DefaultOptions(dir.path());
  o.host = "h";
  o.quota_volumes = 3;
  o.quota_snapshots = 4;
  o.quota_gigabytes = 50;
  o.quota_backups = 6;
  o.quota_backup_gigabytes = 70;
  o.quota_groups = 8;
  o.per_volume_size_limit = 9;
  auto m = OpenManager(o);
  VolumeType gold;
  gold.name = "gold";
  REQUIRE(m->CreateVolumeType(kAdmin, gold).ok());
  VolumeType hidden;
  hidden.name = "hidden";
  hidden.is_public = false;
  REQUIRE(m->CreateVolumeType(kAdmin, hidden).ok());

  const std::map<std::string, int64_t> expected = {{"volumes", 3},
                                                   {"snapshots", 4},
                                                   {"gigabytes", 50},
                                                   {"backups", 6},
                                                   {"backup_gigabytes", 70},
                                                   {"groups", 8},
                                                   {"per_volume_gigabytes", 9},
                                                   {"volumes___DEFAULT__", -1},
                                                   {"gigabytes___DEFAULT__", -1},
                                                   {"snapshots___DEFAULT__", -1},
                                                   {"volumes_gold", -1},
                                                   {"gigabytes_gold", -1},
                                                   {"snapshots_gold", -1},
                                                   {"volumes_hidden", -1},
                                                   {"gigabytes_hidden", -1},
                                                   {"snapshots_hidden", -1}};
  auto defaults = m->GetQuotaSet(kAdmin, "p1", /*defaults=*/true);
  REQUIRE(defaults.ok());
  CHECK(LimitsOf(*defaults) == expected);
  auto set = m->GetQuotaSet(kAdmin, "p1", /*defaults=*/false);
  REQUIRE(set.ok());
  CHECK(LimitsOf(*set) == expected);
  for (const auto& [k, d] : *set) {
    CAPTURE(k);
    CHECK(d.in_use == 0);
    CHECK(d.reserved == 0);
  }
  auto cls = m->GetQuotaClass(kAdmin, "default");
  REQUIRE(cls.ok());
  CHECK(LimitsOf(*cls) == expected);
}

TEST_CASE("the class 'default' overrides the options unless use_default_quota_class is off") {
  testing::TempDir dir;
  Options o;
  o.quota_volumes = 10;
  o.quota_gigabytes = 1000;
  Engine e("sqlite:///" + dir.path() + "/q.db", o);
  auto up = e.api->UpdateQuotaClass(kAdmin, "default", {{"volumes", 5}, {"volumes___DEFAULT__", 2}});
  REQUIRE_MESSAGE(up.ok(), up.status().ToString());
  CHECK(up->at("volumes").limit == 5);
  CHECK(up->at("gigabytes").limit == 1000);
  auto defaults = e.api->GetQuotaSet(kAdmin, "p", true);
  REQUIRE(defaults.ok());
  CHECK(defaults->at("volumes").limit == 5);
  CHECK(defaults->at("volumes___DEFAULT__").limit == 2);
  CHECK(defaults->at("gigabytes").limit == 1000);
  CHECK(e.api->Limits("p")->at("volumes") == 5);

  // Another class falls back on "default", then on the options.
  REQUIRE(e.api->UpdateQuotaClass(kAdmin, "gold", {{"gigabytes", 77}}).ok());
  auto gold = e.api->GetQuotaClass(kAdmin, "gold");
  REQUIRE(gold.ok());
  CHECK(gold->at("gigabytes").limit == 77);
  CHECK(gold->at("volumes").limit == 5);
  CHECK(gold->at("snapshots").limit == 10);
  // Classes other than "default" never apply to projects.
  CHECK(e.api->Limits("p")->at("gigabytes") == 1000);

  Options off = o;
  off.use_default_quota_class = false;
  QuotaApi without(e.store.get(), e.policy.get(), off);
  CHECK(without.GetQuotaSet(kAdmin, "p", true)->at("volumes").limit == 10);
  CHECK(without.Limits("p")->at("volumes") == 10);
}

TEST_CASE("a project's own limits override the defaults; delete returns it to them") {
  testing::TempDir dir;
  Engine e("sqlite:///" + dir.path() + "/q.db");
  REQUIRE(e.store->CreateVolumeType(Type("gold")).ok());
  auto up = e.api->UpdateQuotaSet(kAdmin, "p", {{"volumes", 7}, {"gigabytes_gold", 30}, {"tenant_id", 1}});
  REQUIRE_MESSAGE(up.ok(), up.status().ToString());
  CHECK(up->at("volumes").limit == 7);
  CHECK(up->at("gigabytes_gold").limit == 30);
  CHECK(up->at("snapshots").limit == 10);
  CHECK(up->count("tenant_id") == 0);
  auto set = e.api->GetQuotaSet(kAdmin, "p", false);
  CHECK(set->at("volumes").limit == 7);
  CHECK(set->at("gigabytes_gold").limit == 30);
  // Defaults and other projects are untouched.
  CHECK(e.api->GetQuotaSet(kAdmin, "p", true)->at("volumes").limit == 10);
  CHECK(e.api->GetQuotaSet(kAdmin, "other", false)->at("volumes").limit == 10);
  // Setting again replaces (one live row per resource).
  REQUIRE(e.api->UpdateQuotaSet(kAdmin, "p", {{"volumes", 8}}).ok());
  CHECK(e.store->GetProjectQuotas("p")->at("volumes") == 8);
  CHECK(e.store->GetProjectQuotas("p")->size() == 2);
  // A class "default" row does not beat the project's own.
  REQUIRE(e.api->UpdateQuotaClass(kAdmin, "default", {{"volumes", 3}, {"snapshots", 4}}).ok());
  CHECK(e.api->Limits("p")->at("volumes") == 8);
  CHECK(e.api->Limits("p")->at("snapshots") == 4);

  e.Use("p", {{"volumes", 2}});
  REQUIRE(e.api->DeleteQuotaSet(kAdmin, "p").ok());
  auto after = e.api->GetQuotaSet(kAdmin, "p", false);
  CHECK(after->at("volumes").limit == 3);
  CHECK(after->at("gigabytes_gold").limit == -1);
  CHECK(after->at("volumes").in_use == 2);  // usage stays
  CHECK(e.store->GetProjectQuotas("p")->empty());
  REQUIRE(e.api->DeleteQuotaSet(kAdmin, "never-set").ok());
}

TEST_CASE("quota updates are refused with Cinder's messages and change nothing") {
  testing::TempDir dir;
  Engine e("sqlite:///" + dir.path() + "/q.db");
  REQUIRE(e.store->CreateVolumeType(Type("gold")).ok());
  e.Use("p", {{"volumes", 3}, {"gigabytes", 40}});
  auto held = e.api->Reserve("p", {{"volumes", 1}}, "volumes", 0);  // reserved counts as used
  REQUIRE(held.ok());
  struct Case {
    std::map<std::string, int64_t> limits;
    std::string error;
  };
  const Case cases[] = {
      {{{"volumes", 5}, {"bogus", 1}, {"gigabytes_silver", 2}},
       "Invalid input received: Bad key(s) in quota set: bogus, gigabytes_silver"},
      {{{"volumes", -2}}, "volumes must be >= -1"},
      {{{"bogus", 1}, {"snapshots", -5}}, "snapshots must be >= -1"},  // a bad value first
      {{{"gigabytes", 2147483648}}, "gigabytes must be <= 2147483647"},
      {{{"volumes", 3}},
       "Quota volumes limit must be equal or greater than existing resources. Current usage is 4 and the "
       "requested limit is 3."},
      {{{"snapshots", 1}, {"gigabytes", 39}},
       "Quota gigabytes limit must be equal or greater than existing resources. Current usage is 40 and the "
       "requested limit is 39."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.error);
    auto r = e.api->UpdateQuotaSet(kAdmin, "p", c.limits);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message() == c.error);
  }
  CHECK(e.store->GetProjectQuotas("p")->empty());
  // At the usage, unlimited, and per_volume_gigabytes (no usage rule) are fine.
  auto ok = e.api->UpdateQuotaSet(kAdmin, "p", {{"volumes", 4}, {"gigabytes", -1}, {"per_volume_gigabytes", 0}});
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->at("volumes").limit == 4);
  CHECK(ok->at("per_volume_gigabytes").limit == 0);

  // Quota classes: unknown keys, then the values, with the schema's messages.
  auto bad = e.api->UpdateQuotaClass(kAdmin, "default", {{"volumes", -3}, {"nope", 1}});
  CHECK(bad.status().message() == "Invalid input received: Bad key(s) in quota class set: nope");
  bad = e.api->UpdateQuotaClass(kAdmin, "default", {{"volumes", -3}});
  CHECK(bad.status().message() ==
        "Invalid input for field/attribute volumes. Value: -3. -3 is less than the minimum of -1");
  bad = e.api->UpdateQuotaClass(kAdmin, "default", {{"volumes", 2147483648}});
  CHECK(bad.status().message() ==
        "Invalid input for field/attribute volumes. Value: 2147483648. 2147483648 is greater than the maximum of "
        "2147483647");
  bad = e.api->UpdateQuotaClass(kAdmin, std::string(256, 'c'), {{"volumes", 1}});
  CHECK(bad.status().message() == "Invalid input received: quota_class_name has 256 characters, more than 255.");
  CHECK(e.store->GetQuotaClass("default")->empty());
}

TEST_CASE("quota sets: a project reads its own, only an admin reads others' or changes any") {
  testing::TempDir dir;
  Engine e("sqlite:///" + dir.path() + "/q.db");
  CHECK(e.api->GetQuotaSet(Member("p"), "p", false).ok());
  CHECK(e.api->GetQuotaSet(Member("p"), "p", true).ok());
  auto other = e.api->GetQuotaSet(Member("p"), "q", false);
  CHECK(other.status().code() == Code::kPermissionDenied);
  CHECK(other.status().message() == "Policy doesn't allow volume_extension:quotas:show to be performed.");
  CHECK(e.api->UpdateQuotaSet(Member("p"), "p", {{"volumes", 1}}).status().message() ==
        "Policy doesn't allow volume_extension:quotas:update to be performed.");
  CHECK(e.api->DeleteQuotaSet(Member("p"), "p").code() == Code::kPermissionDenied);
  CHECK(e.api->GetQuotaClass(Member("p"), "default").status().code() == Code::kPermissionDenied);
  CHECK(e.api->UpdateQuotaClass(Member("p"), "default", {{"volumes", 1}}).status().code() == Code::kPermissionDenied);
  CHECK(e.store->GetProjectQuotas("p")->empty());
}

TEST_CASE("reservations over quota fail with Cinder's messages and reserve nothing") {
  testing::TempDir dir;
  Engine e("sqlite:///" + dir.path() + "/q.db");
  REQUIRE(e.store->CreateVolumeType(Type("gold")).ok());
  REQUIRE(e.api
              ->UpdateQuotaSet(kAdmin, "p",
                               {{"volumes", 2},
                                {"gigabytes", 10},
                                {"snapshots", 1},
                                {"volumes_gold", 1},
                                {"backups", 0},
                                {"groups", 0},
                                {"per_volume_gigabytes", 5}})
              .ok());
  e.Use("p", QuotaApi::VolumeDeltas("gold", 8));
  struct Case {
    QuotaDeltas deltas;
    std::string what;
    int64_t size;
    std::string error;
  };
  const Case cases[] = {
      {QuotaApi::VolumeDeltas("", 5), "volumes", 5,
       "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 10G and 8G has been "
       "consumed."},
      {QuotaApi::VolumeDeltas("gold", 1), "volumes", 1,
       "Maximum number of volumes allowed (1) exceeded for quota 'volumes_gold'."},
      {e.api->SnapshotDeltas("gold", 3), "snapshots", 3,
       "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 10G and 8G has been "
       "consumed."},
      {{{"snapshots", 2}}, "snapshots", 0, "Maximum number of snapshots allowed (1) exceeded"},
      {{{"backups", 1}}, "backups", 0, "Maximum number of backups allowed (0) exceeded"},
      {{{"backup_gigabytes", 2000}},
       "backups",
       2000,
       "Requested backup exceeds allowed Backup gigabytes quota. Requested 2000G, quota is 1000G and 0G has been "
       "consumed."},
      {{{"groups", 1}}, "groups", 0, "Maximum number of groups allowed (0) exceeded"},
      {{{"snapshots", 5}}, "volumes", 0, "Unexpected over quota on snapshots."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.error);
    auto r = e.api->Reserve("p", c.deltas, c.what, c.size);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kResourceExhausted);
    CHECK(r.status().message() == c.error);
  }
  for (const char* res : {"volumes", "gigabytes", "snapshots", "volumes_gold", "backups", "groups"}) {
    CAPTURE(res);
    CHECK(e.Usage("p", res).reserved == 0);
  }
  // A second volume fits the count but gigabytes is named first, as Cinder sorts them.
  auto both = e.api->Reserve("p", {{"volumes", 5}, {"gigabytes", 5}}, "volumes", 5);
  CHECK(both.status().message().rfind("Requested volume or snapshot exceeds allowed gigabytes quota.", 0) == 0);

  auto big = e.api->CheckVolumeSize("p", 6);
  CHECK(big.code() == Code::kResourceExhausted);
  CHECK(big.message() == "Requested volume size 6G is larger than maximum allowed limit 5G.");
  CHECK(e.api->CheckVolumeSize("p", 5).ok());
  CHECK(e.api->CheckVolumeSize("other", 100000).ok());  // -1 by default
}

TEST_CASE("snapshots count against gigabytes unless no_snapshot_gb_quota") {
  Options o;
  QuotaApi with(nullptr, nullptr, o);
  CHECK(with.SnapshotDeltas("t", 3) ==
        QuotaDeltas{{"snapshots", 1}, {"snapshots_t", 1}, {"gigabytes", 3}, {"gigabytes_t", 3}});
  o.no_snapshot_gb_quota = true;
  CHECK(with.SnapshotDeltas("t", 3, -1) == QuotaDeltas{{"snapshots", -1}, {"snapshots_t", -1}});
  CHECK(QuotaApi::VolumeDeltas("t", 3, -1) ==
        QuotaDeltas{{"volumes", -1}, {"gigabytes", -3}, {"volumes_t", -1}, {"gigabytes_t", -3}});
}

TEST_CASE("reservations commit into in_use, roll back, and expire") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    Engine e(url);
    auto r1 = e.api->Reserve("p", QuotaApi::VolumeDeltas("", 4), "volumes", 4);
    REQUIRE(r1.ok());
    CHECK(r1->size() == 2);
    CHECK(e.Usage("p", "volumes").reserved == 1);
    CHECK(e.Usage("p", "gigabytes").reserved == 4);
    CHECK(e.Usage("p", "gigabytes").in_use == 0);
    REQUIRE(e.api->Commit(*r1).ok());
    CHECK(e.Usage("p", "gigabytes").reserved == 0);
    CHECK(e.Usage("p", "gigabytes").in_use == 4);
    REQUIRE(e.api->Commit(*r1).ok());  // twice: the reservations are gone, nothing moves
    CHECK(e.Usage("p", "gigabytes").in_use == 4);

    auto r2 = e.api->Reserve("p", QuotaApi::VolumeDeltas("", 6), "volumes", 6);
    REQUIRE(r2.ok());
    CHECK(e.Usage("p", "gigabytes").reserved == 6);
    REQUIRE(e.api->Rollback(*r2).ok());
    CHECK(e.Usage("p", "gigabytes").reserved == 0);
    CHECK(e.Usage("p", "gigabytes").in_use == 4);

    // A delete's negative deltas reserve nothing and free on commit.
    auto freeing = e.api->Reserve("p", QuotaApi::VolumeDeltas("", 4, -1), "volumes", 4);
    REQUIRE(freeing.ok());
    CHECK(e.Usage("p", "gigabytes").reserved == 0);
    REQUIRE(e.api->Commit(*freeing).ok());
    CHECK(e.Usage("p", "gigabytes").in_use == 0);
    CHECK(e.Usage("p", "volumes").in_use == 0);

    // Expiry: nothing before its time; after it, rolled back, and a late commit moves nothing.
    auto r3 = e.api->Reserve("p", {{"volumes", 2}}, "volumes", 0);
    REQUIRE(r3.ok());
    CHECK(*e.store->ExpireQuotaReservations(NowIso()) == 0);
    CHECK(e.Usage("p", "volumes").reserved == 2);
    CHECK(*e.store->ExpireQuotaReservations(IsoSecondsAgo(-e.options.reservation_expire - 10)) == 1);
    CHECK(e.Usage("p", "volumes").reserved == 0);
    REQUIRE(e.api->Commit(*r3).ok());
    CHECK(e.Usage("p", "volumes").in_use == 0);
    // A reservation for a hand-over (an extend's or retype's, held by the volume in the next
    // transaction) that was never held, because the database went away between the two and
    // took the rollback with it, expires in seconds, not after reservation_expire.
    auto lost = e.api->ReserveForHandOver("p", {{"volumes", 1}}, "volumes", 0);
    REQUIRE(lost.ok());
    CHECK(e.Usage("p", "volumes").reserved == 1);
    CHECK(*e.store->ExpireQuotaReservations(NowIso()) == 0);
    CHECK(*e.store->ExpireQuotaReservations(IsoSecondsAgo(-QuotaApi::kHandOverExpireSeconds - 1)) == 1);
    CHECK(e.Usage("p", "volumes").reserved == 0);
    // What an operation reserved shows in the quota set.
    auto r4 = e.api->Reserve("p", {{"snapshots", 3}}, "snapshots", 0);
    REQUIRE(r4.ok());
    auto set = e.api->GetQuotaSet(kAdmin, "p", false);
    CHECK(set->at("snapshots").reserved == 3);
    CHECK(set->at("snapshots").in_use == 0);
  }
}

TEST_CASE("an extend's or retype's reservations are held by the volume and settled by whatever ends it") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    Engine e(url);
    auto volume = [&](int64_t size) {
      Volume v;
      v.id = NewUuid();
      v.size = size;
      v.status = "available";
      v.project_id = "p";
      v.user_id = "u";
      v.host = "h@b#p";
      v.created_at = NowIso();
      REQUIRE(e.store->InsertVolume(v).ok());
      return v.id;
    };
    auto status = [&](const std::string& id) { return e.store->GetVolume(id, std::nullopt)->status; };
    // Reserve, then the compare-and-swap that hands the reservations to the volume.
    auto begin = [&](const std::string& id, const std::vector<std::string>& from, const std::string& to,
                     const QuotaDeltas& deltas, int64_t size) -> bool {
      auto r = e.api->Reserve("p", deltas, "volumes", size);
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
      auto won = e.store->CasVolumeStatusHolding(id, from, to, {{"previous_status", std::string("available")}}, {}, *r);
      REQUIRE(won.ok());
      if (!*won) REQUIRE(e.api->Rollback(*r).ok());
      return *won;
    };
    const std::string a = volume(2), b = volume(1);
    REQUIRE(begin(a, {"available"}, "extending", {{"gigabytes", 3}}, 3));
    CHECK(status(a) == "extending");
    CHECK(e.Usage("p", "gigabytes").reserved == 3);
    // A recovery ends the extend: its reservations go back with the status change, once; only
    // on the host given.
    CHECK(!*e.store->AbandonVolumeOperation(a, "extending", "error_extending", std::string("other@b#p")));
    CHECK(*e.store->AbandonVolumeOperation(a, "extending", "error_extending", std::string("h@b#p")));
    CHECK(status(a) == "error_extending");
    CHECK(e.Usage("p", "gigabytes").reserved == 0);
    CHECK(!*e.store->AbandonVolumeOperation(a, "extending", "error_extending"));
    // A retype cut short returns to its previous status.
    REQUIRE(e.store->CasVolumeStatus(a, {}, "available").ok());
    REQUIRE(begin(a, {"available"}, "retyping", {{"volumes_t2", 1}, {"gigabytes_t2", 2}}, 2));
    CHECK(e.Usage("p", "gigabytes_t2").reserved == 2);
    CHECK(*e.store->AbandonVolumeOperation(a, "retyping", ""));
    CHECK(status(a) == "available");
    CHECK(e.Usage("p", "gigabytes_t2").reserved == 0);
    CHECK(e.Usage("p", "volumes_t2").reserved == 0);
    CHECK(e.Usage("p", "gigabytes_t2").in_use == 0);
    // A force-delete ends whatever the volume was in: its reservations go back.
    REQUIRE(begin(b, {"available"}, "extending", {{"gigabytes", 1}}, 1));
    CHECK(e.Usage("p", "gigabytes").reserved == 1);
    REQUIRE(*e.store->StartVolumeDelete(b, {}, false, true, true));
    REQUIRE(*e.store->SoftDeleteVolume(b, "deleting"));
    CHECK(e.Usage("p", "gigabytes").reserved == 0);
    // Which of some ids are live volumes, where, in which status.
    auto hosts = e.store->VolumeHostsAndStatuses({a, b, NewUuid()});
    REQUIRE(hosts.ok());
    CHECK(hosts->size() == 1);  // b is deleted
    CHECK(hosts->at(a) == std::make_pair(std::string("h@b#p"), std::string("available")));
  }
}

TEST_CASE("concurrent reservations never pass a limit together") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    Engine e(url);
    REQUIRE(e.api->UpdateQuotaSet(kAdmin, "p", {{"volumes", 10}}).ok());
    std::atomic<int> granted{0}, refused{0}, failed{0};
    std::vector<std::vector<std::string>> held(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          auto r = e.api->Reserve("p", {{"volumes", 1}}, "volumes", 0);
          if (r.ok()) {
            ++granted;
            held[t].insert(held[t].end(), r->begin(), r->end());
          } else if (r.status().code() == Code::kResourceExhausted) {
            ++refused;
          } else {
            ++failed;
            MESSAGE(r.status().ToString());
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failed == 0);
    CHECK(granted == 10);
    CHECK(refused == 190);
    CHECK(e.Usage("p", "volumes").reserved == 10);
    for (const auto& ids : held) REQUIRE(e.api->Commit(ids).ok());
    CHECK(e.Usage("p", "volumes").in_use == 10);
    CHECK(e.Usage("p", "volumes").reserved == 0);
    auto more = e.api->Reserve("p", {{"volumes", 1}}, "volumes", 0);
    CHECK(more.status().message() == "Maximum number of volumes allowed (10) exceeded for quota 'volumes'.");
  }
}

TEST_CASE("project and class limits are set in one upsert per resource on both databases") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    REQUIRE(s->SetProjectQuotas("p", {{"volumes", 1}, {"gigabytes", 2}}).ok());
    REQUIRE(s->SetProjectQuotas("p", {{"volumes", 3}}).ok());
    CHECK(*s->GetProjectQuotas("p") == std::map<std::string, int64_t>{{"gigabytes", 2}, {"volumes", 3}});
    CHECK(s->GetProjectQuotas("q")->empty());
    // A refusing check leaves everything as it was.
    Status refused = s->SetProjectQuotas(
        "p", {{"volumes", 9}}, [](const std::map<std::string, Store::QuotaUsage>&) { return InvalidArgument("no"); });
    CHECK(refused.message() == "no");
    CHECK(s->GetProjectQuotas("p")->at("volumes") == 3);
    REQUIRE(s->DeleteProjectQuotas("p").ok());
    CHECK(s->GetProjectQuotas("p")->empty());
    REQUIRE(s->SetProjectQuotas("p", {{"volumes", 4}}).ok());  // a new live row after the delete
    CHECK(s->GetProjectQuotas("p")->at("volumes") == 4);
    REQUIRE(s->SetQuotaClass("default", {{"volumes", 5}}).ok());
    REQUIRE(s->SetQuotaClass("default", {{"volumes", 6}, {"snapshots", -1}}).ok());
    CHECK(*s->GetQuotaClass("default") == std::map<std::string, int64_t>{{"snapshots", -1}, {"volumes", 6}});

    // Concurrent sets of the same resource leave one live row.
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 10; ++i) {
          if (!s->SetProjectQuotas("race", {{"volumes", t * 100 + i}}).ok()) ++errors;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors == 0);
    CHECK(s->GetProjectQuotas("race")->size() == 1);
  }
}

// ---- REST ------------------------------------------------------------------------------------

namespace {

struct Rest {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<api::Router> router;

  Rest() {
    options = DefaultOptions(dir.path());
    options.host = "h";
    volumes = OpenManager(options);
    router = std::make_unique<api::Router>(options, volumes.get());
  }

  api::ApiResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                        const std::string& version = "volume 3.70") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:proj");
    return router->Handle(req);
  }
};

std::string BadRequest(const std::string& message) {
  return "{\"badRequest\": {\"code\": 400, \"message\": \"" + message + "\"}}";
}

}  // namespace

TEST_CASE("REST: quota sets, defaults and usage in Cinder's JSON") {
  Rest r;
  const std::string limits =
      "\"backup_gigabytes\": 1000, \"backups\": 10, \"gigabytes\": 1000, \"gigabytes___DEFAULT__\": -1, "
      "\"groups\": 10, \"per_volume_gigabytes\": -1, \"snapshots\": 10, \"snapshots___DEFAULT__\": -1, "
      "\"volumes\": 10, \"volumes___DEFAULT__\": -1";
  auto show = r.Call("GET", "/v3/proj/os-quota-sets/target");
  CHECK(show.status == 200);
  CHECK(show.body == "{\"quota_set\": {" + limits + ", \"id\": \"target\"}}");
  auto defaults = r.Call("GET", "/v3/proj/os-quota-sets/target/defaults");
  CHECK(defaults.status == 200);
  CHECK(defaults.body == show.body);
  auto usage = r.Call("GET", "/v3/proj/os-quota-sets/target?usage=True");
  CHECK(usage.status == 200);
  CHECK(usage.body.find("\"volumes\": {\"limit\": 10, \"in_use\": 0, \"reserved\": 0}") != std::string::npos);
  CHECK(usage.body.find("\"id\": \"target\"}}") != std::string::npos);
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/target?usage=False").body == show.body);
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/target?usage=maybe").body ==
        BadRequest("Value 'maybe' for 'usage' is not a boolean."));

  auto put = r.Call("PUT", "/v3/proj/os-quota-sets/target",
                    R"({"quota_set": {"tenant_id": "target", "volumes": 5, "backups": "4", "groups": 11}})");
  CHECK(put.status == 200);
  CHECK(put.body ==
        "{\"quota_set\": {\"backup_gigabytes\": 1000, \"backups\": 4, \"gigabytes\": 1000, "
        "\"gigabytes___DEFAULT__\": -1, \"groups\": 11, \"per_volume_gigabytes\": -1, \"snapshots\": 10, "
        "\"snapshots___DEFAULT__\": -1, \"volumes\": 5, \"volumes___DEFAULT__\": -1}}");
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/target/defaults").body == defaults.body);
  auto del = r.Call("DELETE", "/v3/proj/os-quota-sets/target");
  CHECK(del.status == 200);
  CHECK(del.body.empty());
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/target").body == show.body);
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets").status == 404);
  CHECK(r.Call("POST", "/v3/proj/os-quota-sets/target").status == 405);
}

TEST_CASE("REST: bad quota-set bodies are refused with Cinder's messages and change nothing") {
  Rest r;
  struct Case {
    const char* body;
    std::string error;
  };
  const Case cases[] = {
      {"not json", "Malformed request body"},
      {R"({"quota": {"volumes": 1}})", "'quota_set' is a required property"},
      {R"({"quota_set": 5})", "Invalid input for field/attribute quota_set. Value: 5. 5 is not of type 'object'"},
      {R"({"quota_set": {}})",
       "Invalid input for field/attribute quota_set. Value: {}. {} does not have enough properties"},
      {R"({"quota_set": {"volumes": 1, "bogus": 2, "gigabytes_nope": 3}})",
       "Invalid input received: Bad key(s) in quota set: bogus, gigabytes_nope"},
      {R"({"quota_set": {"bogus": 2, "volumes": "ten"}})", "volumes must be an integer"},
      {R"({"quota_set": {"volumes": 1.5}})", "volumes must be an integer"},
      {R"({"quota_set": {"volumes": true}})", "volumes must be an integer"},
      {R"({"quota_set": {"volumes": null}})", "volumes must be an integer"},
      {R"({"quota_set": {"volumes": -2}})", "volumes must be >= -1"},
      {R"({"quota_set": {"volumes": "-7"}})", "volumes must be >= -1"},
      {R"({"quota_set": {"gigabytes": 2147483648}})", "gigabytes must be <= 2147483647"},
      {R"({"quota_set": {"volumes": 1}, "extra": 1})",
       "Additional properties are not allowed ('extra' was unexpected)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto resp = r.Call("PUT", "/v3/proj/os-quota-sets/target", c.body);
    CHECK(resp.status == 400);
    CHECK(resp.body == BadRequest(c.error));
  }
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/target").body.find("\"volumes\": 10,") != std::string::npos);
}

TEST_CASE("REST: quota class sets") {
  Rest r;
  auto show = r.Call("GET", "/v3/proj/os-quota-class-sets/default");
  CHECK(show.status == 200);
  CHECK(show.body.find("\"volumes\": 10, \"volumes___DEFAULT__\": -1, \"id\": \"default\"}}") != std::string::npos);
  auto put = r.Call("PUT", "/v3/proj/os-quota-class-sets/default",
                    R"({"quota_class_set": {"volumes": 12, "snapshots": "3", "gigabytes___DEFAULT__": -1}})");
  CHECK(put.status == 200);
  CHECK(put.body.find("\"snapshots\": 3,") != std::string::npos);
  CHECK(put.body.find("\"volumes\": 12,") != std::string::npos);
  CHECK(put.body.find("\"id\"") == std::string::npos);
  // The class "default" is the projects' defaults.
  CHECK(r.Call("GET", "/v3/proj/os-quota-sets/x/defaults").body.find("\"volumes\": 12,") != std::string::npos);

  struct Case {
    const char* body;
    std::string error;
  };
  const Case cases[] = {
      {R"({"quota_class_set": {"volumes": "x", "bogus": 1, "id": 2}})",
       "Invalid input received: Bad key(s) in quota class set: bogus, id"},
      {R"({"quota_class_set": {"volumes": "x"}})",
       "Invalid input for field/attribute volumes. Value: x. 'x' does not match '^[0-9]*$'"},
      {R"({"quota_class_set": {"volumes": "-1"}})",
       "Invalid input for field/attribute volumes. Value: -1. '-1' does not match '^[0-9]*$'"},
      {R"({"quota_class_set": {"volumes": -2}})",
       "Invalid input for field/attribute volumes. Value: -2. -2 is less than the minimum of -1"},
      {R"({"quota_class_set": {"volumes": 1.5}})",
       "Invalid input for field/attribute volumes. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
      {R"({"quota_class_set": {"volumes": "2147483648"}})",
       "Invalid input for field/attribute volumes. Value: 2147483648. 2147483648 is greater than the maximum of "
       "2147483647"},
      {R"({"quota_class_set": {"volumes": 1}, "x": 1})", "Additional properties are not allowed ('x' was unexpected)"},
      {R"({"quota_set": {"volumes": 1}})", "'quota_class_set' is a required property"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto resp = r.Call("PUT", "/v3/proj/os-quota-class-sets/default", c.body);
    CHECK(resp.status == 400);
    CHECK(resp.body == BadRequest(c.error));
  }
  CHECK(r.Call("GET", "/v3/proj/os-quota-class-sets/default").body.find("\"volumes\": 12,") != std::string::npos);
}

TEST_CASE("REST: absolute limits") {
  Rest r;
  REQUIRE(r.volumes->UpdateQuotaSet(kAdmin, "proj", {{"volumes", 4}, {"gigabytes", 40}}).ok());
  auto resp = r.Call("GET", "/v3/proj/limits");
  CHECK(resp.status == 200);
  CHECK(resp.body ==
        "{\"limits\": {\"rate\": [], \"absolute\": {\"maxTotalVolumes\": 4, \"maxTotalSnapshots\": 10, "
        "\"maxTotalVolumeGigabytes\": 40, \"maxTotalBackups\": 10, \"maxTotalBackupGigabytes\": 1000, "
        "\"totalVolumesUsed\": 0, \"totalGigabytesUsed\": 0, \"totalSnapshotsUsed\": 0, \"totalBackupsUsed\": 0, "
        "\"totalBackupGigabytesUsed\": 0}}}");
  // An admin asks for another project's from 3.39.
  CHECK(r.Call("GET", "/v3/proj/limits?project_id=other").body.find("\"maxTotalVolumes\": 10,") != std::string::npos);
  CHECK(r.Call("GET", "/v3/proj/limits?project_id=other", "", "volume 3.38").body.find("\"maxTotalVolumes\": 4,") !=
        std::string::npos);
}

}  // namespace cinder
