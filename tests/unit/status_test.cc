#include <doctest/doctest.h>

#include "api/http.h"
#include "cinder/status.h"

namespace cinder {

Result<int> Half(int n) {
  if (n % 2) return InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  CINDER_ASSIGN_OR_RETURN(int h, Half(n));
  CINDER_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST_CASE("Result carries a value or the first error") {
  CHECK(Quarter(8).ok());
  CHECK(*Quarter(8) == 2);
  auto r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message() == "3 is odd");
  CHECK(r.status().ToString() == "InvalidArgument: 3 is odd");
  CHECK(Status().ok());
}

TEST_CASE("every code maps to Cinder's HTTP status and fault name") {
  struct Case {
    Status st;
    int http;
    const char* fault;
  };
  const Case cases[] = {
      {InvalidArgument("x"), 400, "badRequest"},    {NotFound("x"), 404, "itemNotFound"},
      {FailedPrecondition("x"), 400, "badRequest"}, {AlreadyExists("x"), 409, "conflictingRequest"},
      {Aborted("x"), 409, "conflictingRequest"},    {PermissionDenied("x"), 403, "forbidden"},
      {Unauthenticated("x"), 401, "unauthorized"},  {ResourceExhausted("x"), 413, "overLimit"},
      {Unimplemented("x"), 501, "notImplemented"},  {Unavailable("x"), 503, "serviceUnavailable"},
      {Internal("x"), 500, "computeFault"},
  };
  for (const auto& c : cases) {
    auto resp = api::FaultFrom(c.st);
    CHECK(resp.status == c.http);
    // An internal error's own text stays in the log: Cinder's generic message instead.
    const std::string message = c.st.code() == Code::kInternal ? api::kInternalFault : "x";
    CHECK(resp.body == std::string("{\"") + c.fault + "\": {\"code\": " + std::to_string(c.http) + ", \"message\": \"" +
                           message + "\"}}");
  }
}

TEST_CASE("fault messages are JSON-escaped") {
  auto resp = api::FaultFrom(NotFound("Volume \"a\\b\" could not be found.\n"));
  CHECK(resp.body ==
        "{\"itemNotFound\": {\"code\": 404, \"message\": \"Volume \\\"a\\\\b\\\" could not be found.\\n\"}}");
}

}  // namespace cinder
