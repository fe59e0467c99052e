// bench_frontend_layers: the two candidate connection layers of the API's HTTP front end, side by
// side, doing the same minimal work: one event-loop thread reads and parses requests
// (api/http_parser.h) and hands each complete one to a pool of worker threads, which answer a
// fixed 383-byte JSON body (the size of GET /) and give the connection back to the loop.
//
//   bench_frontend_layers asio|poco PORT [WORKERS]
//
// Prints "listening" once ready; runs until killed. bench/frontend_layers.py drives both with wrk and
// reads their CPU time from /proc.
#include <Poco/NObserver.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAcceptor.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http_parser.h"

namespace {

using cinder::api::HttpLimits;
using cinder::api::RequestParser;

const std::string kBody(383, 'x');

std::string Response(const cinder::api::HttpRequest& req) {
  std::string out = "HTTP/1.1 300 Multiple Choices\r\nContent-Type: application/json\r\nContent-Length: ";
  out += std::to_string(kBody.size());
  out += "\r\n\r\n";
  if (req.method != "HEAD") out += kBody;
  return out;
}

// Writes all of `data` to a non-blocking socket (waiting with poll when the buffer is full).
bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  void Push(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return !q_.empty(); });
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  std::vector<std::thread> threads_;
};

// ---- Boost.Asio: one io_context run by one thread; async_wait(read) for readiness, the worker
// re-arms it itself (the reactor's registration is thread-safe; no hop back to the loop).
namespace asio = boost::asio;

struct AsioConn : std::enable_shared_from_this<AsioConn> {
  AsioConn(asio::ip::tcp::socket s, Pool* pool) : sock(std::move(s)), pool(pool), parser(HttpLimits()) {}
  void Wait() {
    sock.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->OnReadable();
    });
  }
  void OnReadable() {
    char buf[65536];
    ssize_t n = ::recv(sock.native_handle(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return Wait();
    if (n <= 0) return;  // closed: the last reference goes
    in.append(buf, static_cast<size_t>(n));
    Next(/*on_loop=*/true);
  }
  void Next(bool on_loop) {
    size_t used = 0;
    auto st = parser.Parse(in.data(), in.size(), &used);
    in.erase(0, used);
    if (st == RequestParser::State::kError) return;
    if (st == RequestParser::State::kNeedMore) return Wait();
    if (on_loop) {
      pool->Push([self = shared_from_this()] { self->Serve(); });
    } else {
      Serve();
    }
  }
  void Serve() {
    std::string out = Response(parser.request());
    bool keep = parser.request().keep_alive;
    parser.Reset();
    if (!SendAll(sock.native_handle(), out) || !keep) return;
    Next(/*on_loop=*/false);
  }
  asio::ip::tcp::socket sock;
  Pool* pool;
  RequestParser parser;
  std::string in;
};

void RunAsio(int port, int workers) {
  asio::io_context io(1);
  Pool pool(workers);
  asio::ip::tcp::acceptor acceptor(io);
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  acceptor.open(ep.protocol());
  acceptor.bind(ep);
  acceptor.listen(1024);
  std::function<void()> accept = [&] {
    acceptor.async_accept([&](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (!ec) {
        s.non_blocking(true);
        s.set_option(asio::ip::tcp::no_delay(true));
        std::make_shared<AsioConn>(std::move(s), &pool)->Wait();
      }
      accept();
    });
  };
  accept();
  std::cout << "listening" << std::endl;
  io.run();
}

// ---- Poco SocketReactor: the reactor thread reads and parses; a complete request's socket
// leaves the reactor (removeEventHandler) while a worker answers it, and comes back
// (addEventHandler) for the next request.
Pool* poco_pool = nullptr;

class PocoConn {
 public:
  PocoConn(Poco::Net::StreamSocket& s, Poco::Net::SocketReactor& reactor)
      : sock_(s), reactor_(reactor), parser_(HttpLimits()), obs_(*this, &PocoConn::OnReadable) {
    sock_.setBlocking(false);
    sock_.setNoDelay(true);
    reactor_.addEventHandler(sock_, obs_);
  }
  void OnReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    char buf[65536];
    ssize_t n = ::recv(sock_.impl()->sockfd(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return Close();
    in_.append(buf, static_cast<size_t>(n));
    size_t used = 0;
    auto st = parser_.Parse(in_.data(), in_.size(), &used);
    in_.erase(0, used);
    if (st == RequestParser::State::kError) return Close();
    if (st == RequestParser::State::kNeedMore) return;
    reactor_.removeEventHandler(sock_, obs_);
    poco_pool->Push([this] { Serve(); });
  }
  void Serve() {
    while (true) {
      std::string out = Response(parser_.request());
      bool keep = parser_.request().keep_alive;
      parser_.Reset();
      if (!SendAll(sock_.impl()->sockfd(), out) || !keep) {
        delete this;
        return;
      }
      size_t used = 0;
      auto st = parser_.Parse(in_.data(), in_.size(), &used);
      in_.erase(0, used);
      if (st != RequestParser::State::kDone) break;
    }
    reactor_.addEventHandler(sock_, obs_);
  }
  void Close() {
    reactor_.removeEventHandler(sock_, obs_);
    delete this;
  }

 private:
  Poco::Net::StreamSocket sock_;
  Poco::Net::SocketReactor& reactor_;
  RequestParser parser_;
  std::string in_;
  Poco::NObserver<PocoConn, Poco::Net::ReadableNotification> obs_;
};

void RunPoco(int port, int workers) {
  Pool pool(workers);
  poco_pool = &pool;
  Poco::Net::ServerSocket server;
  server.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
  server.listen(1024);
  Poco::Net::SocketReactor reactor;
  Poco::Net::SocketAcceptor<PocoConn> acceptor(server, reactor);
  std::cout << "listening" << std::endl;
  reactor.run();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_frontend_layers asio|poco PORT [WORKERS]\n";
    return 2;
  }
  const std::string layer = argv[1];
  const int port = std::stoi(argv[2]);
  const int workers = argc > 3 ? std::stoi(argv[3]) : 8;
  if (layer == "asio") {
    RunAsio(port, workers);
  } else if (layer == "poco") {
    RunPoco(port, workers);
  } else {
    std::cerr << "unknown layer " << layer << "\n";
    return 2;
  }
  return 0;
}
