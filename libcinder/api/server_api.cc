// ApiServer: the REST API's Router on the HTTP front end of server.cc, with Poco parsing the
// request targets and naming the reason phrases.
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include "api/http_server.h"
#include "api/router.h"
#include "api/server.h"

namespace cinder::api {

namespace {

HttpHooks PocoHooks() {
  HttpHooks h;
  h.parse_target = [](const std::string& target, ApiRequest* req) {
    Poco::URI uri(target);
    req->path = uri.getPath();
    for (auto& kv : uri.getQueryParameters()) req->query.push_back(std::move(kv));
  };
  h.reason = [](int status) -> std::string {
    return Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  };
  return h;
}

class ApiServerImpl : public ApiServer {
 public:
  ApiServerImpl(const Options& options, std::unique_ptr<HttpListener> http)
      : options_(options), http_(std::move(http)) {}
  ~ApiServerImpl() override { Stop(); }

  Status Serve(VolumeManager* volumes, AuthManager* auth, BackupManager* backups) override {
    if (router_) return FailedPrecondition("the API server is already serving");
    if (options_.auth_strategy == "keystone" && !auth) {
      return InvalidArgument("auth_strategy keystone needs an AuthManager");
    }
    router_ = std::make_unique<Router>(options_, volumes, auth, backups);
    return http_->Serve([r = router_.get()](ApiRequest& req) { return r->Handle(req); });
  }
  int port() const override { return http_->port(); }
  void Stop() override { http_->Stop(); }

 private:
  const Options options_;
  std::unique_ptr<Router> router_;      // after http_ has stopped
  std::unique_ptr<HttpListener> http_;  // destroyed first: no handler runs after it
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Listen(const Options& options) {
  CINDER_ASSIGN_OR_RETURN(auto http, HttpListener::Listen(options, PocoHooks()));
  return std::unique_ptr<ApiServer>(std::make_unique<ApiServerImpl>(options, std::move(http)));
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const Options& options, VolumeManager* volumes, AuthManager* auth) {
  CINDER_ASSIGN_OR_RETURN(auto server, Listen(options));
  CINDER_RETURN_IF_ERROR(server->Serve(volumes, auth));
  return server;
}

}  // namespace cinder::api
