// The dashboard's files, embedded at build time (embed.cmake writes the table; docs/dashboard.md).
// api/dashboard.cc serves them at /dashboard/.
#ifndef CINDER_DASHBOARD_DASHBOARD_H_
#define CINDER_DASHBOARD_DASHBOARD_H_

#include <string_view>
#include <vector>

namespace cinder::dashboard {

struct Asset {
  std::string_view name;  // the path under /dashboard/, e.g. "js/main.js"
  std::string_view raw;   // the file's bytes
  std::string_view gz;    // the same, gzip-compressed (level 9)
  std::string_view etag;  // "\"<sha256 of raw>\"", quoted as an ETag header value
};

// Every embedded file; empty when built with -DCINDER_DASHBOARD=OFF.
const std::vector<Asset>& Assets();

}  // namespace cinder::dashboard

#endif  // CINDER_DASHBOARD_DASHBOARD_H_
