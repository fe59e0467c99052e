// Cinder's extra-spec operators and CapabilitiesFilter (scheduler/extra_specs_ops.h), on
// the cases of cinder/tests/unit/scheduler/test_host_filters.py (ExtraSpecsOpsTestCase and
// BasicFiltersTestCase's capability_filter tests) plus the behaviour those leave implicit.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "scheduler/extra_specs_ops.h"

namespace cinder::scheduler {

namespace {

struct Case {
  const char* value;
  const char* req;
  bool matches;
};

void CheckAll(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    INFO("value=" << c.value << " req=" << c.req);
    CHECK(MatchExtraSpec(c.value, c.req) == c.matches);
  }
}

json::Value J(std::string_view text) { return std::move(json::Parse(text)).value(); }

// Cinder's _do_test_type_filter_extra_specs: capabilities {'enabled': True} plus `ecaps`.
bool Filter(std::string_view ecaps, const std::map<std::string, std::string>& especs) {
  json::Value caps = J(ecaps);
  json::Value all = json::Value::MakeObject();
  all.Set("enabled", true);
  for (const auto& [k, v] : caps.as_object()) all.Set(k, v);
  return CapabilitiesSatisfied(especs, all);
}

}  // namespace

TEST_CASE("extra specs: Cinder's ExtraSpecsOpsTestCase") {
  // test_extra_specs_fails_with_bogus_ops: '>' is no operator, so it is string equality.
  CheckAll({{"4", "> 2", false}});
  // test_extra_specs_matches_simple
  CheckAll({{"1", "1", true}, {"", "1", false}, {"3", "1", false}, {"222", "2", false}});
  // test_extra_specs_matches_with_op_eq: '=' means >=.
  CheckAll({{"123", "= 123", true}, {"124", "= 123", true}, {"34", "= 234", false}, {"34", "=", false}});
  // test_extra_specs_matches_with_op_not_eq
  CheckAll({{"2", "<= 10", true}, {"3", "<= 2", false}, {"3", ">= 1", true}, {"2", ">= 3", false}});
  // test_extra_specs_matches_with_op_seq
  CheckAll(
      {{"123", "s== 123", true}, {"1234", "s== 123", false}, {"1234", "s!= 123", true}, {"123", "s!= 123", false}});
  // test_extra_specs_fails_with_op_not_seq: strings order by characters, not numbers.
  CheckAll({{"1000", "s>= 234", false}, {"1234", "s<= 1000", false}, {"2", "s< 12", false}, {"12", "s> 2", false}});
  // test_extra_specs_matches_with_op_in
  CheckAll({{"12311321", "<in> 11", true},
            {"12311321", "<in> 12311321", true},
            {"12311321", "<in> 12311321 <in>", true},
            {"12310321", "<in> 11", false},
            {"12310321", "<in> 11 <in>", false}});
  // test_extra_specs_matches_with_op_is: Cinder passes the bools themselves...
  CHECK(MatchTypedExtraSpec(true, "<is> True"));
  CHECK(MatchTypedExtraSpec(false, "<is> False"));
  CHECK(MatchTypedExtraSpec(false, "<is> Nonsense"));
  CHECK(!MatchTypedExtraSpec(true, "<is> False"));
  CHECK(!MatchTypedExtraSpec(false, "<is> True"));
  // ...and their str() behaves the same.
  CheckAll({{"True", "<is> True", true},
            {"False", "<is> False", true},
            {"False", "<is> Nonsense", true},
            {"True", "<is> False", false},
            {"False", "<is> True", false}});
  // test_extra_specs_matches_with_op_or
  CheckAll({{"12", "<or> 11 <or> 12", true},
            {"12", "<or> 11 <or> 12 <or>", true},
            {"13", "<or> 11 <or> 12", false},
            {"13", "<or> 11 <or> 12 <or>", false}});
  // test_extra_specs_matches_none_req cannot be written: a request here is always a string
  // (as the volume-type API makes it). A None capability matches no string request:
  for (const char* req : {"", "foo", "= 1", "<is> False", "<or> a", "s!= x", "<in> x"}) {
    INFO(req);
    CHECK(!MatchTypedExtraSpec(json::Value(), req));
  }
}

TEST_CASE("extra specs: numeric operators convert with Python's float()") {
  CheckAll({{"10", "== 10.0", true},      {"10.5", "== 10.5", true},      {"10", "!= 11", true},
            {"10", "!= 10", false},       {" 10\n", "== 10", true},  // float() trims whitespace
            {"1_000", "== 1000", true},                              // and allows '_' between digits
            {"1__000", "== 1000", false}, {"_1", "== 1", false},          {"1.", "== 1", true},
            {".5", "== 0.5", true},       {"-.5e1", "== -5", true},       {"+7", "== 7", true},
            {"1e400", "== inf", true},  // overflow is inf, not an error
            {"1e-400", "== 0", true},     {"Infinity", ">= 1e308", true}, {"-INF", "<= -1e308", true},
            {"nan", "!= nan", true},                              // NaN equals nothing...
            {"nan", "== nan", false},     {"nan", "= 0", false},  // ...and orders against nothing
            {"0x10", "== 16", false},                             // no hex
            {"1e", "== 1", false},        {".", "== 0", false},           {"", "= 0", false},
            {"thin", "!= 5", false},  // a value that does not convert fails every numeric op
            {"10", "!= thin", false},     {"10", "= 10", true},           {"10", "= 10.01", false},
            {"10", "== 10 junk", true}});  // words after the operand are ignored
  // There is no '<' or '>': they are plain strings.
  CheckAll({{"5", "< 10", false}, {"< 10", "< 10", true}, {"5", "> 1", false}});
}

TEST_CASE("extra specs: <is>, <in>, <or>, string operators and the plain default") {
  // bool_from_string: trimmed, case-insensitive, 1/t/true/on/y/yes; anything else false.
  CheckAll({{"yes", "<is> 1", true},
            {"ON", "<is> t", true},
            {" y ", "<is> TRUE", true},
            {"0", "<is> off", true},
            {"maybe", "<is> no", true},
            {"maybe", "<is> true", false},
            {"True", "<is>", false}});  // no operand
  CheckAll({{"thin", "<in> hi", true}, {"thin", "<in> HI", false}, {"a b", "<in> a b", true}});
  // <or> skips every second word unchecked.
  CheckAll({{"b", "<or> a junk b", true},
            {"junk", "<or> a junk b", false},
            {"a", "<or> a", true},
            {"a", "<or>", false},  // Cinder: IndexError
            {"<or>", "<or> <or> <or>", true}});
  // The s-operators compare by code point and are case-sensitive.
  CheckAll({{"B", "s< a", true},
            {"abc", "s< abd", true},
            {"abc", "s<= abc", true},
            {"abd", "s> abc", true},
            {"abc", "s>= abcd", false},
            {"\xC3\xA9", "s> z", true},  // U+00E9 > 'z'
            {"Thin", "s== thin", false}});
  // The default compares the whole request, unsplit, case-sensitively.
  CheckAll({{"thin", "thin", true},
            {"Thin", "thin", false},
            {"thin", " thin", false},
            {"", "", true},
            {"", "  ", false},
            {"a  b", "a  b", true}});
  // Operators are case-sensitive: "<IS>" is just a string.
  CheckAll({{"True", "<IS> True", false}, {"<IS> True", "<IS> True", true}});
  // Nova's <all-in> does not exist in Cinder: plain string equality.
  CheckAll({{"a b c", "<all-in> a b", false}, {"<all-in> a b", "<all-in> a b", true}});
  // Python's str.split() also splits on Unicode whitespace (here U+00A0 and U+3000).
  CheckAll({{"abc",
             "<in>\xC2\xA0"
             "b",
             true},
            {"12",
             "<or>\xE3\x80\x80"
             "12",
             true},
            {"abc",
             "<in>\x1f"
             "c",
             true}});
}

TEST_CASE("extra specs: a capability's reported type matters, as in Cinder") {
  // A bool never equals a string: only <is> (or a numeric op) matches it.
  CHECK(!MatchTypedExtraSpec(true, "True"));
  CHECK(MatchExtraSpec("True", "True"));  // its str() does, so prefer the typed call
  CHECK(MatchTypedExtraSpec(true, "<is> yes"));
  CHECK(MatchTypedExtraSpec(true, "== 1"));  // float(True) is 1.0
  CHECK(!MatchExtraSpec("True", "== 1"));    // float("True") fails
  CHECK(!MatchTypedExtraSpec(true, "<or> True"));
  // Numbers: numeric operators work; plain, s== and <or> never match; s< and <in> raise.
  CHECK(MatchTypedExtraSpec(10, ">= 2"));
  CHECK(MatchTypedExtraSpec(10.5, "== 10.5"));
  CHECK(!MatchTypedExtraSpec(10, "10"));
  CHECK(!MatchTypedExtraSpec(10, "s== 10"));
  CHECK(MatchTypedExtraSpec(10, "s!= 10"));
  CHECK(!MatchTypedExtraSpec(10, "s< 9"));
  CHECK(!MatchTypedExtraSpec(10, "s>= 0"));
  CHECK(!MatchTypedExtraSpec(110, "<in> 1"));
  CHECK(!MatchTypedExtraSpec(10, "<or> 10"));
  // <is> goes through str(): the int 1 is true, the float 1.0 ("1.0") is not.
  CHECK(MatchTypedExtraSpec(1, "<is> true"));
  CHECK(MatchTypedExtraSpec(0, "<is> false"));
  CHECK(!MatchTypedExtraSpec(1.0, "<is> true"));
  CHECK(MatchTypedExtraSpec(2, "<is> nonsense"));
  // A dict answers <in> by key; a list (nested inside a list) by element.
  CHECK(MatchTypedExtraSpec(J(R"({"a": 1})"), "<in> a"));
  CHECK(!MatchTypedExtraSpec(J(R"({"a": 1})"), "<in> 1"));
  CHECK(MatchTypedExtraSpec(J(R"(["x", 1])"), "<in> x"));
  CHECK(!MatchTypedExtraSpec(J(R"(["x", 1])"), "<in> 1"));
  CHECK(!MatchTypedExtraSpec(J("{}"), ">= 0"));
  CHECK(MatchTypedExtraSpec(J("[]"), "s!= x"));
  // A string value behaves exactly as through the string overload.
  CHECK(MatchTypedExtraSpec("thin", "<in> hi"));
  CHECK(MatchTypedExtraSpec("10", "10"));
}

TEST_CASE("capabilities filter: Cinder's BasicFiltersTestCase cases") {
  // passes/fails_extra_specs_simple
  CHECK(Filter(R"({"opt1": "1", "opt2": "2"})", {{"opt1", "1"}, {"opt2", "2"}}));
  CHECK(!Filter(R"({"opt1": "1", "opt2": "2"})", {{"opt1", "1"}, {"opt2", "222"}}));
  // passes/fails_extra_specs_complex
  CHECK(Filter(R"({"opt1": 10, "opt2": 5})", {{"opt1", ">= 2"}, {"opt2", "<= 8"}}));
  CHECK(!Filter(R"({"opt1": 10, "opt2": 5})", {{"opt1", ">= 2"}, {"opt2", ">= 8"}}));
  // passes_extra_specs_list_simple / list_complex (both '<is> True' and '<is> False')
  CHECK(Filter(R"({"opt1": ["1", "2"], "opt2": "2"})", {{"opt1", "1"}, {"opt2", "2"}}));
  CHECK(Filter(R"({"opt1": [true, false], "opt2": ["1", "2"]})", {{"opt1", "<is> True"}, {"opt2", "<= 8"}}));
  CHECK(Filter(R"({"opt1": [true, false], "opt2": ["1", "2"]})", {{"opt1", "<is> False"}, {"opt2", "<= 8"}}));
  // fails_extra_specs_list_simple / list_complex
  CHECK(!Filter(R"({"opt1": ["1", "2"], "opt2": ["2"]})", {{"opt1", "3"}, {"opt2", "2"}}));
  CHECK(!Filter(R"({"opt1": [true, false], "opt2": ["1", "2"]})", {{"opt1", "fake"}, {"opt2", "<= 8"}}));
  // passes/fails_scope_extra_specs; passes_fakescope_extra_specs (another scope: ignored)
  CHECK(Filter(R"({"scope_lv1": {"opt1": 10}})", {{"capabilities:scope_lv1:opt1", ">= 2"}}));
  CHECK(Filter(R"({"scope_lv1": {"opt1": 10}, "opt2": 5})", {{"scope_lv1:opt1", "= 2"}, {"opt2", ">= 3"}}));
  CHECK(!Filter(R"({"scope_lv1": {"opt1": 10}})", {{"capabilities:scope_lv1:opt1", "<= 2"}}));
  // passes_multi_level_scope_extra_specs; fails_unenough_level; fails_wrong_scope
  CHECK(Filter(R"({"scope_lv0": {"scope_lv1": {"scope_lv2": {"opt1": 10}}}})",
               {{"capabilities:scope_lv0:scope_lv1:scope_lv2:opt1", ">= 2"}}));
  CHECK(
      !Filter(R"({"scope_lv0": {"scope_lv1": null}})", {{"capabilities:scope_lv0:scope_lv1:scope_lv2:opt1", ">= 2"}}));
  CHECK(!Filter(R"({"scope_lv0": {"opt1": 10}})", {{"capabilities:scope_lv1:opt1", ">= 2"}}));
  // passes/fails_none_extra_specs need a None request, which a string map cannot hold.
  // fails_none_caps
  CHECK(!Filter(R"({"scope_lv0": {"opt1": null}})", {{"capabilities:scope_lv0:opt1", "foo"}}));
  // passes/fails_multi_level_scope_extra_specs_list; fails_wrong_scope_extra_specs_list
  CHECK(Filter(R"({"scope_lv0": {"scope_lv1": {"scope_lv2": {"opt1": [true, false]}}}})",
               {{"capabilities:scope_lv0:scope_lv1:scope_lv2:opt1", "<is> True"}}));
  CHECK(!Filter(R"({"scope_lv0": {"scope_lv1": {"scope_lv2": {"opt1": [true, false], "opt2": ["1", "2"]}}}})",
                {{"capabilities:scope_lv0:scope_lv1:scope_lv2:opt1", "<is> True"},
                 {"capabilities:scope_lv0:scope_lv1:scope_lv2:opt2", "3"}}));
  CHECK(!Filter(R"({"scope_lv0": {"opt1": [true, false]}})", {{"capabilities:scope_lv1:opt1", "<is> True"}}));
}

TEST_CASE("capabilities filter: the rest of its rules") {
  CHECK(Filter("{}", {}));                                                    // no extra specs
  CHECK(!Filter("{}", {{"missing", "x"}}));                                   // a missing capability fails
  CHECK(Filter("{}", {{"vendor:foo", "x"}, {"qos:iops", "1"}}));              // other scopes are ignored
  CHECK(!Filter(R"({"opt": []})", {{"opt", "x"}}));                           // an empty list matches nothing
  CHECK(Filter(R"({"opt": "y"})", {{"opt:sub", "x"}}));                       // "opt" is another scope here: ignored,
  CHECK(!Filter(R"({"opt": "x"})", {{"capabilities:opt:sub", "x"}}));         // but walking into a str fails
  CHECK(!Filter(R"({"opt": ["x"]})", {{"capabilities:opt:0", "x"}}));         // and into a list
  CHECK(Filter(R"({"a": {"": {"b": "x"}}})", {{"capabilities:a::b", "x"}}));  // an empty part is a key
  CHECK(Filter("{}", {{"capabilities", "<in> enabled"}}));                    // a bare "capabilities" is the dict
  CHECK(!Filter("{}", {{"capabilities", "x"}}));
  CHECK(!Filter(R"({"thin_provisioning_support": true})", {{"thin_provisioning_support", "True"}}));
  CHECK(Filter(R"({"thin_provisioning_support": true})", {{"thin_provisioning_support", "<is> True"}}));
  CHECK(Filter(R"({"capabilities": {"x": "1"}})", {{"capabilities:capabilities:x", "1"}}));
  CHECK(!CapabilitiesSatisfied({{"capabilities:x", "1"}}, J(R"(["x"])")));  // not even a dict

  // The lookup form: ':'-joined paths, values as str(), nullopt for missing or None.
  const std::map<std::string, std::string> flat = {
      {"volume_backend_name", "lvm"}, {"scope_lv0:opt1", "10"}, {"thin", "True"}};
  std::vector<std::string> asked;
  auto lookup = [&](std::string_view key) -> std::optional<std::string> {
    asked.emplace_back(key);
    auto it = flat.find(std::string(key));
    if (it == flat.end()) return std::nullopt;
    return it->second;
  };
  CHECK(CapabilitiesSatisfied({{"volume_backend_name", "lvm"},
                               {"capabilities:scope_lv0:opt1", ">= 2"},
                               {"thin", "<is> true"},
                               {"vendor:anything", "x"}},
                              lookup));
  CHECK(asked == std::vector<std::string>{"scope_lv0:opt1", "thin", "volume_backend_name"});
  CHECK(!CapabilitiesSatisfied({{"volume_backend_name", "ceph"}}, lookup));
  CHECK(!CapabilitiesSatisfied({{"capabilities:nope", "x"}}, lookup));
  asked.clear();
  CHECK(!CapabilitiesSatisfied({{"capabilities", "x"}}, lookup));
  CHECK(asked == std::vector<std::string>{""});
  CHECK(CapabilitiesSatisfied({}, lookup));
}

TEST_CASE("extra specs: a spec compiled once answers as MatchExtraSpec for every value") {
  const std::vector<std::string> values = {"",      "gold", "silver", "True", " yes ", "0",         "10",
                                           "1_000", "2.5",  "inf",    "nan",  "a b",   "<is> True", "12311321"};
  const std::vector<std::string> reqs = {"gold",    "<in> ol",      "<is> True", "<or> gold <or> 10",
                                         "= 5",     "== 10.0",      "!= 10",     ">= 1e3",
                                         "<= 2.5",  "s== silver",   "s!= x",     "s< h",
                                         "s<= a b", "s> 1",         "s>= 2",     "<in>",
                                         "> 2",     "<all-in> a b", ""};
  for (const std::string& req : reqs) {
    const CompiledSpec spec(req);
    for (const std::string& value : values) {
      INFO("value=" << value << " req=" << req);
      CHECK(spec.Matches(PrepareCapability(value)) == MatchExtraSpec(value, req));
    }
  }
  // What a capability's preparation reads from it.
  CHECK(PrepareCapability(" 1_000 ").number == 1000.0);
  CHECK(!PrepareCapability("thin").number);
  CHECK(PrepareCapability("Yes").truth);
  CHECK(!PrepareCapability("True!").truth);
}

}  // namespace cinder::scheduler
