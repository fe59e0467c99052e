// The REST layer through api::Router (no sockets): versions, microversions, noauth, views.
#include <doctest/doctest.h>

#include "api/router.h"
#include "cinder/service.h"
#include "common/json.h"
#include "common/util.h"
#include "test_util.h"

namespace cinder {

namespace {

struct Fixture {
  testing::TempDir dir;
  Options options;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<api::Router> router;

  Fixture() {
    options = DefaultOptions(dir.path());
    options.host = "h";
    options.osapi_max_limit = 3;
    REQUIRE(DbSync(options).ok());
    VolumeManagerOptions vmo;
    vmo.options = options;
    volumes = std::move(VolumeManager::Open(vmo)).value();
    router = std::make_unique<api::Router>(options, volumes.get());
  }

  api::ApiResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                        const std::string& version = "volume 3.70") {
    api::ApiRequest req = testing::ApiRequestFor(method, target, body, version, "u1:abc123");
    return router->Handle(req);
  }

  std::string Header(const api::ApiResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
};

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string IdOf(const std::string& body) {
  auto p = body.find("\"id\": \"");
  REQUIRE(p != std::string::npos);
  return body.substr(p + 7, 36);
}

}  // namespace

TEST_CASE("GET / answers 300 with Cinder's versions document") {
  Fixture f;
  auto r = f.Call("GET", "/", "", "");
  CHECK(r.status == 300);
  CHECK(r.body ==
        "{\"versions\": [{\"id\": \"v3.0\", \"status\": \"CURRENT\", \"version\": \"3.70\", "
        "\"min_version\": \"3.0\", \"updated\": \"2022-08-31T00:00:00Z\", \"links\": [{\"rel\": "
        "\"describedby\", \"type\": \"text/html\", \"href\": \"https://docs.openstack.org/\"}, "
        "{\"rel\": \"self\", \"href\": \"http://h:1/v3/\"}], \"media-types\": [{\"base\": "
        "\"application/json\", \"type\": \"application/vnd.openstack.volume+json;version=3\"}]}]}");
  CHECK(f.Call("GET", "/v3/").status == 200);
}

TEST_CASE("microversions: none is 3.0, latest is the max, out of range 406, malformed 400") {
  Fixture f;
  auto none = f.Call("GET", "/v3/abc123/volumes", "", "");
  CHECK(none.status == 200);
  CHECK(f.Header(none, "OpenStack-API-Version") == "volume 3.0");
  CHECK(f.Header(none, "Vary") == "OpenStack-API-Version");
  CHECK(f.Header(f.Call("GET", "/v3/abc123/volumes", "", "volume latest"), "OpenStack-API-Version") == "volume 3.70");
  CHECK(f.Header(f.Call("GET", "/v3/abc123/volumes", "", "compute 2.1, volume 3.45"), "OpenStack-API-Version") ==
        "volume 3.45");
  auto high = f.Call("GET", "/v3/abc123/volumes", "", "volume 3.71");
  CHECK(high.status == 406);
  CHECK(f.Header(high, "OpenStack-API-Version") == "volume 3.71");
  CHECK(high.body ==
        "{\"computeFault\": {\"code\": 406, \"message\": \"Version 3.71 is not supported by the API. "
        "Minimum is 3.0 and maximum is 3.70.\"}}");
  CHECK(f.Call("GET", "/v3/abc123/volumes", "", "volume 2.0").status == 406);
  auto bad = f.Call("GET", "/v3/abc123/volumes", "", "volume 3.x");
  CHECK(bad.status == 400);
  CHECK(Contains(bad.body, "API Version String 3.x is of invalid format. Must be of format MajorNum.MinorNum."));
  CHECK(f.Call("GET", "/v3/abc123/volumes", "", "volume 3.01").status == 400);
}

TEST_CASE("noauth: no token answers 204 with one; a URL project other than the token's is refused") {
  Fixture f;
  api::ApiRequest req;
  req.method = "GET";
  req.path = "/v3/abc123/volumes";
  req.host_url = "http://h:1";
  auto r = f.router->Handle(req);
  CHECK(r.status == 204);
  CHECK(f.Header(r, "X-Auth-Token") == "admin:admin");
  auto other = f.Call("GET", "/v3/ffff/volumes");
  CHECK(other.status == 400);
  CHECK(Contains(other.body, "Malformed request url"));
}

TEST_CASE("the detail view has Cinder's fields for the microversion asked") {
  Fixture f;
  auto created = f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "name": "a"}})");
  REQUIRE(created.status == 202);
  CHECK(Contains(created.body, "\"status\": \"creating\""));
  CHECK_FALSE(Contains(created.body, "os-vol-host-attr:host"));  // create shows no extension keys
  std::string id = IdOf(created.body);
  f.volumes->Drain();
  auto v30 = f.Call("GET", "/v3/abc123/volumes/" + id, "", "volume 3.0");
  CHECK(Contains(v30.body, "\"bootable\": \"false\""));
  CHECK(Contains(v30.body, "\"os-vol-host-attr:host\": \"h@file#file\""));
  CHECK(Contains(v30.body, "\"links\": [{\"rel\": \"self\", \"href\": \"http://h:1/v3/abc123/volumes/" + id +
                               "\"}, {\"rel\": \"bookmark\", \"href\": \"http://h:1/abc123/volumes/" + id + "\"}]"));
  CHECK_FALSE(Contains(v30.body, "volume_type_id"));
  CHECK_FALSE(Contains(v30.body, "\"group_id\""));
  auto v370 = f.Call("GET", "/v3/abc123/volumes/" + id);
  for (const char* key : {"group_id", "provider_id", "shared_targets", "service_uuid", "cluster_name", "volume_type_id",
                          "consumes_quota"}) {
    std::string k = key;
    CAPTURE(k);
    CHECK(Contains(v370.body, std::string("\"") + key + "\": "));
  }
  // 3.67: the same resource without the project in the URL, and links without it.
  auto bare = f.Call("GET", "/v3/volumes/" + id);
  CHECK(bare.status == 200);
  CHECK(Contains(bare.body, "\"href\": \"http://h:1/v3/volumes/" + id + "\""));
}

TEST_CASE("lists page with volumes_links and count (3.45)") {
  Fixture f;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1}})").status == 202);
  }
  auto page = f.Call("GET", "/v3/abc123/volumes?limit=2&with_count=true");
  CHECK(page.status == 200);
  CHECK(Contains(page.body, "\"count\": 4"));
  CHECK(Contains(page.body,
                 "\"volumes_links\": [{\"rel\": \"next\", \"href\": "
                 "\"http://h:1/v3/abc123/volumes?limit=2&with_count=true&marker="));
  // osapi_max_limit (3 here) caps a page.
  auto capped = f.Call("GET", "/v3/abc123/volumes/detail");
  CHECK(Contains(capped.body, "volumes/detail?marker="));
  // Before 3.45 with_count is not a known parameter.
  CHECK(f.Call("GET", "/v3/abc123/volumes?with_count=true", "", "volume 3.44").status == 400);
  auto bad = f.Call("GET", "/v3/abc123/volumes?limit=x");
  CHECK(bad.body == "{\"badRequest\": {\"code\": 400, \"message\": \"limit param must be an integer\"}}");
  CHECK(f.Call("GET", "/v3/abc123/volumes?sort=size:up").status == 400);
  CHECK(f.Call("GET", "/v3/abc123/volumes?marker=nope").status == 404);
  CHECK(f.Call("GET", "/v3/abc123/volumes?foo=1").status == 400);
}

TEST_CASE("request validation follows Cinder's schemas") {
  Fixture f;
  struct Case {
    const char* body;
    int status;
    const char* message;
  };
  const Case cases[] = {
      {R"({"volume": {"size": 0}})", 400,
       "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"},
      {R"({"volume": {"size": -1}})", 400,
       "Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1"},
      {R"({"volume": {"size": "abc"}})", 400,
       "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'"},
      {R"({"volume": {"size": 1.5}})", 400,
       "Invalid input for field/attribute size. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'"},
      {R"({"volume": {"size": true}})", 400,
       "Invalid input for field/attribute size. Value: True. True is not of type 'integer', 'string', 'null'"},
      {R"({"volume": {"size": 1, "colour": "red"}})", 400,
       "Invalid input for field/attribute volume. Value: {'size': 1, 'colour': 'red'}. Additional properties are not "
       "allowed ('colour' was unexpected)"},
      {R"({"volume": {"size": 1, "metadata": {"k": 1}}})", 400,
       "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
      {R"({"volume": {"size": 1, "multiattach": true}})", 400,
       "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. "
       "Contact your administrator to create a multiattach enabled volume type and use it to create multiattach "
       "volumes."},
      {R"({"volume": {"size": 1, "volume_type": "gold"}})", 404, "Volume type with name gold could not be found."},
      {R"({"volume": {"size": 1, "snapshot_id": "x"}})", 400,
       "Invalid input for field/attribute snapshot_id. Value: x. 'x' is not a 'uuid'"},
      {R"({"volume": {"size": 1, "backup_id": "x"}})", 400,
       "Invalid input received: creating a volume with 'backup_id' is not supported by this service yet."},
      {R"({"vol": {}})", 400, "'volume' is a required property"},
      {R"({"volume": )", 400, "Malformed request body"},
  };
  for (const auto& c : cases) {
    std::string body = c.body;
    auto r = f.Call("POST", "/v3/abc123/volumes", body);
    CAPTURE(body);
    CAPTURE(r.body);
    CHECK(r.status == c.status);
    CHECK(Contains(r.body, std::string("\"message\": \"") + c.message + "\""));
  }
  // The size as a string of digits is accepted, as Cinder's schema allows.
  CHECK(f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": "2"}})").status == 202);
}

TEST_CASE("request bodies read as Python's json reads them: big integers, repeated keys, floats, bad JSON") {
  Fixture f;
  auto message = [](const api::ApiResponse& r) {
    auto v = json::Parse(r.body);
    REQUIRE(v.ok());
    return v->Find("badRequest") ? v->Find("badRequest")->Find("message")->as_string() : r.body;
  };
  const std::string size = "Invalid input for field/attribute size. Value: ";
  const std::pair<std::string, std::string> cases[] = {
      // Integers past 64 bits are out of range, not wrapped (2^64 + 1 used to make 1 GiB).
      {R"({"volume": {"size": 18446744073709551617}})",
       size + "18446744073709551617. 18446744073709551617 is greater than the maximum of 2147483647"},
      {R"({"volume": {"size": 18446744073709551616}})",
       size + "18446744073709551616. 18446744073709551616 is greater than the maximum of 2147483647"},
      {R"({"volume": {"size": 9223372036854775808}})",
       size + "9223372036854775808. 9223372036854775808 is greater than the maximum of 2147483647"},
      {R"({"volume": {"size": -9223372036854775809}})",
       size + "-9223372036854775809. -9223372036854775809 is less than the minimum of 1"},
      {R"({"volume": {"size": 1, "size": 18446744073709551617}})",
       size + "18446744073709551617. 18446744073709551617 is greater than the maximum of 2147483647"},
      // Floats as Python's repr() prints them.
      {R"({"volume": {"size": 1.0}})", size + "1.0. 1.0 is not of type 'integer', 'string', 'null'"},
      {R"({"volume": {"size": 1e15}})",
       size + "1000000000000000.0. 1000000000000000.0 is not of type 'integer', 'string', 'null'"},
      {R"({"volume": {"size": 0.00001}})", size + "1e-05. 1e-05 is not of type 'integer', 'string', 'null'"},
      {R"({"volume": {"size": 1, "name": 2.50}})",
       "Invalid input for field/attribute name. Value: 2.5. 2.5 is not of type 'string', 'null'"},
      // Not JSON Cinder reads.
      {"{\"volume\": {\"size\": 1, \"name\": \"\xff\"}}", "Malformed request body"},
      {R"({"volume": {"size": 1, "name": "\udc00"}})", "Malformed request body"},
      {R"({"volume": {"size": 1, "metadata": {"k": )" + std::string(62, '[') + std::string(62, ']') + "}}}",
       "Malformed request body"},
      {std::string(100'000, '['), "Malformed request body"},
      {R"({"volume": {"size": 1e400}})", "Malformed request body"},
      {R"({"volume": {"size": 1}} {})", "Malformed request body"},
      {R"(["volume"])", "Malformed request body"},
  };
  for (const auto& [body, want] : cases) {
    CAPTURE(body);
    auto r = f.Call("POST", "/v3/abc123/volumes", body);
    CHECK(r.status == 400);
    CHECK(message(r) == want);
  }
  CHECK(f.Call("GET", "/v3/abc123/volumes").body == "{\"volumes\": []}");

  // Repeated keys: the last value, in the first position (Python's dict).
  auto made = f.Call("POST", "/v3/abc123/volumes",
                     R"({"volume": {"size": 9, "name": "first", "size": 1, "name": "last", "metadata": {"b": "1"},
                         "metadata": {"a": "2", "a": "3"}}})");
  CHECK(made.status == 202);
  CHECK(Contains(made.body, "\"size\": 1,"));
  CHECK(Contains(made.body, "\"name\": \"last\""));
  CHECK(Contains(made.body, "\"metadata\": {\"a\": \"3\"}"));
  auto action = f.Call("POST", "/v3/abc123/volumes/" + IdOf(made.body) + "/action",
                       R"({"os-extend": {"new_size": 18446744073709551617}})");
  CHECK(action.status == 400);
  CHECK(message(action) ==
        "Invalid input for field/attribute new_size. Value: 18446744073709551617. 18446744073709551617 is greater "
        "than the maximum of 2147483647");

  // Quotas: oslo's validate_integer and the quota class schema, on integers of any size.
  auto quota = [&](const std::string& body) {
    return message(f.Call("PUT", "/v3/abc123/os-quota-sets/abc123", R"({"quota_set": {"gigabytes": )" + body + "}}"));
  };
  CHECK(quota("18446744073709551617") == "gigabytes must be <= 2147483647");
  CHECK(quota("-18446744073709551617") == "gigabytes must be >= -1");
  CHECK(quota("1.0") == "gigabytes must be an integer");
  auto quota_class = [&](const std::string& body) {
    return message(
        f.Call("PUT", "/v3/abc123/os-quota-class-sets/default", R"({"quota_class_set": {"gigabytes": )" + body + "}}"));
  };
  CHECK(quota_class("18446744073709551616") ==
        "Invalid input for field/attribute gigabytes. Value: 18446744073709551616. 18446744073709551616 is greater "
        "than the maximum of 2147483647");
  CHECK(quota_class("-9223372036854775809") ==
        "Invalid input for field/attribute gigabytes. Value: -9223372036854775809. -9223372036854775809 is less than "
        "the minimum of -1");
}

TEST_CASE("metadata items and actions answer as Cinder's controllers") {
  Fixture f;
  auto created = f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "metadata": {"a": "1"}}})");
  std::string id = IdOf(created.body);
  f.volumes->Drain();
  std::string base = "/v3/abc123/volumes/" + id;
  CHECK(f.Call("GET", base + "/metadata/a").body == "{\"meta\": {\"a\": \"1\"}}");
  auto missing = f.Call("GET", base + "/metadata/zz");
  CHECK(missing.status == 404);
  CHECK(Contains(missing.body, "Volume " + id + " has no metadata with key zz."));
  auto mismatch = f.Call("PUT", base + "/metadata/a", R"({"meta": {"b": "2"}})");
  CHECK(mismatch.status == 400);
  CHECK(Contains(mismatch.body, "Request body and URI mismatch"));
  CHECK(f.Call("PUT", base + "/metadata/a", R"({"meta": {"a": "9"}})").body == "{\"meta\": {\"a\": \"9\"}}");
  // ETag and If-Match (3.15), as cinderclient's metadata unset uses them.
  auto listed = f.Call("GET", base + "/metadata");
  std::string etag = f.Header(listed, "Etag");
  CHECK(etag.size() == 32);
  api::ApiRequest put;
  put.method = "PUT";
  put.path = base + "/metadata";
  put.headers = {{"x-auth-token", "u1:abc123"}, {"openstack-api-version", "volume 3.70"}, {"if-match", "stale"}};
  put.body = R"({"metadata": {}})";
  put.host_url = "http://h:1";
  CHECK(f.router->Handle(put).status == 412);
  put.headers["if-match"] = etag;
  CHECK(f.router->Handle(put).body == "{\"metadata\": {}}");

  auto unknown = f.Call("POST", base + "/action", R"({"os-frobnicate": {}})");
  CHECK(unknown.status == 400);
  CHECK(Contains(unknown.body, "There is no such action: os-frobnicate"));
  auto small = f.Call("POST", base + "/action", R"({"os-extend": {"new_size": 1}})");
  CHECK(small.status == 400);
  CHECK(f.Call("POST", base + "/action", R"({"os-extend": {"new_size": "x"}})").status == 400);
  CHECK(f.Call("POST", base + "/action", R"({"os-extend": {"new_size": 2}})").status == 202);
  f.volumes->Drain();
  CHECK(Contains(f.Call("GET", base).body, "\"size\": 2"));
  CHECK(f.Call("POST", base + "/action", R"({"os-reset_status": {"status": "nonsense"}})").status == 400);
  CHECK(f.Call("POST", base + "/action", R"({"os-reset_status": {"status": "error"}})").status == 202);
  CHECK(f.Call("POST", base + "/action", R"({"os-force_delete": {}})").status == 202);
  f.volumes->Drain();
  auto gone = f.Call("GET", base);
  CHECK(gone.status == 404);
  CHECK(gone.body == "{\"itemNotFound\": {\"code\": 404, \"message\": \"Volume " + id + " could not be found.\"}}");
}

}  // namespace cinder

namespace cinder {

TEST_CASE("a limit above osapi_max_limit is capped, and the page still links onward") {
  Fixture f;  // osapi_max_limit = 3
  for (int i = 0; i < 4; ++i) REQUIRE(f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1}})").status == 202);
  auto r = f.Call("GET", "/v3/abc123/volumes?limit=5000");
  CHECK(r.status == 200);
  size_t ids = 0;
  for (size_t p = r.body.find("\"id\": "); p != std::string::npos; p = r.body.find("\"id\": ", p + 1)) ++ids;
  CHECK(ids == 3);
  CHECK(Contains(r.body, "\"rel\": \"next\""));
}

TEST_CASE("update: null clears a name, and the v3 name wins over display_name") {
  Fixture f;
  std::string id = IdOf(f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "name": "a"}})").body);
  auto cleared = f.Call("PUT", "/v3/abc123/volumes/" + id, R"({"volume": {"name": null}})");
  CHECK(cleared.status == 200);
  CHECK(Contains(cleared.body, "\"name\": null"));
  auto both = f.Call("PUT", "/v3/abc123/volumes/" + id, R"({"volume": {"name": "v3", "display_name": "v2"}})");
  CHECK(Contains(both.body, "\"name\": \"v3\""));
  auto empty = f.Call("PUT", "/v3/abc123/volumes/" + id, R"({"volume": {}})");
  CHECK(empty.status == 400);
  CHECK(Contains(empty.body, "{} is not valid under any of the given schemas"));
}

TEST_CASE("metadata filters read Python dict literals, quotes included") {
  Fixture f;
  std::string id = IdOf(
      f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "metadata": {"k": "it's", "n": "1"}}})").body);
  REQUIRE(f.Call("POST", "/v3/abc123/volumes", R"({"volume": {"size": 1, "metadata": {"k": "other"}}})").status == 202);
  auto r = f.Call("GET", "/v3/abc123/volumes?metadata={'k': \"it's\", \"n\": '1'}");
  CHECK(r.status == 200);
  CHECK(Contains(r.body, id));
  CHECK(r.body.find("\"id\": ", r.body.find("\"id\": ") + 1) == std::string::npos);  // only one
  CHECK(f.Call("GET", "/v3/abc123/volumes?metadata={'k': 1}").status == 400);
  CHECK(f.Call("GET", "/v3/abc123/volumes?metadata=k=v").status == 400);
}

}  // namespace cinder

namespace cinder {

TEST_CASE("os-services lists Cinder's fields for the version asked, and updates answer as Cinder") {
  Fixture f;
  auto v30 = f.Call("GET", "/v3/abc123/os-services?binary=cinder-volume", "", "volume 3.0");
  REQUIRE(v30.status == 200);
  CHECK(Contains(v30.body,
                 "{\"binary\": \"cinder-volume\", \"host\": \"h@file\", \"zone\": \"nova\", "
                 "\"status\": \"enabled\", \"state\": \"up\", \"updated_at\": \""));
  CHECK(Contains(v30.body,
                 "\"disabled_reason\": null, \"replication_status\": \"disabled\", "
                 "\"active_backend_id\": null, \"frozen\": false}"));
  CHECK_FALSE(Contains(v30.body, "cluster"));
  CHECK_FALSE(Contains(v30.body, "cinder-scheduler"));
  auto v370 = f.Call("GET", "/v3/abc123/os-services");
  CHECK(Contains(v370.body, "\"backend_state\": \"up\", \"cluster\": null"));
  CHECK(Contains(v370.body, "\"binary\": \"cinder-scheduler\""));
  auto off = f.Call("PUT", "/v3/abc123/os-services/disable-log-reason",
                    R"({"host": "h@file", "binary": "cinder-volume", "disabled_reason": "swap"})");
  CHECK(off.body ==
        "{\"disabled_reason\": \"swap\", \"disabled\": true, \"host\": \"h@file\", "
        "\"service\": \"\", \"binary\": \"cinder-volume\", \"status\": \"disabled\"}");
  auto on = f.Call("PUT", "/v3/abc123/os-services/enable", R"({"host": "h@file", "service": "cinder-volume"})");
  CHECK(on.body ==
        "{\"disabled\": false, \"host\": \"h@file\", \"service\": \"\", \"binary\": "
        "\"cinder-volume\", \"status\": \"enabled\"}");
  // Replication's failover is not served: Cinder's 404 for an unknown resource (docs/api.md
  // lists it); an action Cinder does not know is its 400 "Unknown action". freeze answers 200
  // with no body (the host's backends are frozen), and a second time 400.
  CHECK(f.Call("PUT", "/v3/abc123/os-services/failover_host", R"({"host": "h"})").status == 404);
  auto frozen = f.Call("PUT", "/v3/abc123/os-services/freeze", R"({"host": "h"})");
  CHECK(frozen.status == 200);
  CHECK(frozen.body.empty());
  CHECK(f.Call("PUT", "/v3/abc123/os-services/freeze", R"({"host": "h"})").status == 400);
  CHECK(f.Call("PUT", "/v3/abc123/os-services/thaw", R"({"host": "h"})").status == 200);
  CHECK(f.Call("PUT", "/v3/abc123/os-services/bogus", R"({"host": "h"})").status == 400);
  CHECK(f.Call("PUT", "/v3/abc123/os-services/disable-log-reason",
               R"({"host": "h@file", "binary": "cinder-volume", "disabled_reason": "  "})")
            .status == 400);
}

}  // namespace cinder

namespace cinder::api {

TEST_CASE("an internal error answers Cinder's generic 500, never its own text") {
  ApiResponse r = FaultFrom(Internal("database error: SELECT secret FROM volumes WHERE id = 'x'"));
  CHECK(r.status == 500);
  CHECK(r.body.find("SELECT") == std::string::npos);
  CHECK(r.body.find("computeFault") != std::string::npos);
  CHECK(r.body.find(kInternalFault) != std::string::npos);
  ApiResponse u = FaultFrom(Unavailable("The server is currently unavailable. Please try again at a later time."));
  CHECK(u.status == 503);
  CHECK(u.body.find("\"serviceUnavailable\"") != std::string::npos);
}

}  // namespace cinder::api

namespace cinder {

TEST_CASE("metrics: a request's route is its template (no project, id, name or key), and /metrics needs no version") {
  Fixture f;
  const std::pair<const char*, const char*> cases[] = {
      {"/v3/abc123/volumes", "/v3/{project_id}/volumes"},
      {"/v3/abc123/volumes/detail", "/v3/{project_id}/volumes/detail"},
      {"/v3/abc123/os-quota-sets/other-project/defaults", "/v3/{project_id}/os-quota-sets/{id}/defaults"},
      {"/v3/abc123/os-quota-sets/other-project", "/v3/{project_id}/os-quota-sets/{id}"},
      {"/v3/volumes/detail", "/v3/volumes/detail"},
      // A 404 or 405 (no such volume, type or collection; a GET of an action) names no route:
      // no client makes up label values by inventing paths.
      {"/v3/abc123/volumes/3f8a1c2e-0000-4000-8000-000000000001/action", "unmatched"},
      {"/v3/abc123/volumes/3f8a1c2e-0000-4000-8000-000000000001/metadata/secret-key", "unmatched"},
      {"/v3/abc123/types/gold/extra_specs/volume_backend_name", "unmatched"},
      {"/v3/abc123/no-such-collection/x", "unmatched"},
      {"/v3", "/v3"},
      {"/", "/"},
      {"/elsewhere", "unmatched"},
  };
  for (const auto& [path, route] : cases) {
    api::ApiRequest req = testing::ApiRequestFor("GET", path, "", "volume 3.70", "u1:abc123");
    f.router->Handle(req);
    CHECK_MESSAGE(req.route == route, path);
  }
  // Before microversion negotiation: a version the API refuses does not matter.
  api::ApiRequest req = testing::ApiRequestFor("GET", "/metrics", "", "volume 9.0", "");
  auto r = f.router->Handle(req);
  CHECK(r.status == 200);
  CHECK(f.Header(r, "Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(Contains(r.body, "cinder_api_requests_total{route=\"/v3/{project_id}/os-quota-sets/{id}/defaults\""));
  CHECK_FALSE(Contains(r.body, "secret-key"));
  CHECK_FALSE(Contains(r.body, "other-project"));
  CHECK_FALSE(Contains(r.body, "abc123"));
  api::ApiRequest post = testing::ApiRequestFor("POST", "/metrics", "", "", "");
  CHECK(f.router->Handle(post).status == 405);
  // [metrics] enabled = false: not served.
  Options off = f.options;
  off.metrics.enabled = false;
  api::Router quiet(off, f.volumes.get());
  api::ApiRequest gone = testing::ApiRequestFor("GET", "/metrics", "", "", "");
  CHECK(quiet.Handle(gone).status == 404);
}

}  // namespace cinder
