#include "api/router.h"

#include <chrono>
#include <set>

#include "common/json_writer.h"
#include "common/log.h"
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
    if (vp.http_status != 0) {
      resp = Fault(vp.http_status, vp.error);
      if (vp.http_status == 406) {
        req.version = vp.version;
        versioned = true;
      }
    } else {
      req.version = vp.version;
      versioned = true;
      if (path == "/" || path.empty()) {
        resp = req.method == "GET" ? Versions(req, 300) : Fault(405, "The method is not allowed.");
      } else if (path == "/v3") {
        resp = req.method == "GET" ? Versions(req, 200) : Fault(405, "The method is not allowed.");
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
  // The request line only (never its headers or body, which may carry tokens and keys).
  CINDER_LOG(kDebug, "cinder-api") << '"' << req.method << " " << req.path << "\" status: " << resp.status
                                   << " len: " << resp.body.size() << " time: "
                                   << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return resp;
}

ApiResponse Router::Dispatch(ApiRequest& req) {
  std::vector<std::string> seg;
  for (auto& s : Split(req.path, '/')) {
    if (!s.empty()) seg.push_back(s);
  }
  if (seg.empty() || seg[0] != "v3") return Fault(404, "The resource could not be found.");
  size_t i = 1;
  if (seg.size() > 1 && !IsCollection(seg[1])) {
    req.url_project = seg[1];
    i = 2;
  }

  // noauth (cinder/api/middleware/auth.py): "X-Auth-Token: user:project" is an admin context.
  auto token = req.Header("x-auth-token");
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
  if (!req.url_project.empty() && req.url_project != req.ctx.project_id) {
    return Fault(400, "Malformed request url");
  }

  if (i >= seg.size()) return Fault(404, "The resource could not be found.");
  std::vector<std::string> rest(seg.begin() + static_cast<long>(i) + 1, seg.end());
  if (seg[i] == "volumes") return HandleVolumes(options_, *volumes_, req, rest);
  if (seg[i] == "os-services") return HandleServices(*volumes_, req, rest);
  if (seg[i] == "os-availability-zone") return HandleAvailabilityZones(*volumes_, req, rest);
  if (seg[i] == "types") return HandleTypes(*volumes_, req, rest);
  if (seg[i] == "default-types") return HandleDefaultTypes(*volumes_, req, rest);
  if (seg[i] == "qos-specs") return HandleQosSpecs(*volumes_, req, rest);
  if (seg[i] == "volume-transfers") return HandleTransfers(*volumes_, req, rest, /*v355_path=*/true);
  if (seg[i] == "os-volume-transfer") return HandleTransfers(*volumes_, req, rest, /*v355_path=*/false);
  if (seg[i] == "scheduler-stats") return HandleSchedulerStats(*volumes_, req, rest);
  if (seg[i] == "capabilities") return HandleCapabilities(*volumes_, req, rest);
  if (seg[i] == "snapshots") return HandleSnapshots(options_, *volumes_, req, rest);
  if (seg[i] == "os-quota-sets") return HandleQuotaSets(*volumes_, req, rest);
  if (seg[i] == "os-quota-class-sets") return HandleQuotaClassSets(*volumes_, req, rest);
  if (seg[i] == "limits") return HandleLimits(*volumes_, req, rest);
  if (seg[i] == "messages") return HandleMessages(options_, *volumes_, req, rest);
  if (seg[i] == "attachments") return HandleAttachments(*volumes_, req, rest);
  return Fault(404, "The resource could not be found.");
}

}  // namespace cinder::api
