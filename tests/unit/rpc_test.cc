// Typed RPC: the message codec, the dispatcher's refusals, and every method of VolumeRpc and
// SchedulerRpc carried to a server in process and over ZeroMQ on loopback.
#include <doctest/doctest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cinder/transport.h"
#include "rpc/codec.h"
#include "rpc/method.h"
#include "rpc/topics.h"
#include "scheduler/scheduler_rpc.h"
#include "test_util.h"
#include "volume/volume_rpc.h"

namespace cinder {

namespace {

using std::chrono::milliseconds;

struct Inner {
  std::string name;
  std::optional<int64_t> count;
  template <class V>
  void Fields(V& v) {
    v("name", name);
    v("count", count);
  }
};

struct Everything {
  std::string s;
  int64_t i = 0;
  int small = 0;
  double d = 0;
  bool b = false;
  rpc::Bytes bytes;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  Inner inner;
  std::optional<Inner> maybe;
  std::optional<std::string> absent;
  template <class V>
  void Fields(V& v) {
    v("s", s);
    v("i", i);
    v("small", small);
    v("d", d);
    v("b", b);
    v("bytes", bytes);
    v("list", list);
    v("map", map);
    v("inner", inner);
    v("maybe", maybe);
    v("absent", absent);
  }
};

// Records what a server was asked, and wakes the test that waits for it.
class Recorder {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back(what);
    cv_.notify_all();
  }
  // The next thing recorded (waits up to 5 s).
  std::string Next() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(5), [this] { return !seen_.empty(); });
    if (seen_.empty()) return "<nothing>";
    std::string s = seen_.front();
    seen_.erase(seen_.begin());
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

std::string Who(const RequestContext& ctx) { return ctx.user_id + "/" + ctx.project_id + "/" + ctx.request_id; }

class FakeVolumeHost : public VolumeRpcServer {
 public:
  explicit FakeVolumeHost(Recorder* r) : r_(r) {}
  Status CreateVolume(const RequestContext& c, const HostCreateVolume& q) override {
    const auto& p = q.placement;
    r_->Add("create " + Who(c) + " " + p.volume_id + " size=" + std::to_string(q.size) +
            " attempt=" + std::to_string(p.attempt) + " tried=" + Join(p.tried) + " same=" + Join(p.hints.same_host) +
            " different=" + Join(p.hints.different_host) + " query=" + p.hints.query.value_or("-") +
            " qos=" + (p.qos_specs ? Join(*p.qos_specs) : "-") + " backend=" + p.resource_backend.value_or("-"));
    return Status::OK();
  }
  Status ExtendVolume(const RequestContext& c, const HostExtendVolume& q) override {
    r_->Add("extend " + q.volume_id + " " + std::to_string(q.new_size) + " " + Join(q.reservations));
    return Status::OK();
  }
  Status DeleteVolume(const RequestContext& c, const VolumeRef& q) override {
    r_->Add("delete " + q.volume_id);
    return Status::OK();
  }
  Status CreateSnapshot(const RequestContext& c, const SnapshotRef& q) override {
    r_->Add("snapshot " + q.snapshot_id + " of " + q.volume_id);
    return Status::OK();
  }
  Status DeleteSnapshot(const RequestContext& c, const SnapshotRef& q) override {
    r_->Add("delete snapshot " + q.snapshot_id + " of " + q.volume_id);
    return Status::OK();
  }
  Status RevertToSnapshot(const RequestContext& c, const HostRevert& q) override {
    r_->Add("revert " + q.volume_id + " to " + q.snapshot_id);
    return Status::OK();
  }
  Status RetypeVolume(const RequestContext& c, const HostRetype& q) override {
    r_->Add("retype " + Retype(q));
    return Status::OK();
  }
  Status MigrateVolumeIn(const RequestContext& c, const HostRetype& q) override {
    r_->Add("migrate in " + Retype(q));
    return Status::OK();
  }
  Status DeleteMigrated(const RequestContext& c, const VolumeRef& q) override {
    r_->Add("delete migrated " + q.volume_id);
    return Status::OK();
  }
  Result<ChunkReply> ReadChunk(const RequestContext& c, const ChunkRequest& q) override {
    if (q.offset < 0) return InvalidArgument("negative offset");
    std::string data;
    for (int i = 0; i < 256 * 3 + 1; ++i) data += static_cast<char>(i);  // every byte value
    return ChunkReply{q.offset + 4096, true, rpc::Bytes{data}};
  }
  Result<CapacityReply> Capacity(const RequestContext& c) override { return CapacityReply{100.5, 42.25}; }
  Result<LocalPathReply> LocalPath(const RequestContext& c, const VolumeRef& q) override {
    if (q.volume_id == "missing") return NotFound("Volume missing could not be found.");
    return LocalPathReply{"/var/lib/cinder/volume-" + q.volume_id};
  }
  Result<ConnectionReply> AttachmentUpdate(const RequestContext&, const HostConnect& q) override {
    r_->Add("attachment_update " + q.volume_id + " " + q.attachment_id + " " + q.connector);
    if (q.connector == "{}") {
      return InvalidArgument("Invalid input received: Connector doesn't have required information: initiator");
    }
    return ConnectionReply{R"({"driver_volume_type": "iscsi", "attachment_id": ")" + q.attachment_id + "\"}"};
  }
  Result<ConnectionReply> InitializeConnection(const RequestContext&, const HostConnect& q) override {
    r_->Add("initialize_connection " + q.volume_id + " " + q.connector);
    return ConnectionReply{R"({"driver_volume_type": "local", "data": {}})"};
  }
  Result<DetachReply> DetachAttachment(const RequestContext&, const HostDetach& q) override {
    r_->Add("detach " + q.volume_id + " " + q.attachment_id.value_or("-") + " expected=" + Join(q.expected));
    return DetachReply{1};
  }

 private:
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + e;
    return s;
  }
  static std::string Join(const StringMap& m) {
    std::string s;
    for (const auto& [k, v] : m) s += (s.empty() ? "" : ",") + k + "=" + v;
    return s;
  }
  static std::string Retype(const HostRetype& q) {
    return q.retype.volume_id + " type=" + q.retype.new_type_id + " policy=" + q.retype.migration_policy +
           " previous=" + q.retype.previous_status + " reservations=" + Join(q.retype.reservations) +
           " dest=" + q.dest_host + " source=" + q.source_host.value_or("-");
  }
  Recorder* r_;
};

class FakeScheduler : public SchedulerRpcServer {
 public:
  explicit FakeScheduler(Recorder* r) : r_(r) {}
  Status CreateVolume(const RequestContext& c, const PlacementRequest& q) override {
    r_->Add("place " + Who(c) + " " + q.volume_id + " size=" + std::to_string(q.volume ? q.volume->size : -1) +
            " name=" + (q.volume ? q.volume->display_name : "-") +
            " specs=" + (q.extra_specs ? q.extra_specs->at("volume_backend_name") : "-"));
    return Status::OK();
  }
  Status RetypeVolume(const RequestContext& c, const RetypeRequest& q) override {
    r_->Add("retype " + q.volume_id + " to " + q.new_type_id + " " + std::to_string(q.reservations.size()));
    return Status::OK();
  }
  Status UpdateServiceCapabilities(const RequestContext& c, const CapabilitiesReport& q) override {
    r_->Add("report " + q.host + " " + q.backend_host + " " + q.capabilities.at("free_capacity_gb") + " " +
            std::to_string(q.volume_count));
    return Status::OK();
  }

 private:
  Recorder* r_;
};

using Link = testing::TransportPair;

RequestContext Alice() {
  RequestContext ctx = RequestContext::Admin("alice", "proj");
  ctx.request_id = "req-7";
  return ctx;
}

}  // namespace

TEST_CASE("a typed message reads back field for field, binary data included") {
  Everything e;
  e.s = "caf\xc3\xa9 \"quoted\"\n";
  e.i = INT64_MIN;
  e.small = -7;
  e.d = 0.1;
  e.b = true;
  for (int i = 0; i < 256; ++i) e.bytes.data += static_cast<char>(255 - i);
  e.list = {"a", "", "c,d"};
  e.map = {{"k", "v"}, {"capabilities:x", "<is> True"}};
  e.inner = {"in", 5};
  e.maybe = Inner{"m", std::nullopt};
  auto back = rpc::Decode<Everything>(rpc::Encode(e));
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(back->s == e.s);
  CHECK(back->i == INT64_MIN);
  CHECK(back->small == -7);
  CHECK(back->d == 0.1);
  CHECK(back->b);
  CHECK(back->bytes.data == e.bytes.data);
  CHECK(back->list == e.list);
  CHECK(back->map == e.map);
  CHECK(back->inner.name == "in");
  CHECK(back->inner.count == 5);
  REQUIRE(back->maybe);
  CHECK(back->maybe->name == "m");
  CHECK(!back->maybe->count);
  CHECK(!back->absent);
  Everything odd;  // what JSON cannot carry as such: infinities, bytes that are not UTF-8
  odd.d = -HUGE_VAL;
  odd.s = "ok\xff";
  auto infinite = rpc::Decode<Everything>(rpc::Encode(odd));
  REQUIRE_MESSAGE(infinite.ok(), infinite.status().ToString());
  CHECK(infinite->d == -HUGE_VAL);
  CHECK(infinite->s == "ok\xef\xbf\xbd");  // U+FFFD
  for (size_t n : {0, 1, 2, 3, 4, 5}) {    // every base64 padding
    Everything small;
    small.bytes.data = std::string(n, '\xff');
    auto r = rpc::Decode<Everything>(rpc::Encode(small));
    REQUIRE(r.ok());
    CHECK(r->bytes.data == small.bytes.data);
  }
}

TEST_CASE("a message missing a field or with a field of the wrong type is refused, naming it") {
  auto missing = rpc::Decode<HostExtendVolume>(R"({"volume_id": "v1", "reservations": []})");
  CHECK(missing.status().code() == Code::kInvalidArgument);
  CHECK(missing.status().message() == "malformed RPC message: field 'new_size' is missing");
  auto wrong = rpc::Decode<HostExtendVolume>(R"({"volume_id": "v1", "new_size": "2", "reservations": []})");
  CHECK(wrong.status().message() == "malformed RPC message: field 'new_size' is not an integer");
  auto nested = rpc::Decode<HostCreateVolume>(R"({"size": 1, "placement": {"attempt": 1}})");
  CHECK(nested.status().message() == "malformed RPC message: field 'placement.volume_id' is missing");
  auto not_json = rpc::Decode<VolumeRef>("volume_id=v1\n");  // a version 3 peer's key=value lines
  CHECK(not_json.status().code() == Code::kInvalidArgument);
  CHECK(rpc::Decode<VolumeRef>("[1]").status().message() == "malformed RPC message: not a JSON object");
  CHECK(rpc::Decode<ChunkReply>(R"({"offset": 0, "eof": true, "data": "@@@@"})").status().message() ==
        "malformed RPC message: field 'data' is not base64 data");
}

TEST_CASE("a request of another RPC version or for an unknown method is refused with a clear error") {
  for (auto wire : testing::kEveryWire) {
    CAPTURE(testing::WireName(wire));
    Link link(wire);
    Recorder rec;
    FakeVolumeHost host(&rec);
    link.Serve(rpc::VolumeTopic("h@b"), VolumeRpcHandler(&host));
    const std::string topic = rpc::VolumeTopic("h@b");

    RpcRequest old;
    old.version = 3;
    old.method = "local_path";
    old.args = "id=v1\n";
    auto r = link.client->Call(topic, old, milliseconds(2000));
    CHECK(r.status().code() == Code::kUnimplemented);
    CHECK(r.status().message() ==
          "RPC version 3 of local_path is not this service's version 4: every service of a deployment must run "
          "the same release");
    // A cast of another release is not taken: over ZeroMQ the server does not acknowledge it
    // (so the sender learns no server took it), in process it is refused at once.
    Status cast = link.client->Cast(topic, old, milliseconds(1500));
    CHECK(cast.code() == (wire != testing::Wire::kInProcess ? Code::kUnavailable : Code::kUnimplemented));
    RpcRequest newer = old;
    newer.version = kRpcVersion + 1;
    CHECK(link.client->Call(topic, newer, milliseconds(2000)).status().code() == Code::kUnimplemented);

    RpcRequest unknown;
    unknown.method = "frobnicate";
    unknown.args = "{}";
    auto u = link.client->Call(topic, unknown, milliseconds(2000));
    CHECK(u.status().code() == Code::kUnimplemented);
    CHECK(u.status().message() == "cinder-volume has no method frobnicate (RPC version 4)");

    RpcRequest malformed;
    malformed.method = "local_path";
    malformed.args = R"({"id": "v1"})";
    auto m = link.client->Call(topic, malformed, milliseconds(2000));
    CHECK(m.status().code() == Code::kInvalidArgument);
    CHECK(m.status().message() == "cinder-volume local_path: malformed RPC message: field 'volume_id' is missing");
  }
}

TEST_CASE("every VolumeRpc method reaches the backend's server with its fields, in process and over ZeroMQ") {
  for (auto wire : testing::kEveryWire) {
    CAPTURE(testing::WireName(wire));
    Link link(wire);
    Recorder rec;
    FakeVolumeHost host(&rec);
    link.Serve(rpc::VolumeTopic("h@b"), VolumeRpcHandler(&host));
    VolumeRpc rpc(link.client);
    const RequestContext ctx = Alice();
    const milliseconds t(2000);

    PlacementRequest p;
    p.volume_id = "v1";
    p.attempt = 2;
    p.tried = {"h@a#p", "h@b#p"};
    p.hints = {{"s1", "s2"}, {"d1"}, std::string(R"([">=", "$free_capacity_gb", 1])")};
    p.qos_specs = StringMap{{"consumer", "back-end"}};
    p.resource_backend = "h@b";
    p.volume = VolumeProperties{9, "nova", "t", "proj", "alice", "n", "d"};  // not for the host
    CHECK(rpc.CreateVolume(ctx, "h@b#pool", 3, p, t).ok());                  // the pool is dropped from the topic
    CHECK(rec.Next() ==
          "create alice/proj/req-7 v1 size=3 attempt=2 tried=h@a#p,h@b#p same=s1,s2 different=d1 "
          "query=[\">=\", \"$free_capacity_gb\", 1] qos=consumer=back-end backend=h@b");
    CHECK(rpc.ExtendVolume(ctx, "h@b", {"v1", 5, {"r1", "r2"}}, t).ok());
    CHECK(rec.Next() == "extend v1 5 r1,r2");
    CHECK(rpc.DeleteVolume(ctx, "h@b", "v1", t).ok());
    CHECK(rec.Next() == "delete v1");
    CHECK(rpc.CreateSnapshot(ctx, "h@b", {"s1", "v1"}, t).ok());
    CHECK(rec.Next() == "snapshot s1 of v1");
    CHECK(rpc.DeleteSnapshot(ctx, "h@b", {"s1", "v1"}, t).ok());
    CHECK(rec.Next() == "delete snapshot s1 of v1");
    CHECK(rpc.RevertToSnapshot(ctx, "h@b", {"v1", "s1"}, t).ok());
    CHECK(rec.Next() == "revert v1 to s1");
    RetypeRequest retype{"v1", "t2", "on-demand", "in-use", {"r3"}};
    CHECK(rpc.RetypeVolume(ctx, "h@b", retype, "h@c#p", t).ok());
    CHECK(rec.Next() == "retype v1 type=t2 policy=on-demand previous=in-use reservations=r3 dest=h@c#p source=-");
    CHECK(rpc.MigrateVolumeIn(ctx, "h@b", {retype, "h@b#p", std::string("h@a#p")}, t).ok());
    CHECK(rec.Next() ==
          "migrate in v1 type=t2 policy=on-demand previous=in-use reservations=r3 dest=h@b#p source=h@a#p");
    CHECK(rpc.DeleteMigrated(ctx, "h@b", "v1", t).ok());
    CHECK(rec.Next() == "delete migrated v1");

    auto chunk = rpc.ReadChunk(ctx, "h@b", {"v1", 8192}, t);
    REQUIRE_MESSAGE(chunk.ok(), chunk.status().ToString());
    CHECK(chunk->offset == 12288);
    CHECK(chunk->eof);
    REQUIRE(chunk->data.data.size() == 769);
    CHECK(static_cast<unsigned char>(chunk->data.data[255]) == 255);
    CHECK(rpc.ReadChunk(ctx, "h@b", {"v1", -1}, t).status().message() == "negative offset");
    auto cap = rpc.Capacity(ctx, "h@b", t);
    REQUIRE(cap.ok());
    CHECK(cap->total_gb == 100.5);
    CHECK(cap->free_gb == 42.25);
    auto path = rpc.LocalPath(ctx, "h@b", "v1", t);
    REQUIRE(path.ok());
    CHECK(*path == "/var/lib/cinder/volume-v1");
    auto missing = rpc.LocalPath(ctx, "h@b", "missing", t);
    CHECK(missing.status().code() == Code::kNotFound);
    CHECK(missing.status().message() == "Volume missing could not be found.");
    auto info = rpc.AttachmentUpdate(ctx, "h@b", {"v1", "a1", R"({"initiator": "iqn.x"})"}, t);
    REQUIRE_MESSAGE(info.ok(), info.status().ToString());
    CHECK(*info == R"({"driver_volume_type": "iscsi", "attachment_id": "a1"})");
    CHECK(rec.Next() == R"(attachment_update v1 a1 {"initiator": "iqn.x"})");
    auto refused = rpc.AttachmentUpdate(ctx, "h@b", {"v1", "a1", "{}"}, t);
    CHECK(refused.status().code() == Code::kInvalidArgument);
    CHECK(refused.status().message() ==
          "Invalid input received: Connector doesn't have required information: initiator");
    rec.Next();
    auto legacy = rpc.InitializeConnection(ctx, "h@b", {"v1", "", R"({"host": "h"})"}, t);
    REQUIRE(legacy.ok());
    CHECK(*legacy == R"({"driver_volume_type": "local", "data": {}})");
    CHECK(rec.Next() == R"(initialize_connection v1 {"host": "h"})");
    CHECK(rpc.DetachAttachment(ctx, "h@b", {"v1", std::string("a1"), {"reserved"}}, t).ok());
    CHECK(rec.Next() == "detach v1 a1 expected=reserved");
    CHECK(rpc.DetachAttachment(ctx, "h@b", {"v1", std::nullopt, {}}, t).ok());
    CHECK(rec.Next() == "detach v1 - expected=");
    // Another backend's topic is not served here.
    CHECK(rpc.DeleteVolume(ctx, "h@other", "v1", milliseconds(300)).code() == Code::kUnavailable);
  }
}

TEST_CASE("every SchedulerRpc method reaches a scheduler with its fields, in process and over ZeroMQ") {
  for (auto wire : testing::kEveryWire) {
    CAPTURE(testing::WireName(wire));
    Link link(wire);
    Recorder rec;
    FakeScheduler scheduler(&rec);
    link.Serve(rpc::kSchedulerTopic, SchedulerRpcHandler(&scheduler));
    SchedulerRpc rpc(link.client);
    const RequestContext ctx = Alice();

    PlacementRequest p;
    p.volume_id = "v9";
    p.volume = VolumeProperties{4, "nova", "t", "proj", "alice", "first", ""};
    p.extra_specs = StringMap{{"volume_backend_name", "gold"}};
    CHECK(rpc.CreateVolume(ctx, p).ok());
    CHECK(rec.Next() == "place alice/proj/req-7 v9 size=4 name=first specs=gold");
    CHECK(rpc.RetypeVolume(ctx, {"v9", "t2", "never", "available", {"a", "b"}}).ok());
    CHECK(rec.Next() == "retype v9 to t2 2");
    auto n = rpc.UpdateServiceCapabilities({"h@b#p", "h@b", {{"free_capacity_gb", "7.5"}}, 12});
    REQUIRE(n.ok());
    CHECK(*n == 1);
    CHECK(rec.Next() == "report h@b#p h@b 7.5 12");
  }
}

}  // namespace cinder
