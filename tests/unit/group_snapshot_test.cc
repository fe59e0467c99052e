// Group snapshots (3.14): the store's records and compare-and-swaps (SQLite and PostgreSQL), the
// manager's rules and the volume host's flows (create, delete, create-from-src, restart), the
// REST API's answers, and the write hold on a real tgtd.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/router.h"
#include "cinder/volume_manager.h"
#include "common/json.h"
#include "common/util.h"
#include "db/store.h"
#include "group_fixtures.h"
#include "test_util.h"
#include "volume/targets/target.h"

namespace cinder {

namespace {

using group_fixtures::NewGroup;
using group_fixtures::Persona;
using group_fixtures::StoreVolume;

Snapshot Member(const std::string& volume_id, const std::string& type_id, const std::string& gs_id) {
  Snapshot sn;
  sn.id = NewUuid();
  sn.volume_id = volume_id;
  sn.status = "creating";
  sn.size = 1;
  sn.project_id = "p1";
  sn.user_id = "u";
  sn.volume_type_id = type_id;
  sn.group_snapshot_id = gs_id;
  return sn;
}

template <typename Fn>
bool Eventually(Fn done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("group snapshots: the store records them with their snapshots, quota and status changes") {
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
    VolumeGroup g = NewGroup("p1", gt, vt.id);
    REQUIRE(s->InsertGroup(g).ok());
    const std::string a = StoreVolume(*s, "p1", vt.id, g.id);
    const std::string b = StoreVolume(*s, "p1", vt.id, g.id, "in-use");

    GroupSnapshot gs;
    gs.id = NewUuid();
    gs.group_id = g.id;
    gs.group_type_id = gt;
    gs.name = "gs";
    gs.status = "creating";
    gs.project_id = "p1";
    gs.user_id = "u";
    std::vector<Snapshot> members = {Member(a, vt.id, gs.id), Member(b, vt.id, gs.id)};
    const std::vector<std::string> ok_statuses = {"available", "in-use"};
    QuotaCharge charge;
    charge.project = "p1";
    charge.deltas = {{"snapshots", 2}, {"gigabytes", 2}, {"snapshots_vt", 2}, {"gigabytes_vt", 2}};
    charge.default_limits = {{"snapshots", 1}};
    Store::QuotaReservation over;
    // Over quota: nothing recorded.
    CHECK(s->InsertGroupSnapshot(gs, members, ok_statuses, &charge, &over).status().code() == Code::kResourceExhausted);
    CHECK(over.over == std::vector<std::string>{"snapshots"});
    CHECK(s->GetGroupSnapshot(gs.id, std::nullopt).status().message() ==
          "GroupSnapshot " + gs.id + " could not be found.");
    // Not the group's volumes as they are (one missing): nothing recorded.
    CHECK_FALSE(*s->InsertGroupSnapshot(gs, {members[0]}, ok_statuses, nullptr, nullptr));
    // A volume no longer in a status that allows it: nothing recorded.
    CHECK_FALSE(*s->InsertGroupSnapshot(gs, members, {"available"}, nullptr, nullptr));
    CHECK(s->SnapshotsOfVolume(a)->empty());
    charge.default_limits = {{"snapshots", 10}};
    REQUIRE(*s->InsertGroupSnapshot(gs, members, ok_statuses, &charge, &over));
    CHECK(s->GetQuotaUsage("p1")->at("snapshots").in_use == 2);
    auto got = s->GetGroupSnapshot(gs.id, std::string("p1"));
    REQUIRE(got.ok());
    CHECK(got->snapshot_ids.size() == 2);
    CHECK(got->group_type_id == gt);
    CHECK(s->GetGroupSnapshot(gs.id, std::string("p2")).status().code() == Code::kNotFound);
    CHECK(s->GetSnapshot(members[0].id, std::nullopt)->group_snapshot_id == gs.id);
    CHECK(s->SnapshotsOfGroupSnapshot(gs.id)->size() == 2);

    // A member snapshot is never deleted alone, forced or not.
    CHECK_FALSE(*s->StartSnapshotDelete(members[0].id, {}));
    // Nor is a volume of it deleted with its snapshots once out of the group, nor the group.
    CHECK_FALSE(*s->StartGroupDelete(g.id, {}));

    // Creation ends for all together.
    REQUIRE(*s->FinishGroupSnapshotCreate(gs.id, true));
    CHECK_FALSE(*s->FinishGroupSnapshotCreate(gs.id, false));
    CHECK(s->GetGroupSnapshot(gs.id, std::nullopt)->status == "available");
    CHECK(s->GetSnapshot(members[1].id, std::nullopt)->status == "available");
    CHECK(s->GetSnapshot(members[1].id, std::nullopt)->progress == "100%");

    // Lists: filters by column (an unknown one matches nothing), paging, another project.
    GroupSnapshotListQuery q;
    CHECK(s->ListGroupSnapshots(q, std::string("p1"), 100)->size() == 1);
    CHECK(s->ListGroupSnapshots(q, std::string("p2"), 100)->empty());
    q.filters = {{"group_id", g.id}};
    CHECK(s->ListGroupSnapshots(q, std::nullopt, 100)->size() == 1);
    q.filters = {{"color", "red"}};
    CHECK(s->ListGroupSnapshots(q, std::nullopt, 100)->empty());

    // A group made from it holds it until made.
    VolumeGroup from = NewGroup("p1", gt, vt.id, "creating");
    from.group_snapshot_id = gs.id;
    Volume nv;
    nv.id = NewUuid();
    nv.size = 1;
    nv.status = "creating";
    nv.project_id = "p1";
    nv.host = g.host;
    nv.volume_type_id = vt.id;
    nv.snapshot_id = members[0].id;
    nv.group_id = from.id;
    nv.created_at = NowIso();
    REQUIRE(s->InsertGroupFromSource(from, {nv}, nullptr, nullptr).ok());
    CHECK(s->GetGroup(from.id, std::nullopt)->group_snapshot_id == gs.id);
    CHECK(s->GetVolume(nv.id, std::nullopt)->group_id == from.id);
    CHECK_FALSE(*s->StartGroupSnapshotDelete(gs.id, {"available", "error"}));
    REQUIRE(*s->FinishGroupCreate(from.id, true));
    CHECK(s->GetGroup(from.id, std::nullopt)->status == "available");

    // A source that is not available: nothing recorded.
    REQUIRE(*s->CasGroupSnapshotStatus(gs.id, {}, "error"));
    VolumeGroup again = NewGroup("p1", gt, vt.id, "creating");
    again.group_snapshot_id = gs.id;
    CHECK(s->InsertGroupFromSource(again, {}, nullptr, nullptr).message() ==
          "Invalid GroupSnapshot: Originating group snapshot status must be one of 'available' values");
    CHECK(s->GetGroup(again.id, std::nullopt).status().code() == Code::kNotFound);

    // Delete: from available or error, its snapshots "deleting" with it; the record goes once
    // they are gone, and their quota with them.
    CHECK_FALSE(*s->StartGroupSnapshotDelete(gs.id, {"available"}));
    REQUIRE(*s->StartGroupSnapshotDelete(gs.id, {"available", "error"}));
    CHECK(s->GetSnapshot(members[0].id, std::nullopt)->status == "deleting");
    CHECK_FALSE(*s->SoftDeleteGroupSnapshot(gs.id));
    for (const auto& m : members) REQUIRE(*s->SoftDeleteSnapshot(m.id, "deleting", true));
    REQUIRE(*s->SoftDeleteGroupSnapshot(gs.id));
    CHECK(s->GetGroupSnapshot(gs.id, std::nullopt).status().code() == Code::kNotFound);
    CHECK(s->GetQuotaUsage("p1")->at("snapshots").in_use == 0);
    CHECK(*s->Purge("9999-01-01T00:00:00.000000") >= 3);
  }
}

TEST_CASE("group snapshots: the manager takes, refuses, clones from and deletes them") {
  testing::TempDir dir;
  Options options = testing::ManagerOptions(dir.path());
  auto m = testing::OpenManager(options);
  const RequestContext admin = Persona("p1", "admin");
  const RequestContext member = Persona("p1", "member");
  VolumeType vt;
  vt.name = "gsvt";
  REQUIRE(m->CreateVolumeType(admin, vt).ok());
  GroupType t;
  t.name = "gsgt";
  REQUIRE(m->CreateGroupType(admin, t).ok());
  GroupCreate c;
  c.group_type = "gsgt";
  c.volume_types = {"gsvt"};
  auto g = m->CreateGroup(member, c);
  REQUIRE(g.ok());
  REQUIRE(Eventually([&] { return m->GetGroup(member, g->id)->status == "available"; }));
  std::vector<std::string> vols;
  for (int i = 0; i < 2; ++i) {
    VolumeCreate vc;
    vc.size = 1;
    vc.group_id = g->id;
    vc.volume_type = "gsvt";
    auto v = m->CreateVolume(member, vc);
    REQUIRE(v.ok());
    vols.push_back(v->id);
  }
  for (const auto& v : vols) REQUIRE(Eventually([&] { return m->GetVolume(member, v)->status == "available"; }));

  GroupSnapshotCreate gc;
  gc.group_id = g->id;
  gc.name = "gs";
  // Another project's group is not found; a reader may not snapshot.
  CHECK(m->CreateGroupSnapshot(Persona("p2", "member"), gc).status().code() == Code::kNotFound);
  CHECK(m->CreateGroupSnapshot(Persona("p1", "reader"), gc).status().code() == Code::kPermissionDenied);
  auto gs = m->CreateGroupSnapshot(member, gc);
  REQUIRE_MESSAGE(gs.ok(), gs.status().ToString());
  CHECK(gs->status == "creating");
  CHECK(gs->snapshot_ids.size() == 2);
  REQUIRE(Eventually([&] { return m->GetGroupSnapshot(member, gs->id)->status == "available"; }));
  for (const auto& sid : gs->snapshot_ids) {
    auto sn = m->GetSnapshot(member, sid);
    REQUIRE(sn.ok());
    CHECK(sn->status == "available");
    CHECK(sn->group_snapshot_id == gs->id);
    CHECK(std::filesystem::exists(dir.path() + "/volumes/file/snapshot-" + sid));
    CHECK(m->DeleteSnapshot(member, sid, false).message() ==
          "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.");
  }
  CHECK(m->GetGroupSnapshot(Persona("p2", "member"), gs->id).status().code() == Code::kNotFound);
  CHECK(m->DeleteGroup(member, g->id, true).message() == "Invalid Group: Group has existing snapshots.");
  CHECK(m->ResetGroupSnapshotStatus(member, gs->id, "error").code() == Code::kPermissionDenied);
  GroupSnapshotListQuery lq;
  CHECK(m->ListGroupSnapshots(member, lq)->size() == 1);
  CHECK(m->ListGroupSnapshots(Persona("p2", "member"), lq)->empty());

  // Groups from it and from the source group: made on the source's backend, available.
  GroupCreateFromSource fs;
  fs.group_snapshot_id = gs->id;
  auto from_gs = m->CreateGroupFromSource(member, fs);
  REQUIRE_MESSAGE(from_gs.ok(), from_gs.status().ToString());
  GroupCreateFromSource fg;
  fg.source_group_id = g->id;
  auto from_g = m->CreateGroupFromSource(member, fg);
  REQUIRE_MESSAGE(from_g.ok(), from_g.status().ToString());
  for (const auto& id : {from_gs->id, from_g->id}) {
    REQUIRE(Eventually([&] { return m->GetGroup(member, id)->status == "available"; }));
    auto made = m->GetGroup(member, id);
    CHECK(made->volume_ids.size() == 2);
    CHECK(made->host == m->GetGroup(member, g->id)->host);
    for (const auto& v : made->volume_ids) CHECK(m->GetVolume(member, v)->status == "available");
  }
  CHECK(m->GetGroup(member, from_gs->id)->group_snapshot_id == gs->id);
  CHECK(m->GetGroup(member, from_g->id)->source_group_id == g->id);

  // A group that is not available is not snapshotted.
  REQUIRE(m->ResetGroupStatus(admin, from_g->id, "error").ok());
  gc.group_id = from_g->id;
  CHECK(m->CreateGroupSnapshot(member, gc).status().message() ==
        "Invalid Group: Group " + from_g->id + " status must be available, but current status is: error.");

  // Delete: only from available or error; then its snapshots go with it.
  REQUIRE(m->ResetGroupSnapshotStatus(admin, gs->id, "creating").ok());
  CHECK(m->DeleteGroupSnapshot(member, gs->id).message() ==
        "Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently "
        "using it as source for its creation.");
  REQUIRE(m->ResetGroupSnapshotStatus(admin, gs->id, "available").ok());
  REQUIRE(m->DeleteGroupSnapshot(member, gs->id).ok());
  REQUIRE(Eventually([&] { return m->GetGroupSnapshot(member, gs->id).status().code() == Code::kNotFound; }));
  for (const auto& sid : gs->snapshot_ids) {
    CHECK(m->GetSnapshot(member, sid).status().code() == Code::kNotFound);
    CHECK_FALSE(std::filesystem::exists(dir.path() + "/volumes/file/snapshot-" + sid));
  }
  REQUIRE(m->DeleteGroup(member, g->id, true).ok());
  REQUIRE(Eventually([&] { return m->GetGroup(member, g->id).status().code() == Code::kNotFound; }));
}

TEST_CASE("group snapshots: a volume service that restarts fails a create and resumes a delete") {
  testing::TempDir dir;
  Options options = testing::ManagerOptions(dir.path());
  auto m = testing::OpenManager(options);
  const RequestContext admin = Persona("p1", "admin");
  VolumeType vt;
  vt.name = "rvt";
  auto made = m->CreateVolumeType(admin, vt);
  REQUIRE(made.ok());
  GroupType t;
  t.name = "rgt";
  auto made_gt = m->CreateGroupType(admin, t);
  REQUIRE(made_gt.ok());
  const std::string gt = made_gt->id;
  m.reset();
  auto s = Store::Open(options.DatabaseUrl());
  REQUIRE(s.ok());
  VolumeGroup g = NewGroup("p1", gt, made->id);
  g.host = options.host + "@file#file";
  REQUIRE((*s)->InsertGroup(g).ok());
  std::map<std::string, std::string> ids;
  for (const char* status : {"creating", "deleting"}) {
    GroupSnapshot gs;
    gs.id = NewUuid();
    gs.group_id = g.id;
    gs.group_type_id = gt;
    gs.status = "creating";
    gs.project_id = "p1";
    REQUIRE(*(*s)->InsertGroupSnapshot(gs, {}, {"available"}, nullptr, nullptr));
    if (status == std::string("deleting")) REQUIRE(*(*s)->StartGroupSnapshotDelete(gs.id, {}));
    ids[status] = gs.id;
  }
  m = testing::OpenManager(options);  // Recover runs before it answers
  CHECK(m->GetGroupSnapshot(admin, ids["creating"])->status == "error");
  CHECK(Eventually([&] { return m->GetGroupSnapshot(admin, ids["deleting"]).status().code() == Code::kNotFound; }));
}

TEST_CASE("group snapshots API: 404 below 3.14, Cinder's views and schema errors") {
  testing::TempDir dir;
  Options options = testing::ManagerOptions(dir.path());
  auto volumes = testing::OpenManager(options);
  api::Router router(options, volumes.get());
  auto call = [&](const std::string& method, const std::string& target, const std::string& body,
                  const std::string& version) {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:p1");
    return router.Handle(req);
  };
  CHECK(call("GET", "/v3/p1/group_snapshots", "", "volume 3.13").status == 404);
  CHECK(call("POST", "/v3/p1/groups/action", R"({"create-from-src": {}})", "volume 3.13").status == 404);
  auto r = call("GET", "/v3/p1/group_snapshots", "", "volume 3.14");
  CHECK(r.status == 200);
  CAPTURE(r.body);
  CHECK(r.body == R"({"group_snapshots": []})");
  r = call("POST", "/v3/p1/group_snapshots", R"({"group_snapshot": {}})", "volume 3.14");
  CHECK(r.status == 400);
  CHECK(r.body.find("'group_id' is a required property") != std::string::npos);
  r = call("POST", "/v3/p1/group_snapshots", R"({"group_snapshot": {"group_id": "x"}})", "volume 3.14");
  CHECK(r.status == 400);
  CHECK(r.body.find("is not a 'uuid'") != std::string::npos);
  const std::string missing = "6f1f4c8e-2b7a-4b9e-9c57-0d1e2f3a4b5c";
  r = call("GET", "/v3/p1/group_snapshots/" + missing, "", "volume 3.14");
  CHECK(r.status == 404);
  CHECK(r.body.find("GroupSnapshot " + missing + " could not be found.") != std::string::npos);
  r = call("POST", "/v3/p1/group_snapshots/" + missing + "/action", R"({"reset_status": {"status": "error"}})",
           "volume 3.18");
  CHECK(r.status == 404);
  r = call("POST", "/v3/p1/group_snapshots/" + missing + "/action", R"({"reset_status": {"status": "nope"}})",
           "volume 3.19");
  CHECK(r.status == 400);
  CHECK(r.body.find("Invalid GroupSnapshot Status: Group snapshot status: nope is invalid") != std::string::npos);
  r = call("POST", "/v3/p1/groups/action", R"({"create-from-src": {"name": "x"}})", "volume 3.14");
  CHECK(r.status == 400);
  CHECK(r.body.find("is not valid under any of the given schemas") != std::string::npos);
}

TEST_CASE("write hold: tgtd stops while held and runs again when released") {
  const char* dir = std::getenv("CINDER_TEST_TGTD_DIR");
  if (dir == nullptr || std::filesystem::exists(std::string(dir) + "/unavailable")) {
    MESSAGE("skipped: no harness tgtd (CINDER_TEST_TGTD_DIR)");
    return;
  }
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
  };
  const std::string socket = read(std::string(dir) + "/socket");
  const std::string pid = read(std::string(dir) + "/pid");
  REQUIRE_FALSE(socket.empty());
  // Every thread's state letter (stat's third field).
  auto states = [&] {
    std::string all;
    for (const auto& t : std::filesystem::directory_iterator("/proc/" + pid + "/task")) {
      std::string stat = read(t.path().string() + "/stat");
      auto paren = stat.rfind(") ");
      if (paren != std::string::npos) all += stat[paren + 2];
    }
    return all;
  };
  // The hold leaves nothing open in tgtd (a control connection closed without a request makes
  // tgtd spin).
  auto fds = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + pid + "/fd")) ++n;
    return n;
  };
  const size_t fds_before = fds();
  BackendOptions b;
  b.name = "hold";
  b.target_helper = "tgtadm";
  b.tgt_ipc_socket = socket;
  auto target = OpenTarget(b, "127.0.0.1", "/tmp");
  REQUIRE(target.ok());
  {
    auto hold = (*target)->HoldWrites(10);
    REQUIRE_MESSAGE(hold.ok(), hold.status().ToString());
    const std::string held = states();
    CHECK(held.find_first_not_of("Tt") == std::string::npos);
    CHECK((*hold)->Intact());
  }
  CHECK(Eventually([&] { return states().find_first_of("Tt") == std::string::npos; }));
  CHECK(fds() == fds_before);
  // The watchdog resumes tgtd when the hold outlives its limit, whatever its holder does.
  auto hold = (*target)->HoldWrites(1);
  REQUIRE(hold.ok());
  CHECK(Eventually([&] { return states().find_first_of("Tt") == std::string::npos; }));
  CHECK_FALSE((*hold)->Intact());  // what was taken under it since is no point in time
  hold->reset();
  // A holder that dies (SIGKILL: no destructor runs) leaves tgtd running: its watchdog's pipe
  // closes with it.
  const pid_t holder = fork();
  if (holder == 0) {
    auto h = (*target)->HoldWrites(60);
    if (!h.ok()) _exit(1);
    for (;;) pause();
  }
  REQUIRE(holder > 0);
  CHECK(Eventually([&] { return !states().empty() && states().find_first_not_of("Tt") == std::string::npos; }));
  kill(holder, SIGKILL);
  int status = 0;
  waitpid(holder, &status, 0);
  CHECK(Eventually([&] { return states().find_first_of("Tt") == std::string::npos; }));
  // A target that is not there cannot be held.
  b.tgt_ipc_socket = "/tmp/no-such-tgtd-socket";
  auto none = OpenTarget(b, "127.0.0.1", "/tmp");
  REQUIRE(none.ok());
  CHECK((*none)->HoldWrites(10).status().code() == Code::kUnavailable);
}

}  // namespace cinder
