// Cinder's JsonFilter (scheduler/json_query.h), on the json_filter cases of
// cinder/tests/unit/scheduler/test_host_filters.py plus the behaviour those leave implicit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/json.h"
#include "scheduler/json_query.h"

namespace cinder::scheduler {

namespace {

json::Value J(std::string_view text) {
  auto r = json::Parse(text);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}

// A backend like Cinder's FakeBackendState: the given attributes, with `service` and
// `capabilities` defaulting to {} as BackendState.update_capabilities() sets them.
json::Value Backend(std::string_view attributes) {
  json::Value b = json::Value::MakeObject();
  b.Set("host", "host1");
  b.Set("capabilities", json::Value::MakeObject());
  b.Set("service", json::Value::MakeObject());
  const json::Value given = J(attributes);
  for (const auto& [k, v] : given.as_object()) b.Set(k, v);
  return b;
}

// Whether `backend` passes the query hint `query` (which must parse).
bool Passes(std::string_view query, const json::Value& backend) {
  auto q = JsonQuery::Parse(query);
  INFO(query);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return q->Passes([&](std::string_view path) { return ResolveVariable(backend, path); });
}

std::string ParseError(std::string_view query) {
  auto q = JsonQuery::Parse(query);
  INFO(query);
  REQUIRE(!q.ok());
  CHECK(q.status().code() == Code::kInvalidArgument);
  return q.status().message();
}

// BasicFiltersTestCase.setUp's query.
constexpr const char* kQuery = R"(["and", [">=", "$free_ram_mb", 1024], [">=", "$free_disk_mb", 204800]])";

}  // namespace

TEST_CASE("json query: Cinder's json_filter tests") {
  // test_json_filter_passes / fails_on_memory / fails_on_disk
  CHECK(Passes(kQuery, Backend(R"({"free_ram_mb": 1024, "free_disk_mb": 204800, "capabilities": {"enabled": true}})")));
  CHECK(
      !Passes(kQuery, Backend(R"({"free_ram_mb": 1023, "free_disk_mb": 204800, "capabilities": {"enabled": true}})")));
  CHECK(
      !Passes(kQuery, Backend(R"({"free_ram_mb": 1024, "free_disk_mb": 204799, "capabilities": {"enabled": true}})")));
  // test_json_filter_passes_with_no_query
  CHECK(Passes("", Backend(R"({"free_ram_mb": 0, "free_disk_mb": 0})")));

  // test_json_filter_fails_on_caps_disabled
  CHECK(!Passes(R"(["and", [">=", "$free_ram_mb", 1024], [">=", "$free_disk_mb", 204800], "$capabilities.enabled"])",
                Backend(R"({"free_ram_mb": 1024, "free_disk_mb": 204800, "capabilities": {"enabled": false}})")));
  // test_json_filter_fails_on_service_disabled: service is {}, so $service.disabled is None
  // and dropped; ["not"] is then [], which is false.
  CHECK(
      !Passes(R"(["and", [">=", "$free_ram_mb", 1024], [">=", "$free_disk_mb", 204800], ["not", "$service.disabled"]])",
              Backend(R"({"free_ram_mb": 1024, "free_disk_mb": 204800, "capabilities": {"enabled": true}})")));

  // test_json_filter_happy_day
  const char* happy = R"(["and", "$capabilities.enabled", ["=", "$capabilities.opt1", "match"],
      ["or", ["and", ["<", "$free_ram_mb", 30], ["<", "$free_disk_mb", 300]],
             ["and", [">", "$free_ram_mb", 30], [">", "$free_disk_mb", 300]]]])";
  CHECK(Passes(happy, Backend(R"({"free_ram_mb": 10, "free_disk_mb": 200,
      "capabilities": {"enabled": true, "opt1": "match"}, "service": {"disabled": false}})")));
  CHECK(Passes(happy, Backend(R"({"free_ram_mb": 40, "free_disk_mb": 400,
      "capabilities": {"enabled": true, "opt1": "match"}, "service": {"disabled": false}})")));
  CHECK(!Passes(happy, Backend(R"({"free_ram_mb": 40, "free_disk_mb": 400,
      "capabilities": {"enabled": false, "opt1": "match"}, "service": {"disabled": false}})")));
  CHECK(!Passes(happy, Backend(R"({"free_ram_mb": 30, "free_disk_mb": 300,
      "capabilities": {"enabled": true, "opt1": "match"}, "service": {"disabled": false}})")));
  CHECK(!Passes(happy, Backend(R"({"free_ram_mb": 20, "free_disk_mb": 400,
      "capabilities": {"enabled": true, "opt1": "match"}, "service": {"disabled": false}})")));
  CHECK(!Passes(happy, Backend(R"({"free_ram_mb": 20, "free_disk_mb": 400,
      "capabilities": {"enabled": true, "opt1": "no-match"}, "service": {"enabled": true}})")));

  // test_json_filter_basic_operators
  const json::Value host = Backend(R"({"capabilities": {"enabled": true}})");
  struct Op {
    const char* query;
    bool expected;
  };
  for (const Op& op : std::vector<Op>{{R"(["=", 1, 1])", true},
                                      {R"(["=", 1, 2])", false},
                                      {R"(["<", 1, 2])", true},
                                      {R"(["<", 1, 1])", false},
                                      {R"(["<", 2, 1])", false},
                                      {R"([">", 2, 1])", true},
                                      {R"([">", 2, 2])", false},
                                      {R"([">", 2, 3])", false},
                                      {R"(["<=", 1, 2])", true},
                                      {R"(["<=", 1, 1])", true},
                                      {R"(["<=", 2, 1])", false},
                                      {R"([">=", 2, 1])", true},
                                      {R"([">=", 2, 2])", true},
                                      {R"([">=", 2, 3])", false},
                                      {R"(["in", 1, 1])", true},
                                      {R"(["in", 1, 1, 2, 3])", true},
                                      {R"(["in", 4, 1, 2, 3])", false},
                                      {R"(["not", true])", false},
                                      {R"(["not", false])", true},
                                      {R"(["or", true, false])", true},
                                      {R"(["or", false, false])", false},
                                      {R"(["and", true, true])", true},
                                      {R"(["and", false, false])", false},
                                      {R"(["and", true, false])", false},
                                      {R"(["and", ["or", true, false], [">", 2, 1]])", true},
                                      // [False, True, False, True]: any true element passes
                                      {R"(["not", true, false, true, false])", true},
                                      {R"(["not", true, true, true])", false}}) {
    CHECK(Passes(op.query, host) == op.expected);
  }

  // test_json_filter_unknown_operator_raises: Cinder's KeyError is a parse error here.
  CHECK(ParseError(R"(["!=", 1, 2])") ==
        "Invalid JSON query hint: unknown operator \"!=\" (the operators are =, <, >, in, <=, >=, not, or, and)");

  // test_json_filter_empty_filters_pass
  CHECK(Passes("[]", host));
  CHECK(Passes("{}", host));

  // test_json_filter_invalid_num_arguments_fails
  CHECK(!Passes(R"([">", ["and", ["or", ["not", ["<", [">=", ["<=", ["in"]]]]]]]])", host));
  CHECK(!Passes(R"([">", 1])", host));

  // test_json_filter_unknown_variable_ignored: the unknown variable is dropped.
  CHECK(Passes(R"(["=", "$........", 1, 1])", host));
  CHECK(Passes(R"(["=", "$foo", 2, 2])", host));
}

TEST_CASE("json query: arguments, variables and Python's values") {
  const json::Value b = Backend(R"({"free_capacity_gb": 1024.5, "total_capacity_gb": 2048, "thin": true,
      "backend_id": "rbd:vol@ceph#cloud", "pools": ["a", "b"], "note": "",
      "capabilities": {"enabled": true, "opt1": "match", "nested": {"level": 3}, "none": null}})");
  CHECK(Passes(R"(["and", [">=", "$free_capacity_gb", 1024], ["=", "$total_capacity_gb", 2048]])", b));
  CHECK(Passes(R"(["=", "$backend_id", "rbd:vol@ceph#cloud"])", b));  // Cinder's docstring example
  CHECK(Passes(R"(["=", "$capabilities.nested.level", 3.0])", b));
  CHECK(
      Passes(R"(["=", "$capabilities", {"enabled": true, "opt1": "match", "nested": {"level": 3}, "none": null}])", b));
  // Missing, None and "" arguments are dropped, so what is left decides.
  CHECK(!Passes(R"(["=", "$capabilities.none", 1])", b));  // one argument left: false
  CHECK(Passes(R"(["=", "$capabilities.nope", null, "", 1, 1])", b));
  CHECK(Passes(R"(["and", "$missing"])", b));                           // all([]) is true
  CHECK(!Passes(R"(["or", "$missing"])", b));                           // any([]) is false
  CHECK(!Passes(R"(["and", "$note"])", b));                             // the attribute's value "" is false
  CHECK(!Passes(R"(["=", "$capabilities.opt1.deeper", "match"])", b));  // into a str: dropped
  CHECK(Passes(R"(["and", "$pools", "$thin", 1, "x", {"a": 1}])", b));  // truthiness
  CHECK(!Passes(R"(["and", 0])", b));
  CHECK(!Passes(R"(["and", {}])", b));
  CHECK(Passes(R"(["and", []])", b));  // an empty sub-query is true
  // Nested "not" gives a list, true when non-empty.
  CHECK(Passes(R"(["and", ["not", true]])", b));
  CHECK(!Passes(R"(["and", ["not", "$missing"]])", b));
  CHECK(Passes(R"(["=", ["not", true], ["not", true, "$missing"]])", b));
  // Python's comparisons: bools are numbers, ints and doubles compare exactly, strings
  // never equal numbers, lists compare element-wise.
  CHECK(Passes(R"(["=", true, 1, 1.0])", b));
  CHECK(Passes(R"(["<", false, true, 2])", b));
  CHECK(!Passes(R"(["=", 9007199254740993, 9007199254740992.0])", b));
  CHECK(Passes(R"(["<", 9007199254740992.0, 9007199254740993])", b));
  CHECK(!Passes(R"(["=", "1", 1])", b));
  CHECK(Passes(R"(["in", "b", "a", "b"])", b));
  CHECK(Passes(R"(["=", "$pools", "$pools"])", b));
  CHECK(Passes(R"(["<", "B", "a", "ab"])", b));
  CHECK(Passes(R"(["<", "ab", "b"])", b));
  // Every argument is compared with the FIRST one, not chained.
  CHECK(Passes(R"(["<", 1, 3, 2])", b));
}

TEST_CASE("json query: where Cinder raises, the backend does not pass") {
  // free_capacity_gb can be the string "infinite": ordering it against a number is a
  // TypeError in Cinder (the whole request fails); this backend simply does not pass.
  const json::Value inf = Backend(R"({"free_capacity_gb": "infinite"})");
  const json::Value num = Backend(R"({"free_capacity_gb": 2000, "l1": [1, "a"], "l2": [1, 2], "l3": [2, 2]})");
  const char* q = R"([">=", "$free_capacity_gb", 1024])";
  CHECK(!Passes(q, inf));
  CHECK(Passes(q, num));
  // The error is not absorbed by an enclosing "or" or "not": it fails the whole query.
  CHECK(!Passes(R"(["or", true, [">=", "$free_capacity_gb", 1024]])", inf));
  CHECK(!Passes(R"(["not", [">=", "$free_capacity_gb", 1024]])", inf));
  // Even after another pair already failed, since Cinder compares every pair.
  CHECK(!Passes(R"(["<", 5, 1, "x"])", num));
  CHECK(!Passes(R"(["<", {"a": 1}, {"a": 2}])", num));
  CHECK(!Passes(R"(["<", "$l1", "$l2"])", num));
  CHECK(Passes(R"(["<", "$l1", "$l3"])", num));          // decided before the strings meet
  CHECK(Passes(R"(["=", {"a": 1}, {"a": 1.0}])", num));  // equality never raises
}

TEST_CASE("json query: what Parse accepts and refuses") {
  const json::Value b = Backend("{}");
  // Queries false to Python pass every backend.
  for (const char* q : {"", "null", "false", "0", "0.0", "\"\"", "[]", "{}"}) CHECK(Passes(q, b));
  // Malformed JSON (Cinder: ValueError), including whitespace only.
  CHECK(ParseError("  ") ==
        "Invalid JSON query hint: JSON parse error: no JSON value (the text is empty or only whitespace)");
  const std::string structure =
      "Invalid JSON query hint: JSON parse error: not one well-formed JSON value (a character is missing or "
      "unexpected, or text follows the value)";
  CHECK(ParseError(R"(["=", 1, 1)") == structure);
  CHECK(ParseError("['=', 1, 1]") == structure);
  // Not a list (Cinder: KeyError or TypeError on query[0]).
  CHECK(ParseError(R"({"and": []})") ==
        "Invalid JSON query hint: the query must be a list such as [\">=\", \"$free_capacity_gb\", 10], not "
        "{\"and\":[]}");
  CHECK(ParseError("true").find("not true") != std::string::npos);
  CHECK(ParseError("5").find("not 5") != std::string::npos);
  // Unknown or non-string operators anywhere, including lists meant as data.
  CHECK(ParseError(R"(["and", true, ["or", ["bogus", 1]]])").find("unknown operator \"bogus\"") != std::string::npos);
  CHECK(ParseError(R"(["in", "$x", ["a", "b"]])").find("unknown operator \"a\"") != std::string::npos);
  CHECK(ParseError(R"([1, 2])").find("unknown operator 1 ") != std::string::npos);
  CHECK(ParseError(R"([null])").find("unknown operator null ") != std::string::npos);
  CHECK(ParseError(R"([["="]])").find("unknown operator [\"=\"] ") != std::string::npos);
  CHECK(ParseError(R"(["AND", true])").find("unknown operator \"AND\"") != std::string::npos);
  // A string query is indexed character by character, as Cinder does.
  CHECK(Passes(R"("=aa")", b));
  CHECK(!Passes(R"("=ab")", b));
  CHECK(Passes(R"("<ab")", b));
  CHECK(Passes(R"("=\u00e9\u00e9")", b));  // characters, not bytes
  CHECK(ParseError(R"("and")").find("unknown operator \"a\"") != std::string::npos);
  // Depth is bounded by the JSON parser.
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "[\"not\", ";
  deep += "true" + std::string(70, ']');
  CHECK(ParseError(deep).find("deeper than 64 levels") != std::string::npos);
  std::string ok;
  for (int i = 0; i < 63; ++i) ok += "[\"and\", ";
  ok += "true" + std::string(63, ']');
  CHECK(Passes(ok, b));
}

TEST_CASE("json query: parsed once, evaluated per backend with a custom lookup") {
  auto q =
      JsonQuery::Parse(R"(["and", [">=", "$free_capacity_gb", 10], ["=", "$capabilities.storage_protocol", "iSCSI"]])");
  REQUIRE(q.ok());
  std::vector<std::string> asked;
  for (double free : {5.0, 50.0}) {
    asked.clear();
    const bool passes = q->Passes([&](std::string_view path) -> std::optional<json::Value> {
      asked.emplace_back(path);
      if (path == "free_capacity_gb") return json::Value(free);
      if (path == "capabilities.storage_protocol") return json::Value("iSCSI");
      return std::nullopt;
    });
    CHECK(passes == (free >= 10));
    // Every variable is looked up, in order, with the text after '$'.
    CHECK(asked == std::vector<std::string>{"free_capacity_gb", "capabilities.storage_protocol"});
  }
  // A copy evaluates the same.
  JsonQuery copy = *q;
  CHECK(!copy.Passes([](std::string_view) { return std::nullopt; }));

  CHECK(ResolveVariable(J(R"({"a": {"b": 1}})"), "a.b") == json::Value(1));
  CHECK(!ResolveVariable(J(R"({"a": {"b": 1}})"), "a.c"));
  CHECK(!ResolveVariable(J(R"({"a": {"b": null}})"), "a.b"));
  CHECK(!ResolveVariable(J(R"({"a": 5})"), "a.b"));
  CHECK(!ResolveVariable(J(R"({"a": 5})"), ""));
  CHECK(ResolveVariable(J(R"({"a": {"b": [1]}})"), "a") == J(R"({"b": [1]})"));
}

}  // namespace cinder::scheduler
