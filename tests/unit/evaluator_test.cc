// The scheduler's expression evaluator against Cinder's own cases
// (cinder/tests/unit/test_evaluator.py) and the quirks of evaluator.py it reproduces.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/evaluator.h"

namespace cinder::scheduler {

namespace {

// The numeric result; fails the test when evaluation fails.
double Num(std::string_view text, const EvalVars& vars = {}) {
  INFO("expression: ", std::string(text));
  auto r = EvaluateExpression(text, vars);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

// The typed result; fails the test when evaluation fails.
EvalValue Val(std::string_view text, const EvalVars& vars = {}) {
  INFO("expression: ", std::string(text));
  auto e = Expression::Parse(text);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  auto r = (*e)->EvaluateValue(vars);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

bool IsTrue(std::string_view text, const EvalVars& vars = {}) {
  EvalValue v = Val(text, vars);
  REQUIRE_MESSAGE(std::holds_alternative<bool>(v.v), (std::string(text) + " is not a bool"));
  return std::get<bool>(v.v);
}

std::string Text(std::string_view text, const EvalVars& vars = {}) {
  EvalValue v = Val(text, vars);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(v.v), (std::string(text) + " is not a string"));
  return std::get<std::string>(v.v);
}

// Parses, but evaluation fails (as Cinder raises EvaluatorParseException or another error).
bool EvalFails(std::string_view text, const EvalVars& vars = {}) {
  auto e = Expression::Parse(text);
  if (!e.ok()) return false;
  auto r = (*e)->EvaluateValue(vars);
  if (!r.ok()) CHECK(r.status().code() == Code::kInvalidArgument);
  return !r.ok();
}

bool ParseFails(std::string_view text) {
  auto e = Expression::Parse(text);
  if (!e.ok()) CHECK(e.status().code() == Code::kInvalidArgument);
  return !e.ok();
}

EvalVars StatsAndRequest() {
  EvalVars vars;
  vars["stats"] = {{"iops", {1000.0}}, {"usage", {0.65}}, {"count", {503.0}}, {"free_space", {407.0}}};
  vars["request"] = {{"iops", {500.0}}, {"size", {4.0}}};
  return vars;
}

}  // namespace

// --- Cinder's test_evaluator.py -----------------------------------------------------------------

TEST_CASE("evaluator: integer arithmetic") {
  CHECK(Num("1+1") == 2);
  CHECK(Num("2+3+4") == 9);
  CHECK(Num("11+12") == 23);
  CHECK(Num("5*6") == 30);
  CHECK(Num("22/11") == 2);
  CHECK(Num("109-71") == 38);
  CHECK(Num("872 - 453 + 44 / 22 * 4 + 66") == 493);
}

TEST_CASE("evaluator: floats and mixing them with ints") {
  CHECK(Num("1.0 + 1.0") == 2.0);
  CHECK(Num("1.5 + 1.0") == 2.5);
  CHECK(Num("1.5 * 2.0") == 3.0);
  CHECK(Num("1.5 + 1") == 2.5);
  CHECK(Num("8.5 / 2") == 4.25);
  CHECK(Num("10/4+0.75    + 2") == 5.25);
}

TEST_CASE("evaluator: negative numbers and signs") {
  CHECK(Num("-2") == -2);
  CHECK(Num("-2+1") == -1);
  CHECK(Num("5+-2") == 3);
  CHECK(Num("2 * - 3") == -6);
  CHECK(Num("- - 3") == 3);
  CHECK(Num("--3") == 3);
  CHECK(Num("+3") == 3);
  CHECK(Num("1 ++ 2") == 3);
  CHECK(Num("1 +- 2") == -1);
}

TEST_CASE("evaluator: exponent binds tighter than a sign and groups to the right") {
  CHECK(Num("2^3") == 8);
  CHECK(Num("-2 ^ 3") == -8);
  CHECK(Num("2.5 ^ 3") == 15.625);
  CHECK(Num("4 ^ 1.5") == 8);
  CHECK(Num("2^3^2") == 512);
  CHECK(Num("-2^2") == -4);
  CHECK(Num("2 + 3 * 4 ^ 2") == 50);
  CHECK(Num("2 * -3 ^ 2") == -18);
  CHECK(Num("0^0") == 1);
  CHECK(Num("(0-2)^(0-1)") == -0.5);
  CHECK(ParseFails("0^-1"));  // a sign cannot follow ^ without parentheses
}

TEST_CASE("evaluator: functions") {
  CHECK(Num("abs(-5)") == 5);
  CHECK(Num("abs(2)") == 2);
  CHECK(Num("min(1, 100)") == 1);
  CHECK(Num("max(1, 100)") == 100);
  CHECK(Num("max(1,2,3) + 1") == 4);
  CHECK(Num("min(3, 2.0, 2)") == 2);
  CHECK(Num("abs(-5.5)") == 5.5);
  CHECK(Num("abs abs 5") == 5);  // a function applies to the operand after it
  CHECK(Num("abs(1) + abs 2") == 3);
  CHECK(Num("max((1,2))") == 2);     // a list argument is spread
  CHECK(Text("max('abc')") == "c");  // one string argument is iterated, as in Python
  CHECK(EvalFails("max(1)"));        // 'int' object is not iterable
  CHECK(EvalFails("abs(1,2)"));
  CHECK(EvalFails("foo(3)"));        // unknown function
  CHECK(EvalFails("max((1,2),3)"));  // list > int
  CHECK(EvalFails("abs -5"));        // the string 'abs' minus 5
}

TEST_CASE("evaluator: parentheses") {
  CHECK(Num("(1)") == 1);
  CHECK(Num("(-1)") == -1);
  CHECK(Num("(1+1)") == 2);
  CHECK(Num("(1+2) * 5") == 15);
  CHECK(Num("(1+2)*(3-1)/((1+(2-1)))") == 3);
  CHECK(Num("((1.0 / 0.5) * (2)) *(-2)") == -8.0);
  CHECK(Num("(((1 + max(1 + (10 / 20), 2, 3)) / 100) + 1)") > 1);  // test_deep_function
}

TEST_CASE("evaluator: comparisons") {
  CHECK(IsTrue("1 < 2"));
  CHECK(IsTrue("2 > 1"));
  CHECK(IsTrue("2 != 1"));
  CHECK_FALSE(IsTrue("1 > 2"));
  CHECK_FALSE(IsTrue("2 < 1"));
  CHECK_FALSE(IsTrue("2 == 1"));
  CHECK(IsTrue("(1 == 1) == !(1 == 2)"));
  CHECK(IsTrue("1 <> 2"));
  CHECK(IsTrue("2 <= 2"));
  CHECK(IsTrue("2 >= 3") == false);
  CHECK(IsTrue("1 < 2 < 3"));  // chained as in Python
  CHECK(IsTrue("3 > 2 > 1 == 1"));
  CHECK_FALSE(IsTrue("2 < 1 > 1/0"));  // a chain stops at its first false link
  CHECK(EvalFails("1 < 2 > 1/0"));
  CHECK(ParseFails("1 =< 2"));
}

TEST_CASE("evaluator: logic operators") {
  CHECK(IsTrue("(1 == 1) AND (2 == 2)"));
  CHECK(IsTrue("(1 == 1) and (2 == 2)"));
  CHECK(IsTrue("(1 == 1) && (2 == 2)"));
  CHECK_FALSE(IsTrue("(1 == 1) && (5 == 2)"));
  CHECK(IsTrue("(1 == 1) OR (5 == 2)"));
  CHECK(IsTrue("(1 == 1) or (5 == 2)"));
  CHECK(IsTrue("(1 == 1) || (5 == 2)"));
  CHECK_FALSE(IsTrue("(5 == 1) || (5 == 2)"));
  CHECK_FALSE(IsTrue("(1 == 1) AND NOT (2 == 2)"));
  CHECK_FALSE(IsTrue("(1 == 1) AND not (2 == 2)"));
  CHECK_FALSE(IsTrue("(1 == 1) AND !(2 == 2)"));
  CHECK(IsTrue("(1 == 1) AND NOT (5 == 2)"));
  CHECK(IsTrue("(1 == 1) OR NOT (2 == 2) AND (5 == 5)"));
  CHECK(IsTrue("not 0 + 1") == false);  // `not` binds looser than +
  CHECK(IsTrue("!!1"));
  CHECK(IsTrue("NOT 0"));
  CHECK(IsTrue("not ''"));
  CHECK_FALSE(IsTrue("not 'a'"));
}

TEST_CASE("evaluator: and/or return an operand, evaluate both sides, and read only two operands") {
  CHECK(Num("1 and 2") == 2);
  CHECK(Num("0 or 3") == 3);
  CHECK(Num("1 && 0 || 1") == 1);
  CHECK(Num("1 or 0 and 0") == 1);
  CHECK(Num("1 AND 2 OR 3") == 2);
  CHECK(EvalFails("0 and 1/0"));     // no short circuit
  CHECK(Num("1 and 1 and 0") == 1);  // Cinder's EvalBoolAndOp looks at two operands only
  CHECK(Num("0 or 0 or 1") == 0);
  CHECK(Num("1 and 1 and 1/0") == 1);
  CHECK(Num("(1 and 1) and 0") == 0);
}

TEST_CASE("evaluator: ternary") {
  CHECK(Num("(1 < 2) ? 5 : 10") == 5);
  CHECK(Num("(1 > 2) ? 5 : 10") == 10);
  CHECK(Num("1 == 1 ? 10 : 20") == 10);
  CHECK(Num("1 ? 2 : 3 + 1") == 2);
  CHECK(Num("not 1 ? 5 : 6") == 6);
  CHECK(Num("1 ? 5 : foo(3)") == 5);  // only the chosen branch is evaluated
  CHECK(Num("0 ? foo(3) : 5") == 5);
  CHECK(Num("0 ? 2 : 0 ? 4 : 5") == 0);  // a second ?: in the chain is ignored, as in Cinder
  CHECK(Num("1 ? 2 : 3 ? 4 : 5 ? 6 : 7") == 2);
  CHECK(Num("0 ? 2 : (0 ? 4 : 5)") == 5);
  CHECK(ParseFails("1 ? 2"));
}

TEST_CASE("evaluator: variables") {
  EvalVars vars = StatsAndRequest();
  CHECK(Num("stats.iops + request.iops", vars) == 1500);
  CHECK(Num("stats.iops > 500 ? 100 : 50", vars) == 100);
  EvalVars backend;
  backend["capabilities"] = {
      {"total_capacity_gb", {100.0}}, {"free_capacity_gb", {40.5}}, {"storage_protocol", {std::string("iSCSI")}}};
  backend["volume"] = {{"size", {10.0}}};
  backend["extra"] = {{"key", {std::string("v")}}};
  backend["qos"] = {{"total_iops_sec", {std::string("1000")}}};
  CHECK(Num("capabilities.total_capacity_gb - volume.size", backend) == 90);
  CHECK(IsTrue("capabilities.storage_protocol == 'iSCSI'", backend));
  CHECK(IsTrue("extra.key == \"v\"", backend));
  CHECK(Num("qos.total_iops_sec / 10", backend) == 100);  // numeric strings read as numbers
  CHECK(IsTrue("volume.size > 5 and volume.size < 20", backend));
}

TEST_CASE("evaluator: a variable's value is converted as Cinder's int()/float() does") {
  EvalVars vars;
  vars["stats"] = {{"usage", {0.65}},
                   {"free", {40.5}},
                   {"neg", {-3.7}},
                   {"on", {true}},
                   {"off", {false}},
                   {"s", {std::string(" 12 ")}},
                   {"und", {std::string("1_000")}},
                   {"fl", {std::string("2.5")}},
                   {"inf", {std::string("-Infinity")}},
                   {"name", {std::string("it's")}},
                   {"empty", {std::string("")}},
                   {"bad", {std::string("1__0")}}};
  CHECK(Num("stats.free", vars) == 40);  // truncated
  CHECK(Num("stats.neg", vars) == -3);
  CHECK(EvalFails("1 / stats.usage", vars));  // 0.65 reads as 0
  CHECK(Num("stats.on + 1", vars) == 2);      // a bool variable is the int 1, not true
  CHECK(Num("stats.on", vars) == 1);
  CHECK(std::holds_alternative<double>(Val("stats.off", vars).v));
  CHECK(Num("stats.s * 2", vars) == 24);
  CHECK(Num("stats.und", vars) == 1000);
  CHECK(Num("stats.fl", vars) == 2.5);
  CHECK(std::isinf(Num("stats.inf", vars)));
  CHECK(Text("stats.name", vars) == "its");  // quotes are stripped from string values
  CHECK(Text("stats.empty", vars).empty());
  CHECK(Text("stats.bad", vars) == "1__0");
  vars["stats"]["huge"] = {std::numeric_limits<double>::infinity()};
  CHECK(EvalFails("stats.huge", vars));  // int(inf) raises
}

TEST_CASE("evaluator: unknown variables fail evaluation") {
  EvalVars vars = StatsAndRequest();
  CHECK(EvalFails("foo.bob + 5", vars));
  CHECK(EvalFails("stats.bob + 5", vars));
  CHECK(EvalFails("fake.var + 1", vars));
  CHECK(EvalFails("x.y"));
  CHECK(EvalFails("stats.x86", vars));  // digits end a name: the call stats.x(86)
  CHECK(Num("0 ? stats.bob : 1", vars) == 1);
  auto e = Expression::Parse("stats.bob + 5");
  REQUIRE(e.ok());
  auto r = (*e)->Evaluate(vars);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("stats.bob") != std::string::npos);
}

TEST_CASE("evaluator: a word followed by an operand is a call") {
  EvalVars vars;
  vars["volume"] = {{"size", {10.0}}};
  CHECK(EvalFails("volume.size and 1", vars));  // volume.size(and(1))
  CHECK(Num("(volume.size) and 1", vars) == 1);
  CHECK(IsTrue("notable") == false);  // not 'able': operators are matched as text
  CHECK(Text("1 andy") == "y");       // 1 and 'y'
}

TEST_CASE("evaluator: bare words, true and false are strings; inf and nan are floats") {
  CHECK(Text("abc") == "abc");
  CHECK(Text("true") == "true");
  CHECK(Text("false") == "false");
  CHECK(Text("a.b.c") == "a.b.c");
  CHECK(std::isinf(Num("inf")));
  CHECK(std::isinf(Num("-Infinity")));
  CHECK(std::isnan(Num("nan")));
  auto e = Expression::Parse("false");
  REQUIRE(e.ok());
  CHECK((*e)->FilterPasses({}));  // a non-empty string is true
}

TEST_CASE("evaluator: strings") {
  EvalVars nonnumber;
  nonnumber["nonnumber"] = {{"test", {std::string("foo")}}};
  nonnumber["request"] = {{"test", {std::string("bar")}}};
  CHECK(IsTrue("nonnumber.test != request.test", nonnumber));
  CHECK_FALSE(IsTrue("nonnumber.test == request.test", nonnumber));
  CHECK(Text("'foo'") == "foo");
  CHECK(Text("\"foo\"") == "foo");
  CHECK(Text("'it''s'") == "its");
  CHECK(Text("'a' + 'b'") == "ab");
  CHECK(Text("'ab' * 3") == "ababab");
  CHECK(Text("3 * 'ab'") == "ababab");
  CHECK(Text("-'ab'").empty());
  CHECK(Text("+'ab'") == "ab");
  CHECK(Num("4 / '2'") == 2);  // the divisor goes through float()
  CHECK(IsTrue("'abc' < 'abd'"));
  CHECK_FALSE(IsTrue("'a' == 1"));
  CHECK(IsTrue("'5' != 5"));  // a quoted string stays a string
  CHECK(EvalFails("'a' < 1"));
  CHECK(EvalFails("'a' - 'b'"));
  CHECK(EvalFails("'ab' * 1.5"));
  CHECK(ParseFails("'unterminated"));
}

TEST_CASE("evaluator: lists") {
  auto e = Expression::Parse("1, 0");
  REQUIRE(e.ok());
  CHECK((*e)->FilterPasses({}));              // a non-empty list is true
  CHECK_FALSE((*e)->EvaluateValue({}).ok());  // but it is no EvalValue
  CHECK_FALSE((*e)->Goodness({}).ok());       // Cinder's weigher raises on it
  CHECK(IsTrue("(1,2) == (1,2)"));
  CHECK(IsTrue("(1,2) < (1,3)"));
  CHECK(Num("max(1 ? (1,2) : 3)") == 2);
  CHECK(Num("max(1,(2,3))") == 3);  // a list on the right is flattened into the arguments
}

TEST_CASE("evaluator: errors during evaluation") {
  CHECK(EvalFails("7 / 0"));
  CHECK(EvalFails("7.0 / 0.0"));
  CHECK(EvalFails("(0)^(0-1)"));    // 0 to a negative power
  CHECK(EvalFails("2.0^10000"));    // float overflow
  CHECK(EvalFails("(0-8)^(1/3)"));  // complex in Python
  CHECK(EvalFails("1 + 'a'"));
  auto r = EvaluateExpression("7 / 0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("division by zero") != std::string::npos);
  CHECK(Num("2^10000 > 5") == 1);  // an int power does not overflow in Python
}

TEST_CASE("evaluator: malformed expressions are refused with their position") {
  for (const char* bad : {"1/*1", "", "  ", "1 +", "()", "1 2", "(1", "1)", "1e3", "5.", "max(1,", "1 ? 2 :", "'",
                          "\"a", "#", "1 && && 2"}) {
    INFO("expression: ", bad);
    CHECK(ParseFails(bad));
  }
  auto e = Expression::Parse("1/*1");
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("at char 2") != std::string::npos);
  e = Expression::Parse("1 +");
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("end of expression") != std::string::npos);
}

TEST_CASE("evaluator: deep nesting is refused, not a crash") {
  std::string ok = std::string(20, '(') + "1" + std::string(20, ')');
  CHECK(Num(ok) == 1);
  std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
  auto e = Expression::Parse(deep);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("nested too deeply") != std::string::npos);
  CHECK(ParseFails(std::string(10000, '-') + "1"));
  CHECK(ParseFails(std::string(Expression::kMaxTextLength + 1, '1')));
  std::string unary;
  for (int i = 0; i < 160; ++i) unary += "not ";
  CHECK(IsTrue(unary + "1"));  // an even number of nots
  // Backtracking stays linear: this would take exponential time without memoization.
  std::string tricky;
  for (int i = 0; i < 18; ++i) tricky += "not (a ";
  CHECK(ParseFails(tricky + "1+"));
}

TEST_CASE("evaluator: random input never crashes") {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab.s_019()'\"\\x+-*/^<>=!?:,&| \tnotandORmaxabs";
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    int len = static_cast<int>(rng() % 24) + 1;
    for (int k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    auto e = Expression::Parse(text);
    if (e.ok()) {
      (void)(*e)->EvaluateValue({});
      (void)(*e)->Goodness({});
    }
  }
}

TEST_CASE("evaluator: DriverFilter and GoodnessWeigher semantics") {
  EvalVars vars;
  vars["capabilities"] = {{"free_capacity_gb", {80.0}}};
  vars["volume"] = {{"size", {10.0}}};
  auto filter = Expression::Parse("volume.size < capabilities.free_capacity_gb");
  REQUIRE(filter.ok());
  CHECK((*filter)->FilterPasses(vars));
  vars["volume"]["size"] = {100.0};
  CHECK_FALSE((*filter)->FilterPasses(vars));
  vars["volume"].erase("size");
  CHECK_FALSE((*filter)->FilterPasses(vars));  // an error fails the backend

  auto goodness = [&](const char* text) {
    auto e = Expression::Parse(text);
    REQUIRE(e.ok());
    auto r = (*e)->Goodness(vars);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(goodness("capabilities.free_capacity_gb / 2") == 40);
  CHECK(goodness("1 == 1") == 100);  // true is 100
  CHECK(goodness("1 == 2") == 0);
  CHECK(goodness("1") == 1);    // the number 1 is just 1
  CHECK(goodness("150") == 0);  // out of range
  CHECK(goodness("-1") == 0);
  CHECK(goodness("1/0") == 0);  // an error rates 0
  CHECK(goodness("nan") == 0);
  auto text = Expression::Parse("'high'");
  REQUIRE(text.ok());
  CHECK_FALSE((*text)->Goodness(vars).ok());  // Cinder's weigher raises TypeError
}

TEST_CASE("evaluator: results and accessors") {
  auto e = Expression::Parse("2 > 1");
  REQUIRE(e.ok());
  CHECK((*e)->text() == "2 > 1");
  CHECK(*(*e)->Evaluate({}) == 1);  // a bool is 1 or 0 as a number
  auto s = Expression::Parse("'x'");
  REQUIRE(s.ok());
  CHECK_FALSE((*s)->Evaluate({}).ok());
}

TEST_CASE("evaluator: one parsed expression evaluates on many threads at once") {
  auto sum = Expression::Parse("max(stats.iops * 2, 10) + (stats.name == 'foo' ? 1 : 0)");
  REQUIRE(sum.ok());
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      EvalVars vars;
      vars["stats"] = {{"iops", {static_cast<double>(t)}}, {"name", {std::string("foo")}}};
      for (int i = 0; i < 2000; ++i) {
        auto r = (*sum)->Evaluate(vars);
        if (r.ok() && *r == std::max(2.0 * t, 10.0) + 1) ++good[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(good[t] == 2000);
}

}  // namespace cinder::scheduler
