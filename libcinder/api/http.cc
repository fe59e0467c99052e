#include "api/http.h"

#include <mutex>
#include <vector>

#include "common/json_writer.h"
#include "common/log.h"

namespace cinder::api {

std::optional<std::string> ApiRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ApiRequest::Query(const std::string& name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out = v;  // the last one wins, as in webob's GET dict
  }
  return out;
}

namespace {

// Cinder's fault names by HTTP status (cinder/api/openstack/wsgi.py Fault._fault_names).
const char* FaultName(int status) {
  switch (status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 409: return "conflictingRequest";
    case 413: return "overLimit";
    case 415: return "badMediaType";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
  }
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 400;
    case Code::kAborted: return 409;
    case Code::kPermissionDenied: return 403;
    case Code::kUnauthenticated: return 401;
    case Code::kResourceExhausted: return 413;
    case Code::kUnimplemented: return 501;
    case Code::kDeadlineExceeded: return 504;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

namespace {
// At most two spare buffers for the process, each from 64 KiB (smaller ones cost no page
// faults worth saving) to 4 MiB: what a client paging through long lists reuses, at the cost of
// a few MiB held while idle (the daemons return larger blocks to the system as soon as freed).
constexpr size_t kSpareMin = 64 * 1024, kSpareMax = 4 * 1024 * 1024, kSpares = 2;
std::mutex spare_mu;
std::vector<std::string>& Spares() {  // guarded by spare_mu
  static auto* spares = new std::vector<std::string>();
  return *spares;
}
}  // namespace

std::string TakeSpareBuffer() {
  std::lock_guard<std::mutex> l(spare_mu);
  auto& spares = Spares();
  if (spares.empty()) return std::string();
  std::string out = std::move(spares.back());
  spares.pop_back();
  return out;
}

void KeepSpareBuffer(std::string buffer) {
  if (buffer.capacity() < kSpareMin || buffer.capacity() > kSpareMax) return;
  std::lock_guard<std::mutex> l(spare_mu);
  auto& spares = Spares();
  if (spares.size() < kSpares) spares.push_back(std::move(buffer));
}

ApiResponse Json(int http_status, std::string body) {
  ApiResponse r;
  r.status = http_status;
  r.body = std::move(body);
  return r;
}

ApiResponse Fault(int http_status, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Key(FaultName(http_status)).BeginObject();
  w.Key("code").Int(http_status).Key("message").String(message);
  w.EndObject().EndObject();
  return Json(http_status, w.Take());
}

ApiResponse FaultFrom(const Status& status) {
  if (status.code() == Code::kInternal && !status.for_user()) {
    // What went wrong inside (a driver's or the database's text) is for the log, not the
    // client: Cinder's generic fault.
    CINDER_LOG(kError, "cinder-api") << "internal error: " << status.message();
    return Fault(500, kInternalFault);
  }
  ApiResponse r = Fault(HttpStatusFor(status.code()), status.message());
  // Over quota: Cinder's QuotaError faults tell clients not to wait before retrying; a busy
  // service says how long to wait.
  if (status.code() == Code::kResourceExhausted || (status.code() == Code::kUnavailable && status.retry_after() > 0))
    r.headers.emplace_back("Retry-After", std::to_string(status.retry_after()));
  return r;
}

}  // namespace cinder::api
