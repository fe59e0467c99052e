// List filters (resource_query_filters_file, 3.31; like filters, 3.34; time comparisons, 3.60),
// GET /resource_filters (3.33) and os-set_bootable: the store on SQLite and PostgreSQL, the REST
// layer for admins and non-admins.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "api/filters.h"
#include "api/router.h"
#include "cinder/service.h"
#include "common/json.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

Volume FilterVolume(const std::string& name, int64_t size, const std::string& created_at, bool bootable) {
  Volume v;
  v.id = NewUuid();
  v.has_name = true;
  v.name = name;
  v.size = size;
  v.status = "available";
  v.project_id = "p";
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.created_at = created_at;
  v.bootable = bootable;
  return v;
}

std::set<std::string> Names(const Result<VolumeList>& list) {
  REQUIRE(list.ok());
  std::set<std::string> out;
  for (const Volume& v : list->volumes) out.insert(v.name);
  return out;
}

}  // namespace

TEST_CASE("ISO 8601 times read as Cinder's parse_isotime reads them, in UTC") {
  using api::ParseIsoTime;
  CHECK(ParseIsoTime("2026-12-07T16:00:00") == "2026-12-07T16:00:00.000000");
  CHECK(ParseIsoTime("2026-12-07T16:00:00Z") == "2026-12-07T16:00:00.000000");
  CHECK(ParseIsoTime("2026-12-07T16:00:00.5") == "2026-12-07T16:00:00.500000");
  CHECK(ParseIsoTime("2026-12-07T16:00:00.1234567") == "2026-12-07T16:00:00.123456");
  CHECK(ParseIsoTime("2026-12-07T16:00:00+02:00") == "2026-12-07T14:00:00.000000");
  CHECK(ParseIsoTime("2026-12-07T23:30:00-01:00") == "2026-12-08T00:30:00.000000");
  CHECK(ParseIsoTime("2026-12-07 16:00") == "2026-12-07T16:00:00.000000");
  CHECK(ParseIsoTime("2026-12-07") == "2026-12-07T00:00:00.000000");
  CHECK(ParseIsoTime("20261207T160000") == "2026-12-07T16:00:00.000000");
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-12-07T25:00:00", "2026-12-07T16:00:00x"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseIsoTime(bad).has_value());
  }
}

TEST_CASE("time comparison values: op:time pairs, Cinder's messages for a bad op or time") {
  auto two = api::ParseTimeComparisons("gt:2026-01-01T00:00:00,lte:2026-02-01T00:00:00Z");
  REQUIRE(two.ok());
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].op == "gt");
  CHECK((*two)[0].time == "2026-01-01T00:00:00.000000");
  CHECK((*two)[1].op == "lte");
  CHECK(api::ParseTimeComparisons("gt:2026-01-01,gt:2026-03-01")->at(0).time == "2026-03-01T00:00:00.000000");
  CHECK(api::ParseTimeComparisons("after:2026-01-01").status().message() == "Invalid after operator");
  CHECK(api::ParseTimeComparisons("2026-01-01T00:00:00").status().message() == "Invalid 2026-01-01T00 operator");
  CHECK(api::ParseTimeComparisons("gt:soon").status().message() == "Invalid soon value");
  CHECK(api::ParseTimeComparisons("gt").status().message() == "Invalid gt value");
}

TEST_CASE("volume lists filter by bootable, size, migration status, times and substrings on both databases") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    // a: Jan, bootable, 1 GiB; b: Feb, 2 GiB; c: Mar, bootable, 2 GiB, migrating; d: Apr.
    std::map<std::string, std::string> ids;
    int month = 1;
    for (const auto& [name, size, bootable] : std::vector<std::tuple<std::string, int, bool>>{
             {"alpha", 1, true}, {"Beta", 2, false}, {"gamma-ALP", 2, true}, {"delta", 3, false}}) {
      Volume v = FilterVolume(name, size, "2026-0" + std::to_string(month++) + "-01T00:00:00.000000", bootable);
      REQUIRE(s->InsertVolume(v).ok());
      ids[name] = v.id;
    }
    REQUIRE(s->UpdateVolume(ids["gamma-ALP"], {{"migration_status", "migrating"}}, std::nullopt).ok());
    const ProjectScope p = std::string("p");
    VolumeListQuery q;
    q.bootable = true;
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"alpha", "gamma-ALP"});
    q.bootable = false;
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta", "delta"});
    q = {};
    q.size = "2";
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta", "gamma-ALP"});
    q.size = "two";  // not a number: nothing, as no size equals it
    CHECK(Names(s->ListVolumes(q, p, 100)).empty());
    q = {};
    q.migration_status = "migrating";
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"gamma-ALP"});

    q = {};
    q.created_at = {{"gt", "2026-02-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"gamma-ALP", "delta"});
    q.created_at = {{"gte", "2026-02-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta", "gamma-ALP", "delta"});
    q.created_at = {{"eq", "2026-02-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta"});
    q.created_at = {{"neq", "2026-02-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)).size() == 3);
    // A field's comparisons are ORed, as Cinder's _filter_time_comparison does.
    q.created_at = {{"lt", "2026-02-01T00:00:00.000000"}, {"gte", "2026-04-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"alpha", "delta"});
    // With other filters, ANDed.
    q.created_at = {{"gt", "2026-01-15T00:00:00.000000"}};
    q.bootable = true;
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"gamma-ALP"});
    // updated_at: only the migrated volume was updated.
    q = {};
    q.updated_at = {{"gt", "2026-06-01T00:00:00.000000"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"gamma-ALP"});

    // Substrings, case-insensitive on both databases.
    q = {};
    q.like = {{"name", "alp"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"alpha", "gamma-ALP"});
    q.like = {{"name", "ET"}};
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta"});
    q.like = {{"status", "vail"}};
    CHECK(Names(s->ListVolumes(q, p, 100)).size() == 4);
    q.like = {{"bogus", "x"}};
    CHECK(s->ListVolumes(q, p, 100).status().code() == Code::kInvalidArgument);

    // The list cache tells the filters apart, and a bootable change shows at once.
    q = {};
    q.bootable = true;
    CHECK(Names(s->ListVolumes(q, p, 100)).size() == 2);
    REQUIRE(s->UpdateVolume(ids["delta"], {{"bootable", "1"}}, std::nullopt).ok());
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"alpha", "gamma-ALP", "delta"});
    q.bootable = false;
    CHECK(Names(s->ListVolumes(q, p, 100)) == std::set<std::string>{"Beta"});
  }
}

TEST_CASE("snapshot lists filter by their volume's availability zone and by substrings") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    Volume v = FilterVolume("v", 1, "2026-01-01T00:00:00.000000", false);
    v.availability_zone = "az1";
    REQUIRE(s->InsertVolume(v).ok());
    for (const char* name : {"Nightly-1", "weekly"}) {
      Snapshot sn;
      sn.id = NewUuid();
      sn.volume_id = v.id;
      sn.project_id = "p";
      sn.user_id = "u";
      sn.status = "available";
      sn.size = 1;
      sn.name = name;
      sn.created_at = NowIso();
      REQUIRE(s->InsertSnapshot(sn, {"available"}).value());
    }
    SnapshotListQuery q;
    q.availability_zone = "az1";
    CHECK(s->ListSnapshots(q, std::string("p"), 100)->snapshots.size() == 2);
    q.availability_zone = "nova";
    CHECK(s->ListSnapshots(q, std::string("p"), 100)->snapshots.empty());
    q = {};
    q.like = {{"name", "night"}};
    auto night = s->ListSnapshots(q, std::string("p"), 100);
    REQUIRE(night->snapshots.size() == 1);
    CHECK(night->snapshots[0].name == std::optional<std::string>("Nightly-1"));
  }
}

namespace {

struct ApiFixture {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<api::Router> router;

  ApiFixture() {
    options = DefaultOptions(dir.path());
    options.host = "h";
    REQUIRE(DbSync(options).ok());
    VolumeManagerOptions vmo;
    vmo.options = options;
    volumes = std::move(VolumeManager::Open(vmo)).value();
    router = std::make_unique<api::Router>(options, volumes.get());
  }

  // As the admin noauth makes.
  api::ApiResponse Admin(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& version = "volume 3.70") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:abc123");
    return router->Handle(req);
  }

  // As a member of project abc123, through the volumes handler (noauth makes only admins).
  api::ApiResponse Member(const std::string& target, int minor, const std::string& collection = "volumes") {
    api::ApiRequest req = testing::ApiRequestFor("GET", target, "", "", "");
    req.ctx.user_id = "u2";
    req.ctx.project_id = "abc123";
    req.ctx.roles = {"member", "reader"};
    req.ctx.is_admin = false;
    req.version = {3, minor};
    req.url_project = "abc123";
    std::vector<std::string> rest;
    const std::string prefix = "/v3/abc123/" + collection;
    if (req.path.size() > prefix.size()) rest.push_back(req.path.substr(prefix.size() + 1));
    return collection == "volumes" ? api::HandleVolumes(options, *volumes, req, rest)
                                   : api::HandleSnapshots(options, *volumes, req, rest);
  }

  std::string Create(const std::string& name) {
    auto r = Admin("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "name": ")" + name + R"("}})");
    REQUIRE(r.status == 202);
    std::string id = json::Parse(r.body)->Find("volume")->Find("id")->as_string();
    volumes->Drain();
    return id;
  }
};

std::string FaultMessage(const api::ApiResponse& r) {
  auto doc = json::Parse(r.body);
  REQUIRE(doc.ok());
  return doc->as_object().at(0).second.Find("message")->as_string();
}

std::set<std::string> ListedNames(const api::ApiResponse& r) {
  REQUIRE(r.status == 200);
  std::set<std::string> out;
  auto doc = json::Parse(r.body);
  REQUIRE(doc.ok());
  for (const json::Value& v : doc->Find("volumes")->as_array()) out.insert(v.Find("name")->as_string());
  return out;
}

}  // namespace

TEST_CASE("GET /resource_filters shows the configured filters, all or one resource's (3.33)") {
  ApiFixture f;
  auto all = f.Admin("GET", "/v3/abc123/resource_filters", "", "volume 3.33");
  REQUIRE(all.status == 200);
  auto doc = json::Parse(all.body);
  const auto& list = doc->Find("resource_filters")->as_array();
  REQUIRE(list.size() == 9);
  CHECK(list[0].Find("resource")->as_string() == "volume");
  CHECK(list[0].Find("filters")->size() == 11);
  CHECK(list[2].Find("resource")->as_string() == "snapshot");
  auto one = f.Admin("GET", "/v3/abc123/resource_filters?resource=backup", "", "volume 3.33");
  CHECK(one.body == R"({"resource_filters": [{"filters": ["name", "status", "volume_id"], "resource": "backup"}]})");
  CHECK(f.Admin("GET", "/v3/abc123/resource_filters?resource=nope").body == R"({"resource_filters": []})");
  CHECK(f.Admin("GET", "/v3/abc123/resource_filters", "", "volume 3.32").status == 404);
  CHECK(f.Admin("POST", "/v3/abc123/resource_filters", "{}").status == 405);

  // An operator's file.
  const std::string path = f.dir.path() + "/filters.json";
  std::ofstream(path) << R"({"volume": ["name~", "bootable"], "snapshot": []})";
  Options own = f.options;
  own.resource_query_filters_file = path;
  api::Router router(own, f.volumes.get());
  api::ApiRequest req = testing::ApiRequestFor("GET", "/v3/abc123/resource_filters", "", "volume 3.33", "u:abc123");
  CHECK(router.Handle(req).body == R"({"resource_filters": [{"filters": ["name~", "bootable"], "resource": "volume"}, )"
                                   R"({"filters": [], "resource": "snapshot"}]})");
}

TEST_CASE("from 3.31 a non-admin may use only the configured filters; admins any") {
  ApiFixture f;
  f.Create("web-1");
  f.Create("db-1");
  CHECK(ListedNames(f.Member("/v3/abc123/volumes?bootable=false&size=1&status=available", 31)).size() == 2);
  CHECK(ListedNames(f.Member("/v3/abc123/volumes/detail?created_at=gt:2000-01-01T00:00:00", 60)).size() == 2);
  // all_tenants is ignored for a non-admin (the client always sends it).
  CHECK(ListedNames(f.Member("/v3/abc123/volumes?all_tenants=1&name=db-1", 33)) == std::set<std::string>{"db-1"});
  // name~ is not among Cinder's default filters: a non-admin gets 400, an admin the match.
  auto like = f.Member("/v3/abc123/volumes?name~=web", 34);
  CHECK(like.status == 400);
  CHECK(FaultMessage(like) == "Invalid filters name~ are found in query options.");
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?name~=WEB", "", "volume 3.34")) ==
        std::set<std::string>{"web-1"});
  // Before 3.34 no filter is a like filter.
  CHECK(f.Admin("GET", "/v3/abc123/volumes?name~=web", "", "volume 3.33").status == 400);
  // display_name is a synonym of name, but not a configured filter.
  auto dn = f.Member("/v3/abc123/volumes?display_name=db-1", 31);
  CHECK(dn.status == 400);
  CHECK(FaultMessage(dn) == "Invalid filters display_name are found in query options.");
  CHECK(ListedNames(f.Member("/v3/abc123/volumes?display_name=db-1", 30)) == std::set<std::string>{"db-1"});

  // An operator's file that allows name~ (then name too) and nothing else.
  const std::string path = f.dir.path() + "/filters.json";
  std::ofstream(path) << R"({"volume": ["name~"]})";
  f.options.resource_query_filters_file = path;
  CHECK(ListedNames(f.Member("/v3/abc123/volumes?name~=web", 34)) == std::set<std::string>{"web-1"});
  CHECK(ListedNames(f.Member("/v3/abc123/volumes?name=db-1", 34)) == std::set<std::string>{"db-1"});
  CHECK(f.Member("/v3/abc123/volumes?name=db-1", 33).status == 400);  // name~ covers name from 3.34
  auto two = f.Member("/v3/abc123/volumes?status=available&bootable=true", 34);
  CHECK(FaultMessage(two) == "Invalid filters status,bootable are found in query options.");
  CHECK(FaultMessage(f.Member("/v3/abc123/snapshots?name=x", 34, "snapshots")) ==
        "Invalid filters name are found in query options.");
  // A file that does not parse enables nothing (as Cinder), and is no 500.
  const std::string bad = f.dir.path() + "/bad.json";
  std::ofstream(bad) << "{not json";
  f.options.resource_query_filters_file = bad;
  CHECK(f.Member("/v3/abc123/volumes?name=db-1", 34).status == 400);
  CHECK(f.Member("/v3/abc123/volumes", 34).status == 200);
}

TEST_CASE("list filter values: bootable strict from 3.2, time comparisons' errors, unknown filters") {
  ApiFixture f;
  f.Create("a");
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?bootable=false")).size() == 1);
  auto strict = f.Admin("GET", "/v3/abc123/volumes?bootable=maybe");
  CHECK(strict.status == 400);
  CHECK(FaultMessage(strict) == "Invalid input received: 'bootable = maybe'");
  // Before 3.2 anything but false is true.
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?bootable=maybe", "", "volume 3.1")).empty());
  auto op = f.Admin("GET", "/v3/abc123/volumes?created_at=after:2026-01-01");
  CHECK(op.status == 400);
  CHECK(FaultMessage(op) == "Invalid after operator");
  auto value = f.Admin("GET", "/v3/abc123/volumes?updated_at=lt:tomorrow");
  CHECK(value.status == 400);
  CHECK(FaultMessage(value) == "Invalid tomorrow value");
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?created_at=lt:2000-01-01T00:00:00Z")).empty());
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?created_at=gt:2000-01-01T00:00:00Z")).size() == 1);
  CHECK(f.Admin("GET", "/v3/abc123/volumes?created_at=gt:2000-01-01", "", "volume 3.30").status == 400);
  CHECK(f.Admin("GET", "/v3/abc123/volumes?bogus=1").status == 400);
}

TEST_CASE("os-set_bootable: Cinder's body, its errors, and the bootable flag in views and filters") {
  ApiFixture f;
  const std::string id = f.Create("boot");
  const std::string action = "/v3/abc123/volumes/" + id + "/action";
  auto set = f.Admin("POST", action, R"({"os-set_bootable": {"bootable": true}})");
  CHECK(set.status == 200);
  CHECK(set.body.empty());
  auto shown = json::Parse(f.Admin("GET", "/v3/abc123/volumes/" + id).body);
  CHECK(shown->Find("volume")->Find("bootable")->as_string() == "true");
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?bootable=true")) == std::set<std::string>{"boot"});
  CHECK(f.Admin("POST", action, R"({"os-set_bootable": {"bootable": "False"}})").status == 200);
  CHECK(ListedNames(f.Admin("GET", "/v3/abc123/volumes?bootable=true")).empty());

  struct Case {
    const char* body;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"os-set_bootable": {}})",
                "Invalid input for field/attribute os-set_bootable. Value: {}. 'bootable' is a required property"},
           Case{R"({"os-set_bootable": {"bootable": "maybe"}})", nullptr},
           Case{R"({"os-set_bootable": {"bootable": 1}})",
                "Invalid input for field/attribute bootable. Value: 1. 1 is not of type 'boolean', 'string'"},
           Case{R"({"os-set_bootable": {"bootable": true, "x": 1}})", nullptr},
           Case{R"({"os-set_bootable": null})", nullptr},
       }) {
    CAPTURE(c.body);
    auto r = f.Admin("POST", action, c.body);
    CHECK(r.status == 400);
    if (c.message) CHECK(FaultMessage(r) == c.message);
  }
  auto missing =
      f.Admin("POST", "/v3/abc123/volumes/" + NewUuid() + "/action", R"({"os-set_bootable": {"bootable": true}})");
  CHECK(missing.status == 404);
  // In maintenance the volume is not updated (Cinder's volume_api.update).
  REQUIRE(f.Admin("POST", action, R"({"os-reset_status": {"status": "maintenance"}})").status == 202);
  auto maint = f.Admin("POST", action, R"({"os-set_bootable": {"bootable": true}})");
  CHECK(maint.status == 400);
  CHECK(FaultMessage(maint) == "Invalid volume: The volume cannot be updated during maintenance.");
}

}  // namespace cinder
