#include "api/server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Thread.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <signal.h>

#include <algorithm>
#include <istream>

#include "api/router.h"
#include "common/util.h"

namespace cinder::api {

namespace {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// Bodies at least this large skip the response stream's buffer.
constexpr size_t kStreamedBody = 16384;

class Handler : public HTTPRequestHandler {
 public:
  Handler(Router* router, int64_t max_body) : router_(router), max_body_(max_body) {}

  void handleRequest(HTTPServerRequest& in, HTTPServerResponse& out) override {
    ApiRequest req;
    ApiResponse resp;
    bool too_large = false;
    try {
      req.method = in.getMethod();
      Poco::URI uri(in.getURI());
      req.path = uri.getPath();
      for (auto& kv : uri.getQueryParameters()) req.query.push_back(kv);
      for (const auto& h : in) req.headers[ToLower(h.first)] = h.second;
      req.host_url = "http://" + (in.getHost().empty() ? in.serverAddress().toString() : in.getHost());
      // osapi_max_request_body_size, as Cinder's sizelimit middleware.
      if (in.hasContentLength() && in.getContentLength64() > max_body_) {
        too_large = true;
      } else {
        std::istream& body = in.stream();
        char buf[16384];
        while (body.read(buf, sizeof buf) || body.gcount() > 0) {
          req.body.append(buf, static_cast<size_t>(body.gcount()));
          if (static_cast<int64_t>(req.body.size()) > max_body_) {
            too_large = true;
            break;
          }
        }
      }
      if (too_large) {
        resp = Fault(413, "Request is too large. The body is limited to " + std::to_string(max_body_) +
                              " bytes (osapi_max_request_body_size).");
        out.setKeepAlive(false);
      } else {
        resp = router_->Handle(req);
      }
    } catch (const std::exception& e) {
      resp = Fault(400, std::string("Malformed request: ") + e.what());
      out.setKeepAlive(false);
    }
    out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(resp.status));
    for (const auto& [k, v] : resp.headers) out.set(k, v);
    if (!resp.body.empty()) out.setContentType("application/json");
    out.setContentLength(static_cast<std::streamsize>(resp.body.size()));
    struct Recycle {  // the body's storage serves the next large body of this thread
      std::string& body;
      ~Recycle() { KeepSpareBuffer(std::move(body)); }
    } recycle{resp.body};
    std::ostream& os = out.send();
    if (req.method == "HEAD") return;
    auto* conn = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&in);
    if (resp.body.size() < kStreamedBody || conn == nullptr) {
      os.write(resp.body.data(), static_cast<std::streamsize>(resp.body.size()));
      return;
    }
    // A large body (a long list) goes to the socket in as few writes as the kernel takes, after
    // the header: the response stream would cut it into 4 KiB sends, each a trip through the
    // TCP stack and a wakeup of the reader.
    os.flush();
    if (!os) return;
    Poco::Net::StreamSocket& socket = conn->socket();
    const char* p = resp.body.data();
    size_t left = resp.body.size();
    try {
      while (left > 0) {
        const int n = socket.sendBytes(p, static_cast<int>(std::min<size_t>(left, 1 << 30)));
        if (n <= 0) break;
        p += n;
        left -= static_cast<size_t>(n);
      }
    } catch (const std::exception&) {  // the client went away or stopped reading
    }
    if (left > 0) {  // a response cut short: the connection is of no further use
      out.setKeepAlive(false);
      try {
        socket.shutdown();
      } catch (const std::exception&) {
      }
    }
  }

 private:
  Router* router_;
  int64_t max_body_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(Router* router, int64_t max_body) : router_(router), max_body_(max_body) {}
  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(router_, max_body_);
  }

 private:
  Router* router_;
  int64_t max_body_;
};

class PocoApiServer : public ApiServer {
 public:
  PocoApiServer(const Options& options, VolumeManager* volumes) : options_(options), router_(options_, volumes) {}

  ~PocoApiServer() override { Stop(); }

  Status Start() {
    try {
      Poco::Net::ServerSocket socket;
      socket.bind(Poco::Net::SocketAddress(options_.osapi_volume_listen,
                                           static_cast<Poco::UInt16>(options_.osapi_volume_listen_port)),
                  /*reuseAddress=*/true);
      socket.listen(128);
      port_ = socket.address().port();
      auto* params = new Poco::Net::HTTPServerParams;
      params->setMaxThreads(options_.osapi_volume_workers);
      params->setMaxQueued(1024);
      params->setKeepAlive(true);
      params->setMaxKeepAliveRequests(0);
      params->setKeepAliveTimeout(Poco::Timespan(60, 0));
      params->setServerName("libcinder");
      pool_ = std::make_unique<Poco::ThreadPool>(1, options_.osapi_volume_workers + 2);
      server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(&router_, options_.osapi_max_request_body_size),
                                                        *pool_, socket, params);
      server_->start();
    } catch (const std::exception& e) {
      return Unavailable("cannot listen on " + options_.osapi_volume_listen + ":" +
                         std::to_string(options_.osapi_volume_listen_port) + ": " + e.what());
    }
    return Status::OK();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (server_) {
      // Stop accepting, let requests in progress finish (up to 5 s), then drop the idle
      // keep-alive connections rather than wait out their timeout.
      server_->stop();
      for (int i = 0; i < 500 && server_->currentConnections() > 0; ++i) {
        Poco::Thread::sleep(10);
      }
      server_->stopAll(/*abortCurrent=*/true);
      server_.reset();
    }
    if (pool_) {
      pool_->joinAll();
      pool_.reset();
    }
  }

 private:
  Options options_;
  Router router_;
  int port_ = 0;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const Options& options, VolumeManager* volumes) {
  // A client that hangs up mid-response must not end the process: writes to its socket fail
  // with EPIPE instead (only when the program has not chosen its own SIGPIPE handling).
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  auto server = std::make_unique<PocoApiServer>(options, volumes);
  CINDER_RETURN_IF_ERROR(server->Start());
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace cinder::api
