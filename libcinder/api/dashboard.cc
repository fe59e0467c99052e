// /dashboard/: the web dashboard's static files (libcinder/dashboard/, docs/dashboard.md),
// embedded at build time. Unversioned and unauthenticated: the files hold no data; the pages
// read everything through the public API with the user's token. Every answer carries a strict
// Content-Security-Policy; no CORS headers are ever sent.
#include "api/dashboard.h"

#include <string_view>

#include "dashboard/dashboard.h"

namespace cinder::api {

namespace {

constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

ApiResponse Secured(ApiResponse r) {
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* ContentType(std::string_view name) {
  if (EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(name, ".svg")) return "image/svg+xml";
  if (EndsWith(name, ".png")) return "image/png";
  return "text/plain; charset=utf-8";
}

// Whether Accept-Encoding admits gzip (a "gzip" or "*" coding whose q is not 0).
bool AcceptsGzip(const std::string& accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    std::string_view item(accept.data() + start, end - start);
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.front() == ' ') coding.remove_prefix(1);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding == "gzip" || coding == "x-gzip" || coding == "*") {
      if (semi == std::string_view::npos) return true;
      std::string_view params = item.substr(semi + 1);
      size_t q = params.find("q=");
      if (q == std::string_view::npos) return true;
      std::string_view v = params.substr(q + 2);
      // q=0, q=0.0, q=0.00 refuse; anything else admits.
      bool zero = !v.empty() && v.front() == '0';
      for (size_t i = 1; zero && i < v.size() && v[i] != ' ' && v[i] != ';'; ++i) {
        if (v[i] != '.' && v[i] != '0') zero = false;
      }
      return !zero;
    }
    start = end + 1;
  }
  return false;
}

// If-None-Match: "*" or a list of entity tags (weak ones compare weakly, RFC 9110 13.1.2).
bool Matches(const std::string& if_none_match, const std::string& etag) {
  size_t start = 0;
  while (start < if_none_match.size()) {
    size_t end = if_none_match.find(',', start);
    if (end == std::string::npos) end = if_none_match.size();
    std::string_view tag(if_none_match.data() + start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

ApiResponse HandleDashboard(const ApiRequest& req) {
  const auto& assets = dashboard::Assets();
  if (assets.empty()) {
    return Secured(Fault(404, "This server was built without the dashboard (-DCINDER_DASHBOARD=OFF)."));
  }
  if (req.path == "/dashboard") {
    ApiResponse r;
    r.status = 302;
    r.headers.emplace_back("Location", "/dashboard/");
    return Secured(std::move(r));
  }
  if (req.method != "GET" && req.method != "HEAD") {
    ApiResponse r = Fault(405, "The method is not allowed.");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return Secured(std::move(r));
  }
  std::string_view name = std::string_view(req.path).substr(sizeof("/dashboard/") - 1);
  if (name.empty()) name = "index.html";
  const dashboard::Asset* asset = nullptr;
  for (const auto& a : assets) {
    if (a.name == name) asset = &a;
  }
  if (!asset) return Secured(Fault(404, "The resource could not be found."));

  const bool gzip = AcceptsGzip(req.Header("accept-encoding").value_or(""));
  // Each representation has its own tag: "<sha256>" and "<sha256>-gz".
  std::string etag(asset->etag);
  if (gzip) etag.insert(etag.size() - 1, "-gz");
  ApiResponse r;
  r.headers.emplace_back("ETag", etag);
  // Names are not content-hashed: revalidate each time (a 304 when unchanged).
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  auto inm = req.Header("if-none-match");
  if (inm && Matches(*inm, etag)) {
    r.status = 304;
    return Secured(std::move(r));
  }
  r.status = 200;
  r.headers.emplace_back("Content-Type", ContentType(name));
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body.assign(asset->gz);
  } else {
    r.body.assign(asset->raw);
  }
  return Secured(std::move(r));
}

}  // namespace cinder::api
