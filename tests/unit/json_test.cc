// The JSON DOM, parser (simdjson underneath) and serializer in common/json.h.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/json_writer.h"

namespace cinder::json {

namespace {

Value MustParse(std::string_view text) {
  auto r = Parse(text);
  INFO(text);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}

// The error message of a text that must not parse.
std::string ParseError(std::string_view text) {
  auto r = Parse(text);
  INFO(text);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  return r.status().message();
}

}  // namespace

TEST_CASE("json: scalars, and numbers remember whether they were integers") {
  CHECK(MustParse("null").is_null());
  CHECK(MustParse(" true ").as_bool());
  CHECK(MustParse("false").is_bool());
  CHECK(!MustParse("false").as_bool());

  Value i = MustParse("-42");
  CHECK(i.is_int());
  CHECK(i.as_int() == -42);
  CHECK(MustParse("9223372036854775807").as_int() == INT64_MAX);
  CHECK(MustParse("-9223372036854775808").as_int() == INT64_MIN);
  CHECK(MustParse("-0").is_int());

  Value d = MustParse("10.0");
  CHECK(d.is_double());
  CHECK(d.as_double() == 10.0);
  CHECK(MustParse("1e2").is_double());
  CHECK(MustParse("1E+2").as_double() == 100.0);
  CHECK(MustParse("-2.5e-3").as_double() == -0.0025);
  CHECK(MustParse("0.1").as_double() == 0.1);
  CHECK(MustParse("5e-324").as_double() == 5e-324);  // smallest denormal
  CHECK(MustParse("1e-400").as_double() == 0.0);     // underflow rounds to zero
  CHECK(std::signbit(MustParse("-1e-400").as_double()));
  CHECK(MustParse("123456789012345678901234567890.0").is_double());
  CHECK(ParseError("1e400") == "JSON parse error: invalid number, or one too large for a double");
  CHECK(ParseError("[1, -1.5e99999]") == "JSON parse error: invalid number, or one too large for a double");
}

TEST_CASE("json: integers past int64 are kept exactly, as Python's json keeps them") {
  // simdjson reads up to 2^64 - 1 itself and refuses the whole text beyond; both come back as
  // big integers, wherever they are.
  for (const char* digits : {"9223372036854775808", "18446744073709551615", "18446744073709551616",
                             "18446744073709551617", "-9223372036854775809", "-18446744073709551617",
                             "123456789012345678901234567890123456789012345678901234567890"}) {
    INFO(digits);
    Value v = MustParse(digits);
    CHECK(v.is_big_int());
    CHECK(v.is_number());
    CHECK(!v.is_int());
    CHECK(!v.is_double());
    CHECK(v.type() == Value::Type::kNumber);
    CHECK(v.big_int_digits() == digits);
    CHECK(Serialize(v) == digits);
    CHECK(v.as_int() == (digits[0] == '-' ? INT64_MIN : INT64_MAX));
    CHECK(v.as_double() == std::stod(digits));
  }
  CHECK(MustParse("18446744073709551617").as_double() == 18446744073709551616.0);
  CHECK(MustParse(std::string(400, '9')).as_double() == HUGE_VAL);
  CHECK(MustParse("-" + std::string(400, '9')).as_double() == -HUGE_VAL);
  CHECK(MustParse("9223372036854775807").is_int());
  CHECK(MustParse("-9223372036854775808").is_int());
  CHECK(MustParse("1").big_int_digits().empty());

  // Among other numbers, in strings, keys, arrays and objects: each in its place.
  const std::string text =
      R"({"a": 1, "b": [18446744073709551617, 2.5, -0, "18446744073709551617"], "18446744073709551618": )"
      R"({"c": -99999999999999999999, "d": 1e2}, "e": 18446744073709551615, "f": "\"1 99999999999999999999"})";
  Value v = MustParse(text);
  CHECK(Serialize(v) ==
        R"({"a":1,"b":[18446744073709551617,2.5,0,"18446744073709551617"],"18446744073709551618":)"
        R"({"c":-99999999999999999999,"d":100.0},"e":18446744073709551615,"f":"\"1 99999999999999999999"})");
  CHECK(v.Find("b")->At(0)->is_big_int());
  CHECK(v.Find("b")->At(1)->as_double() == 2.5);
  CHECK(v.Find("b")->At(3)->is_string());
  CHECK(v.Find("18446744073709551618")->Find("c")->big_int_digits() == "-99999999999999999999");
  CHECK(v.Find("18446744073709551618")->Find("d")->is_double());
  // A repeated key keeps the last value, big or not.
  CHECK(Serialize(MustParse(R"({"k": 18446744073709551617, "k": 1})")) == R"({"k":1})");
  CHECK(Serialize(MustParse(R"({"k": 1, "k": 18446744073709551617})")) == R"({"k":18446744073709551617})");
  // The rest of the text must still be valid.
  CHECK(ParseError("[18446744073709551617, tru]") == "JSON parse error: unexpected word (not true, false or null)");
  CHECK(ParseError("[18446744073709551617, 1e400]") ==
        "JSON parse error: invalid number, or one too large for a double");
  CHECK(ParseError("[18446744073709551617,]").find("not one well-formed JSON value") != std::string::npos);
  CHECK(ParseError("[18446744073709551617] x").find("not one well-formed JSON value") != std::string::npos);
  CHECK(ParseError("018446744073709551617") == "JSON parse error: invalid number, or one too large for a double");
  CHECK(ParseError("[18446744073709551617.]") == "JSON parse error: invalid number, or one too large for a double");
  CHECK(ParseError("[18446744073709551617e]") == "JSON parse error: invalid number, or one too large for a double");

  // Built from a uint64 past int64: the same.
  CHECK(Value(uint64_t{18446744073709551615u}).is_big_int());
  CHECK(Value(uint64_t{18446744073709551615u}) == MustParse("18446744073709551615"));
  // Equal to a double only when the double is exactly that integer.
  CHECK(MustParse("18446744073709551616") == Value(18446744073709551616.0));
  CHECK(Value(18446744073709551616.0) == MustParse("18446744073709551616"));
  CHECK(!(MustParse("18446744073709551617") == Value(18446744073709551616.0)));
  CHECK(!(MustParse("18446744073709551617") == MustParse("18446744073709551616")));
  CHECK(!(MustParse("9223372036854775808") == Value(INT64_MAX)));
  CHECK(!(MustParse("9223372036854775808") == Value(1.5)));
  CHECK(!(MustParse("9223372036854775808") == Value(HUGE_VAL)));
}

TEST_CASE("json: strings, escapes and UTF-8") {
  CHECK(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(MustParse(R"("\u00e9\u20AC")").as_string() == "\xC3\xA9\xE2\x82\xAC");
  CHECK(MustParse(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // a surrogate pair
  CHECK(MustParse(R"("\u0000")").as_string() == std::string(1, '\0'));
  CHECK(MustParse("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").as_string() == "caf\xC3\xA9 \xF0\x9F\x98\x80");

  const std::string bad_string = "JSON parse error: invalid string (a bad escape, or a \\u surrogate without its pair)";
  CHECK(ParseError(R"("\ud83d")") == bad_string);  // a high surrogate alone
  CHECK(ParseError(R"("\ud83d\u0041")") == bad_string);
  CHECK(ParseError(R"("x\ude00")") == bad_string);  // a low surrogate alone: no UTF-8 form
  CHECK(ParseError(R"("\u12G4")") == bad_string);
  CHECK(ParseError(R"("\x")") == bad_string);
  CHECK(ParseError("\"a\tb\"") == "JSON parse error: unescaped control character in a string");
  CHECK(ParseError("\"a\x01z\"") == "JSON parse error: unescaped control character in a string");
  CHECK(ParseError("\"abc") == "JSON parse error: unterminated string");
  CHECK(ParseError("\"abc\\") == "JSON parse error: unterminated string");
  // Ill-formed UTF-8, in a string, a key or after the value: overlong, encoded surrogate, past
  // U+10FFFF, truncated, stray continuation.
  for (const char* bad :
       {"\"\xC0\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"", "\"\x80\"", "\"\xFF\""}) {
    CHECK(ParseError(bad) == "JSON parse error: invalid UTF-8");
    CHECK(ParseError(std::string("{") + bad + ": 1}") == "JSON parse error: invalid UTF-8");
    CHECK(ParseError(std::string("[\"ok\", ") + bad + "]") == "JSON parse error: invalid UTF-8");
  }
  CHECK(ParseError("[1] \xFF") == "JSON parse error: invalid UTF-8");
}

TEST_CASE("json: arrays and objects keep order; repeated keys act like a Python dict") {
  Value v = MustParse(R"( { "b" : [1, 2.5, "x", null, true, {}, []], "a" : {"z": 1, "y": 2} } )");
  REQUIRE(v.is_object());
  REQUIRE(v.size() == 2);
  CHECK(v.as_object()[0].first == "b");
  CHECK(v.as_object()[1].first == "a");
  const Value* b = v.Find("b");
  REQUIRE(b);
  CHECK(b->size() == 7);
  CHECK(b->At(0)->as_int() == 1);
  CHECK(b->At(1)->as_double() == 2.5);
  CHECK(b->At(2)->as_string() == "x");
  CHECK(b->At(3)->is_null());
  CHECK(b->At(5)->is_object());
  CHECK(b->At(6)->is_array());
  CHECK(b->At(7) == nullptr);
  CHECK(v.Find("a")->as_object()[0].first == "z");
  CHECK(v.Find("missing") == nullptr);

  // json.loads('{"k": 1, "other": 2, "k": 3}') == {'k': 3, 'other': 2}, in that order.
  Value dup = MustParse(R"({"k": 1, "other": 2, "k": 3})");
  CHECK(Serialize(dup) == R"({"k":3,"other":2})");
  CHECK(Serialize(MustParse(R"({"k": {"a": 1}, "k": [2], "j": {"x": 1, "x": null}})")) ==
        R"({"k":[2],"j":{"x":null}})");

  // The large-object path (sorting) gives the same answer.
  std::string text = "{";
  for (int i = 0; i < 40; ++i) text += "\"k" + std::to_string(i % 25) + "\":" + std::to_string(i) + ",";
  text.back() = '}';
  Value many = MustParse(text);
  CHECK(many.size() == 25);
  CHECK(many.as_object()[0].first == "k0");
  CHECK(many.Find("k0")->as_int() == 25);
  CHECK(many.Find("k14")->as_int() == 39);
  CHECK(many.Find("k15")->as_int() == 15);
  CHECK(many.as_object()[24].first == "k24");
}

TEST_CASE("json: strict syntax, errors say what is wrong") {
  CHECK(ParseError("") == "JSON parse error: no JSON value (the text is empty or only whitespace)");
  CHECK(ParseError("  \n") == "JSON parse error: no JSON value (the text is empty or only whitespace)");
  const std::string structure =
      "JSON parse error: not one well-formed JSON value (a character is missing or unexpected, or text follows the "
      "value)";
  for (std::string_view bad : {"[1] x", "{} {}", "[1,]", "[1 2]", "[1", R"({"a" 1})", R"({"a":1,})", "{'a':1}", "+1",
                               ".5", "NaN", "[Infinity]", "/* c */ 1", "\xEF\xBB\xBF{}", "]", "{\"a\"}"}) {
    CHECK(ParseError(bad) == structure);
  }
  CHECK(ParseError(std::string_view("[1]\0", 4)) == structure);
  const std::string number = "JSON parse error: invalid number, or one too large for a double";
  for (const char* bad : {"01", "-", "1.", "1e+", "-01", "[1.e5]"}) CHECK(ParseError(bad) == number);
  CHECK(ParseError("tru") == "JSON parse error: unexpected word (not true, false or null)");
  CHECK(ParseError("[nul]") == "JSON parse error: unexpected word (not true, false or null)");
  CHECK(ParseError("falsey") == "JSON parse error: unexpected word (not true, false or null)");
}

TEST_CASE("json: nesting is limited to 64 levels") {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK(MustParse(ok).is_array());
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  const std::string too_deep = "JSON parse error: arrays and objects nest deeper than 64 levels";
  CHECK(ParseError(deep) == too_deep);
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  CHECK(ParseError(objects) == too_deep);
  // Far deeper input fails the same way instead of exhausting the stack.
  CHECK(ParseError(std::string(1'000'000, '[') + std::string(1'000'000, ']')) == too_deep);
  CHECK(ParseError(std::string(100'000, '[')).rfind("JSON parse error: ", 0) == 0);
  // The limit holds after the thread's parser has grown for a large text, and for a text
  // larger than the parser a thread keeps.
  std::string big = "[";
  for (int i = 0; i < 20'000; ++i) big += "\"0123456789\",";
  big.back() = ']';
  CHECK(MustParse(big).size() == 20'000);
  CHECK(ParseError(deep) == too_deep);
  CHECK(MustParse(ok).is_array());
  const std::string spaces(400'000, ' ');
  CHECK(ParseError(std::string(65, '[') + spaces + std::string(65, ']')) == too_deep);
  CHECK(MustParse(std::string(64, '[') + spaces + std::string(64, ']')).is_array());
}

TEST_CASE("json: Serialize is compact, escapes what it must, and round-trips") {
  const std::string text = R"({"a":[1,-2,3.5,"x\"y\\z\n\u0001\u001f",true,false,null],"b":{},"c":[],"d":{"e":"caf)"
                           "\xC3\xA9"
                           R"("}})";
  CHECK(Serialize(MustParse(text)) == text);
  CHECK(Serialize(MustParse(" [ 1 , { \"a\" : 2 } ] ")) == "[1,{\"a\":2}]");
  CHECK(Serialize(Value(std::string("\b\f\r\t\x7f"))) == "\"\\b\\f\\r\\t\x7f\"");
  CHECK(Serialize(Value(std::string("nul\0", 4))) == "\"nul\\u0000\"");
  // Bytes that are not UTF-8 become U+FFFD so the output always parses.
  CHECK(Serialize(Value(std::string("a\xFF"
                                    "b\xC3"))) == "\"a\\ufffdb\\ufffd\"");
  CHECK(MustParse(Serialize(Value(std::string("a\xFF")))).as_string() == "a\xEF\xBF\xBD");

  // Doubles as Python's repr() writes them, so they read back as doubles.
  CHECK(Serialize(Value(10.0)) == "10.0");
  CHECK(Serialize(Value(-0.0)) == "-0.0");
  CHECK(Serialize(Value(0.0)) == "0.0");
  CHECK(Serialize(Value(0.1)) == "0.1");
  CHECK(Serialize(Value(123.456)) == "123.456");
  CHECK(Serialize(Value(0.0001)) == "0.0001");
  CHECK(Serialize(Value(0.00001)) == "1e-05");
  CHECK(Serialize(Value(1.5e-5)) == "1.5e-05");
  CHECK(Serialize(Value(1e15)) == "1000000000000000.0");
  CHECK(Serialize(Value(1e16)) == "1e+16");
  CHECK(Serialize(Value(123456789012345678.0)) == "1.2345678901234568e+17");  // Python's repr() too
  CHECK(Serialize(Value(1e300)) == "1e+300");
  CHECK(Serialize(Value(5e-324)) == "5e-324");
  CHECK(Serialize(Value(INFINITY)) == "null");
  CHECK(Serialize(Value(NAN)) == "null");
  CHECK(Serialize(Value(INT64_MIN)) == "-9223372036854775808");
  CHECK(Serialize(Value(uint64_t{18446744073709551615u})) == "18446744073709551615");
  for (double d : {0.1, 1.0 / 3, 2.5e-300, 6.02214076e23, 1e21, 123456789.125}) {
    Value back = MustParse(Serialize(Value(d)));
    CHECK(back.is_double());
    CHECK(back.as_double() == d);
  }
}

TEST_CASE("json: building values, accessors and equality") {
  Value o = Value::MakeObject();
  o.Set("name", "vol");
  o.Set("size", 10);
  o.Set("name", "renamed");  // replaces in place
  Value& list = o.Set("list", Value::MakeArray());
  list.Append(1);
  list.Append(nullptr);
  CHECK(Serialize(o) == R"({"name":"renamed","size":10,"list":[1,null]})");
  o.Find("size")->Append(true);  // a mutator retypes the value
  CHECK(Serialize(o) == R"({"name":"renamed","size":[true],"list":[1,null]})");

  // Wrong-type accessors answer a default instead of failing.
  Value s("text");
  CHECK(s.as_int() == 0);
  CHECK(s.as_double() == 0);
  CHECK(!s.as_bool());
  CHECK(s.as_array().empty());
  CHECK(s.as_object().empty());
  CHECK(s.size() == 0);
  CHECK(s.Find("x") == nullptr);
  CHECK(s.At(0) == nullptr);
  CHECK(Value(10).as_string().empty());
  CHECK(Value(2.9).as_int() == 2);
  CHECK(Value(-2.9).as_int() == -2);
  CHECK(Value(1e30).as_int() == INT64_MAX);
  CHECK(Value(NAN).as_int() == 0);
  CHECK(Value(7).as_double() == 7.0);
  CHECK(Value(7).type() == Value::Type::kNumber);

  CHECK(MustParse(R"({"a":1,"b":[1,2]})") == MustParse(R"({"b":[1,2.0],"a":1.0})"));
  CHECK(!(MustParse(R"({"a":1})") == MustParse(R"({"a":1,"b":2})")));
  CHECK(!(MustParse("[1,2]") == MustParse("[2,1]")));
  CHECK(!(Value(true) == Value(1)));
  CHECK(!(Value(9007199254740993) == Value(9007199254740992.0)));  // exact, not via double
  CHECK(Value(9007199254740992) == Value(9007199254740992.0));
  CHECK(Value() == Value(nullptr));
}

TEST_CASE("json: damaged input never crashes and anything accepted round-trips") {
  const std::string seed =
      R"({"volume": {"size": 10, "name": "v\u00e9", "metadata": {"k": [1, 2.5e3, true, null, "\ud83d\ude00"]},)"
      R"( "nested": [[[{"x": -0.5}]]], "s": "a\"b\\c"}})";
  std::mt19937 rng(1234);
  const char alphabet[] = "{}[],:\"\\u0123456789abcdefnulltruefalse-+.eE \t\n\x80\xC3\xFF";
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s.erase(at, 1);
          break;
        case 1: s.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
        default:
          if (at < s.size()) s[at] = alphabet[rng() % (sizeof alphabet - 1)];
      }
    }
    if (rng() % 8 == 0) s.resize(rng() % (s.size() + 1));
    auto r = Parse(s);
    if (!r.ok()) {
      CHECK(r.status().message().rfind("JSON parse error: ", 0) == 0);
      continue;
    }
    ++accepted;
    const std::string out = Serialize(*r);
    auto again = Parse(out);
    REQUIRE(again.ok());
    CHECK(*again == *r);
    CHECK(Serialize(*again) == out);
  }
  CHECK(accepted > 100);
}

}  // namespace cinder::json

namespace cinder {

TEST_CASE("the JSON writer escapes exactly the bytes that need it, wherever they fall") {
  auto reference = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else if (c >= 0x80) {
            out += "\\ufffd";  // a lone byte past ASCII is not UTF-8
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    return out;
  };
  std::vector<int> bytes = {'"', '\\', 0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d, 0x1f, 0x20};
  // Valid UTF-8 is copied wherever it falls, as the eight-byte scan hands over to the byte one.
  for (size_t pos = 0; pos < 12; ++pos) {
    std::string s = std::string(pos, 'a') + "caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80" + std::string(9, 'b');
    std::string out;
    AppendJsonString(&out, s);
    CHECK(out == s);
  }
  for (int c = 0; c < 0x20; ++c) bytes.push_back(c);
  for (size_t len : {1u, 7u, 8u, 9u, 16u, 23u, 40u}) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int c : bytes) {
        std::string s(len, 'a');
        s[pos] = static_cast<char>(c);
        std::string out;
        AppendJsonString(&out, s);
        CHECK_MESSAGE(out == reference(s), "len " << len << " pos " << pos << " byte " << c);
      }
    }
  }
  // A writer given a buffer writes from its start.
  JsonWriter w(std::string("left over"));
  w.BeginObject().Key("k").String("v").EndObject();
  CHECK(w.Take() == "{\"k\": \"v\"}");
}

}  // namespace cinder
