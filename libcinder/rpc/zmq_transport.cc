// The ZeroMQ transport: one ROUTER socket per served topic, a short-lived DEALER per request.
// Every request is acknowledged on arrival, so a caller can tell "nobody took it" (try the next
// server, or fail fast) from "it is running" (wait for the reply until the deadline).
//
// With CURVE keys every connection is encrypted and authenticated with the deployment's key
// pair: the ROUTER is a CURVE server, and a ZAP handler (RFC 27, on inproc://zeromq.zap.01 in
// the transport's own context) admits only clients presenting the deployment's public key;
// each DEALER is a CURVE client with that key pair and knows the server by the same public key.
// A peer refused at the handshake never reaches the ROUTER; it is logged by address (never by
// key), at most once a minute per address and reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "cinder/transport.h"
#include "common/log.h"
#include "common/util.h"
#include "common/worker_pool.h"
#include "rpc/wire.h"

namespace cinder {

namespace {

using Clock = std::chrono::steady_clock;
using Frames = std::vector<std::string>;

bool RecvFrames(zmq::socket_t& s, Frames* out) {
  out->clear();
  while (true) {
    zmq::message_t m;
    if (!s.recv(m, zmq::recv_flags::dontwait)) return !out->empty();
    out->emplace_back(m.to_string());
    if (!m.more()) return true;
  }
}

void SendFrames(zmq::socket_t& s, const Frames& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    s.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

// The CURVE keys of a transport, decoded (32 bytes each); `on` false: plain TCP.
struct Curve {
  bool on = false;
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 32> secret_key{};
};

// Logs refused peers, one line per peer address and reason per minute, with the number of
// refusals the previous minute kept quiet: a peer that retries every 100 ms (ZeroMQ's
// reconnect interval) cannot flood the log.
class RefusalLog {
 public:
  void Refused(const std::string& address, const std::string& reason) {
    std::lock_guard<std::mutex> l(mu_);
    const auto now = Clock::now();
    const std::string key = address + "|" + reason;
    if (seen_.size() >= 1024 && !seen_.count(key)) seen_.clear();  // bounded
    auto& entry = seen_[key];
    if (entry.logged != Clock::time_point() && now - entry.logged < std::chrono::minutes(1)) {
      ++entry.quiet;
      return;
    }
    std::string more;
    if (entry.quiet > 0) more = " (" + std::to_string(entry.quiet) + " more such refusals from it not logged)";
    entry = Entry{now, 0};
    CINDER_LOG(kWarning, "rpc") << "refused an RPC connection from "
                                << (address.empty() ? "an unknown peer (gone before its address was read)" : address)
                                << ": " << reason << more;
  }

 private:
  struct Entry {
    Clock::time_point logged;
    int quiet = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> seen_;  // guarded by mu_
};

// The address of the peer on socket `fd` ("10.0.0.5"; "" when it cannot be told).
std::string PeerAddress(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&sa)->sin_addr, text, sizeof text);
  } else if (sa.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&sa)->sin6_addr, text, sizeof text);
  }
  return text;
}

// Why a handshake failed, from a monitor event, in an operator's words.
std::string HandshakeFailure(uint16_t event, uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    switch (value) {
      case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
        return "it does not use CURVE (not a service of this deployment, or one with transport_security = none)";
      case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
        return "it failed the CURVE handshake (it does not hold this deployment's key)";
      default: {
        char code[16];
        std::snprintf(code, sizeof code, "0x%08x", value);
        return std::string("ZeroMQ protocol error ") + code + " during the handshake";
      }
    }
  }
  // The peer closed first: a client without CURVE that saw the server's greeting (which of the
  // two notices the mismatch first is a race), or one expecting another server key.
  return "it left during the CURVE handshake (it does not use CURVE, or expects another server key)";
}

// The served topics of one transport share one ROUTER socket (one port per process), which
// lives on its own thread; each request names its topic. Workers hand replies back through a
// queue and an eventfd, since a ZeroMQ socket belongs to one thread.
class Server {
 public:
  Server(zmq::context_t& ctx, WorkerPool& pool, const Curve& curve) : ctx_(ctx), pool_(pool), curve_(curve) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~Server() {
    Stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // Binds and starts the thread; returns the bound endpoint (tcp://HOST:PORT).
  Result<std::string> Start(const std::string& address, int port) {
    if (wake_fd_ < 0) return Internal("eventfd failed");
    std::promise<Result<std::string>> bound;
    auto ready = bound.get_future();
    thread_ = std::thread([this, address, port, &bound] { Loop(address, port, &bound); });
    return ready.get();
  }

  Status Add(const std::string& topic, RpcHandler handler) {
    std::lock_guard<std::mutex> l(mu_);
    if (!handlers_.emplace(topic, std::make_shared<RpcHandler>(std::move(handler))).second) {
      return AlreadyExists("topic " + topic + " is already served here");
    }
    return Status::OK();
  }

  // Takes no new request (they get no acknowledgement, so callers try elsewhere); replies to
  // the accepted ones still go out.
  void Quiesce() { quiescing_ = true; }

  // Sends the replies still queued, then closes the socket.
  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    Wake();
    thread_.join();
  }

 private:
  void Wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;
  }

  void Flush(zmq::socket_t& router) {
    uint64_t n;
    while (::read(wake_fd_, &n, sizeof n) > 0) {
    }
    std::deque<Frames> replies;
    {
      std::lock_guard<std::mutex> l(mu_);
      replies.swap(replies_);
    }
    for (const auto& r : replies) {
      try {
        SendFrames(router, r);
      } catch (const zmq::error_t&) {  // the caller is gone
      }
    }
  }

  void Loop(const std::string& address, int port, std::promise<Result<std::string>>* bound) {
    zmq::socket_t zap;    // CURVE only: the ZAP handler...
    std::thread watcher;  // ...and a thread that reads the ROUTER's connection events
    zmq::socket_t router(ctx_, zmq::socket_type::router);
    auto stop_watching = [&] {
      if (!watcher.joinable()) return;
      zmq_socket_monitor(router.handle(), nullptr, 0);  // sends MONITOR_STOPPED: Watch returns
      watcher.join();
    };
    try {
      router.set(zmq::sockopt::linger, 0);
      if (curve_.on) {
        // The ZAP handler is bound before the ROUTER takes connections: without one, libzmq's
        // CURVE server admits any client key.
        zap = zmq::socket_t(ctx_, zmq::socket_type::rep);
        zap.set(zmq::sockopt::linger, 0);
        zap.bind("inproc://zeromq.zap.01");
        router.set(zmq::sockopt::curve_server, true);
        router.set(zmq::sockopt::curve_secretkey, zmq::buffer(curve_.secret_key));
        router.set(zmq::sockopt::zap_domain, "cinder");
        const int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_MONITOR_STOPPED;
        if (zmq_socket_monitor(router.handle(), "inproc://cinder-rpc-monitor", events) != 0) throw zmq::error_t();
        zmq::socket_t monitor(ctx_, zmq::socket_type::pair);
        monitor.set(zmq::sockopt::linger, 0);
        monitor.connect("inproc://cinder-rpc-monitor");
        watcher = std::thread([this, m = std::move(monitor)]() mutable { Watch(m); });
      }
      router.bind("tcp://" + address + ":" + (port ? std::to_string(port) : std::string("*")));
      bound->set_value(router.get(zmq::sockopt::last_endpoint));
    } catch (const zmq::error_t& e) {
      stop_watching();
      bound->set_value(
          Unavailable("cannot bind RPC socket on " + address + ":" + std::to_string(port) + ": " + e.what()));
      return;
    }
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, wake_fd_, ZMQ_POLLIN, 0},
                               {zap ? zap.handle() : nullptr, -1, ZMQ_POLLIN, 0}};
    const int n_items = zap ? 3 : 2;
    Frames frames;
    while (!stopping_) {
      try {
        zmq::poll(items, n_items, std::chrono::milliseconds(-1));
        if (n_items > 2 && (items[2].revents & ZMQ_POLLIN)) Authenticate(zap);
        if (items[1].revents & ZMQ_POLLIN) Flush(router);
        if (items[0].revents & ZMQ_POLLIN) {
          while (RecvFrames(router, &frames)) {
            if (!quiescing_) Accept(router, frames);
          }
        }
      } catch (const zmq::error_t&) {
        continue;  // EINTR, or a peer that vanished mid-send
      }
    }
    Flush(router);
    stop_watching();
  }

  // A ZAP request (RFC 27) from the ROUTER's CURVE handshake: admits the client only if it
  // presents the deployment's public key.
  void Authenticate(zmq::socket_t& zap) {
    Frames f;
    while (RecvFrames(zap, &f)) {
      // version, request id, domain, address, identity, mechanism, credentials...
      if (f.size() < 6) {
        SendFrames(zap, {"1.0", f.size() > 1 ? f[1] : "", "500", "malformed ZAP request", "", ""});
        continue;
      }
      const bool admitted = f[0] == "1.0" && f[5] == "CURVE" && f.size() == 7 && f[6].size() == 32 &&
                            std::memcmp(f[6].data(), curve_.public_key.data(), 32) == 0;
      if (!admitted) refusals_.Refused(f[3], "its CURVE key is not this deployment's (transport_key_file)");
      SendFrames(zap, {"1.0", f[1], admitted ? "200" : "400", admitted ? "OK" : "not of this deployment",
                       admitted ? "cinder" : "", ""});
    }
  }

  // Reads the ROUTER's connection events until the monitor stops. A handshake that fails is
  // followed at once by the disconnection of its socket, whose peer was noted when it was
  // accepted. The peer's address is read as soon as the acceptance is reported (hence a thread
  // of its own, which does nothing else); a peer that has already gone by then (a client
  // without CURVE sees the mismatch in the server's greeting and leaves) is "an unknown peer".
  void Watch(zmq::socket_t& monitor) {
    std::map<int, std::string> peers;  // of the accepted connections, by socket
    std::string failure;               // the reason of the handshake failure just reported
    while (true) {
      Frames f;
      zmq::message_t m;
      try {
        do {
          if (!monitor.recv(m)) break;
          f.emplace_back(m.to_string());
        } while (m.more());
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        return;  // the context is closing
      }
      if (f.empty() || f[0].size() < 6) continue;
      uint16_t event;
      uint32_t value;
      std::memcpy(&event, f[0].data(), 2);
      std::memcpy(&value, f[0].data() + 2, 4);
      switch (event) {
        case ZMQ_EVENT_MONITOR_STOPPED: return;
        case ZMQ_EVENT_ACCEPTED: peers[static_cast<int>(value)] = PeerAddress(static_cast<int>(value)); break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:  // refused by Authenticate, which logged it
          failure.clear();
          break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: failure = HandshakeFailure(event, value); break;
        case ZMQ_EVENT_DISCONNECTED: {
          auto it = peers.find(static_cast<int>(value));
          if (!failure.empty()) refusals_.Refused(it == peers.end() ? "" : it->second, failure);
          failure.clear();
          if (it != peers.end()) peers.erase(it);
          break;
        }
        default: break;
      }
    }
  }

  // A request arrived: acknowledge it, then run it on a worker.
  void Accept(zmq::socket_t& router, const Frames& f) {
    // identity, protocol, kind, id, version, topic, method, context, args
    if (f.size() != 9 || f[1] != rpc::kProtocol) return;  // not ours: drop
    std::shared_ptr<RpcHandler> handler;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = handlers_.find(f[5]);
      if (it == handlers_.end()) return;  // not served here (a stale endpoint): no ACK
      handler = it->second;
    }
    const std::string& identity = f[0];
    const bool call = f[2] == "call";
    const std::string id = f[3];
    RpcRequest req;
    req.version = static_cast<int>(ParseInt(f[4]).value_or(0));
    req.method = f[6];
    req.ctx = rpc::DecodeContext(f[7]);
    req.args = f[8];
    // A request of another release is refused before it is accepted: a call gets the error at
    // once; a cast is not acknowledged, so that its sender tries another server or reports that
    // none took it, rather than believe it done.
    if (Status version = rpc::CheckVersion(req); !version.ok()) {
      CINDER_LOG(kWarning, f[5]) << "refused " << req.method << ": " << version;
      if (call) {
        SendFrames(router, {identity, "ACK", id});
        SendFrames(router, {identity, "REPLY", id, CodeName(version.code()), version.message(), ""});
      }
      return;
    }
    SendFrames(router, {identity, "ACK", id});
    pool_.SubmitAny([this, handler, call, identity, id, topic = f[5], req = std::move(req)] {
      Result<std::string> r = Run(*handler, req);
      if (!call) {
        if (!r.ok()) {
          log::ScopedRequestId scoped(req.ctx.request_id);
          CINDER_LOG(kError, topic) << "cast " << req.method << " failed: " << r.status();
        }
        return;
      }
      Frames reply = {identity,
                      "REPLY",
                      id,
                      r.ok() ? "OK" : CodeName(r.status().code()),
                      r.ok() ? "" : r.status().message(),
                      r.ok() ? r.value() : ""};
      {
        std::lock_guard<std::mutex> l(mu_);
        replies_.push_back(std::move(reply));
      }
      Wake();
    });
  }

  static Result<std::string> Run(const RpcHandler& handler, const RpcRequest& req) {
    CINDER_RETURN_IF_ERROR(rpc::CheckVersion(req));
    try {
      return handler(req);
    } catch (const std::exception& e) {
      return Internal(std::string("handler raised: ") + e.what());
    }
  }

  zmq::context_t& ctx_;
  WorkerPool& pool_;
  const Curve curve_;
  RefusalLog refusals_;  // written by the ZAP handler and the watcher
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> quiescing_{false};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<RpcHandler>> handlers_;
  std::deque<Frames> replies_;
  std::thread thread_;
};

class ZmqTransport : public Transport {
 public:
  ZmqTransport(ZmqTransportOptions options, Curve curve) : options_(std::move(options)), curve_(curve) {
    if (options_.advertise_host.empty()) options_.advertise_host = options_.bind_address;
  }
  ~ZmqTransport() override { Stop(); }

  Result<std::string> Serve(const std::string& topic, RpcHandler handler) override {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Unavailable("the transport is stopped");
    if (!server_) {
      // Handler threads only for a transport that serves (cinder-api only calls).
      pool_ = std::make_unique<WorkerPool>(options_.workers);
      auto server = std::make_unique<Server>(ctx_, *pool_, curve_);
      CINDER_ASSIGN_OR_RETURN(std::string bound, server->Start(options_.bind_address, options_.port));
      server_ = std::move(server);
      // Advertise the configured host with the bound port.
      endpoint_ = "tcp://" + options_.advertise_host + ":" + bound.substr(bound.rfind(':') + 1);
    }
    CINDER_RETURN_IF_ERROR(server_->Add(topic, std::move(handler)));
    return endpoint_;
  }

  Status Cast(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) override {
    return Guard([&] { return Send(topic, request, timeout, /*call=*/false); }).status();
  }

  Result<std::string> Call(const std::string& topic, const RpcRequest& request,
                           std::chrono::milliseconds timeout) override {
    return Guard([&] { return Send(topic, request, timeout, /*call=*/true); });
  }

  Result<int> Fanout(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) override {
    try {
      return FanoutUnguarded(topic, request, timeout);
    } catch (const zmq::error_t& e) {
      return Unavailable(std::string("ZeroMQ: ") + e.what());
    }
  }

  Result<int> FanoutUnguarded(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) {
    CINDER_ASSIGN_OR_RETURN(auto endpoints, Resolve(topic));
    const auto deadline = Clock::now() + timeout;
    std::vector<zmq::socket_t> sockets;
    std::vector<std::string> ids;
    for (const auto& ep : endpoints) {
      ids.push_back(NewUuid());
      sockets.push_back(Open(ep, topic, request, ids.back(), /*call=*/false));
    }
    std::vector<bool> acked(sockets.size(), false);
    int count = 0;
    while (count < static_cast<int>(sockets.size()) && Clock::now() < deadline) {
      std::vector<zmq::pollitem_t> items;
      for (auto& s : sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      zmq::poll(items.data(), items.size(), std::max(left, std::chrono::milliseconds(0)));
      for (size_t i = 0; i < sockets.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        Frames f;
        while (RecvFrames(sockets[i], &f)) {
          if (!acked[i] && f.size() == 2 && f[0] == "ACK" && f[1] == ids[i]) {
            acked[i] = true;
            ++count;
          }
        }
      }
    }
    for (size_t i = 0; i < sockets.size(); ++i) {
      if (acked[i]) Release(endpoints[i], std::move(sockets[i]));
    }
    return count;
  }

  void Drain() override {
    WorkerPool* pool;
    {
      std::lock_guard<std::mutex> l(mu_);
      pool = pool_.get();
    }
    if (pool) pool->Drain();
  }

  // ZeroMQ errors (no more sockets, a failed connect) become Unavailable, never exceptions.
  template <typename Fn>
  static Result<std::string> Guard(Fn fn) {
    try {
      return fn();
    } catch (const zmq::error_t& e) {
      return Unavailable(std::string("ZeroMQ: ") + e.what());
    }
  }

  void Stop() override {
    std::unique_ptr<Server> server;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return;
      stopped_ = true;
      server.swap(server_);
    }
    if (server) server->Quiesce();  // no more requests are taken
    if (pool_) pool_->Drain();      // those taken finish...
    if (server) server->Stop();     // ...and their replies go out
    std::lock_guard<std::mutex> l(idle_mu_);
    stopped_idle_ = true;
    idle_.clear();
  }

 private:
  Result<std::vector<std::string>> Resolve(const std::string& topic) {
    if (!options_.directory) return Unavailable("no directory to find topic " + topic + " in");
    CINDER_ASSIGN_OR_RETURN(auto endpoints, options_.directory->Endpoints(topic));
    if (endpoints.empty()) return Unavailable("no server for topic " + topic);
    thread_local std::mt19937 rng{std::random_device{}()};
    std::shuffle(endpoints.begin(), endpoints.end(), rng);
    return endpoints;
  }

  // A DEALER connected to `endpoint` that has sent the request. Connections are kept for
  // reuse (Release): a new TCP connection per request would cost more than the request.
  zmq::socket_t Open(const std::string& endpoint, const std::string& topic, const RpcRequest& request,
                     const std::string& id, bool call) {
    zmq::socket_t s;
    {
      std::lock_guard<std::mutex> l(idle_mu_);
      auto it = idle_.find(endpoint);
      if (it != idle_.end() && !it->second.empty()) {
        s = std::move(it->second.back());
        it->second.pop_back();
      }
    }
    if (!s) {
      s = zmq::socket_t(ctx_, zmq::socket_type::dealer);
      s.set(zmq::sockopt::linger, 0);
      if (curve_.on) {  // the deployment's key pair, and the server known by the same public key
        s.set(zmq::sockopt::curve_serverkey, zmq::buffer(curve_.public_key));
        s.set(zmq::sockopt::curve_publickey, zmq::buffer(curve_.public_key));
        s.set(zmq::sockopt::curve_secretkey, zmq::buffer(curve_.secret_key));
      }
      s.connect(endpoint);
    }
    SendFrames(s, {rpc::kProtocol, call ? "call" : "cast", id, std::to_string(request.version), topic, request.method,
                   rpc::EncodeContext(request.ctx), request.args});
    return s;
  }

  // Keeps a socket whose exchange completed (nothing more can arrive on it) for the next
  // request to the endpoint. A socket that timed out is closed instead: its peer may be gone,
  // and a late answer must not meet another request.
  void Release(const std::string& endpoint, zmq::socket_t s) {
    std::lock_guard<std::mutex> l(idle_mu_);
    if (stopped_idle_) return;
    if (idle_.size() >= 256 && !idle_.count(endpoint)) idle_.clear();  // bounded: old endpoints go
    auto& list = idle_[endpoint];
    if (list.size() < 16) list.push_back(std::move(s));
  }

  // An endpoint that did not answer (its server died or moved): its kept connections go.
  void DropIdle(const std::string& endpoint) {
    std::lock_guard<std::mutex> l(idle_mu_);
    idle_.erase(endpoint);
  }

  // Waits on `s` until `until` for a frame set of `kind` ("ACK" or "REPLY") for `id`.
  static bool Await(zmq::socket_t& s, const std::string& kind, const std::string& id, Clock::time_point until,
                    Frames* out) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, left);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      while (RecvFrames(s, out)) {
        if (out->size() >= 2 && (*out)[0] == kind && (*out)[1] == id) return true;
      }
    }
  }

  Result<std::string> Send(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout,
                           bool call) {
    const auto deadline = Clock::now() + timeout;
    CINDER_ASSIGN_OR_RETURN(auto endpoints, Resolve(topic));
    auto r = SendTo(endpoints, topic, request, deadline, timeout, call);
    if (r.ok() || r.status().code() != Code::kUnavailable) return r;
    // No endpoint took it: the directory's answer may be stale (a restarted server listens on
    // a new port). Look again, and try the endpoints that are new with the time left.
    if (options_.directory && Clock::now() < deadline) {
      options_.directory->Forget(topic);
      auto fresh = Resolve(topic);
      if (fresh.ok()) {
        std::vector<std::string> added;
        for (const auto& ep : *fresh) {
          if (std::find(endpoints.begin(), endpoints.end(), ep) == endpoints.end()) added.push_back(ep);
        }
        if (!added.empty()) r = SendTo(added, topic, request, deadline, timeout, call);
      }
    }
    // Unavailable: no server took it (gone, or too stalled to acknowledge), so it will not run;
    // DeadlineExceeded: a server took it and has not answered yet (it may still run).
    return r;
  }

  Result<std::string> SendTo(const std::vector<std::string>& endpoints, const std::string& topic,
                             const RpcRequest& request, Clock::time_point deadline, std::chrono::milliseconds timeout,
                             bool call) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      // A live server acknowledges at once: while others remain to be tried, one that has not
      // answered within a second is skipped; the last one gets all the time left.
      auto accept_until = deadline;
      if (i + 1 < endpoints.size()) accept_until = std::min(deadline, Clock::now() + std::chrono::seconds(1));
      const std::string id = NewUuid();
      zmq::socket_t s = Open(endpoints[i], topic, request, id, call);
      Frames f;
      if (!Await(s, "ACK", id, accept_until, &f)) {  // not taken: the next server
        DropIdle(endpoints[i]);
        continue;
      }
      if (!call) {
        Release(endpoints[i], std::move(s));
        return std::string();
      }
      if (!Await(s, "REPLY", id, deadline, &f)) {
        DropIdle(endpoints[i]);
        return Status(Code::kDeadlineExceeded, "no reply to " + request.method + " from " + endpoints[i] + " (" +
                                                   topic + ") within " + std::to_string(timeout.count()) + " ms");
      }
      Release(endpoints[i], std::move(s));
      if (f.size() != 5) return Internal("malformed reply from " + endpoints[i]);
      if (f[2] == "OK") return f[4];
      return Status(rpc::CodeFromName(f[2]), f[3]);
    }
    return Status(Code::kUnavailable, "no server of " + topic + " accepted " + request.method + " within " +
                                          std::to_string(timeout.count()) + " ms (tried " +
                                          std::to_string(endpoints.size()) + ")");
  }

  ZmqTransportOptions options_;
  const Curve curve_;
  zmq::context_t ctx_;  // before the servers and pool: destroyed after them
  std::mutex mu_;
  std::unique_ptr<Server> server_;
  std::string endpoint_;
  bool stopped_ = false;
  std::mutex idle_mu_;
  std::map<std::string, std::vector<zmq::socket_t>> idle_;  // endpoint -> connected DEALERs
  bool stopped_idle_ = false;
  std::unique_ptr<WorkerPool> pool_;  // created by the first Serve; never replaced
};

// The options' CURVE keys, decoded and checked.
Result<Curve> DecodeCurve(const ZmqTransportOptions& options) {
  Curve curve;
  if (options.curve_public_key.empty() && options.curve_secret_key.empty()) return curve;
  if (!zmq_has("curve")) {
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    return FailedPrecondition("this libzmq (" + std::to_string(major) + "." + std::to_string(minor) + "." +
                              std::to_string(patch) +
                              ") was built without CURVE (zmq_has(\"curve\") is false): install a libzmq built "
                              "with libsodium, or set transport_security = none on a single trusted host");
  }
  if (options.curve_public_key.size() != 40 || options.curve_secret_key.size() != 40 ||
      !zmq_z85_decode(curve.public_key.data(), options.curve_public_key.c_str()) ||
      !zmq_z85_decode(curve.secret_key.data(), options.curve_secret_key.c_str())) {
    return InvalidArgument("the CURVE keys are not two keys of 40 characters of Z85");
  }
  char derived[41];
  if (zmq_curve_public(derived, options.curve_secret_key.c_str()) != 0 || options.curve_public_key != derived) {
    return InvalidArgument("the CURVE public key is not the public key of the secret key");
  }
  curve.on = true;
  return curve;
}

}  // namespace

Result<std::unique_ptr<Transport>> NewZmqTransport(const ZmqTransportOptions& options) {
  CINDER_ASSIGN_OR_RETURN(Curve curve, DecodeCurve(options));
  try {
    return std::unique_ptr<Transport>(new ZmqTransport(options, curve));
  } catch (const std::exception& e) {
    return Unavailable(std::string("cannot start ZeroMQ: ") + e.what());
  }
}

}  // namespace cinder
