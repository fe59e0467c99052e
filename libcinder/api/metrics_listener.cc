#include "api/metrics_listener.h"

#include "common/metrics.h"

namespace cinder::api {

ApiResponse MetricsResponse(const ApiRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") return Fault(405, "The method is not allowed.");
  ApiResponse r;
  r.status = 200;
  r.body = metrics::Registry::Default().Text();
  r.headers.emplace_back("Content-Type", metrics::kContentType);
  return r;
}

Result<std::unique_ptr<HttpListener>> StartMetricsListener(const Options& options) {
  if (options.metrics.listen.empty() || !options.metrics.enabled) return std::unique_ptr<HttpListener>();
  const std::string& listen = options.metrics.listen;  // HOST:PORT (the config checks it; a program may not)
  const auto colon = listen.rfind(':');
  const std::string digits = colon == std::string::npos ? "" : listen.substr(colon + 1);
  if (colon == 0 || digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos || std::stoi(digits) > 65535) {
    return InvalidArgument("[metrics] listen: invalid value '" + listen +
                           "' (expected HOST:PORT, e.g. 127.0.0.1:9101)");
  }
  Options o = options;
  o.osapi_volume_listen = listen.substr(0, colon);
  if (o.osapi_volume_listen.size() > 2 && o.osapi_volume_listen.front() == '[') {  // [::1]:9101
    o.osapi_volume_listen = o.osapi_volume_listen.substr(1, o.osapi_volume_listen.size() - 2);
  }
  o.osapi_volume_listen_port = std::stoi(digits);
  o.osapi_volume_workers = 1;  // a scrape takes well under a millisecond
  o.osapi_max_connections = 64;
  auto http = HttpListener::Listen(o);
  if (!http.ok()) return Status(http.status().code(), "[metrics] listen: " + http.status().message());
  CINDER_RETURN_IF_ERROR((*http)->Serve([](ApiRequest& req) -> ApiResponse {
    std::string path = req.path;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path != "/metrics") return Fault(404, "The resource could not be found.");
    return MetricsResponse(req);
  }));
  return std::move(*http);
}

}  // namespace cinder::api
