// /dashboard/ through api::Router (no sockets): the embedded files, gzip, ETags and 304s, the
// security headers on every answer, and [dashboard] enabled.
#include <doctest/doctest.h>

#include "api/dashboard.h"
#include "api/router.h"
#include "cinder/options.h"
#include "cinder/service.h"
#include "dashboard/dashboard.h"
#include "test_util.h"

namespace cinder {

namespace {

constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct DashFixture {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<api::Router> router;

  explicit DashFixture(bool enabled = true) {
    options = DefaultOptions(dir.path());
    options.host = "h";
    options.dashboard_enabled = enabled;
    REQUIRE(DbSync(options).ok());
    VolumeManagerOptions vmo;
    vmo.options = options;
    volumes = std::move(VolumeManager::Open(vmo)).value();
    router = std::make_unique<api::Router>(options, volumes.get());
  }

  api::ApiResponse Get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
                       const std::string& method = "GET") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, "", "", "");
    req.headers.erase("x-auth-token");
    for (auto& [k, v] : headers) req.headers[k] = v;
    return router->Handle(req);
  }
};

std::string H(const api::ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

void CheckSecured(const api::ApiResponse& r) {
  CHECK(H(r, "Content-Security-Policy") == kCsp);
  CHECK(H(r, "X-Content-Type-Options") == "nosniff");
  CHECK(H(r, "Referrer-Policy") == "no-referrer");
  CHECK(H(r, "Access-Control-Allow-Origin").empty());
  CHECK(H(r, "OpenStack-API-Version").empty());  // unversioned
}

}  // namespace

TEST_CASE("the dashboard's files are embedded, with their gzip forms and tags") {
  const auto& assets = dashboard::Assets();
  REQUIRE(!assets.empty());
  bool index = false, lit = false;
  for (const auto& a : assets) {
    index = index || a.name == "index.html";
    lit = lit || a.name == "vendor/lit-html.js";
    CHECK(a.gz.size() > 10);
    CHECK(static_cast<unsigned char>(a.gz[0]) == 0x1f);  // gzip's magic
    CHECK(static_cast<unsigned char>(a.gz[1]) == 0x8b);
    CHECK(a.etag.size() == 66);  // a quoted SHA-256
  }
  CHECK(index);
  CHECK(lit);
}

TEST_CASE("/dashboard redirects, files answer with their type, gzip when accepted, 304 when unchanged") {
  DashFixture f;
  auto r = f.Get("/dashboard");
  CHECK(r.status == 302);
  CHECK(H(r, "Location") == "/dashboard/");
  CheckSecured(r);

  r = f.Get("/dashboard/");
  CHECK(r.status == 200);
  CHECK(H(r, "Content-Type") == "text/html; charset=utf-8");
  CHECK(H(r, "Content-Encoding").empty());
  CHECK(r.body.find("<script type=\"module\" src=\"js/main.js\"></script>") != std::string::npos);
  CheckSecured(r);
  const std::string tag = H(r, "ETag");
  CHECK(H(r, "Cache-Control") == "no-cache");

  auto gz = f.Get("/dashboard/", {{"accept-encoding", "br, gzip;q=0.8"}});
  CHECK(gz.status == 200);
  CHECK(H(gz, "Content-Encoding") == "gzip");
  CHECK(H(gz, "Vary") == "Accept-Encoding");
  CHECK(H(gz, "ETag") == tag.substr(0, tag.size() - 1) + "-gz\"");
  CHECK(gz.body.size() < r.body.size());
  CHECK(H(f.Get("/dashboard/", {{"accept-encoding", "gzip;q=0, deflate"}}), "Content-Encoding").empty());
  CHECK(H(f.Get("/dashboard/", {{"accept-encoding", "gzip;q=0.000"}}), "Content-Encoding").empty());

  auto js = f.Get("/dashboard/js/main.js");
  CHECK(H(js, "Content-Type") == "text/javascript; charset=utf-8");
  CHECK(H(f.Get("/dashboard/app.css"), "Content-Type") == "text/css; charset=utf-8");

  auto same = f.Get("/dashboard/", {{"if-none-match", "\"x\", W/" + tag}});
  CHECK(same.status == 304);
  CHECK(same.body.empty());
  CHECK(H(same, "ETag") == tag);
  CheckSecured(same);
  CHECK(f.Get("/dashboard/", {{"if-none-match", "*"}}).status == 304);
  CHECK(f.Get("/dashboard/", {{"if-none-match", "\"other\""}}).status == 200);
  // The plain tag does not validate the gzip representation.
  CHECK(f.Get("/dashboard/", {{"if-none-match", tag}, {"accept-encoding", "gzip"}}).status == 200);
}

TEST_CASE("the dashboard answers 404 for unknown files and 405 for other methods, with its headers") {
  DashFixture f;
  auto r = f.Get("/dashboard/js/nope.js");
  CHECK(r.status == 404);
  CheckSecured(r);
  CHECK(f.Get("/dashboard/../v3").status == 404);
  r = f.Get("/dashboard/index.html", {}, "POST");
  CHECK(r.status == 405);
  CHECK(H(r, "Allow") == "GET, HEAD");
  CheckSecured(r);
  CHECK(f.Get("/dashboard/index.html", {}, "HEAD").status == 200);
  // No version negotiation: a bad microversion header does not matter to static files.
  CHECK(f.Get("/dashboard/", {{"openstack-api-version", "volume 9.99"}}).status == 200);
}

TEST_CASE("[dashboard] enabled: on by default, a boolean") {
  auto d = ParseConfig("[DEFAULT]\n", "c.conf");
  REQUIRE(d.ok());
  CHECK(d->dashboard_enabled);
  auto o = ParseConfig("[dashboard]\nenabled = false\n", "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK_FALSE(o->dashboard_enabled);
  auto bad = ParseConfig("[dashboard]\nenabled = maybe\n", "c.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("enabled") != std::string::npos);
}

TEST_CASE("[dashboard] enabled = false: /dashboard is not served") {
  DashFixture f(false);
  auto r = f.Get("/dashboard/");
  CHECK(r.status == 404);
  CHECK(H(r, "Content-Security-Policy").empty());
}

}  // namespace cinder
