#include "api/router.h"

#include "api/admin_actions.h"
#include "api/authtoken.h"
#include "api/dashboard.h"
#include "api/filters.h"
#include "api/identity.h"
#include "api/metrics_listener.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// First path segments after /v3 that name a collection rather than a project (3.67 URLs).
bool IsCollection(const std::string& s) {
  static const std::set<std::string> kCollections = {"volumes",
                                                     "snapshots",
                                                     "backups",
                                                     "types",
                                                     "qos-specs",
                                                     "os-quota-sets",
                                                     "os-quota-class-sets",
                                                     "limits",
                                                     "attachments",
                                                     "os-services",
                                                     "os-availability-zone",
                                                     "scheduler-stats",
                                                     "capabilities",
                                                     "os-hosts",
                                                     "groups",
                                                     "group_types",
                                                     "group_snapshots",
                                                     "consistencygroups",
                                                     "cgsnapshots",
                                                     "messages",
                                                     "os-volume-transfer",
                                                     "volume-transfers",
                                                     "clusters",
                                                     "manageable_volumes",
                                                     "manageable_snapshots",
                                                     "workers",
                                                     "resource_filters",
                                                     "extensions",
                                                     "default-types"};
  return kCollections.count(s) > 0;
}

// Path segments kept as they are in a route's template (Cinder's sub-resources and actions);
// any other segment after the collection is an id, a name or a key: "{id}".
bool IsRouteWord(const std::string& s) {
  static const std::set<std::string> kWords = {"detail",
                                               "summary",
                                               "action",
                                               "metadata",
                                               "extra_specs",
                                               "group_specs",
                                               "encryption",
                                               "associations",
                                               "associate",
                                               "disassociate",
                                               "disassociate_all",
                                               "delete_keys",
                                               "export_record",
                                               "progress",
                                               "import_record",
                                               "restore",
                                               "accept",
                                               "get_pools",
                                               "defaults",
                                               "enable",
                                               "disable",
                                               "disable-log-reason",
                                               "freeze",
                                               "thaw",
                                               "failover_host",
                                               "failover",
                                               "set-log",
                                               "get-log",
                                               "cleanup",
                                               "images",
                                               "os-volume-type-access"};
  return kWords.count(s) > 0;
}

// The method as a label: one of HTTP's, or "other" (a client's made-up method is not a series).
std::string_view MethodLabel(const std::string& m) {
  static const std::set<std::string, std::less<>> kMethods = {"GET",    "HEAD",  "POST",   "PUT",
                                                              "DELETE", "PATCH", "OPTIONS"};
  auto it = kMethods.find(m);
  return it == kMethods.end() ? std::string_view("other") : std::string_view(*it);
}

struct RequestMetrics {
  metrics::Family& requests = metrics::Registry::Default().AddCounter(
      "cinder_api_requests_total", "HTTP requests answered, by route template, method and status code.",
      {"route", "method", "status"});
  metrics::Family& latency = metrics::Registry::Default().AddHistogram(
      "cinder_api_request_duration_seconds", "Time to answer an HTTP request, by route template and method.",
      {"route", "method"}, metrics::LatencyBuckets());
};

RequestMetrics& Requests() {
  static auto* m = new RequestMetrics();
  return *m;
}

}  // namespace

ApiResponse Router::Versions(const ApiRequest& req, int status) {
  JsonWriter w;
  w.BeginObject().Key("versions").BeginArray().BeginObject();
  w.Key("id").String("v3.0");
  w.Key("status").String("CURRENT");
  w.Key("version").String(kMaxVersion.ToString());
  w.Key("min_version").String(kMinVersion.ToString());
  w.Key("updated").String("2022-08-31T00:00:00Z");
  w.Key("links").BeginArray();
  w.BeginObject().Key("rel").String("describedby").Key("type").String("text/html");
  w.Key("href").String("https://docs.openstack.org/").EndObject();
  w.BeginObject().Key("rel").String("self").Key("href").String(req.host_url + "/v3/").EndObject();
  w.EndArray();
  w.Key("media-types").BeginArray().BeginObject();
  w.Key("base").String("application/json");
  w.Key("type").String("application/vnd.openstack.volume+json;version=3");
  w.EndObject().EndArray();
  w.EndObject().EndArray().EndObject();
  return Json(status, w.Take());
}

ApiResponse Router::Handle(ApiRequest& req) {
  req.ctx.request_id = "req-" + NewUuid();
  log::ScopedRequestId scoped(req.ctx.request_id);  // every line logged for this request
  const auto started = std::chrono::steady_clock::now();
  ApiResponse resp;
  bool versioned = false;
  try {
    std::string path = req.path;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    // Every request, the versions documents included, negotiates its microversion.
    VersionParse vp = ParseVersionHeader(req.Header("openstack-api-version"));
    if (auth_ && options_.auth.identity_listener) {
      req.route = "/identity";
      // The identity service's own listener: Keystone's paths from its root.
      std::vector<std::string> rest;
      for (auto& s : Split(path, '/')) {
        if (!s.empty()) rest.push_back(s);
      }
      resp = HandleIdentity(options_, *auth_, req, rest, req.host_url);
    } else if (path == "/metrics" && options_.metrics.enabled) {
      // Before any microversion (a scraper sends none) and without a token (docs/metrics.md).
      req.route = "/metrics";
      resp = Metrics(req);
    } else if (options_.dashboard_enabled && (path == "/dashboard" || path.rfind("/dashboard/", 0) == 0)) {
      req.route = "/dashboard";
      resp = HandleDashboard(req);  // static files: unversioned, no token (api/dashboard.cc)
    } else if (vp.http_status != 0) {
      resp = Fault(vp.http_status, vp.error);
      if (vp.http_status == 406) {
        req.version = vp.version;
        versioned = true;
      }
    } else {
      req.version = vp.version;
      versioned = true;
      if (path == "/" || path.empty()) {
        req.route = "/";
        resp = req.method == "GET" ? Versions(req, 300) : Fault(405, "The method is not allowed.");
      } else if (path == "/v3") {
        req.route = "/v3";
        resp = req.method == "GET" ? Versions(req, 200) : Fault(405, "The method is not allowed.");
      } else if (auth_ && !ExternalIdentity(options_) && (path == "/identity" || path.rfind("/identity/", 0) == 0)) {
        versioned = false;  // Keystone's API: no volume microversion
        req.route = "/identity";
        std::vector<std::string> rest;
        for (auto& s : Split(path.substr(9), '/')) {
          if (!s.empty()) rest.push_back(s);
        }
        resp = HandleIdentity(options_, *auth_, req, rest, PublicRoot(options_, req) + "/identity");
      } else if (auth_ && options_.glance_api_servers.empty() && (path == "/image" || path.rfind("/image/", 0) == 0)) {
        versioned = false;
        req.route = "/image";
        std::vector<std::string> rest;
        for (auto& s : Split(path.substr(6), '/')) {
          if (!s.empty()) rest.push_back(s);
        }
        resp = HandleEmptyImageService(req, rest, PublicRoot(options_, req) + "/image");
      } else {
        resp = Dispatch(req);
      }
    }
  } catch (const std::exception& e) {
    CINDER_LOG(kError, "cinder-api") << req.method << " " << req.path << " raised: " << e.what();
    resp = Fault(500, kInternalFault);
  }
  if (versioned) {
    resp.headers.emplace_back("OpenStack-API-Version", "volume " + req.version.ToString());
    resp.headers.emplace_back("Vary", "OpenStack-API-Version");
  }
  resp.headers.emplace_back("x-openstack-request-id", req.ctx.request_id);
  resp.headers.emplace_back("x-compute-request-id", req.ctx.request_id);
  // The dashboard shares this origin: no answer (a fault echoing what a client sent) is ever
  // sniffed into something a browser runs.
  if (std::none_of(resp.headers.begin(), resp.headers.end(),
                   [](const auto& h) { return h.first == "X-Content-Type-Options"; })) {
    resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  if (req.route.empty() || (req.route.rfind("/v3", 0) == 0 && (resp.status == 404 || resp.status == 405))) {
    req.route = req.path == "/dashboard" || req.path.rfind("/dashboard/", 0) == 0 ? "/dashboard" : "unmatched";
  }
  {
    char status[8];
    const auto n = std::snprintf(status, sizeof(status), "%d", resp.status);
    const std::string_view method = MethodLabel(req.method);
    Requests().requests.CounterWith({req.route, method, std::string_view(status, static_cast<size_t>(n))}).Inc();
    Requests().latency.HistogramWith({req.route, method}).Observe(std::chrono::duration<double>(elapsed).count());
  }
  // The request line only (never its headers or body, which may carry tokens and keys).
  CINDER_LOG(kDebug, "cinder-api") << '"' << req.method << " " << req.path << "\" status: " << resp.status
                                   << " len: " << resp.body.size()
                                   << " time: " << std::chrono::duration<double>(elapsed).count();
  return resp;
}

ApiResponse Router::Metrics(const ApiRequest& req) { return MetricsResponse(req); }

ApiResponse Router::Dispatch(ApiRequest& req) {
  std::vector<std::string> seg;
  for (auto& s : Split(req.path, '/')) {
    if (!s.empty()) seg.push_back(s);
  }
  if (seg.empty() || seg[0] != "v3") return Fault(404, "The resource could not be found.");
  size_t i = 1;
  std::string route = "/v3";
  if (seg.size() > 1 && !IsCollection(seg[1])) {
    req.url_project = seg[1];
    i = 2;
    route += "/{project_id}";
  }
  if (i < seg.size()) {
    const bool known = IsCollection(seg[i]) || seg[i] == "os-volume-manage" || seg[i] == "os-snapshot-manage";
    route += known ? "/" + seg[i] : std::string("/{unknown}");
    for (size_t k = i + 1; known && k < seg.size(); ++k) route += IsRouteWord(seg[k]) ? "/" + seg[k] : "/{id}";
  }

  // The metrics' route label: a template only for a request that got past authentication (and
  // Handle drops it again for a 404 or 405), so that no client, with or without a token, makes
  // up label values by inventing paths.
  if (auto refused = Authenticate(req)) return *refused;
  if (!req.url_project.empty() && req.url_project != req.ctx.project_id) {
    return Fault(400, "Malformed request url");
  }
  req.route = std::move(route);

  if (i >= seg.size()) return Fault(404, "The resource could not be found.");
  // Cinder's routes match no resource path with a trailing slash: GET /volumes/ is not the
  // list, and GET, PUT or DELETE /volumes/ (a show, update or delete of no id) is 404.
  if (req.path.back() == '/') return Fault(404, "The resource could not be found.");
  std::vector<std::string> rest(seg.begin() + static_cast<long>(i) + 1, seg.end());
  return Route(req, seg[i], rest);
}

std::optional<ApiResponse> Router::Authenticate(ApiRequest& req) {
  auto token = req.Header("x-auth-token");
  if (auth_) {
    // keystonemiddleware's answers: 401 with Keystone's body, 503 when identity cannot answer.
    const auto& ks = options_.auth.keystone_authtoken;
    const std::string identity_root = !ks.www_authenticate_uri.empty() ? ks.www_authenticate_uri
                                      : !ks.auth_url.empty()           ? ks.auth_url
                                                                       : PublicRoot(options_, req) + "/identity";
    if (!token || token->empty()) return KeystoneUnauthorized(identity_root);
    auto ctx = auth_->ContextForToken(*token);
    if (!ctx.ok()) {
      if (ctx.status().code() == Code::kUnavailable) {
        return Fault(503, "The Keystone service is temporarily unavailable.");
      }
      return KeystoneUnauthorized(identity_root);
    }
    const std::string request_id = req.ctx.request_id;
    req.ctx = *ctx;
    req.ctx.request_id = request_id;
    return std::nullopt;
  }
  // noauth (cinder/api/middleware/auth.py): "X-Auth-Token: user:project" is an admin context.
  if (!token) {
    // As Cinder's noauth: no token answers 204 with the token to use, and does nothing else.
    ApiResponse r;
    r.status = 204;
    std::string u = req.Header("x-auth-user").value_or("admin");
    std::string p = req.Header("x-auth-project-id").value_or("admin");
    r.headers.emplace_back("X-Auth-Token", u + ":" + p);
    r.headers.emplace_back("X-Server-Management-Url", req.host_url + req.path);
    return r;
  }
  auto colon = token->find(':');
  std::string user = token->substr(0, colon);
  std::string project = colon == std::string::npos ? user : token->substr(colon + 1);
  if (project.empty()) project = user;
  req.ctx.user_id = user;
  req.ctx.project_id = project;
  req.ctx.roles = {"admin"};
  req.ctx.is_admin = true;
  return std::nullopt;
}

ApiResponse Router::Route(ApiRequest& req, const std::string& collection, const std::vector<std::string>& rest) {
  if (collection == "volumes") return HandleVolumes(options_, *volumes_, backups_, req, rest);
  if (collection == "backups") return HandleBackups(options_, backups_, req, rest);
  if (collection == "os-services") return HandleServices(*volumes_, req, rest);
  if (collection == "clusters") return HandleClusters(*volumes_, req, rest);
  if (collection == "os-availability-zone") return HandleAvailabilityZones(*volumes_, req, rest);
  if (collection == "types") return HandleTypes(options_, *volumes_, req, rest);
  if (collection == "default-types") return HandleDefaultTypes(*volumes_, req, rest);
  if (collection == "qos-specs") return HandleQosSpecs(*volumes_, req, rest);
  if (collection == "volume-transfers") return HandleTransfers(*volumes_, req, rest, /*v355_path=*/true);
  if (collection == "os-volume-transfer") return HandleTransfers(*volumes_, req, rest, /*v355_path=*/false);
  if (collection == "scheduler-stats") return HandleSchedulerStats(*volumes_, req, rest);
  if (collection == "capabilities") return HandleCapabilities(*volumes_, req, rest);
  if (collection == "snapshots") return HandleSnapshots(options_, *volumes_, req, rest);
  if (collection == "os-quota-sets") return HandleQuotaSets(*volumes_, req, rest);
  if (collection == "os-quota-class-sets") return HandleQuotaClassSets(*volumes_, req, rest);
  if (collection == "limits") return HandleLimits(*volumes_, req, rest);
  if (collection == "messages") return HandleMessages(options_, *volumes_, req, rest);
  if (collection == "attachments") return HandleAttachments(options_, *volumes_, req, rest);
  if (collection == "resource_filters") return HandleResourceFilters(options_, req, rest);
  if (collection == "group_types") return HandleGroupTypes(options_, *volumes_, req, rest);
  if (collection == "manageable_volumes") return HandleManageable(options_, *volumes_, req, rest, false, false);
  if (collection == "manageable_snapshots") return HandleManageable(options_, *volumes_, req, rest, true, false);
  if (collection == "os-volume-manage") return HandleManageable(options_, *volumes_, req, rest, false, true);
  if (collection == "os-snapshot-manage") return HandleManageable(options_, *volumes_, req, rest, true, true);
  if (collection == "extensions") return HandleExtensions(req, rest);
  if (collection == "os-hosts") return HandleHosts(*volumes_, req, rest);
  if (collection == "groups") return HandleGroups(options_, *volumes_, req, rest);
  if (collection == "group_snapshots") return HandleGroupSnapshots(options_, *volumes_, req, rest);
  if (collection == "workers") return HandleWorkers(*volumes_, req, rest);
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
