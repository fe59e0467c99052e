// Generic volume groups: group types and their specs (3.11) and groups (3.13) in the store
// (SQLite and PostgreSQL), the manager's rules with the personas' roles, and the REST API's
// answers.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "api/router.h"
#include "cinder/volume_manager.h"
#include "common/json.h"
#include "common/util.h"
#include "db/store.h"
#include "group_fixtures.h"
#include "test_util.h"

namespace cinder {

namespace {

using group_fixtures::NewGroup;
using group_fixtures::Persona;
using group_fixtures::StoreVolume;

struct ApiFixture {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<api::Router> router;

  explicit ApiFixture(const std::string& default_group_type = "") {
    options = testing::ManagerOptions(dir.path());
    options.default_group_type = default_group_type;
    volumes = testing::OpenManager(options);
    router = std::make_unique<api::Router>(options, volumes.get());
  }

  api::ApiResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                        const std::string& version = "volume 3.11") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:p1");
    return router->Handle(req);
  }
};

json::Value Parse(const std::string& body) {
  auto v = json::Parse(body);
  REQUIRE_MESSAGE(v.ok(), body);
  return *v;
}

}  // namespace

TEST_CASE("group types: the store keeps them, their specs and names, on SQLite and PostgreSQL") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    // As Cinder's initial migration: the type consistency groups are migrated to.
    auto cg = s->GetGroupTypeByName("default_cgsnapshot_type");
    REQUIRE(cg.ok());
    CHECK(cg->group_specs == Metadata{{"consistent_group_snapshot_enabled", "<is> True"}});
    CHECK(cg->description == "Default group type for migrating cgsnapshot");

    GroupType t;
    t.id = NewUuid();
    t.name = "gold";
    t.is_public = false;
    t.group_specs = {{"a", "1"}};
    REQUIRE(s->CreateGroupType(t).ok());
    GroupType dup = t;
    dup.id = NewUuid();
    CHECK(s->CreateGroupType(dup).message() == "Group Type gold already exists.");
    CHECK(s->ListGroupTypes(true)->size() == 1);
    CHECK(s->ListGroupTypes(false)->size() == 1);
    CHECK(s->ListGroupTypes(std::nullopt)->size() == 2);

    REQUIRE(s->SetGroupTypeSpecs(t.id, {{"a", "2"}, {"b", "x"}}).ok());
    CHECK(s->GetGroupType(t.id)->group_specs == Metadata{{"a", "2"}, {"b", "x"}});
    REQUIRE(s->DeleteGroupTypeSpec(t.id, "a").ok());
    CHECK(s->DeleteGroupTypeSpec(t.id, "a").message() == "Group Type " + t.id + " has no specs with key a.");
    CHECK(s->SetGroupTypeSpecs("nope", {{"a", "1"}}).message() == "Group type nope could not be found.");

    CHECK(s->UpdateGroupType(t.id, std::string("default_cgsnapshot_type"), std::nullopt, std::nullopt).message() ==
          "Group Type default_cgsnapshot_type already exists.");
    REQUIRE(s->UpdateGroupType(t.id, std::string("silver"), std::string("d"), true).ok());
    auto got = s->GetGroupType(t.id);
    CHECK(got->name == "silver");
    CHECK(got->description == "d");
    CHECK(got->is_public);
    CHECK(s->GetGroupTypeByName("gold").status().message() == "Group type with name gold could not be found.");

    // A live group of the type holds it (no store call writes groups yet: plain SQL).
    const std::string group_id = NewUuid();
    const std::string insert = "INSERT INTO groups (id, project_id, group_type_id, status, created_at) VALUES ('" +
                               group_id + "', 'p', '" + t.id + "', 'available', '" + NowIso() + "')";
    const std::string remove =
        "UPDATE groups SET deleted = 1, deleted_at = '" + NowIso() + "' WHERE id = '" + group_id + "'";
    auto sql = [&](const std::string& stmt) {
      const bool pg = url.rfind("postgresql", 0) == 0;
      std::string out;
      const std::string cmd = pg ? "psql -q '" + url + "' -c \"" + stmt + "\""
                                 : "sqlite3 '" + url.substr(std::string("sqlite:///").size()) + "' \"" + stmt + "\"";
      REQUIRE_MESSAGE(testing::RunShell(cmd, &out) == 0, out);
    };
    sql(insert);
    CHECK(s->DeleteGroupType(t.id).message() == "Target group type is still in use. Group Type " + t.id +
                                                    " deletion is not allowed with groups present with the type.");
    sql(remove);
    REQUIRE(s->DeleteGroupType(t.id).ok());
    CHECK(s->GetGroupType(t.id).status().code() == Code::kNotFound);
    CHECK(s->DeleteGroupType(t.id).code() == Code::kNotFound);
    // db purge takes the deleted type, its specs and the deleted group that had it.
    CHECK(*s->Purge("9999-01-01T00:00:00.000000") >= 4);
    std::string out;
    const bool pg = url.rfind("postgresql", 0) == 0;
    const std::string count = "SELECT COUNT(*) FROM group_types WHERE id = '" + t.id + "'";
    REQUIRE(testing::RunShell(pg ? "psql -At '" + url + "' -c \"" + count + "\""
                                 : "sqlite3 '" + url.substr(10) + "' \"" + count + "\"",
                              &out) == 0);
    CHECK(out == "0\n");
    t.id = NewUuid();
    CHECK(s->CreateGroupType(t).ok());  // the name is free again
  }
}

TEST_CASE("group types: admins manage them, members only see the public ones") {
  testing::TempDir dir;
  auto m = testing::OpenManager(testing::ManagerOptions(dir.path()));
  const RequestContext admin = Persona("Q", "admin");
  const RequestContext member = Persona("A", "member");
  GroupType req;
  req.name = "private";
  req.is_public = false;
  CHECK(m->CreateGroupType(member, req).status().message() ==
        "Policy doesn't allow group:group_types:create to be performed.");
  auto t = m->CreateGroupType(admin, req);
  REQUIRE(t.ok());
  CHECK(m->ListGroupTypes(member, std::nullopt)->size() == 1);  // default_cgsnapshot_type only
  CHECK(m->ListGroupTypes(admin, std::nullopt)->size() == 2);
  CHECK(m->GetGroupType(member, t->id).status().message() == "Group type " + t->id + " could not be found.");
  CHECK(m->GetGroupType(admin, t->id).ok());
  CHECK(m->UpdateGroupType(member, t->id, std::string("x"), std::nullopt, std::nullopt).status().code() ==
        Code::kPermissionDenied);
  CHECK(m->UpdateGroupType(admin, t->id, std::nullopt, std::nullopt, std::nullopt).status().message() ==
        "Specify group type name, description or a combination thereof.");
  CHECK(m->UpdateGroupType(admin, t->id, std::string("  "), std::nullopt, std::nullopt).status().message() ==
        "Group type name can not be empty.");
  CHECK(m->GetGroupTypeSpecs(member, t->id, std::nullopt).status().message() ==
        "Policy doesn't allow group:group_types_specs:get_all to be performed.");
  CHECK(m->DeleteGroupType(member, t->id).code() == Code::kPermissionDenied);
  CHECK(m->GetGroupType(member, "default").status().message() == "Default group type can not be found.");
  CHECK(m->DeleteGroupType(admin, t->id).ok());
}

TEST_CASE("group types API: Cinder's views, codes and messages, from 3.11") {
  ApiFixture f("default_cgsnapshot_type");
  CHECK(f.Call("GET", "/v3/p1/group_types", "", "volume 3.10").status == 404);
  CHECK(f.Call("POST", "/v3/p1/group_types", R"({"group_type": {"name": "g"}})", "volume 3.10").status == 404);

  auto created = f.Call("POST", "/v3/p1/group_types",
                        R"({"group_type": {"name": "g1", "description": "first", "is_public": "false",
                            "group_specs": {"consistent_group_snapshot_enabled": "<is> False"}}})");
  REQUIRE_MESSAGE(created.status == 202, created.body);
  auto body = Parse(created.body);
  const json::Value& t = *body.Find("group_type");
  const std::string id = t.Find("id")->as_string();
  CHECK(created.body == "{\"group_type\": {\"id\": \"" + id +
                            "\", \"name\": \"g1\", \"description\": \"first\", \"is_public\": false, "
                            "\"group_specs\": {\"consistent_group_snapshot_enabled\": \"<is> False\"}}}");

  auto dup = f.Call("POST", "/v3/p1/group_types", R"({"group_type": {"name": "g1"}})");
  CHECK(dup.status == 409);
  CHECK(dup.body == R"({"conflictingRequest": {"code": 409, "message": "Group Type g1 already exists."}})");
  auto no_name = f.Call("POST", "/v3/p1/group_types", R"({"group_type": {"description": "x"}})");
  CHECK(no_name.status == 400);
  CHECK(no_name.body.find("'name' is a required property") != std::string::npos);
  auto extra = f.Call("POST", "/v3/p1/group_types", R"({"group_type": {"name": "x", "size": 1}})");
  CHECK(extra.status == 400);
  CHECK(extra.body.find("Additional properties are not allowed ('size' was unexpected)") != std::string::npos);
  CHECK(f.Call("POST", "/v3/p1/group_types", R"({"group_type": {"name": "x", "is_public": "maybe"}})").status == 400);

  // Lists: public ones by default; an admin's is_public=None shows all.
  CHECK(Parse(f.Call("GET", "/v3/p1/group_types").body).Find("group_types")->size() == 1);
  CHECK(Parse(f.Call("GET", "/v3/p1/group_types?is_public=None").body).Find("group_types")->size() == 2);
  CHECK(Parse(f.Call("GET", "/v3/p1/group_types?is_public=false").body).Find("group_types")->size() == 1);
  auto bad_filter = f.Call("GET", "/v3/p1/group_types?is_public=maybe");
  CHECK(bad_filter.status == 400);
  CHECK(bad_filter.body.find("Invalid is_public filter [maybe]") != std::string::npos);

  auto dflt = f.Call("GET", "/v3/p1/group_types/default");
  CHECK(dflt.status == 200);
  CHECK(dflt.body.find("\"name\": \"default_cgsnapshot_type\"") != std::string::npos);
  auto missing = f.Call("GET", "/v3/p1/group_types/" + NewUuid());
  CHECK(missing.status == 404);
  CHECK(missing.body.find("could not be found.") != std::string::npos);

  auto upd = f.Call("PUT", "/v3/p1/group_types/" + id, R"({"group_type": {"name": "g2", "is_public": true}})");
  REQUIRE_MESSAGE(upd.status == 200, upd.body);
  CHECK(upd.body.find("\"name\": \"g2\", \"description\": \"first\", \"is_public\": true") != std::string::npos);
  auto empty_upd = f.Call("PUT", "/v3/p1/group_types/" + id, R"({"group_type": {}})");
  CHECK(empty_upd.status == 400);
  CHECK(empty_upd.body.find("Specify group type name, description or a combination thereof.") != std::string::npos);
  CHECK(f.Call("PUT", "/v3/p1/group_types/" + id, R"({"group_type": {"name": "default_cgsnapshot_type"}})").status ==
        409);

  // Group specs.
  const std::string specs = "/v3/p1/group_types/" + id + "/group_specs";
  auto set = f.Call("POST", specs, R"({"group_specs": {"k1": "v1", "k2": "v2"}})");
  CHECK(set.status == 202);
  CHECK(set.body == R"({"group_specs": {"k1": "v1", "k2": "v2"}})");
  auto bad_key = f.Call("POST", specs, R"({"group_specs": {"bad key": "v"}})");
  CHECK(bad_key.status == 400);
  CHECK(bad_key.body.find("('bad key' was unexpected)") != std::string::npos);
  CHECK(f.Call("POST", specs, R"({"group_specs": {"k": 1}})").status == 400);
  CHECK(f.Call("POST", specs, R"({"specs": {}})").status == 400);
  auto all = f.Call("GET", specs);
  CHECK(all.body == R"({"group_specs": {"consistent_group_snapshot_enabled": "<is> False", "k1": "v1", "k2": "v2"}})");
  CHECK(f.Call("GET", specs + "/k1").body == R"({"k1": "v1"})");
  auto none = f.Call("GET", specs + "/zz");
  CHECK(none.status == 404);
  CHECK(none.body.find("Group Type " + id + " has no extra spec with key zz.") != std::string::npos);
  CHECK(f.Call("PUT", specs + "/k1", R"({"k1": "new"})").body == R"({"k1": "new"})");
  auto mismatch = f.Call("PUT", specs + "/k1", R"({"k2": "new"})");
  CHECK(mismatch.status == 400);
  CHECK(mismatch.body.find("Request body and URI mismatch") != std::string::npos);
  CHECK(f.Call("PUT", specs + "/k1", R"({"k1": "a", "k2": "b"})").status == 400);
  CHECK(f.Call("DELETE", specs + "/k1").status == 202);
  auto gone = f.Call("DELETE", specs + "/k1");
  CHECK(gone.status == 404);
  CHECK(gone.body.find("Group Type " + id + " has no specs with key k1.") != std::string::npos);
  CHECK(f.Call("GET", "/v3/p1/group_types/" + NewUuid() + "/group_specs").status == 404);

  CHECK(f.Call("DELETE", "/v3/p1/group_types/" + id).status == 202);
  CHECK(f.Call("DELETE", "/v3/p1/group_types/" + id).status == 404);
  CHECK(f.Call("GET", "/v3/p1/group_types/" + id).status == 404);
}

TEST_CASE("group types API: no default group type is 404") {
  ApiFixture f;
  auto r = f.Call("GET", "/v3/p1/group_types/default");
  CHECK(r.status == 404);
  CHECK(r.body == R"({"itemNotFound": {"code": 404, "message": "Default group type can not be found."}})");
}

TEST_CASE("groups: the store records them with their types, quota, volumes and status changes") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const std::string gt = s->GetGroupTypeByName("default_cgsnapshot_type")->id;
    VolumeType vt;
    vt.id = NewUuid();
    vt.name = "vt";
    vt.created_at = NowIso();
    REQUIRE(s->CreateVolumeType(vt).ok());

    // The groups quota is charged with the record, iff it fits.
    QuotaCharge charge;
    charge.project = "p1";
    charge.deltas = {{"groups", 1}};
    charge.default_limits = {{"groups", 1}};
    VolumeGroup g = NewGroup("p1", gt, vt.id);
    REQUIRE(s->InsertGroup(g, &charge).ok());
    CHECK(s->GetQuotaUsage("p1")->at("groups").in_use == 1);
    Store::QuotaReservation over;
    VolumeGroup g2 = NewGroup("p1", gt, vt.id);
    CHECK(s->InsertGroup(g2, &charge, &over).code() == Code::kResourceExhausted);
    CHECK(over.over == std::vector<std::string>{"groups"});
    CHECK(s->GetGroup(g2.id, std::nullopt).status().code() == Code::kNotFound);
    VolumeGroup bad_type = NewGroup("p1", "no-such-type", vt.id);
    CHECK(s->InsertGroup(bad_type).code() == Code::kNotFound);

    auto got = s->GetGroup(g.id, std::string("p1"));
    REQUIRE(got.ok());
    CHECK(got->volume_type_ids == std::vector<std::string>{vt.id});
    CHECK(got->name == "g");
    CHECK(s->GetGroup(g.id, std::string("p2")).status().message() == "Group " + g.id + " could not be found.");

    // Lists: by project, filters by column (an unknown one matches nothing), paging.
    VolumeGroup other = NewGroup("p2", gt, vt.id);
    REQUIRE(s->InsertGroup(other).ok());
    VolumeGroup later = NewGroup("p1", gt, vt.id, "error");
    later.name = "later";
    REQUIRE(s->InsertGroup(later).ok());
    GroupListQuery q;
    CHECK(s->ListGroups(q, std::string("p1"), 100)->size() == 2);
    CHECK(s->ListGroups(q, std::nullopt, 100)->size() == 3);
    q.filters = {{"status", "error"}};
    auto errs = s->ListGroups(q, std::string("p1"), 100);
    REQUIRE(errs->size() == 1);
    CHECK(errs->at(0).id == later.id);
    q.filters = {{"color", "red"}};
    CHECK(s->ListGroups(q, std::string("p1"), 100)->empty());
    q.filters.clear();
    q.limit = 1;
    auto page = s->ListGroups(q, std::string("p1"), 100);
    REQUIRE(page->size() == 1);
    q.marker = page->at(0).id;
    auto next = s->ListGroups(q, std::string("p1"), 100);
    REQUIRE(next->size() == 1);
    CHECK(next->at(0).id != page->at(0).id);
    q.marker = other.id;  // another project's: not a marker this project can use
    CHECK(s->ListGroups(q, std::string("p1"), 100).status().code() == Code::kNotFound);

    // Volumes in the group: listed by group_id, not deleted alone.
    const std::string in = StoreVolume(*s, "p1", vt.id, g.id);
    const std::string loose = StoreVolume(*s, "p1", vt.id);
    VolumeListQuery vq;
    vq.group_id = g.id;
    auto listed = s->ListVolumes(vq, std::string("p1"), 100);
    REQUIRE(listed->volumes.size() == 1);
    CHECK(listed->volumes[0].id == in);
    CHECK(listed->volumes[0].group_id == g.id);
    CHECK(s->ListVolumes(VolumeListQuery{}, std::string("p1"), 100)->volumes.size() == 2);
    CHECK_FALSE(*s->StartVolumeDelete(in, {"available"}, false, false, false));
    // A volume is made into a group only while it is available or creating.
    VolumeGroup gone = NewGroup("p1", gt, vt.id, "deleting");
    REQUIRE(s->InsertGroup(gone).ok());
    Volume into;
    into.id = NewUuid();
    into.size = 1;
    into.status = "creating";
    into.project_id = "p1";
    into.group_id = gone.id;
    into.created_at = NowIso();
    CHECK(s->InsertVolume(into).message() ==
          "Invalid Group: Originating group status must be one of 'available, creating' values");

    // An update: only from "updating"; a volume of another group cannot join.
    CHECK_FALSE(*s->FinishGroupUpdate(g.id, {loose}, {}, {"available", "in-use"}));
    REQUIRE(*s->CasGroupStatus(g.id, {"available"}, "updating"));
    CHECK_FALSE(*s->CasGroupStatus(g.id, {"available"}, "updating"));
    REQUIRE(*s->FinishGroupUpdate(g.id, {loose}, {in}, {"available", "in-use"}));
    CHECK(s->GetVolume(loose, std::nullopt)->group_id == g.id);
    CHECK_FALSE(s->GetVolume(in, std::nullopt)->group_id.has_value());
    CHECK(s->GetGroup(g.id, std::nullopt)->status == "available");
    CHECK(s->GetGroup(g.id, std::nullopt)->volume_ids == std::vector<std::string>{loose});
    REQUIRE(*s->CasGroupStatus(later.id, {}, "updating"));
    auto taken = s->FinishGroupUpdate(later.id, {loose}, {}, {"available", "in-use"});
    CHECK(taken.status().code() == Code::kFailedPrecondition);
    CHECK(s->GetGroup(later.id, std::nullopt)->status == "updating");  // nothing changed

    // A delete: not with a volume that has snapshots; then the volumes go "deleting" with it,
    // and the record goes (with its quota) only once they are gone.
    Snapshot sn;
    sn.id = NewUuid();
    sn.volume_id = loose;
    sn.status = "available";
    sn.size = 1;
    sn.project_id = "p1";
    sn.volume_type_id = vt.id;
    sn.created_at = NowIso();
    REQUIRE(*s->InsertSnapshot(sn, {"available"}));
    CHECK_FALSE(*s->StartGroupDelete(g.id, {}));
    REQUIRE(*s->SoftDeleteSnapshot(sn.id, "available", true));
    CHECK_FALSE(*s->StartGroupDelete(g.id, {"error"}));
    REQUIRE(*s->StartGroupDelete(g.id, {"available", "error"}));
    CHECK(s->GetVolume(loose, std::nullopt)->status == "deleting");
    CHECK(s->GetGroup(g.id, std::nullopt)->status == "deleting");
    CHECK_FALSE(*s->SoftDeleteGroup(g.id));  // its volume is still there
    REQUIRE(*s->SoftDeleteVolume(loose, "deleting"));
    REQUIRE(*s->SoftDeleteGroup(g.id));
    CHECK(s->GetGroup(g.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(s->GetQuotaUsage("p1")->at("groups").in_use == 0);
  }
}

TEST_CASE("groups: the manager places a group, makes volumes in it, and checks an update") {
  testing::TempDir dir;
  Options options = testing::ManagerOptions(dir.path());
  auto m = testing::OpenManager(options);
  const RequestContext admin = Persona("p1", "admin");
  VolumeType vt;
  vt.name = "gvt";
  REQUIRE(m->CreateVolumeType(admin, vt).ok());
  VolumeType vt2;
  vt2.name = "gvt2";
  REQUIRE(m->CreateVolumeType(admin, vt2).ok());
  GroupType t;
  t.name = "ggt";
  REQUIRE(m->CreateGroupType(admin, t).ok());
  const RequestContext member = Persona("p1", "member");
  GroupCreate c;
  c.group_type = "ggt";
  c.volume_types = {"gvt"};
  c.name = "g";
  auto g = m->CreateGroup(member, c);
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  auto wait = [&](const std::string& id, const std::string& status) {
    for (int i = 0; i < 500; ++i) {
      auto now = m->GetGroup(member, id);
      if (now.ok() && now->status == status) return *now;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("group " << id << " did not become " << status);
    return VolumeGroup{};
  };
  VolumeGroup placed = wait(g->id, "available");
  CHECK_FALSE(placed.host.empty());
  // Another project's member does not find it.
  CHECK(m->GetGroup(Persona("p2", "member"), g->id).status().code() == Code::kNotFound);
  CHECK(m->DeleteGroup(Persona("p2", "member"), g->id, true).code() == Code::kNotFound);
  // Reset-status is for admins.
  CHECK(m->ResetGroupStatus(member, g->id, "error").code() == Code::kPermissionDenied);

  VolumeCreate vc;
  vc.size = 1;
  vc.group_id = g->id;
  vc.volume_type = "gvt2";
  CHECK(m->CreateVolume(member, vc).status().message() ==
        "Invalid input received: Invalid volume_type provided: gvt2 (requested type must be supported by this group).");
  vc.volume_type = "gvt";
  auto v = m->CreateVolume(member, vc);
  REQUIRE(v.ok());
  CHECK(v->group_id == g->id);
  for (int i = 0; i < 500 && m->GetVolume(member, v->id)->status != "available"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(m->GetVolume(member, v->id)->host.substr(0, placed.host.find('#')) ==
        placed.host.substr(0, placed.host.find('#')));
  CHECK(m->DeleteVolume(member, v->id, false, false).code() == Code::kFailedPrecondition);

  GroupUpdate u;
  u.add_volumes = "," + v->id + ",";  // in the group already: nothing to do
  CHECK(m->UpdateGroup(member, g->id, u).message() ==
        "Invalid Group: Cannot update group " + g->id +
            " because no valid name, description, add_volumes, or remove_volumes were provided.");
  CHECK(m->DeleteGroup(member, g->id, false).message() ==
        "Invalid Group: Group " + g->id + " still contains volumes. The delete-volumes flag is required to delete it.");
  REQUIRE(m->DeleteGroup(member, g->id, true).ok());
  for (int i = 0; i < 500 && m->GetGroup(member, g->id).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(m->GetGroup(member, g->id).status().code() == Code::kNotFound);
  CHECK(m->GetVolume(member, v->id).status().code() == Code::kNotFound);
}

TEST_CASE("groups: a volume service that restarts finishes a create, gives up an update and resumes a delete") {
  testing::TempDir dir;
  Options options = testing::ManagerOptions(dir.path());
  auto m = testing::OpenManager(options);
  const RequestContext admin = Persona("p1", "admin");
  VolumeType vt;
  vt.name = "rvt";
  auto made = m->CreateVolumeType(admin, vt);
  REQUIRE(made.ok());
  const std::string vt_id = made->id;
  m.reset();  // the service stops; what it left half-done is written as it would be
  auto s = Store::Open(options.DatabaseUrl());
  REQUIRE(s.ok());
  const std::string gt = (*s)->GetGroupTypeByName("default_cgsnapshot_type")->id;
  const std::string host = options.host + "@file#file";
  std::map<std::string, std::string> ids;
  for (const char* status : {"creating", "updating", "deleting"}) {
    VolumeGroup g = NewGroup("p1", gt, vt_id, status == std::string("deleting") ? "available" : status);
    g.host = host;
    REQUIRE((*s)->InsertGroup(g).ok());
    ids[status] = g.id;
  }
  Volume v;
  v.id = NewUuid();
  v.size = 1;
  v.status = "deleting";
  v.project_id = "p1";
  v.volume_type_id = vt_id;
  v.host = host;
  v.group_id = ids["deleting"];
  v.created_at = NowIso();
  REQUIRE((*s)->InsertVolume(v).ok());
  REQUIRE(*(*s)->CasGroupStatus(ids["deleting"], {"available"}, "deleting"));
  m = testing::OpenManager(options);  // Recover runs before it answers
  bool done = false;
  for (int i = 0; i < 500 && !done; ++i) {
    done = m->GetGroup(admin, ids["deleting"]).status().code() == Code::kNotFound;
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(done);
  CHECK(m->GetVolume(admin, v.id).status().code() == Code::kNotFound);
  CHECK(m->GetGroup(admin, ids["creating"])->status == "available");
  CHECK(m->GetGroup(admin, ids["updating"])->status == "available");
}

TEST_CASE("groups API: 404 below 3.13, Cinder's schema errors and views") {
  ApiFixture f;
  CHECK(f.Call("GET", "/v3/p1/groups", "", "volume 3.12").status == 404);
  CHECK(f.Call("GET", "/v3/p1/groups/detail", "", "volume 3.12").status == 404);
  auto r = f.Call("POST", "/v3/p1/groups", R"({"group": {"group_type": "x"}})", "volume 3.13");
  CHECK(r.status == 400);
  CHECK(Parse(r.body).Find("badRequest")->Find("message")->as_string().find("'volume_types' is a required property") !=
        std::string::npos);
  r = f.Call("POST", "/v3/p1/groups", R"({"group": {"group_type": "x", "volume_types": []}})", "volume 3.13");
  CHECK(r.status == 400);
  r = f.Call("GET", "/v3/p1/groups", "", "volume 3.13");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"groups": []})");
}

}  // namespace cinder
