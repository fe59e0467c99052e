// The API's own request/response types (no Poco here), and Cinder's error bodies.
#ifndef CINDER_API_HTTP_H_
#define CINDER_API_HTTP_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_version.h"
#include "cinder/context.h"
#include "cinder/status.h"

namespace cinder::api {

struct ApiRequest {
  std::string method;
  std::string path;                                        // without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // names in lower case
  std::string body;
  std::string host_url;  // "http://127.0.0.1:8776", from the Host header

  // Set by the router.
  RequestContext ctx;
  ApiVersion version;
  std::string url_project;  // the {project_id} segment, "" when absent
  // The route's template for the metrics ("/v3/{project_id}/volumes/{id}/action"): never an
  // id, a name or a project; "" until a route is known.
  std::string route;

  std::optional<std::string> Header(const std::string& lower_name) const;
  std::optional<std::string> Query(const std::string& name) const;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON, or empty
  std::vector<std::pair<std::string, std::string>> headers;
};

// Cinder's fault body {"<faultName>": {"code": N, "message": "..."}} for an HTTP status.
ApiResponse Fault(int http_status, const std::string& message);
// The fault for a Status, by the one table that maps codes to Cinder's statuses.
// Cinder's fault for `status`; an Internal one gets Cinder's generic message (kInternalFault)
// and its own text goes to the log.
ApiResponse FaultFrom(const Status& status);
inline constexpr char kInternalFault[] =
    "The server has either erred or is incapable of performing the requested operation.";
// The HTTP status for a code (kOk -> 200).
int HttpStatusFor(Code code);
ApiResponse Json(int http_status, std::string body);

// Spare body buffers: a large response's storage, kept after it was sent for the next large
// body (TakeSpareBuffer returns an empty string when there is none). Thread-safe.
std::string TakeSpareBuffer();
void KeepSpareBuffer(std::string buffer);

}  // namespace cinder::api

#endif  // CINDER_API_HTTP_H_
