// /metrics: this process's metrics (common/metrics.h) over HTTP, on the API's port (the
// Router answers it) or on a listener of its own ([metrics] listen, for the daemons that serve
// no API). docs/metrics.md.
#ifndef CINDER_API_METRICS_LISTENER_H_
#define CINDER_API_METRICS_LISTENER_H_

#include <memory>

#include "api/http.h"
#include "api/http_server.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder::api {

// GET (or HEAD) /metrics: the text, as text/plain; version=0.0.4. 405 for other methods.
ApiResponse MetricsResponse(const ApiRequest& req);

// The listener of [metrics] listen = HOST:PORT (cinder-scheduler, cinder-volume,
// cinder-backup): the API's HTTP front end, answering GET /metrics and 404 for anything else.
// nullptr when listen is "" or [metrics] enabled is false; Unavailable, naming the option,
// when it cannot listen there.
Result<std::unique_ptr<HttpListener>> StartMetricsListener(const Options& options);

}  // namespace cinder::api

#endif  // CINDER_API_METRICS_LISTENER_H_
