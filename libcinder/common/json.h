// A small JSON document model, read by simdjson's DOM parser: the one parsing path for API
// request bodies, RPC messages, scheduler hints, volume-type extra specs, capability reports and
// the JSON bits of cinder.conf. simdjson stays inside json.cc; this header needs only the
// standard library.
//
// Parse() follows RFC 8259 strictly: one value with optional surrounding whitespace and nothing
// after it; no comments, trailing commas, NaN/Infinity, leading zeros, single quotes, byte-order
// mark or raw control characters in strings; the whole text must be valid UTF-8; \uXXXX escapes
// (surrogate pairs included) become UTF-8, and a lone surrogate is an error because it has no
// UTF-8 form. Containers may nest 64 deep. Errors are InvalidArgument, "JSON parse error: ..."
// (simdjson reports no offset).
//
// Numbers remember how they were written, as Python's json does: a literal with no fraction or
// exponent is an integer, kept exactly: in an int64 when it fits, else as its digits (a "big"
// integer, which Cinder's validators then call greater than the maximum rather than seeing it
// wrap). Anything else is a double; a literal too large for a double is an error (Python would
// make it inf, which no JSON text can carry back out); one too small becomes 0.
//
// Objects keep their members in the order first written. A repeated key keeps its first
// position and takes its last value, as Python's json.loads() into a dict does.
#ifndef CINDER_COMMON_JSON_H_
#define CINDER_COMMON_JSON_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "cinder/status.h"

namespace cinder::json {

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;  // insertion order, keys unique

  Value() = default;        // null
  Value(std::nullptr_t) {}  // NOLINT: implicit by design, like the ones below
  Value(bool b) : v_(b) {}  // NOLINT
  template <std::integral T>
  requires(!std::same_as<T, bool>) Value(T i) {  // NOLINT
    // An unsigned value past int64 is held as its digits, like a parsed one.
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (i > static_cast<T>(INT64_MAX)) {
        v_ = BigInt{std::to_string(i)};
        return;
      }
    }
    v_ = static_cast<int64_t>(i);
  }
  Value(double d) : v_(d) {}                         // NOLINT
  Value(float f) : v_(static_cast<double>(f)) {}     // NOLINT
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT: else a literal would pick bool
  Value(Array a) : v_(std::move(a)) {}               // NOLINT

  static Value MakeArray() { return Value(Array{}); }
  static Value MakeObject() {
    Value v;
    v.v_ = Object{};
    return v;
  }

  Type type() const;
  bool is_null() const { return v_.index() == kNullIdx; }
  bool is_bool() const { return v_.index() == kBoolIdx; }
  bool is_number() const { return v_.index() == kIntIdx || v_.index() == kDoubleIdx || v_.index() == kBigIntIdx; }
  // A number written (or built) as an integer that fits in int64.
  bool is_int() const { return v_.index() == kIntIdx; }
  // An integer outside int64's range, kept as its digits: a number, neither is_int() nor
  // is_double(); as_int() clamps it, as_double() rounds it, Serialize() writes it exactly.
  bool is_big_int() const { return v_.index() == kBigIntIdx; }
  bool is_double() const { return v_.index() == kDoubleIdx; }
  bool is_string() const { return v_.index() == kStringIdx; }
  bool is_array() const { return v_.index() == kArrayIdx; }
  bool is_object() const { return v_.index() == kObjectIdx; }

  // The accessors never fail: asked for the wrong type they return false, 0 or empty, so a
  // malformed document can be probed without checking every step.
  bool as_bool() const { return is_bool() && std::get<kBoolIdx>(v_); }
  // An integer exactly; a double truncated toward zero and a big integer clamped to int64's
  // range.
  int64_t as_int() const;
  // Any number as a double (a large integer rounds to the nearest double, or to +-inf).
  double as_double() const;
  const std::string& as_string() const;
  // A big integer's digits ("-" first when negative); empty for anything else.
  const std::string& big_int_digits() const;
  const Array& as_array() const;
  // Members in insertion order.
  const Object& as_object() const;
  // Elements of an array or members of an object; 0 for anything else.
  size_t size() const;

  // The member named `key`, or nullptr when this is not an object or has no such member.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  // The i-th element, or nullptr when this is not an array or is too short.
  const Value* At(size_t i) const;

  // Mutators. Each first turns a value of another type into an empty array or object.
  Array& mutable_array();
  // Sets `key` (replacing the value of an existing member in place) and returns the value.
  Value& Set(std::string key, Value v);
  void Append(Value v) { mutable_array().push_back(std::move(v)); }

  // Structural equality: numbers by value (1 == 1.0), objects regardless of member order.
  bool operator==(const Value& other) const;

 private:
  friend class Builder;  // json.cc: makes Values of simdjson's document
  struct BigInt {
    std::string digits;  // "-"? [1-9][0-9]*
  };
  static constexpr size_t kNullIdx = 0, kBoolIdx = 1, kIntIdx = 2, kDoubleIdx = 3, kStringIdx = 4, kArrayIdx = 5,
                          kObjectIdx = 6, kBigIntIdx = 7;
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object, BigInt> v_;
};

// Parses one JSON text; see the top of this file for exactly what is accepted.
Result<Value> Parse(std::string_view text);

// Compact JSON (no spaces). Strings are written as UTF-8 with '"', '\' and control
// characters escaped; a byte that is not valid UTF-8 becomes \ufffd so the output always
// parses. Doubles use the shortest form that reads back exactly, written as Python's repr()
// would (10.0, 1e+16, 1.5e-05) so they stay doubles; inf and NaN have no JSON form and are
// written as null. Integers, big ones included, are written exactly; so a number alone comes
// out as Python's repr() of it.
std::string Serialize(const Value& value);

}  // namespace cinder::json

#endif  // CINDER_COMMON_JSON_H_
