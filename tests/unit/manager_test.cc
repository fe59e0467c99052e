// VolumeManager through its public interface, on a real SQLite file and the file driver.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "cinder/env.h"
#include "cinder/service.h"
#include "cinder/volume_driver.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

Options TestOptions(const std::string& dir) {
  Options o = testing::ManagerOptions(dir);
  // These cases create many and huge volumes: quotas are snapshot_test's and quota_test's.
  o.quota_volumes = -1;
  o.quota_gigabytes = -1;
  return o;
}

using testing::OpenManager;

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// A driver that fails every call: for the error paths.
class FailingDriver : public VolumeDriver {
 public:
  Status CreateVolume(const std::string&, int64_t) override { return Internal("disk on fire"); }
  Status ExtendVolume(const std::string&, int64_t) override { return Internal("disk on fire"); }
  Status DeleteVolume(const std::string&) override { return Internal("disk on fire"); }
  bool VolumeExists(const std::string&) override { return false; }
  std::string LocalPath(const std::string&) override { return ""; }
  Result<BackendCapacity> GetCapacity() override { return BackendCapacity{100, 100}; }
};

// The built-in drivers and "failing".
DriverRegistry WithFailingDriver() {
  DriverRegistry drivers;
  RegisterBuiltinDrivers(&drivers);
  drivers.Register("failing", DriverInfo{[](const DriverContext&) -> Result<std::unique_ptr<VolumeDriver>> {
                                           return std::unique_ptr<VolumeDriver>(new FailingDriver);
                                         },
                                         {}});
  return drivers;
}

const RequestContext kCtx = RequestContext::Admin("user", "proj");

BackendOptions Backend(const std::string& name, const std::string& driver = "file") {
  BackendOptions b;
  b.name = name;
  b.volume_driver = driver;
  b.volume_backend_name = name;
  return b;
}

}  // namespace

TEST_CASE("create answers 'creating' at once, and a worker makes the volume available") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 2;
  c.name = "data";
  c.metadata = {{"k", "v"}};
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  CHECK(v->status == "creating");
  CHECK(v->host.empty());  // a scheduler places it next
  CHECK(v->volume_type_name == "__DEFAULT__");
  CHECK(v->availability_zone == "nova");
  m->Drain();
  auto got = m->GetVolume(kCtx, v->id);
  REQUIRE(got.ok());
  CHECK(got->status == "available");
  CHECK(got->host == "testhost@file#file");
  CHECK(got->metadata == Metadata{{"k", "v"}});
  CHECK(FileSize(*m->LocalPath(kCtx, v->id)) == 2LL << 30);
}

TEST_CASE("bad creates are refused and leave nothing behind") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  auto count = [&] { return m->ListVolumes(kCtx, {})->volumes.size(); };
  VolumeCreate c;
  c.size = 0;
  CHECK(m->CreateVolume(kCtx, c).status().code() == Code::kInvalidArgument);
  c.size = 1;
  c.volume_type = "gold";
  CHECK(m->CreateVolume(kCtx, c).status().code() == Code::kNotFound);
  c.volume_type.reset();
  c.availability_zone = "mars";
  CHECK(m->CreateVolume(kCtx, c).status().message() == "Invalid input received: Availability zone 'mars' is invalid.");
  c.availability_zone.reset();
  c.name = std::string(256, 'n');
  CHECK(m->CreateVolume(kCtx, c).status().message() ==
        "Invalid input received: name has 256 characters, more than 255.");
  CHECK(count() == 0);
}

TEST_CASE("a volume no pool can hold is accepted, then fails with Cinder's no-valid-backend message") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 1LL << 40;  // more than any file system here holds, even over-subscribed
  auto big = m->CreateVolume(kCtx, c);
  REQUIRE(big.ok());
  m->Drain();
  auto got = m->GetVolume(kCtx, big->id);
  CHECK(got->status == "error");
  CHECK(got->host.empty());
  MessageListQuery q;
  q.resource_uuid = big->id;
  auto msgs = m->ListMessages(kCtx, q);
  REQUIRE(msgs->messages.size() == 1);
  CHECK(msgs->messages[0].event_id == "VOLUME_VOLUME_001_003");
  CHECK(UserMessageText(msgs->messages[0]) ==
        "schedule allocate volume:Could not find any available weighted backend.");
  CHECK(m->ExtendVolume(kCtx, big->id, (1LL << 40) + 1).code() == Code::kFailedPrecondition);
  REQUIRE(m->DeleteVolume(kCtx, big->id, false, false).ok());  // never placed: gone at once
  CHECK(m->GetVolume(kCtx, big->id).status().code() == Code::kNotFound);
}

TEST_CASE("extend grows the file, refuses to shrink, and needs an available volume") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  m->Drain();
  auto same = m->ExtendVolume(kCtx, v->id, 1);
  CHECK(same.message() ==
        "Invalid input received: New size for extend must be greater than current size. (current: 1, "
        "extended: 1).");
  REQUIRE(m->ExtendVolume(kCtx, v->id, 3).ok());
  m->Drain();
  auto got = m->GetVolume(kCtx, v->id);
  CHECK(got->size == 3);
  CHECK(got->status == "available");
  CHECK(FileSize(*m->LocalPath(kCtx, v->id)) == 3LL << 30);
  REQUIRE(m->ResetStatus(kCtx, v->id, std::string("error"), std::nullopt, std::nullopt).ok());
  auto refused = m->ExtendVolume(kCtx, v->id, 4);
  CHECK(refused.code() == Code::kFailedPrecondition);
  CHECK(refused.message() ==
        "Invalid volume: Volume " + v->id + " status must be '{'status': 'available'}' to extend, currently error.");
  CHECK(m->GetVolume(kCtx, v->id)->size == 3);
}

TEST_CASE("delete removes the file and the volume; a forbidden status is refused") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  m->Drain();
  std::string path = *m->LocalPath(kCtx, v->id);
  REQUIRE(m->ResetStatus(kCtx, v->id, std::string("extending"), std::nullopt, std::nullopt).ok());
  auto refused = m->DeleteVolume(kCtx, v->id, false, false);
  CHECK(refused.code() == Code::kFailedPrecondition);
  CHECK(m->GetVolume(kCtx, v->id)->status == "extending");
  CHECK(FileSize(path) == 1LL << 30);
  REQUIRE(m->DeleteVolume(kCtx, v->id, /*force=*/true, false).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v->id).status().code() == Code::kNotFound);
  CHECK(FileSize(path) == -1);
  CHECK(m->DeleteVolume(kCtx, v->id, false, false).code() == Code::kNotFound);
}

TEST_CASE("force delete needs an admin; reset_status validates its input") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  m->Drain();
  RequestContext user;
  user.user_id = "u";
  user.project_id = "proj";
  user.roles = {"member", "reader"};  // as Keystone gives them: member implies reader
  CHECK(m->DeleteVolume(user, v->id, true, false).code() == Code::kPermissionDenied);
  CHECK(m->ResetStatus(user, v->id, std::string("error"), std::nullopt, std::nullopt).code() ==
        Code::kPermissionDenied);
  CHECK(m->ResetStatus(kCtx, v->id, std::string("bogus"), std::nullopt, std::nullopt).code() == Code::kInvalidArgument);
  CHECK(m->ResetStatus(kCtx, v->id, std::string("deleting"), std::nullopt, std::nullopt).message() ==
        "Cannot reset-state to deleting");
  CHECK(m->ResetStatus(kCtx, v->id, std::nullopt, std::nullopt, std::nullopt).code() == Code::kInvalidArgument);
  CHECK(m->GetVolume(kCtx, v->id)->status == "available");
  // A non-admin sees only its project's volumes.
  RequestContext other;
  other.project_id = "elsewhere";
  CHECK(m->GetVolume(other, v->id).status().code() == Code::kNotFound);
}

TEST_CASE("a failing driver leaves error, error_extending or error_deleting, never a transitional status") {
  testing::TempDir dir;
  DriverRegistry drivers = WithFailingDriver();
  Options o = TestOptions(dir.path());
  o.backends[0].volume_driver = "failing";
  o.scheduler_max_attempts = 1;  // no reschedule: the volume stays on its backend, in error
  auto m = OpenManager(o, &drivers);
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v->id)->status == "error");
  REQUIRE(m->ResetStatus(kCtx, v->id, std::string("available"), std::nullopt, std::nullopt).ok());
  REQUIRE(m->ExtendVolume(kCtx, v->id, 2).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v->id)->status == "error_extending");
  CHECK(m->GetVolume(kCtx, v->id)->size == 1);
  REQUIRE(m->DeleteVolume(kCtx, v->id, false, false).ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v->id)->status == "error_deleting");

  // Each failure the user could not see in the answer is a user message, newest first.
  auto msgs = m->ListMessages(kCtx, MessageListQuery{});
  REQUIRE(msgs.ok());
  REQUIRE(msgs->messages.size() == 2);
  const Message& extend = msgs->messages[0];
  const Message& create = msgs->messages[1];
  CHECK(create.event_id == "VOLUME_VOLUME_008_012");
  CHECK(UserMessageText(create) == "create volume from backend storage:Driver failed to create the volume.");
  CHECK(extend.event_id == "VOLUME_VOLUME_007_010");
  CHECK(UserMessageText(extend) == "extend volume:Volume Driver failed to extend volume.");
  for (const auto& msg : msgs->messages) {
    CHECK(msg.resource_uuid == v->id);
    CHECK(msg.resource_type == "VOLUME");
    CHECK(msg.project_id == "proj");
    CHECK(msg.message_level == "ERROR");
    CHECK(msg.request_id.rfind("req-", 0) == 0);
    CHECK(msg.expires_at > msg.created_at);
  }
  // Another project sees none of them; deleting one hides it.
  RequestContext other{"u2", "proj2", {"member", "reader"}, false, "req-x"};
  CHECK(m->ListMessages(other, MessageListQuery{})->messages.empty());
  CHECK(m->GetMessage(other, create.id).status().code() == Code::kNotFound);
  CHECK(m->DeleteMessage(other, create.id).code() == Code::kNotFound);
  REQUIRE(m->DeleteMessage(kCtx, create.id).ok());
  CHECK(m->GetMessage(kCtx, create.id).status().message() == "Message " + create.id + " could not be found.");
  CHECK(m->ListMessages(kCtx, MessageListQuery{})->messages.size() == 1);
}

TEST_CASE("a create the driver fails is rescheduled to another pool, never the same one") {
  testing::TempDir dir;
  DriverRegistry drivers = WithFailingDriver();
  Options o = TestOptions(dir.path());
  // The failing backend reports more room, so the weigher tries it first.
  o.backends = {Backend("broken", "failing"), Backend("good")};
  o.backends[1].driver_options["file_capacity_gb"] = "1";
  o.backends[1].max_over_subscription_ratio = "1.0";
  auto m = OpenManager(o, &drivers);
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  m->Drain();
  auto got = m->GetVolume(kCtx, v->id);
  CHECK(got->status == "available");
  CHECK(got->host == "testhost@good#good");
  // The failure on the first pool was still told to the user.
  MessageListQuery q;
  q.resource_uuid = v->id;
  auto msgs = m->ListMessages(kCtx, q);
  REQUIRE(msgs->messages.size() == 1);
  CHECK(msgs->messages[0].event_id == "VOLUME_VOLUME_008_012");
  // The good pool is full now; the broken one fails again; there is nowhere left: error.
  auto w = m->CreateVolume(kCtx, c);
  m->Drain();
  CHECK(m->GetVolume(kCtx, w->id)->status == "error");
  CHECK(m->GetVolume(kCtx, w->id)->host.empty());
}

TEST_CASE("a rescheduled create keeps its scheduler hints") {
  testing::TempDir dir;
  DriverRegistry drivers = WithFailingDriver();
  Options o = TestOptions(dir.path());
  o.scheduler_default_filters = {"AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter", "JsonFilter"};
  // Room (virtual): broken 100, big 160, small 80. Without the hint a second placement would
  // pick big; the hint allows broken and small only.
  o.backends = {Backend("broken", "failing"), Backend("big"), Backend("small")};
  o.backends[1].driver_options["file_capacity_gb"] = "8";
  o.backends[2].driver_options["file_capacity_gb"] = "4";
  auto m = OpenManager(o, &drivers);
  VolumeCreate c;
  c.size = 1;
  c.hints.query = R"(["or", ["=", "$volume_backend_name", "broken"], ["=", "$volume_backend_name", "small"]])";
  auto v = m->CreateVolume(kCtx, c);
  m->Drain();
  auto got = m->GetVolume(kCtx, v->id);
  CHECK(got->status == "available");
  CHECK(got->host == "testhost@small#small");  // broken failed; the hint held on the reschedule
}

TEST_CASE("filter functions see the QoS specs of the volume's type (qos.*)") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  o.scheduler_default_filters = {"AvailabilityZoneFilter", "CapacityFilter", "DriverFilter"};
  o.backends = {Backend("light"), Backend("heavy")};
  o.backends[0].filter_function = "qos.total_iops_sec < 500";
  o.backends[1].filter_function = "qos.total_iops_sec >= 500";
  auto m = OpenManager(o);
  auto qos = m->CreateQosSpecs(kCtx, "busy", {{"total_iops_sec", "1000"}, {"consumer", "back-end"}});
  REQUIRE(qos.ok());
  CHECK(qos->consumer == "back-end");
  CHECK(qos->specs == Metadata{{"total_iops_sec", "1000"}});
  VolumeType t;
  t.name = "busy-type";
  auto type = m->CreateVolumeType(kCtx, t);
  REQUIRE(m->AssociateQosSpecs(kCtx, qos->id, type->id).ok());
  VolumeCreate c;
  c.size = 1;
  c.volume_type = "busy-type";
  auto v = m->CreateVolume(kCtx, c);
  REQUIRE(v.ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, v->id)->host == "testhost@heavy#heavy");
}

TEST_CASE("a default_volume_type that names no type is Cinder's misconfiguration error") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  o.default_volume_type = "nosuch";
  auto m = OpenManager(o);
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  CHECK(v.status().code() == Code::kInternal);
  CHECK(v.status().message() == "The request cannot be fulfilled as the default volume type nosuch cannot be found.");
  c.volume_type = "__DEFAULT__";  // naming a type still works
  CHECK(m->CreateVolume(kCtx, c).ok());
  m->Drain();
}

TEST_CASE("a private type is seen and used only by the projects on its access list") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeType t;
  t.name = "secret";
  t.is_public = false;
  auto created = m->CreateVolumeType(kCtx, t);
  REQUIRE(created.ok());
  RequestContext member{"u", "p-member", {"member", "reader"}, false, "req-1"};
  RequestContext stranger{"u", "p-stranger", {"member", "reader"}, false, "req-2"};
  REQUIRE(m->AddVolumeTypeAccess(kCtx, created->id, "p-member").ok());
  auto sees_secret = [&](const RequestContext& ctx) {
    auto types = m->ListVolumeTypes(ctx, true);
    REQUIRE(types.ok());
    return std::any_of(types->begin(), types->end(), [](const VolumeType& t) { return t.name == "secret"; });
  };
  CHECK(sees_secret(member));
  CHECK_FALSE(sees_secret(stranger));
  CHECK(m->GetVolumeType(member, created->id).ok());
  CHECK(m->GetVolumeType(stranger, created->id).status().code() == Code::kNotFound);
  VolumeCreate c;
  c.size = 1;
  c.volume_type = "secret";
  CHECK(m->CreateVolume(member, c).ok());
  CHECK(m->CreateVolume(stranger, c).status().message() == "Volume type with name secret could not be found.");
  CHECK(m->AddVolumeTypeAccess(member, created->id, "x").code() == Code::kPermissionDenied);
  m->Drain();
}

TEST_CASE("on start, volumes an earlier run left half-done are repaired") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  std::string creating, extending, deleting;
  {
    auto m = OpenManager(o);
    VolumeCreate c;
    c.size = 1;
    creating = m->CreateVolume(kCtx, c)->id;
    extending = m->CreateVolume(kCtx, c)->id;
    deleting = m->CreateVolume(kCtx, c)->id;
    m->Drain();
  }
  {
    // Simulate a crash in the middle of each operation.
    auto s = Store::Open(o.DatabaseUrl());
    REQUIRE(s.ok());
    REQUIRE(*(*s)->CasVolumeStatus(creating, {}, "creating"));
    REQUIRE(*(*s)->CasVolumeStatus(extending, {}, "extending"));
    REQUIRE(*(*s)->CasVolumeStatus(deleting, {}, "deleting"));
  }
  auto m = OpenManager(o);
  m->Drain();
  CHECK(m->GetVolume(kCtx, creating)->status == "error");
  CHECK(m->GetVolume(kCtx, extending)->status == "error_extending");
  CHECK(m->GetVolume(kCtx, deleting).status().code() == Code::kNotFound);
  // The user learns why: the volume service was not there to finish the work.
  MessageListQuery q;
  q.resource_uuid = creating;
  auto msgs = m->ListMessages(kCtx, q);
  REQUIRE(msgs->messages.size() == 1);
  CHECK(UserMessageText(msgs->messages[0]) ==
        "create volume from backend storage:Driver is not initialized at present.");
  q.resource_uuid = extending;
  msgs = m->ListMessages(kCtx, q);
  REQUIRE(msgs->messages.size() == 1);
  CHECK(msgs->messages[0].event_id == "VOLUME_VOLUME_007_002");
}

TEST_CASE("metadata: merge, replace, delete, and validation") {
  testing::TempDir dir;
  auto m = OpenManager(TestOptions(dir.path()));
  VolumeCreate c;
  c.size = 1;
  auto v = m->CreateVolume(kCtx, c);
  CHECK(*m->UpdateMetadata(kCtx, v->id, {{"a", "1"}}, false) == Metadata{{"a", "1"}});
  CHECK(*m->UpdateMetadata(kCtx, v->id, {{"b", "2"}}, false) == Metadata{{"a", "1"}, {"b", "2"}});
  CHECK(*m->UpdateMetadata(kCtx, v->id, {{"c", "3"}}, true) == Metadata{{"c", "3"}});
  CHECK(m->DeleteMetadataKey(kCtx, v->id, "c").ok());
  CHECK(m->DeleteMetadataKey(kCtx, v->id, "c").code() == Code::kNotFound);
  CHECK(m->UpdateMetadata(kCtx, v->id, {{std::string(256, 'k'), "1"}}, false).status().code() ==
        Code::kInvalidArgument);
  CHECK(m->GetMetadata(kCtx, v->id)->empty());
  CHECK(m->GetMetadata(kCtx, NewUuid()).status().code() == Code::kNotFound);
}

TEST_CASE("the manager needs a synced schema") {
  testing::TempDir dir;
  VolumeManagerOptions vmo;
  vmo.options = TestOptions(dir.path());
  auto m = VolumeManager::Open(vmo);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("cinder-manage --config-file CONF db sync") != std::string::npos);
}

}  // namespace cinder

namespace cinder {

// Polls `done` for up to 5 s of real time: what a FakeClock's advance sets off happens within
// a fraction of a second.
template <typename Fn>
bool Eventually(Fn done) {
  for (int i = 0; i < 100; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST_CASE("services: registered at open, kept up by heartbeats; a silent one goes down") {
  testing::TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path());
  o.env = &clock;  // report_interval 10 s, service_down_time 60 s, in the fake clock's time
  auto m = OpenManager(o);
  {
    auto s = Store::Open(o.DatabaseUrl());
    REQUIRE(s.ok());
    ServiceInfo other;
    other.host = "otherhost@x";
    other.binary = "cinder-volume";
    other.topic = "cinder-volume";
    REQUIRE((*s)->RegisterService(other).ok());  // registers once, then never beats again
  }
  auto all = m->ListServices(kCtx, std::nullopt, std::nullopt);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  for (const auto& svc : *all) CHECK(svc.up);
  // A minute passes in steps of a heartbeat: ours beat, the other stays silent.
  for (int i = 0; i < 7; ++i) {
    clock.Advance(std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // a beat is due: it runs at once
  }
  auto up_as_expected = [&] {
    all = m->ListServices(kCtx, std::nullopt, std::nullopt);
    for (const auto& svc : *all) {
      if (svc.up != (svc.host != "otherhost@x")) return false;
    }
    return true;
  };
  CHECK(Eventually(up_as_expected));
  for (const auto& svc : *all) {
    CAPTURE(svc.host);
    CHECK(svc.up == (svc.host != "otherhost@x"));
  }
  auto mine = m->ListServices(kCtx, std::string("testhost"), std::nullopt);  // host and its backends
  CHECK(mine->size() == 2);
  CHECK(m->ListServices(kCtx, std::nullopt, std::string("cinder-scheduler"))->size() == 1);
  RequestContext user;
  user.project_id = "p";
  CHECK(m->ListServices(user, std::nullopt, std::nullopt).status().code() == Code::kPermissionDenied);
}

TEST_CASE("a disabled backend gets no new volumes") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  o.backends = {Backend("a"), Backend("b")};
  auto m = OpenManager(o);
  REQUIRE(m->SetServiceDisabled(kCtx, "testhost@a", "cinder-volume", true, std::string("maintenance")).ok());
  for (int i = 0; i < 4; ++i) {
    VolumeCreate c;
    c.size = 1;
    auto v = m->CreateVolume(kCtx, c);
    REQUIRE(v.ok());
    m->Drain();
    CHECK(m->GetVolume(kCtx, v->id)->host == "testhost@b#b");
  }
  REQUIRE(m->SetServiceDisabled(kCtx, "testhost@b", "cinder-volume", true, std::nullopt).ok());
  VolumeCreate c;
  c.size = 1;
  auto none = m->CreateVolume(kCtx, c);
  REQUIRE(none.ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, none->id)->status == "error");  // no valid backend
  REQUIRE(m->SetServiceDisabled(kCtx, "testhost@a", "cinder-volume", false, std::nullopt).ok());
  auto again = m->CreateVolume(kCtx, c);
  REQUIRE(again.ok());
  m->Drain();
  CHECK(m->GetVolume(kCtx, again->id)->host == "testhost@a#a");
  auto a = m->ListServices(kCtx, std::string("testhost@a"), std::nullopt);
  CHECK(a->at(0).disabled_reason == std::optional<std::string>("maintenance"));  // kept on enable
  CHECK(m->SetServiceDisabled(kCtx, "nohost", "cinder-volume", true, std::nullopt).message() ==
        "Service cinder-volume could not be found on host nohost.");
  m->Drain();
}

}  // namespace cinder

namespace cinder {

TEST_CASE("in process, a burst of creates spreads over equal backends") {
  testing::TempDir dir;
  Options o = TestOptions(dir.path());
  o.backends = {Backend("a"), Backend("b")};
  auto m = OpenManager(o);
  std::map<std::string, int> hosts;
  for (int i = 0; i < 20; ++i) {
    VolumeCreate c;
    c.size = 1;
    auto v = m->CreateVolume(kCtx, c);
    REQUIRE(v.ok());
  }
  m->Drain();
  auto all = m->ListVolumes(kCtx, {});
  REQUIRE(all.ok());
  for (const auto& v : all->volumes) ++hosts[v.host];
  CHECK(hosts.size() == 2);
  CHECK(hosts["testhost@a#a"] >= 5);  // even, unless a capacity report resets one side midway
  CHECK(hosts["testhost@b#b"] >= 5);
  VolumeListQuery q;
  q.status = "available";
  CHECK(m->ListVolumes(kCtx, q)->volumes.size() == 20);
}

}  // namespace cinder

namespace cinder {

TEST_CASE("a volume left transitional by work that never reached its host is repaired") {
  testing::TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path());
  o.env = &clock;
  auto m = OpenManager(o);
  // What an API process that died between recording volumes and handing them over leaves.
  auto s = Store::Open(o.DatabaseUrl());
  REQUIRE(s.ok());
  std::vector<std::string> ids;
  for (const char* status : {"creating", "extending", "creating"}) {
    Volume v;
    v.id = NewUuid();
    v.size = 1;
    v.status = status;
    v.project_id = "proj";
    v.host = "testhost@file#file";
    v.created_at = IsoSecondsAgo(ids.size() < 2 ? 120 : 0);  // the last one is recent
    REQUIRE((*s)->InsertVolume(v).ok());
    ids.push_back(v.id);
  }
  clock.Advance(std::chrono::seconds(11));  // a sweep is due (report_interval 10 s)
  // The sweep repairs one volume after the other: wait for the last.
  CHECK(Eventually([&] {
    return m->GetVolume(kCtx, ids[0])->status != "creating" && m->GetVolume(kCtx, ids[1])->status != "extending";
  }));
  // The create placed here is carried out; the extend, whose new size only its request knew, fails.
  CHECK(m->GetVolume(kCtx, ids[0])->status == "available");
  CHECK(FileSize(dir.path() + "/volumes/file/volume-" + ids[0]) == int64_t{1} << 30);
  CHECK(m->GetVolume(kCtx, ids[1])->status == "error_extending");
  CHECK(m->GetVolume(kCtx, ids[2])->status == "creating");  // within its grace period
}

TEST_CASE("a create stuck on a backend whose service no longer exists is failed, with a message") {
  testing::TempDir dir;
  FakeClock clock;
  Options o = TestOptions(dir.path());
  o.env = &clock;
  auto m = OpenManager(o);
  auto s = Store::Open(o.DatabaseUrl());
  REQUIRE(s.ok());
  Volume v;
  v.id = NewUuid();
  v.size = 1;
  v.status = "creating";
  v.project_id = "proj";
  v.host = "gonehost@old#old";  // a backend removed from the configuration
  v.created_at = IsoSecondsAgo(120);
  REQUIRE((*s)->InsertVolume(v).ok());
  clock.Advance(std::chrono::seconds(11));  // the schedulers' sweep is due
  CHECK(Eventually([&] { return m->GetVolume(kCtx, v.id)->status != "creating"; }));
  CHECK(m->GetVolume(kCtx, v.id)->status == "error");
  MessageListQuery q;
  q.resource_uuid = v.id;
  // The message is recorded just after the status changes.
  CHECK(Eventually([&] { return !m->ListMessages(kCtx, q)->messages.empty(); }));
  auto msgs = m->ListMessages(kCtx, q);
  REQUIRE(msgs->messages.size() == 1);
  CHECK(msgs->messages[0].event_id == "VOLUME_VOLUME_008_002");
}

}  // namespace cinder
