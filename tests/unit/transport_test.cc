// The transports: in-process and ZeroMQ on real loopback sockets, through the same cases.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "cinder/transport.h"
#include "common/util.h"
#include "test_util.h"

namespace cinder {

namespace {

using std::chrono::milliseconds;

int FreePort() {
  // A port that was free a moment ago: serve a topic on port 0, read the port, stop.
  auto t = NewZmqTransport({});
  auto ep = (*t)->Serve("probe", [](const RpcRequest&) -> Result<std::string> { return std::string(); });
  REQUIRE(ep.ok());
  int port = static_cast<int>(*ParseInt(ep->substr(ep->rfind(':') + 1)));
  (*t)->Stop();
  return port;
}

RpcRequest Req(const std::string& method, const std::string& args = "") {
  RpcRequest r;
  r.method = method;
  r.args = args;
  r.ctx = RequestContext::Admin("alice", "proj");
  r.ctx.request_id = "req-1";
  return r;
}

// An echo service: "echo" returns method/args/context; "fail" returns NotFound; "slow" sleeps.
RpcHandler Echo(std::atomic<int>* calls = nullptr) {
  return [calls](const RpcRequest& r) -> Result<std::string> {
    if (calls) ++*calls;
    if (r.method == "fail") return NotFound("Volume " + r.args + " could not be found.");
    if (r.method == "slow") std::this_thread::sleep_for(milliseconds(500));
    return r.method + "|" + r.args + "|" + r.ctx.user_id + "|" + r.ctx.project_id + "|" +
           (r.ctx.is_admin ? "admin" : "user") + "|" + r.ctx.request_id;
  };
}

using Pair = testing::TransportPair;

}  // namespace

TEST_CASE("calls, errors, casts and versions behave the same over both transports") {
  for (bool zmq : {false, true}) {
    CAPTURE(zmq);
    Pair p(zmq);
    std::atomic<int> calls{0};
    p.Serve("cinder-volume.h@b", Echo(&calls));

    auto r = p.client->Call("cinder-volume.h@b", Req("create_volume", "{\"size\": 1}"), milliseconds(2000));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(*r == "create_volume|{\"size\": 1}|alice|proj|admin|req-1");

    auto err = p.client->Call("cinder-volume.h@b", Req("fail", "v1"), milliseconds(2000));
    CHECK(err.status().code() == Code::kNotFound);
    CHECK(err.status().message() == "Volume v1 could not be found.");

    RpcRequest newer = Req("echo");
    newer.version = kRpcVersion + 1;
    CHECK(p.client->Call("cinder-volume.h@b", newer, milliseconds(2000)).status().code() == Code::kUnimplemented);

    int before = calls;
    CHECK(p.client->Cast("cinder-volume.h@b", Req("echo"), milliseconds(2000)).ok());
    for (int i = 0; i < 200 && calls == before; ++i) std::this_thread::sleep_for(milliseconds(5));
    CHECK(calls == before + 1);

    CHECK(p.client->Call("nobody", Req("echo"), milliseconds(200)).status().code() == Code::kUnavailable);
    CHECK(p.client->Cast("nobody", Req("echo"), milliseconds(200)).code() == Code::kUnavailable);
    CHECK(p.server->Serve("cinder-volume.h@b", Echo()).status().code() == Code::kAlreadyExists);

    auto slow = p.client->Call("cinder-volume.h@b", Req("slow"), milliseconds(100));
    CHECK(slow.status().code() == Code::kDeadlineExceeded);
  }
}

TEST_CASE("many concurrent calls each get their own reply") {
  for (bool zmq : {false, true}) {
    CAPTURE(zmq);
    Pair p(zmq);
    p.Serve("t", Echo());
    std::vector<std::future<bool>> results;
    for (int i = 0; i < 40; ++i) {
      results.push_back(std::async(std::launch::async, [&p, i] {
        auto r = p.client->Call("t", Req("m", std::to_string(i)), milliseconds(5000));
        return r.ok() && *r == "m|" + std::to_string(i) + "|alice|proj|admin|req-1";
      }));
    }
    int good = 0;
    for (auto& f : results) good += f.get() ? 1 : 0;
    CHECK(good == 40);
  }
}

TEST_CASE("zmq: a call to a peer that is gone fails with a deadline error, not a hang") {
  auto dir = std::make_shared<StaticDirectory>();
  dir->Set("gone", {"tcp://127.0.0.1:" + std::to_string(FreePort())});
  ZmqTransportOptions o;
  o.directory = dir;
  auto client = std::move(NewZmqTransport(o)).value();
  auto start = std::chrono::steady_clock::now();
  auto r = client->Call("gone", Req("echo"), milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status().code() == Code::kDeadlineExceeded);
  CHECK(r.status().message().find("no server of gone accepted echo within 300 ms") != std::string::npos);
  CHECK(took < milliseconds(1500));
  CHECK(client->Cast("gone", Req("echo"), milliseconds(200)).code() == Code::kUnavailable);
}

TEST_CASE("zmq: a server that restarts on its port is reached again") {
  int port = FreePort();
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions so;
  so.port = port;
  ZmqTransportOptions co;
  co.directory = dir;
  auto client = std::move(NewZmqTransport(co)).value();
  {
    auto server = std::move(NewZmqTransport(so)).value();
    auto ep = server->Serve("vol", Echo());
    REQUIRE(ep.ok());
    CHECK(*ep == "tcp://127.0.0.1:" + std::to_string(port));
    dir->Set("vol", {*ep});
    CHECK(client->Call("vol", Req("a"), milliseconds(2000)).ok());
  }  // the server process "dies"
  CHECK(client->Call("vol", Req("a"), milliseconds(200)).status().code() == Code::kDeadlineExceeded);
  auto server = std::move(NewZmqTransport(so)).value();
  REQUIRE(server->Serve("vol", Echo()).ok());
  auto r = client->Call("vol", Req("b"), milliseconds(2000));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->rfind("b|", 0) == 0);
}

TEST_CASE("zmq: a dead server among several is skipped; fanout reaches every live one") {
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions o;
  o.directory = dir;
  std::vector<std::unique_ptr<Transport>> servers;
  std::vector<std::string> endpoints;
  std::atomic<int> calls{0};
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::move(NewZmqTransport(o)).value());
    endpoints.push_back(*servers.back()->Serve("cinder-scheduler", Echo(&calls)));
  }
  endpoints.push_back("tcp://127.0.0.1:" + std::to_string(FreePort()));  // a dead scheduler
  dir->Set("cinder-scheduler", endpoints);
  auto client = std::move(NewZmqTransport(o)).value();
  for (int i = 0; i < 10; ++i) {
    auto r = client->Call("cinder-scheduler", Req("x"), milliseconds(2000));
    CHECK_MESSAGE(r.ok(), r.status().ToString());
  }
  CHECK(calls == 10);
  auto n = client->Fanout("cinder-scheduler", Req("update_service_capabilities"), milliseconds(500));
  REQUIRE(n.ok());
  CHECK(*n == 3);
  for (int i = 0; i < 200 && calls < 13; ++i) std::this_thread::sleep_for(milliseconds(5));
  CHECK(calls == 13);
}

TEST_CASE("the request context survives the wire") {
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions o;
  o.directory = dir;
  auto t = std::move(NewZmqTransport(o)).value();
  RequestContext seen;
  dir->Set("ctx", {*t->Serve("ctx", [&seen](const RpcRequest& r) -> Result<std::string> {
             seen = r.ctx;
             return std::string("ok");
           })});
  RpcRequest r = Req("m");
  r.ctx.roles = {"member", "reader"};
  r.ctx.is_admin = false;
  REQUIRE(t->Call("ctx", r, milliseconds(2000)).ok());
  CHECK(seen.user_id == "alice");
  CHECK(seen.project_id == "proj");
  CHECK(seen.roles == std::vector<std::string>{"member", "reader"});
  CHECK_FALSE(seen.is_admin);
  CHECK(seen.request_id == "req-1");
}

}  // namespace cinder

namespace cinder {

TEST_CASE("zmq: a stale endpoint that now serves other topics does not take the request") {
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions o;
  o.directory = dir;
  auto server = std::move(NewZmqTransport(o)).value();
  std::atomic<int> calls{0};
  std::string ep = *server->Serve("cinder-volume.b@other", Echo(&calls));
  CHECK(*server->Serve("cinder-scheduler", Echo(&calls)) == ep);  // one socket for every topic
  dir->Set("cinder-volume.a@gone", {ep});                         // the directory still points at the old owner's port
  auto client = std::move(NewZmqTransport(o)).value();
  auto r = client->Call("cinder-volume.a@gone", Req("create_volume"), milliseconds(300));
  CHECK(r.status().code() == Code::kDeadlineExceeded);
  CHECK(calls == 0);
}

TEST_CASE("zmq: stopping a server still answers the calls it accepted") {
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions o;
  o.directory = dir;
  auto server = std::move(NewZmqTransport(o)).value();
  dir->Set("t", {*server->Serve("t", Echo())});
  auto client = std::move(NewZmqTransport(o)).value();
  auto pending = std::async(std::launch::async, [&] { return client->Call("t", Req("slow"), milliseconds(5000)); });
  std::this_thread::sleep_for(milliseconds(100));  // accepted, running
  server->Stop();
  auto r = pending.get();
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->rfind("slow|", 0) == 0);
  CHECK(client->Call("t", Req("a"), milliseconds(300)).status().code() == Code::kDeadlineExceeded);
}

}  // namespace cinder
