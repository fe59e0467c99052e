// The JSON DOM, parser and serializer in common/json.h.
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
  Value big = MustParse("9223372036854775808");  // past int64: the nearest double
  CHECK(big.is_double());
  CHECK(big.as_double() == 9223372036854775808.0);
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
  CHECK(ParseError("1e400") == "JSON parse error at offset 0: number is too large for a double");
  CHECK(ParseError("[1, -1.5e99999]").find("offset 4: number is too large") != std::string::npos);
}

TEST_CASE("json: strings, escapes and UTF-8") {
  CHECK(MustParse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(MustParse(R"("\u00e9\u20AC")").as_string() == "\xC3\xA9\xE2\x82\xAC");
  CHECK(MustParse(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // a surrogate pair
  CHECK(MustParse(R"("\u0000")").as_string() == std::string(1, '\0'));
  CHECK(MustParse("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").as_string() == "caf\xC3\xA9 \xF0\x9F\x98\x80");

  CHECK(ParseError(R"("\ud83d")") ==
        "JSON parse error at offset 1: high surrogate \\u escape not followed by a low surrogate");
  CHECK(ParseError(R"("\ud83d\u0041")").find("offset 1: high surrogate") != std::string::npos);
  CHECK(ParseError(R"("x\ude00")") == "JSON parse error at offset 2: lone low surrogate \\u escape (no UTF-8 form)");
  CHECK(ParseError(R"("\u12G4")") == "JSON parse error at offset 1: \\u must be followed by four hexadecimal digits");
  CHECK(ParseError(R"("\x")") == "JSON parse error at offset 1: invalid escape '\\x' in a string");
  CHECK(ParseError("\"a\tb\"") == "JSON parse error at offset 2: unescaped control character (byte 0x09) in a string");
  CHECK(ParseError("\"abc") == "JSON parse error at offset 0: unterminated string");
  CHECK(ParseError("\"abc\\") == "JSON parse error at offset 4: unterminated string");
  // Ill-formed UTF-8: overlong, encoded surrogate, past U+10FFFF, truncated, stray continuation.
  for (const char* bad :
       {"\"\xC0\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"", "\"\x80\"", "\"\xFF\""}) {
    CHECK(ParseError(bad) == "JSON parse error at offset 1: invalid UTF-8 (byte 0x" +
                                 std::string(1, "0123456789abcdef"[static_cast<unsigned char>(bad[1]) >> 4]) +
                                 std::string(1, "0123456789abcdef"[static_cast<unsigned char>(bad[1]) & 15]) +
                                 ") in a string");
  }
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

  Value dup = MustParse(R"({"k": 1, "other": 2, "k": 3})");
  CHECK(Serialize(dup) == R"({"k":3,"other":2})");

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

TEST_CASE("json: strict syntax, errors name the offset") {
  CHECK(ParseError("") == "JSON parse error at offset 0: no JSON value (the text is empty or only whitespace)");
  CHECK(ParseError("  \n") == "JSON parse error at offset 3: no JSON value (the text is empty or only whitespace)");
  CHECK(ParseError("[1] x") == "JSON parse error at offset 4: unexpected character 'x' after the JSON value");
  CHECK(ParseError("{} {}") == "JSON parse error at offset 3: unexpected character '{' after the JSON value");
  CHECK(ParseError("[1,]") == "JSON parse error at offset 3: unexpected character ']', expected a value");
  CHECK(ParseError("[1 2]") ==
        "JSON parse error at offset 3: unexpected character '2', expected ',' or ']' in an array");
  CHECK(ParseError("[1") == "JSON parse error at offset 2: unexpected end of input, expected ',' or ']' in an array");
  CHECK(ParseError(R"({"a" 1})") ==
        "JSON parse error at offset 5: unexpected character '1', expected ':' after an object key");
  CHECK(ParseError(R"({"a":1,})") ==
        "JSON parse error at offset 7: unexpected character '}', expected a '\"'-quoted object key");
  CHECK(ParseError("{'a':1}") ==
        "JSON parse error at offset 1: unexpected character ''', expected a '\"'-quoted object key");
  CHECK(ParseError("01") == "JSON parse error at offset 0: numbers may not have leading zeros");
  CHECK(ParseError("-") == "JSON parse error at offset 0: '-' must be followed by a digit");
  CHECK(ParseError("1.") == "JSON parse error at offset 2: expected a digit after the decimal point");
  CHECK(ParseError("1e+") == "JSON parse error at offset 3: expected a digit in the exponent");
  CHECK(ParseError("+1") == "JSON parse error at offset 0: unexpected character '+', expected a value");
  CHECK(ParseError(".5") == "JSON parse error at offset 0: unexpected character '.', expected a value");
  CHECK(ParseError("tru") == "JSON parse error at offset 0: unexpected character 't', expected a value");
  CHECK(ParseError("NaN") == "JSON parse error at offset 0: unexpected character 'N', expected a value");
  CHECK(ParseError("[Infinity]") == "JSON parse error at offset 1: unexpected character 'I', expected a value");
  CHECK(ParseError("/* c */ 1") == "JSON parse error at offset 0: unexpected character '/', expected a value");
  CHECK(ParseError("\xEF\xBB\xBF{}") == "JSON parse error at offset 0: unexpected byte 0xef, expected a value");
  CHECK(ParseError(std::string_view("[1]\0", 4)) ==
        "JSON parse error at offset 3: unexpected byte 0x00 after the JSON value");
}

TEST_CASE("json: nesting is limited to 64 levels") {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK(MustParse(ok).is_array());
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  CHECK(ParseError(deep) == "JSON parse error at offset 64: arrays and objects nest deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  CHECK(ParseError(objects).find("nest deeper than 64 levels") != std::string::npos);
  // Far deeper input fails the same way instead of exhausting the stack.
  CHECK(ParseError(std::string(1'000'000, '[')).find("offset 64:") != std::string::npos);
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
  CHECK(Serialize(Value(uint64_t{18446744073709551615u})) == "1.8446744073709552e+19");
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
      CHECK(r.status().message().rfind("JSON parse error at offset ", 0) == 0);
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
