// The HTTP front end: Boost.Asio's epoll reactor for the connections, a bounded number of
// threads answering requests. docs/development.md ("The HTTP front end") says why and what it
// measured.
//
// osapi_volume_workers + 1 threads run the event loop (leader/followers: one waits in epoll, the
// others wait to take over). A thread that completes the reading of a request answers it at
// once when fewer than osapi_volume_workers requests are being answered, and queues it
// otherwise; a thread that finishes an answer takes the next queued request. So at most
// osapi_volume_workers handlers run, one thread is always free for the loop (accepting,
// reading, deadlines), and a request needs no hand-over between threads.
//
// A connection's `state_` says who may touch it: kWaiting (a wait for its socket is pending;
// the sweep and Stop() may close it), kBusy (one thread works on it: the handler of its wait,
// or the thread answering its request), kClosed. A completion handler first claims the
// connection (kWaiting -> kBusy) under the connection's mutex, which the sweep and Stop() also
// take, and the thread holding it hands it back by arming the next wait under the same mutex:
// a socket is never used by two threads at once.
#include "api/http_server.h"

#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "api/http_parser.h"
#include "common/log.h"

namespace cinder::api {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// How long a connection may take to read what follows its last answer (the client's EOF), and
// how many refused connections may linger so at once (past that they are closed at once).
constexpr auto kLinger = std::chrono::seconds(2);
constexpr int kMaxRefusedLingering = 256;
// File descriptors kept for everything else (database, volume files, logs, RPC sockets) when
// RLIMIT_NOFILE bounds the connections.
constexpr int kReservedFds = 256;
// Deadlines are checked this often.
constexpr auto kSweepEvery = std::chrono::milliseconds(250);
// A connection reads at most this much at a time.
constexpr size_t kReadChunk = 65536;

// "Mon, 07 Dec 2026 01:25:59 GMT", made once a second per thread.
const std::string& HttpDate() {
  thread_local time_t cached = 0;
  thread_local std::string text;
  const time_t now = time(nullptr);
  if (now != cached) {
    cached = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    text = buf;
  }
  return text;
}

class HttpServer;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kWaiting, kBusy, kClosed };
  // What a waiting connection waits for.
  enum class Wait { kRequest, kWrite, kLinger };

  // A new connection is kBusy, held by the thread that accepted it.
  Connection(HttpServer* server, asio::ip::tcp::socket socket, bool counted);
  ~Connection();

  // Waits for the first request.
  void Start();
  // A connection past osapi_max_connections: answers 503 and closes.
  void Refuse(const std::string& message);
  // Answers the request the parser holds, and the next ones already read (kBusy).
  void Serve();
  // The sweep and Stop(): closes the connection when it waits and `pred(wait, deadline)` holds.
  template <typename Pred>
  void CloseIf(Pred pred);
  // Stop(): ends the connection whatever it does (a busy one is shut down, not closed).
  void Abort();

 private:
  enum class Written { kAll, kPending, kFailed };

  // kWaiting -> kBusy, in a completion handler; false when the connection was closed.
  bool Claim();
  // kBusy -> kWaiting, with a wait for `what` and its deadline.
  void Arm(Wait what);
  void OnReadable(const error_code& ec);
  void OnWritable(const error_code& ec);
  // Reads what the socket holds into in_; false when the peer is gone.
  bool ReadSome();
  // Parses in_ (dropping what the parser took).
  RequestParser::State Parse();
  // Answers a complete request (now or when a slot frees), or NotDone.
  void Advance();
  // An error to answer, or more to wait for.
  void NotDone(RequestParser::State state);
  void AnswerError(int status, const std::string& message);
  // Makes the response's head (with Content-Length) and takes its body.
  void Prepare(ApiResponse& resp);
  // Sends head_ and body_; on a full socket the rest waits for it to drain (kWrite).
  Written Send();
  // After a response went out in full: true when the connection waits for the next request.
  bool Finished();
  void LingeringClose();
  void Close();
  Clock::time_point ReadDeadline(Clock::time_point now) const;

  HttpServer* server_;
  asio::ip::tcp::socket socket_;
  const bool counted_;  // against osapi_max_connections (refused connections are not)
  std::list<Connection*>::iterator registered_;

  std::mutex mu_;               // guards state_, wait_, deadline_; see the top of this file
  State state_ = State::kBusy;  // who may touch the connection
  Wait wait_ = Wait::kRequest;
  Clock::time_point deadline_ = Clock::time_point::max();

  // The busy thread's.
  Clock::time_point request_started_;  // the first byte of the current request
  Clock::time_point idle_since_;       // the end of the last response
  Clock::time_point linger_until_;
  RequestParser parser_;
  std::string in_;  // read, not parsed yet: a partial line, or pipelined requests
  bool continue_sent_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;  // HEAD: the body is measured, not sent
  std::string head_, body_;
  size_t sent_ = 0;  // of head_ then body_
};

// The reason phrases a server answers with by default.
std::string DefaultReason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

class HttpServer : public HttpListener {
 public:
  HttpServer(const Options& options, HttpHooks hooks)
      : options_(options), hooks_(std::move(hooks)), io_(options.osapi_volume_workers + 1) {
    if (!hooks_.parse_target) {
      hooks_.parse_target = [](const std::string& target, ApiRequest* req) {
        req->path = target.substr(0, target.find('?'));
      };
    }
    if (!hooks_.reason) hooks_.reason = DefaultReason;
    limits_.max_header_line = static_cast<size_t>(options_.max_header_line);
    limits_.max_header_bytes = std::max<size_t>(65536, 4 * limits_.max_header_line);
    limits_.max_body = options_.osapi_max_request_body_size;
    if (options_.client_socket_timeout > 0) io_timeout_ = std::chrono::seconds(options_.client_socket_timeout);
    if (options_.osapi_request_read_timeout > 0) {
      request_timeout_ = std::chrono::seconds(options_.osapi_request_read_timeout);
    }
  }
  ~HttpServer() override { Stop(); }

  Status Listen() {
    const std::string where = options_.osapi_volume_listen + ":" + std::to_string(options_.osapi_volume_listen_port);
    error_code ec;
    asio::ip::tcp::endpoint endpoint;
    const auto port = static_cast<unsigned short>(options_.osapi_volume_listen_port);
    if (const auto address = asio::ip::make_address(options_.osapi_volume_listen, ec); !ec) {
      endpoint = asio::ip::tcp::endpoint(address, port);
    } else {  // a host name: its first address
      asio::ip::tcp::resolver resolver(io_);
      const auto found = resolver.resolve(options_.osapi_volume_listen, std::to_string(port), ec);
      if (ec || found.empty()) {
        return InvalidArgument("cannot listen on " + where + ": osapi_volume_listen: cannot resolve '" +
                               options_.osapi_volume_listen + "'" + (ec ? ": " + ec.message() : ""));
      }
      endpoint = found.begin()->endpoint();
    }
    acceptor_.open(endpoint.protocol(), ec);
    // SO_REUSEADDR only (a restart may bind while old connections sit in TIME_WAIT), never
    // SO_REUSEPORT: a second service on a port in use must fail here.
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(1024, ec);
    if (ec) {
      error_code ignored;
      acceptor_.close(ignored);
      std::string why = ec.message();
      if (ec == asio::error::address_in_use)
        why += " (another service listens on port " + std::to_string(options_.osapi_volume_listen_port) + ")";
      return Unavailable("cannot listen on " + where + ": " + why);
    }
    port_ = acceptor_.local_endpoint().port();
    // Each connection holds a descriptor: keep the cap within RLIMIT_NOFILE (which the daemons
    // raise to its hard limit at start).
    max_connections_ = options_.osapi_max_connections;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        static_cast<rlim_t>(max_connections_) + kReservedFds > rl.rlim_cur) {
      const int fit = std::max<int>(16, static_cast<int>(rl.rlim_cur) - kReservedFds);
      CINDER_LOG(kWarning, "cinder-api") << "osapi_max_connections " << max_connections_ << " lowered to " << fit
                                         << ": the process may open " << rl.rlim_cur << " files (RLIMIT_NOFILE)";
      max_connections_ = fit;
    }
    return Status::OK();
  }

  Status Serve(Handler handler) override {
    if (handler_) return FailedPrecondition("the server is already serving");
    handler_ = std::move(handler);
    return Run();
  }

  Status Run() {
    work_.emplace(io_.get_executor());
    asio::post(control_, [this] {
      Accept();
      Sweep();
    });
    for (int i = 0; i <= options_.osapi_volume_workers; ++i) threads_.emplace_back([this] { io_.run(); });
    return Status::OK();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (!handler_ || stopped_.exchange(true)) return;
    stopping_ = true;  // each answer from now on closes its connection
    // Stop accepting; close what waits for a request (idle, being read, lingering).
    asio::post(control_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
      ForEach([](Connection& c) {
        c.CloseIf([](Connection::Wait w, Clock::time_point) { return w != Connection::Wait::kWrite; });
      });
    });
    // Requests in progress get up to 5 s.
    for (int i = 0; i < 500 && open_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    asio::post(control_, [this] {
      sweeping_ = false;
      sweep_.cancel();
      ForEach([](Connection& c) { c.Abort(); });
    });
    // The threads end once the handlers running finish (their connections, shut down, close).
    work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // For the connections.
  const HttpLimits& limits() const { return limits_; }
  const Options& options() const { return options_; }
  ApiResponse Answer(ApiRequest& req) { return handler_(req); }
  const HttpHooks& hooks() const { return hooks_; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  std::optional<Clock::duration> io_timeout() const { return io_timeout_; }
  std::optional<Clock::duration> request_timeout() const { return request_timeout_; }

  std::list<Connection*>::iterator Register(Connection* c, bool counted) {
    std::lock_guard<std::mutex> l(registry_mu_);
    if (!counted) ++refused_lingering_;
    return connections_.insert(connections_.end(), c);
  }
  void Unregister(std::list<Connection*>::iterator it, bool counted) {
    std::lock_guard<std::mutex> l(registry_mu_);
    connections_.erase(it);
    if (counted) {
      open_.fetch_sub(1);
    } else {
      --refused_lingering_;
    }
  }

  // Answers a connection's complete request on this thread, or queues it while
  // osapi_volume_workers requests are being answered; then the queued ones, until none is left.
  void Run(std::shared_ptr<Connection> c) {
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      if (running_ >= options_.osapi_volume_workers) {
        queue_.push_back(std::move(c));
        return;
      }
      ++running_;
    }
    while (true) {
      c->Serve();
      c.reset();
      std::lock_guard<std::mutex> l(queue_mu_);
      if (queue_.empty()) {
        --running_;
        return;
      }
      c = std::move(queue_.front());
      queue_.pop_front();
    }
  }

 private:
  // On control_, as are the sweep and Stop()'s steps.
  void Accept() {
    acceptor_.async_accept(asio::bind_executor(control_, [this](const error_code& ec, asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE, ENFILE) or memory: try again shortly rather than spin.
        const auto now = Clock::now();
        if (now - last_accept_warning_ > std::chrono::seconds(60)) {
          last_accept_warning_ = now;
          CINDER_LOG(kWarning, "cinder-api") << "accepting a connection failed: " << ec.message();
        }
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        accept_retry_.async_wait(asio::bind_executor(control_, [this](const error_code& e) {
          if (!e && acceptor_.is_open()) Accept();
        }));
        return;
      }
      OnAccepted(std::move(socket));
      Accept();
    }));
  }

  void OnAccepted(asio::ip::tcp::socket socket) {
    error_code ec;
    socket.non_blocking(true, ec);
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    if (open_.load() < max_connections_) {
      open_.fetch_add(1);
      std::make_shared<Connection>(this, std::move(socket), /*counted=*/true)->Start();
      return;
    }
    const auto now = Clock::now();
    if (now - last_cap_warning_ > std::chrono::seconds(60)) {
      last_cap_warning_ = now;
      CINDER_LOG(kWarning, "cinder-api") << max_connections_
                                         << " connections are open (osapi_max_connections): refusing new ones";
    }
    int lingering;
    {
      std::lock_guard<std::mutex> l(registry_mu_);
      lingering = refused_lingering_;
    }
    if (lingering >= kMaxRefusedLingering) return;  // the socket closes as it goes out of scope
    std::make_shared<Connection>(this, std::move(socket), /*counted=*/false)
        ->Refuse("The server has too many open connections (osapi_max_connections = " +
                 std::to_string(max_connections_) + "). Try again later.");
  }

  // Closes the connections whose deadline passed; every kSweepEvery.
  void Sweep() {
    const auto now = Clock::now();
    ForEach([now](Connection& c) { c.CloseIf([now](Connection::Wait, Clock::time_point d) { return now >= d; }); });
    sweep_.expires_after(kSweepEvery);
    sweep_.async_wait(asio::bind_executor(control_, [this](const error_code& ec) {
      if (!ec && sweeping_) Sweep();
    }));
  }

  // Calls fn on every live connection. The references are dropped outside the registry's lock,
  // since the last one unregisters its connection.
  template <typename Fn>
  void ForEach(Fn fn) {
    std::vector<std::shared_ptr<Connection>> live;
    {
      std::lock_guard<std::mutex> l(registry_mu_);
      live.reserve(connections_.size());
      for (Connection* c : connections_) {
        if (auto sp = c->weak_from_this().lock()) live.push_back(std::move(sp));
      }
    }
    for (auto& c : live) fn(*c);
  }

  Options options_;
  HttpHooks hooks_;
  HttpLimits limits_;
  std::optional<Clock::duration> io_timeout_, request_timeout_;
  int max_connections_ = 0;
  int port_ = 0;

  // Declared before the loop, whose handlers hold connections: they outlive it.
  std::mutex registry_mu_;
  std::list<Connection*> connections_;  // guarded by registry_mu_
  int refused_lingering_ = 0;           // guarded by registry_mu_
  std::atomic<int> open_{0};
  std::atomic<bool> stopping_{false}, stopped_{false};

  Handler handler_;
  std::mutex queue_mu_;
  std::deque<std::shared_ptr<Connection>> queue_;  // guarded by queue_mu_
  int running_ = 0;                                // requests being answered; guarded by queue_mu_

  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> control_{io_.get_executor()};
  asio::ip::tcp::acceptor acceptor_{io_};
  asio::steady_timer sweep_{io_};
  asio::steady_timer accept_retry_{io_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;  // until Stop()
  // control_'s:
  bool sweeping_ = true;
  Clock::time_point last_accept_warning_, last_cap_warning_;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------

Connection::Connection(HttpServer* server, asio::ip::tcp::socket socket, bool counted)
    : server_(server), socket_(std::move(socket)), counted_(counted), parser_(server->limits()) {
  registered_ = server_->Register(this, counted_);
}

Connection::~Connection() { server_->Unregister(registered_, counted_); }

void Connection::Start() {
  idle_since_ = Clock::now();
  Arm(Wait::kRequest);
}

void Connection::Refuse(const std::string& message) {
  keep_alive_ = false;
  ApiResponse resp = Fault(503, message);
  Prepare(resp);
  if (Send() == Written::kAll) Finished();
}

bool Connection::Claim() {
  std::lock_guard<std::mutex> l(mu_);
  if (state_ != State::kWaiting) return false;
  state_ = State::kBusy;
  return true;
}

Clock::time_point Connection::ReadDeadline(Clock::time_point now) const {
  Clock::time_point deadline = Clock::time_point::max();
  const auto io = server_->io_timeout();
  if (!parser_.started()) {
    if (io) deadline = idle_since_ + *io;  // an idle keep-alive connection
    return deadline;
  }
  if (io) deadline = now + *io;  // silent for this long (eventlet's client_socket_timeout)
  if (const auto whole = server_->request_timeout()) deadline = std::min(deadline, request_started_ + *whole);
  return deadline;
}

void Connection::Arm(Wait what) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> l(mu_);
  if (state_ == State::kClosed) return;
  state_ = State::kWaiting;
  wait_ = what;
  switch (what) {
    case Wait::kRequest: deadline_ = ReadDeadline(now); break;
    case Wait::kWrite: {
      const auto io = server_->io_timeout();  // a client that stops reading
      deadline_ = io ? now + *io : Clock::time_point::max();
      break;
    }
    case Wait::kLinger: deadline_ = linger_until_; break;
  }
  if (what == Wait::kWrite) {
    socket_.async_wait(asio::socket_base::wait_write,
                       [self = shared_from_this()](const error_code& ec) { self->OnWritable(ec); });
  } else {
    socket_.async_wait(asio::socket_base::wait_read,
                       [self = shared_from_this()](const error_code& ec) { self->OnReadable(ec); });
  }
}

bool Connection::ReadSome() {
  // Into the thread's buffer, then only what came into the connection's: a connection that
  // waits for a worker holds its request's bytes, not a read-sized buffer.
  thread_local std::unique_ptr<char[]> buffer(new char[kReadChunk]);
  ssize_t n;
  do {
    n = ::recv(socket_.native_handle(), buffer.get(), kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    in_.append(buffer.get(), static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Connection::OnReadable(const error_code& ec) {
  if (ec || !Claim()) return;  // closed meanwhile
  if (!ReadSome()) return Close();
  if (wait_ == Wait::kLinger) {  // after the last answer: read and drop until EOF
    in_.clear();
    return Arm(Wait::kLinger);
  }
  if (!parser_.started() && !in_.empty()) request_started_ = Clock::now();
  Advance();
}

RequestParser::State Connection::Parse() {
  size_t used = 0;
  const auto st = parser_.Parse(in_.data(), in_.size(), &used);
  in_.erase(0, used);
  return st;
}

void Connection::Advance() {
  const auto st = Parse();
  if (st != RequestParser::State::kDone) return NotDone(st);
  server_->Run(shared_from_this());
}

void Connection::NotDone(RequestParser::State st) {
  if (st == RequestParser::State::kError) return AnswerError(parser_.error_status(), parser_.error_message());
  if (parser_.head_complete() && parser_.request().expect_continue && !continue_sent_) {
    continue_sent_ = true;  // the client waits for this before it sends the body
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (::send(socket_.native_handle(), kContinue, sizeof kContinue - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
      return Close();
    }
  }
  if (in_.empty()) in_.shrink_to_fit();  // an idle connection holds no buffer
  Arm(Wait::kRequest);
}

void Connection::AnswerError(int status, const std::string& message) {
  keep_alive_ = false;
  head_only_ = false;
  ApiResponse resp = Fault(status, message);
  Prepare(resp);
  if (Send() == Written::kAll) Finished();
}

void Connection::Serve() {
  while (true) {
    HttpRequest& in = parser_.request();
    ApiRequest req;
    ApiResponse resp;
    bool malformed = false;
    keep_alive_ = in.keep_alive && server_->options().wsgi_keep_alive && !server_->stopping();
    head_only_ = in.method == "HEAD";
    req.method = std::move(in.method);
    try {
      server_->hooks().parse_target(in.target, &req);
      req.headers = std::move(in.headers);
      if (auto host = req.headers.find("host"); host != req.headers.end() && !host->second.empty()) {
        req.host_url = "http://" + host->second;
      } else {  // HTTP/1.0 without Host: the address the client reached
        error_code ec;
        const auto local = socket_.local_endpoint(ec);
        const std::string addr =
            local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
        req.host_url = "http://" + addr + ":" + std::to_string(local.port());
      }
      req.body = std::move(in.body);
    } catch (const std::exception& e) {
      resp = Fault(400, std::string("Malformed request: ") + e.what());
      keep_alive_ = false;
      malformed = true;
    }
    if (!malformed) resp = server_->Answer(req);
    Prepare(resp);
    if (Send() != Written::kAll || !Finished()) return;
    // The next request, when the client sent it already (pipelining).
    const auto st = Parse();
    if (st != RequestParser::State::kDone) return NotDone(st);
  }
}

void Connection::Prepare(ApiResponse& resp) {
  body_ = std::move(resp.body);
  head_.clear();
  head_ += "HTTP/1.1 ";
  head_ += std::to_string(resp.status);
  head_ += ' ';
  head_ += server_->hooks().reason(resp.status);
  head_ += "\r\nDate: ";
  head_ += HttpDate();
  head_ += "\r\n";
  if (!keep_alive_) {
    head_ += "Connection: close\r\n";
  } else if (parser_.request().minor == 0) {
    head_ += "Connection: keep-alive\r\n";
  }
  bool typed = false;  // a handler that serves something other than JSON names its own type
  for (const auto& [k, v] : resp.headers) {
    head_ += k;
    head_ += ": ";
    head_ += v;
    head_ += "\r\n";
    typed = typed || (k.size() == 12 && strncasecmp(k.c_str(), "content-type", 12) == 0);
  }
  if (!body_.empty() && !typed) head_ += "Content-Type: application/json\r\n";
  // A 304 names no length: a Content-Length there would be the unsent representation's (RFC 9110 8.6).
  if (resp.status != 304) {
    head_ += "Content-Length: ";
    head_ += std::to_string(body_.size());
    head_ += "\r\n";
  }
  head_ += "\r\n";
  sent_ = 0;
}

Connection::Written Connection::Send() {
  const size_t body_len = head_only_ ? 0 : body_.size();
  const size_t total = head_.size() + body_len;
  // Head and body in one call: the kernel takes even a long list in as few writes as it can.
  while (sent_ < total) {
    iovec iov[2];
    size_t n = 0;
    if (sent_ < head_.size()) {
      iov[n++] = {head_.data() + sent_, head_.size() - sent_};
      if (body_len > 0) iov[n++] = {body_.data(), body_len};
    } else {
      iov[n++] = {body_.data() + (sent_ - head_.size()), total - sent_};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    const ssize_t w = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
    if (w > 0) {
      sent_ += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Arm(Wait::kWrite);  // the client reads slowly: the rest goes as the socket drains
      return Written::kPending;
    }
    // The client went away or stopped reading: the connection is of no further use.
    KeepSpareBuffer(std::move(body_));
    Close();
    return Written::kFailed;
  }
  return Written::kAll;
}

void Connection::OnWritable(const error_code& ec) {
  if (ec || !Claim()) return;  // closed meanwhile
  if (Send() == Written::kAll && Finished()) Advance();
}

bool Connection::Finished() {
  KeepSpareBuffer(std::move(body_));  // the body's storage serves the next large body
  body_ = std::string();
  if (!keep_alive_ || server_->stopping()) {
    LingeringClose();
    return false;
  }
  parser_.Reset();
  continue_sent_ = false;
  idle_since_ = Clock::now();
  if (!in_.empty()) request_started_ = idle_since_;  // pipelined
  return true;
}

void Connection::LingeringClose() {
  // The answer is out; say so (FIN), then read and drop what the client still sends until it
  // closes or kLinger passes: closing with unread input would reset the connection, and the
  // client could lose the answer (a 413 while it still sends its body).
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  if (ec) return Close();
  in_.clear();
  linger_until_ = Clock::now() + kLinger;
  Arm(Wait::kLinger);
}

void Connection::Close() {
  std::lock_guard<std::mutex> l(mu_);
  state_ = State::kClosed;
  error_code ec;
  socket_.close(ec);  // a pending wait ends with operation_aborted, dropping its reference
}

template <typename Pred>
void Connection::CloseIf(Pred pred) {
  std::lock_guard<std::mutex> l(mu_);
  if (state_ != State::kWaiting || !pred(wait_, deadline_)) return;
  state_ = State::kClosed;
  error_code ec;
  socket_.close(ec);
}

void Connection::Abort() {
  std::lock_guard<std::mutex> l(mu_);
  error_code ec;
  if (state_ == State::kWaiting) {
    state_ = State::kClosed;
    socket_.close(ec);
  } else if (state_ == State::kBusy) {
    // A thread works on it: make its next read or write fail rather than close the socket
    // under it.
    socket_.shutdown(asio::socket_base::shutdown_both, ec);
  }
}

}  // namespace

Result<std::unique_ptr<HttpListener>> HttpListener::Listen(const Options& options, HttpHooks hooks) {
  // A client that hangs up mid-response must not end the process: writes use MSG_NOSIGNAL, and
  // nothing else of the server's writes to sockets; keep SIGPIPE ignored for the libraries
  // too (only when the program has not chosen its own SIGPIPE handling).
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  auto server = std::make_unique<HttpServer>(options, std::move(hooks));
  CINDER_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpListener>(std::move(server));
}

}  // namespace cinder::api
