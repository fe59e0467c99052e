// Cinder's policy in the embedded VolumeManager and the API's views: who may do what to whose
// volumes, snapshots, types and quotas with the personas' roles (project member, project
// reader, admin of any project), and a policy.yaml that changes that without a restart.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>

#include "api/router.h"
#include "cinder/env.h"
#include "cinder/volume_manager.h"
#include "common/json.h"
#include "test_util.h"

namespace cinder {

namespace {

// Keystone's roles as a token carries them: admin implies member implies reader.
RequestContext Persona(const std::string& project, const std::string& role, const std::string& user = "") {
  RequestContext ctx;
  ctx.user_id = user.empty() ? role + "-of-" + project : user;
  ctx.project_id = project;
  ctx.request_id = "req-" + ctx.user_id;
  if (role == "admin") ctx.roles = {"admin", "member", "reader"};
  if (role == "member") ctx.roles = {"member", "reader"};
  if (role == "reader") ctx.roles = {"reader"};
  if (role != "admin" && role != "member" && role != "reader") ctx.roles = {role};
  ctx.is_admin = role == "admin";  // Cinder's context_is_admin: role:admin
  return ctx;
}

const RequestContext kMemberA = Persona("A", "member");
const RequestContext kReaderA = Persona("A", "reader");
const RequestContext kMemberB = Persona("B", "member");
const RequestContext kAdminQ = Persona("Q", "admin");

std::string Denied(const std::string& rule) { return "Policy doesn't allow " + rule + " to be performed."; }

// A volume of project A, made by A's member, available.
Volume VolumeOfA(VolumeManager& m) {
  VolumeCreate c;
  c.size = 1;
  c.name = "a-data";
  auto v = m.CreateVolume(kMemberA, c);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  m.Drain();
  return *v;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// GET /v3/{project}/volumes/{id} (or /volumes/detail) as `ctx`, through the API's handler.
json::Value ShowVolume(const Options& o, VolumeManager& m, const RequestContext& ctx,
                       const std::vector<std::string>& rest) {
  api::ApiRequest req;
  req.method = "GET";
  req.path = "/v3/" + ctx.project_id + "/volumes/" + rest[0];
  req.host_url = "http://127.0.0.1:8776";
  req.ctx = ctx;
  req.url_project = ctx.project_id;
  req.version = api::ApiVersion{3, 70};
  api::ApiResponse r = api::HandleVolumes(o, m, req, rest);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto body = json::Parse(r.body);
  REQUIRE(body.ok());
  return std::move(*body);
}

}  // namespace

TEST_CASE("manager policy: a member creates and extends, a reader reads, another project sees nothing") {
  testing::TempDir dir;
  auto m = testing::OpenManager(testing::ManagerOptions(dir.path()));
  Volume v = VolumeOfA(*m);
  CHECK(v.project_id == "A");

  // A's reader reads it, and lists it, but may not create, change or delete.
  REQUIRE(m->GetVolume(kReaderA, v.id).ok());
  auto listed = m->ListVolumes(kReaderA, VolumeListQuery{});
  REQUIRE(listed.ok());
  CHECK(listed->volumes.size() == 1);
  VolumeCreate c;
  c.size = 1;
  auto refused = m->CreateVolume(kReaderA, c);
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK(refused.status().message() == "Policy doesn't allow volume:create to be performed.");
  CHECK(m->ExtendVolume(kReaderA, v.id, 2).message() == Denied("volume:extend"));
  CHECK(m->DeleteVolume(kReaderA, v.id, false, false).message() == Denied("volume:delete"));
  VolumeUpdate rename;
  rename.name = std::optional<std::string>("renamed");
  CHECK(m->UpdateVolume(kReaderA, v.id, rename).status().message() == Denied("volume:update"));
  CHECK(m->UpdateMetadata(kReaderA, v.id, {{"k", "v"}}, false).status().message() ==
        Denied("volume:update_volume_metadata"));
  CHECK(m->CreateMetadata(kReaderA, v.id, {{"k", "v"}}).status().message() == Denied("volume:create_volume_metadata"));
  CHECK(m->GetMetadata(kReaderA, v.id).ok());

  // B's member: A's volume does not exist for it (404, as Cinder), whatever it asks.
  CHECK(m->GetVolume(kMemberB, v.id).status().code() == Code::kNotFound);
  CHECK(m->ExtendVolume(kMemberB, v.id, 2).code() == Code::kNotFound);
  CHECK(m->DeleteVolume(kMemberB, v.id, false, false).code() == Code::kNotFound);
  CHECK(m->ListVolumes(kMemberB, VolumeListQuery{})->volumes.empty());

  // A's member may.
  REQUIRE(m->UpdateVolume(kMemberA, v.id, rename).ok());
  REQUIRE(m->ExtendVolume(kMemberA, v.id, 2).ok());
  m->Drain();
  CHECK(m->GetVolume(kReaderA, v.id)->size == 2);

  // A user with a role the rules do not know sees nothing of its own project's volumes.
  CHECK(m->GetVolume(Persona("A", "auditor"), v.id).status().code() == Code::kNotFound);
}

TEST_CASE("manager policy: reset-state and force-delete are an admin's, of any project") {
  testing::TempDir dir;
  auto m = testing::OpenManager(testing::ManagerOptions(dir.path()));
  Volume v = VolumeOfA(*m);
  Status st = m->ResetStatus(kMemberA, v.id, std::string("error"), std::nullopt, std::nullopt);
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK(st.message() == Denied("volume_extension:volume_admin_actions:reset_status"));
  CHECK(m->ForceDeleteVolume(kMemberA, v.id).message() == Denied("volume_extension:volume_admin_actions:force_delete"));
  CHECK(m->DeleteVolume(kMemberA, v.id, /*force=*/true, false).message() == Denied("volume:force_delete"));
  CHECK(m->ForceDetach(kMemberA, v.id, std::nullopt).message() ==
        Denied("volume_extension:volume_admin_actions:force_detach"));
  CHECK(m->GetVolume(kMemberA, v.id)->status == "available");

  // The admin of project Q resets A's volume and force-deletes it.
  REQUIRE(m->ResetStatus(kAdminQ, v.id, std::string("error"), std::nullopt, std::nullopt).ok());
  CHECK(m->GetVolume(kMemberA, v.id)->status == "error");
  REQUIRE(m->ForceDeleteVolume(kAdminQ, v.id).ok());
  m->Drain();
  CHECK(m->GetVolume(kAdminQ, v.id).status().code() == Code::kNotFound);
}

TEST_CASE("manager policy: snapshots, types, quotas and messages follow their rules") {
  testing::TempDir dir;
  auto m = testing::OpenManager(testing::ManagerOptions(dir.path()));
  Volume v = VolumeOfA(*m);
  SnapshotCreate sc;
  sc.volume_id = v.id;
  CHECK(m->CreateSnapshot(kReaderA, sc).status().message() == Denied("volume:create_snapshot"));
  CHECK(m->CreateSnapshot(kMemberB, sc).status().code() == Code::kNotFound);
  auto snap = m->CreateSnapshot(kMemberA, sc);
  REQUIRE_MESSAGE(snap.ok(), snap.status().ToString());
  m->Drain();
  CHECK(m->GetSnapshot(kReaderA, snap->id).ok());
  CHECK(m->GetSnapshotMetadata(kReaderA, snap->id).ok());
  CHECK(m->GetSnapshot(kMemberB, snap->id).status().code() == Code::kNotFound);
  CHECK(m->DeleteSnapshot(kReaderA, snap->id, false).message() == Denied("volume:delete_snapshot"));
  CHECK(m->ResetSnapshotStatus(kMemberA, snap->id, "error").message() ==
        Denied("volume_extension:snapshot_admin_actions:reset_status"));

  // Types: everyone reads them; only an admin changes them, and reads every extra spec.
  VolumeType t;
  t.name = "gold";
  t.extra_specs = {{"volume_backend_name", "secret-backend"}, {"multiattach", "<is> False"}};
  CHECK(m->CreateVolumeType(kMemberA, t).status().message() == Denied("volume_extension:type_create"));
  auto gold = m->CreateVolumeType(kAdminQ, t);
  REQUIRE(gold.ok());
  REQUIRE(m->ListVolumeTypes(kReaderA, std::nullopt).ok());
  CHECK(*m->GetVolumeTypeExtraSpecs(kReaderA, gold->id, std::nullopt) == Metadata{{"multiattach", "<is> False"}});
  CHECK(m->GetVolumeTypeExtraSpecs(kAdminQ, gold->id, std::nullopt)->size() == 2);
  CHECK(m->GetVolumeTypeExtraSpecs(kReaderA, gold->id, std::string("volume_backend_name")).status().code() ==
        Code::kNotFound);
  CHECK(m->UpdateVolumeTypeExtraSpec(kMemberA, gold->id, "k", "v").message() ==
        Denied("volume_extension:types_extra_specs:update"));

  // Quotas: a project reads its own; another's, or a change, is an admin's.
  CHECK(m->GetQuotaSet(kReaderA, "A", false).ok());
  CHECK(m->GetQuotaSet(kMemberB, "A", false).status().message() == Denied("volume_extension:quotas:show"));
  CHECK(m->GetQuotaSet(kAdminQ, "A", false).ok());
  CHECK(m->UpdateQuotaSet(kMemberA, "A", {{"volumes", 5}}).status().message() ==
        Denied("volume_extension:quotas:update"));
  CHECK(m->GetLimits(kReaderA, "A").ok());

  // Services and pools are an admin's.
  CHECK(m->ListServices(kMemberA, std::nullopt, std::nullopt).status().message() ==
        Denied("volume_extension:services:index"));
  CHECK(m->ListPools(kAdminQ, std::nullopt, std::nullopt).ok());
  CHECK(m->ListMessages(kReaderA, MessageListQuery{}).ok());
}

TEST_CASE("manager policy: the views show what the caller's rules allow") {
  testing::TempDir dir;
  Options o = testing::ManagerOptions(dir.path());
  auto m = testing::OpenManager(o);
  Volume v = VolumeOfA(*m);
  json::Value as_reader = ShowVolume(o, *m, kReaderA, {v.id});
  const json::Value* seen = as_reader.Find("volume");
  REQUIRE(seen != nullptr);
  REQUIRE(seen->Find("os-vol-tenant-attr:tenant_id") != nullptr);
  CHECK(seen->Find("os-vol-tenant-attr:tenant_id")->as_string() == "A");
  CHECK(seen->Find("os-vol-host-attr:host") == nullptr);
  CHECK(seen->Find("os-vol-mig-status-attr:migstat") == nullptr);
  json::Value as_admin = ShowVolume(o, *m, kAdminQ, {v.id});
  const json::Value* shown = as_admin.Find("volume");
  REQUIRE(shown != nullptr);
  REQUIRE(shown->Find("os-vol-host-attr:host") != nullptr);
  CHECK(shown->Find("os-vol-host-attr:host")->as_string() == m->GetVolume(kAdminQ, v.id)->host);
  CHECK(shown->Find("os-vol-host-attr:host")->as_string() == "testhost@file#file");
  CHECK(shown->Find("os-vol-mig-status-attr:migstat") != nullptr);
}

TEST_CASE("manager policy: a policy.yaml that lets readers create takes effect without a restart") {
  testing::TempDir dir;
  FakeClock clock;
  Options o = testing::ManagerOptions(dir.path());
  o.env = &clock;
  o.auth.policy_file = dir.path() + "/policy.yaml";  // absent for now: the defaults
  auto m = testing::OpenManager(o);
  VolumeCreate c;
  c.size = 1;
  CHECK(m->CreateVolume(kReaderA, c).status().code() == Code::kPermissionDenied);

  WriteFile(o.auth.policy_file, "\"volume:create\": \"rule:xena_system_admin_or_project_reader\"\n");
  clock.Advance(std::chrono::milliseconds(1000));
  auto made = m->CreateVolume(kReaderA, c);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  CHECK(made->project_id == "A");
  CHECK(m->DeleteVolume(kReaderA, made->id, false, false).message() == Denied("volume:delete"));  // unlisted
  m->Drain();
}

TEST_CASE("manager policy: enforce_new_defaults = false lets any role of the project through, as 2023.1") {
  testing::TempDir dir;
  Options o = testing::ManagerOptions(dir.path());
  o.auth.enforce_new_defaults = false;
  auto m = testing::OpenManager(o);
  Volume v = VolumeOfA(*m);
  RequestContext auditor = Persona("A", "auditor");
  CHECK(m->GetVolume(auditor, v.id).ok());        // rule:admin_or_owner
  CHECK(m->ExtendVolume(auditor, v.id, 2).ok());  // rule:admin_or_owner
  CHECK(m->ResetStatus(auditor, v.id, std::string("error"), std::nullopt, std::nullopt).code() ==
        Code::kPermissionDenied);  // admin_api has no older rule
  m->Drain();
}

}  // namespace cinder
