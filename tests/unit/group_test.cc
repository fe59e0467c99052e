// Generic volume groups: group types and their specs (3.11) in the store (SQLite and
// PostgreSQL), the manager's rules with the personas' roles, and the REST API's answers.
#include <doctest/doctest.h>

#include "api/router.h"
#include "cinder/volume_manager.h"
#include "common/json.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

RequestContext Persona(const std::string& project, const std::string& role) {
  RequestContext ctx;
  ctx.user_id = role + "-of-" + project;
  ctx.project_id = project;
  if (role == "admin") ctx.roles = {"admin", "member", "reader"};
  if (role == "member") ctx.roles = {"member", "reader"};
  ctx.is_admin = role == "admin";
  return ctx;
}

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

}  // namespace cinder
