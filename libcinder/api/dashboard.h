// GET /dashboard/...: the embedded web dashboard (docs/dashboard.md).
#ifndef CINDER_API_DASHBOARD_H_
#define CINDER_API_DASHBOARD_H_

#include "api/http.h"

namespace cinder::api {

// Answers a request whose path is /dashboard or under /dashboard/: a 302 to /dashboard/, the
// file (gzip when accepted; 304 for a matching If-None-Match), 404 or 405; every answer with
// the dashboard's security headers (Content-Security-Policy, nosniff, no-referrer).
ApiResponse HandleDashboard(const ApiRequest& req);

}  // namespace cinder::api

#endif  // CINDER_API_DASHBOARD_H_
