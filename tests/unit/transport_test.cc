// The transports: in-process and ZeroMQ on real loopback sockets, through the same cases.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <thread>
#include <zmq.hpp>

#include "cinder/transport.h"
#include "common/log.h"
#include "common/util.h"
#include "rpc/transport_key.h"
#include "rpc/wire.h"
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
  for (auto wire : testing::kEveryWire) {
    CAPTURE(testing::WireName(wire));
    Pair p(wire);
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
  for (auto wire : testing::kEveryWire) {
    CAPTURE(testing::WireName(wire));
    Pair p(wire);
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

TEST_CASE("zmq: a call to a peer that is gone fails as unavailable, not a hang") {
  auto dir = std::make_shared<StaticDirectory>();
  dir->Set("gone", {"tcp://127.0.0.1:" + std::to_string(FreePort())});
  ZmqTransportOptions o;
  o.directory = dir;
  auto client = std::move(NewZmqTransport(o)).value();
  auto start = std::chrono::steady_clock::now();
  auto r = client->Call("gone", Req("echo"), milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status().code() == Code::kUnavailable);
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
  CHECK(client->Call("vol", Req("a"), milliseconds(200)).status().code() == Code::kUnavailable);
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
  r.ctx.user_name = "Alice";
  r.ctx.user_domain_id = "default";
  r.ctx.project_name = "Project";
  r.ctx.project_domain_id = "dom-2";
  r.ctx.is_admin_project = false;
  REQUIRE(t->Call("ctx", r, milliseconds(2000)).ok());
  CHECK(seen.user_id == "alice");
  CHECK(seen.project_id == "proj");
  CHECK(seen.roles == std::vector<std::string>{"member", "reader"});
  CHECK_FALSE(seen.is_admin);
  CHECK(seen.request_id == "req-1");
  // Who asked, by name and domain (the Auth Manager's context), crosses too.
  CHECK(seen.user_name == "Alice");
  CHECK(seen.user_domain_id == "default");
  CHECK(seen.project_name == "Project");
  CHECK(seen.project_domain_id == "dom-2");
  CHECK_FALSE(seen.is_admin_project);
  // An older peer's five fields: the rest empty, is_admin_project Keystone's default.
  const std::string sep(1, '\x1f');
  RequestContext old = rpc::DecodeContext("u" + sep + "p" + sep + "member" + sep + "0" + sep + "req-9");
  CHECK(old.user_id == "u");
  CHECK(old.request_id == "req-9");
  CHECK(old.user_name.empty());
  CHECK(old.is_admin_project);
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
  CHECK(r.status().code() == Code::kUnavailable);
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
  CHECK(client->Call("t", Req("a"), milliseconds(300)).status().code() == Code::kUnavailable);
}

}  // namespace cinder

namespace cinder {

namespace {

// The lines logged while `fn` runs, once every one of `expected` has appeared (or after 5 s);
// logging goes back to stderr afterwards.
template <typename Fn>
std::vector<std::string> LoggedUntil(const std::vector<std::string>& expected, Fn fn) {
  testing::TempDir dir;
  log::LogOptions lo;
  lo.log_file = dir.path() + "/test.log";
  lo.use_stderr = false;
  REQUIRE(log::Configure(lo).ok());
  fn();
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) {
    lines.clear();
    std::ifstream in(lo.log_file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    bool all = true;
    for (const auto& e : expected) {
      all = all && std::any_of(lines.begin(), lines.end(),
                               [&](const std::string& l) { return l.find(e) != std::string::npos; });
    }
    if (all) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  REQUIRE(log::Configure(log::LogOptions()).ok());
  return lines;
}

bool AnyHas(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// A raw CURVE DEALER that knows the server's public key but holds a key pair of its own: the
// handshake reaches the ZAP handler, which must refuse it. True if anything came back.
bool OwnKeyClientAnswered(const std::string& endpoint, const std::string& server_public_key) {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  char pub[41], sec[41];
  REQUIRE(zmq_curve_keypair(pub, sec) == 0);
  s.set(zmq::sockopt::curve_serverkey, server_public_key);
  s.set(zmq::sockopt::curve_publickey, std::string(pub));
  s.set(zmq::sockopt::curve_secretkey, std::string(sec));
  s.connect(endpoint);
  const std::vector<std::string> frames = {
      rpc::kProtocol, "call", "id-1", std::to_string(kRpcVersion), "vol", "echo", rpc::EncodeContext(Req("x").ctx), ""};
  for (size_t i = 0; i < frames.size(); ++i) {
    s.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, milliseconds(500));
  return item.revents & ZMQ_POLLIN;
}

}  // namespace

TEST_CASE("zmq+curve: only clients holding the deployment key are served; the others fail by their deadline") {
  const auto& key = testing::TestTransportKey();
  auto other = rpc::NewTransportKey();
  REQUIRE(other.ok());
  std::atomic<int> calls{0};
  auto lines = LoggedUntil({"it failed the CURVE handshake", "its CURVE key is not this deployment's"}, [&] {
    auto dir = std::make_shared<StaticDirectory>();
    auto server = std::move(NewZmqTransport(testing::CurveOptions())).value();
    const std::string ep = *server->Serve("vol", Echo(&calls));
    dir->Set("vol", {ep});

    ZmqTransportOptions good = testing::CurveOptions();
    good.directory = dir;
    auto member = std::move(NewZmqTransport(good)).value();
    auto r = member->Call("vol", Req("echo", "1"), milliseconds(2000));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(*r == "echo|1|alice|proj|admin|req-1");

    ZmqTransportOptions plain, foreign = testing::CurveOptions(*other);
    plain.directory = foreign.directory = dir;
    for (const auto& o : {plain, foreign}) {
      CAPTURE(o.curve_public_key.empty());
      auto outsider = std::move(NewZmqTransport(o)).value();
      const auto start = std::chrono::steady_clock::now();
      auto refused = outsider->Call("vol", Req("echo"), milliseconds(400));
      CHECK(refused.status().code() == Code::kUnavailable);
      CHECK(std::chrono::steady_clock::now() - start < milliseconds(1500));
      CHECK(outsider->Cast("vol", Req("echo"), milliseconds(300)).code() == Code::kUnavailable);
      auto fanout = outsider->Fanout("vol", Req("echo"), milliseconds(300));
      CHECK((fanout.ok() && *fanout == 0));
    }
    // One that knows the server's public key but holds a key pair of its own.
    CHECK_FALSE(OwnKeyClientAnswered(ep, key.public_key));
    // The member is still served.
    CHECK(member->Call("vol", Req("echo", "2"), milliseconds(2000)).ok());
    member->Stop();
    server->Stop();
  });
  CHECK(calls == 2);
  // The client without CURVE: the server notices the mismatch, or the client does and leaves
  // (then its address is read when the connection is reported, or it is gone and unknown).
  CHECK(
      (AnyHas(lines, "WARNING rpc [-] refused an RPC connection from 127.0.0.1: it does not use CURVE") ||
       AnyHas(lines, "WARNING rpc [-] refused an RPC connection from 127.0.0.1: it left during the CURVE handshake") ||
       AnyHas(lines, "WARNING rpc [-] refused an RPC connection from an unknown peer")));
  CHECK(
      (AnyHas(lines, "refused an RPC connection from 127.0.0.1: it failed the CURVE handshake") ||
       AnyHas(lines, "refused an RPC connection from an unknown peer (gone before its address was read): it failed")));
  // The ZAP handler is told the address of every peer it judges.
  CHECK(AnyHas(lines, "refused an RPC connection from 127.0.0.1: its CURVE key is not this deployment's"));
  // Once a minute per peer and reason (the clients retry every 100 ms), never a key.
  for (const char* reason : {"127.0.0.1: it does not use CURVE", "127.0.0.1: it left during",
                             "127.0.0.1: it failed the CURVE handshake", "127.0.0.1: its CURVE key is not"}) {
    CAPTURE(reason);
    CHECK(std::count_if(lines.begin(), lines.end(),
                        [&](const std::string& l) { return l.find(reason) != std::string::npos; }) <= 1);
  }
  for (const auto& l : lines) {
    for (const auto& k : {key.public_key, key.secret_key, other->public_key, other->secret_key}) {
      CHECK(l.find(k) == std::string::npos);
    }
  }
}

TEST_CASE("zmq+curve: a client of the deployment does not talk to a server without its key") {
  for (bool plain_server : {true, false}) {
    CAPTURE(plain_server);
    auto other = rpc::NewTransportKey();
    REQUIRE(other.ok());
    std::atomic<int> calls{0};
    auto server =
        std::move(NewZmqTransport(plain_server ? ZmqTransportOptions() : testing::CurveOptions(*other))).value();
    auto dir = std::make_shared<StaticDirectory>();
    dir->Set("vol", {*server->Serve("vol", Echo(&calls))});
    ZmqTransportOptions o = testing::CurveOptions();
    o.directory = dir;
    auto client = std::move(NewZmqTransport(o)).value();
    const auto start = std::chrono::steady_clock::now();
    CHECK(client->Call("vol", Req("echo"), milliseconds(400)).status().code() == Code::kUnavailable);
    CHECK(std::chrono::steady_clock::now() - start < milliseconds(1500));
    CHECK(client->Cast("vol", Req("echo"), milliseconds(300)).code() == Code::kUnavailable);
    CHECK(calls == 0);
  }
}

TEST_CASE("zmq: CURVE keys that are not a key pair are refused when the transport is made") {
  const auto& key = testing::TestTransportKey();
  auto other = rpc::NewTransportKey();
  REQUIRE(other.ok());
  ZmqTransportOptions mixed = testing::CurveOptions();
  mixed.curve_secret_key = other->secret_key;
  CHECK(NewZmqTransport(mixed).status().message() == "the CURVE public key is not the public key of the secret key");
  ZmqTransportOptions half;
  half.curve_public_key = key.public_key;
  CHECK(NewZmqTransport(half).status().code() == Code::kInvalidArgument);
  ZmqTransportOptions bad = testing::CurveOptions();
  bad.curve_secret_key[0] = ' ';  // not Z85
  CHECK(NewZmqTransport(bad).status().code() == Code::kInvalidArgument);
}

TEST_CASE("the transport key file: 0600, never overwritten, read back, refused when open to others or mismatched") {
  // Z85's test vector (ZeroMQ RFC 32).
  const std::string hello("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8);
  CHECK(rpc::Z85Encode(hello) == "HelloWorld");
  CHECK(rpc::Z85Decode("HelloWorld") == hello);
  CHECK_FALSE(rpc::Z85Decode("Hello World"));
  CHECK_FALSE(rpc::Z85Decode("Hell"));
  // The keys agree with libzmq's: the public key libzmq derives from our secret key is ours.
  auto key = rpc::NewTransportKey();
  REQUIRE(key.ok());
  char derived[41];
  REQUIRE(zmq_curve_public(derived, key->secret_key.c_str()) == 0);
  CHECK(key->public_key == derived);

  testing::TempDir dir;
  const std::string path = dir.path() + "/transport.key";
  REQUIRE(rpc::WriteTransportKey(path, *key).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto back = rpc::ReadTransportKey(path);
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(back->public_key == key->public_key);
  CHECK(back->secret_key == key->secret_key);
  CHECK(rpc::WriteTransportKey(path, *key).code() == Code::kAlreadyExists);

  auto missing = rpc::ReadTransportKey(dir.path() + "/none.key");
  CHECK(missing.status().code() == Code::kFailedPrecondition);
  CHECK(missing.status().message() ==
        dir.path() + "/none.key: cannot read the transport key: No such file or directory");

  ::chmod(path.c_str(), 0644);
  auto open = rpc::ReadTransportKey(path);
  CHECK(open.status().message() == path + ": the transport key is open to other users (mode 0644); chmod 600 " + path);
  ::chmod(path.c_str(), 0640);  // the group of the services' user may read it
  CHECK(rpc::ReadTransportKey(path).ok());

  auto other = rpc::NewTransportKey();
  REQUIRE(other.ok());
  const std::string mixed = dir.path() + "/mixed.key";
  REQUIRE(rpc::WriteTransportKey(mixed, {key->public_key, other->secret_key}).ok());
  CHECK(rpc::ReadTransportKey(mixed).status().message() ==
        mixed + ": its public_key is not the public key of its secret_key");
  const std::string junk = dir.path() + "/junk.key";
  REQUIRE(rpc::WriteTransportKey(junk, {"short", other->secret_key}).ok());
  auto bad = rpc::ReadTransportKey(junk);
  CHECK(bad.status().message() == junk + ": public_key is not 40 characters of Z85");
  CHECK(bad.status().message().find(other->secret_key) == std::string::npos);
}

}  // namespace cinder
