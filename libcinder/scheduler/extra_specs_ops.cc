#include "scheduler/extra_specs_ops.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/util.h"

namespace cinder::scheduler {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Byte length of the character at s[i] if Python's str.isspace() holds for it, else 0.
// str.split() and str.strip() use this set: ASCII \t\n\v\f\r, \x1c-\x1f and space, plus
// U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
size_t SpaceAt(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) ? 1 : 0;
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (c == 0xC2) return (at(1) == 0x85 || at(1) == 0xA0) ? 2 : 0;
  if (c == 0xE1) return (at(1) == 0x9A && at(2) == 0x80) ? 3 : 0;
  if (c == 0xE2) {
    const unsigned char b1 = at(1), b2 = at(2);
    if (b1 == 0x80 && ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF)) return 3;
    return (b1 == 0x81 && b2 == 0x9F) ? 3 : 0;
  }
  if (c == 0xE3) return (at(1) == 0x80 && at(2) == 0x80) ? 3 : 0;
  return 0;
}

// The next word of s from *pos, as str.split() would cut it.
std::optional<std::string_view> NextWord(std::string_view s, size_t* pos) {
  size_t i = *pos;
  while (i < s.size()) {
    const size_t n = SpaceAt(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) {
    *pos = i;
    return std::nullopt;
  }
  const size_t start = i;
  while (i < s.size() && SpaceAt(s, i) == 0) ++i;
  *pos = i;
  return s.substr(start, i - start);
}

// str.strip().
std::string_view Strip(std::string_view s) {
  // Nothing to strip (the usual case): no space first, and a last byte that ends none.
  const auto last = s.empty() ? 0 : static_cast<unsigned char>(s.back());
  if (!s.empty() && SpaceAt(s, 0) == 0 && last < 0x80 && SpaceAt(s, s.size() - 1) == 0) return s;
  size_t pos = 0, begin = s.size(), end = 0;
  while (auto w = NextWord(s, &pos)) {
    if (begin == s.size()) begin = static_cast<size_t>(w->data() - s.data());
    end = pos;
  }
  return begin < end ? s.substr(begin, end - begin) : std::string_view();
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

// Python's float(str), or nullopt where it raises ValueError. Unicode digits other than
// ASCII, which Python also accepts, never occur in capability reports and are refused.
std::optional<double> PyFloat(std::string_view s) {
  s = Strip(s);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  const std::string_view rest = s.substr(i);
  if (EqualsIgnoreAsciiCase(rest, "inf") || EqualsIgnoreAsciiCase(rest, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreAsciiCase(rest, "nan")) return std::numeric_limits<double>::quiet_NaN();

  // Copy out what from_chars reads: no '+', no '_' (allowed only between two digits).
  std::string buf;
  buf.reserve(s.size() + 1);
  if (neg) buf.push_back('-');
  auto digit_part = [&]() {
    if (i >= s.size() || !IsDigit(s[i])) return false;
    buf.push_back(s[i++]);
    while (i < s.size()) {
      if (IsDigit(s[i])) {
        buf.push_back(s[i++]);
      } else if (s[i] == '_' && i + 1 < s.size() && IsDigit(s[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    return true;
  };
  const bool whole = digit_part();
  bool fraction = false;
  if (i < s.size() && s[i] == '.') {
    buf.push_back('.');
    ++i;
    fraction = digit_part();
  }
  if (!whole && !fraction) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    buf.push_back('e');
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) buf.push_back(s[i++]);
    if (!digit_part()) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;

  double d = 0;
  const auto r = std::from_chars(buf.data(), buf.data() + buf.size(), d);
  if (r.ec == std::errc::result_out_of_range) {
    // Python rounds to inf or 0 instead of failing.
    const double mag = DecimalOverflows(buf) ? std::numeric_limits<double>::infinity() : 0.0;
    return neg ? -mag : mag;
  }
  if (r.ec != std::errc() || r.ptr != buf.data() + buf.size()) return std::nullopt;
  return d;
}

// oslo_utils.strutils.bool_from_string(s) with its default of False.
bool BoolFromString(std::string_view s) {
  const std::string_view t = Strip(s);
  for (const char* w : {"1", "t", "true", "on", "y", "yes"}) {
    if (EqualsIgnoreAsciiCase(t, w)) return true;
  }
  return false;  // the false words and everything unrecognised alike
}

}  // namespace

namespace extra_specs_internal {

enum class Op : uint8_t { kNone, kOr, kGe, kIn, kIs, kEq, kNe, kNumGe, kNumLe, kSEq, kSNe, kSLt, kSLe, kSGt, kSGe };

// A capability as match() sees it: its Python type decides how each operator treats it.
struct Capability {
  enum Kind { kNone, kStr, kBool, kInt, kFloat, kList, kDict } kind = kNone;
  PreparedCapability str;  // kStr
  bool b = false;
  int64_t i = 0;
  double d = 0;
  const json::Value* container = nullptr;  // kList, kDict
};

}  // namespace extra_specs_internal

namespace {

using extra_specs_internal::Capability;
using extra_specs_internal::Op;

Op OpOf(std::string_view w) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"<or>", Op::kOr}, {"=", Op::kGe},     {"<in>", Op::kIn},  {"<is>", Op::kIs}, {"==", Op::kEq},
      {"!=", Op::kNe},   {">=", Op::kNumGe}, {"<=", Op::kNumLe}, {"s==", Op::kSEq}, {"s!=", Op::kSNe},
      {"s<", Op::kSLt},  {"s<=", Op::kSLe},  {"s>", Op::kSGt},   {"s>=", Op::kSGe}};
  for (const auto& [name, op] : kOps) {
    if (w == name) return op;
  }
  return Op::kNone;
}

// float(x) for a capability that is no str; nullopt where Python raises (TypeError for
// containers and None).
std::optional<double> ToFloat(const Capability& c) {
  switch (c.kind) {
    case Capability::kBool: return c.b ? 1.0 : 0.0;
    case Capability::kInt: return static_cast<double>(c.i);
    case Capability::kFloat: return c.d;
    default: return std::nullopt;
  }
}

// bool_from_string(x) for a capability that is no str: a bool is itself, anything else goes
// through str() (so the int 1 is true and the float 1.0, whose str() is "1.0", is not).
bool ToBool(const Capability& c) {
  switch (c.kind) {
    case Capability::kBool: return c.b;
    case Capability::kInt: return c.i == 1;
    default: return false;
  }
}

Capability FromJson(const json::Value& v) {
  Capability c;
  switch (v.type()) {
    case json::Value::Type::kNull: break;
    case json::Value::Type::kBool: c.kind = Capability::kBool, c.b = v.as_bool(); break;
    case json::Value::Type::kNumber:
      if (v.is_int()) {
        c.kind = Capability::kInt, c.i = v.as_int();
      } else {
        c.kind = Capability::kFloat, c.d = v.as_double();
      }
      break;
    case json::Value::Type::kString: c.kind = Capability::kStr, c.str = PrepareCapability(v.as_string()); break;
    case json::Value::Type::kArray: c.kind = Capability::kList, c.container = &v; break;
    case json::Value::Type::kObject: c.kind = Capability::kDict, c.container = &v; break;
  }
  return c;
}

// The capability path an extra-spec key names, or nullopt for another scope's key.
// `whole` is set for a bare "capabilities" key, which names the dict itself.
std::optional<std::string_view> CapabilityPath(std::string_view key, bool* whole) {
  *whole = false;
  const size_t colon = key.find(':');
  if (colon == std::string_view::npos) {
    if (key == "capabilities") *whole = true;
    return *whole ? std::string_view() : key;
  }
  if (key.substr(0, colon) != "capabilities") return std::nullopt;
  return key.substr(colon + 1);
}

}  // namespace

PreparedCapability PrepareCapability(std::string_view value) {
  return PreparedCapability{value, PyFloat(value), BoolFromString(value)};
}

// The request's words, as match() splits them: the operator, its operand, and for <or>
// every second word after it (the ones between are skipped unchecked).
CompiledSpec::CompiledSpec(std::string_view req) : req_(req) {
  size_t pos = 0;
  const std::optional<std::string_view> first = NextWord(req, &pos);
  op_ = first ? OpOf(*first) : Op::kNone;
  if (op_ == Op::kNone) return;
  arg_ = NextWord(req, &pos);
  if (!arg_) return;
  if (op_ == Op::kOr) {
    for (std::optional<std::string_view> w = arg_; w;) {
      alternatives_.push_back(*w);
      if (!NextWord(req, &pos)) break;  // drops the next word, '<or>' or not
      w = NextWord(req, &pos);
    }
  }
  arg_number_ = PyFloat(*arg_);
  arg_truth_ = BoolFromString(*arg_);
}

namespace {

// s.find(t) != npos, without a call to memchr for the short strings capabilities are.
bool Contains(std::string_view s, std::string_view t) {
  if (t.size() > s.size()) return false;
  if (s.size() > 64) return s.find(t) != std::string_view::npos;
  for (size_t i = 0; i + t.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < t.size() && s[i + k] == t[k]) ++k;
    if (k == t.size()) return true;
  }
  return false;
}

}  // namespace

// A str capability: what every operator does with one.
bool CompiledSpec::Matches(const PreparedCapability& value) const {
  const std::string_view str = value.str;
  // No operator: a plain comparison with the whole spec.
  if (op_ == Op::kNone) return str == req_;
  if (!arg_) return false;  // an operator without operand (Cinder: IndexError for <or>)
  switch (op_) {
    case Op::kOr: return std::find(alternatives_.begin(), alternatives_.end(), str) != alternatives_.end();
    case Op::kGe:
    case Op::kNumGe: return value.number && arg_number_ && *value.number >= *arg_number_;  // '=' is '>='
    case Op::kEq: return value.number && arg_number_ && *value.number == *arg_number_;
    case Op::kNe: return value.number && arg_number_ && *value.number != *arg_number_;
    case Op::kNumLe: return value.number && arg_number_ && *value.number <= *arg_number_;
    case Op::kIn: return Contains(str, *arg_);
    case Op::kIs: return value.truth == arg_truth_;
    // Comparing UTF-8 bytes as unsigned (as string_view does) orders by code point.
    case Op::kSEq: return str == *arg_;
    case Op::kSNe: return str != *arg_;
    case Op::kSLt: return str < *arg_;
    case Op::kSLe: return str <= *arg_;
    case Op::kSGt: return str > *arg_;
    case Op::kSGe: return str >= *arg_;
    default: return false;
  }
}

// Any other type, as Python treats it.
bool CompiledSpec::Matches(const Capability& value) const {
  if (value.kind == Capability::kStr) return Matches(value.str);
  // A plain spec, <or> and s== compare with strings only; None matches nothing.
  if (op_ == Op::kNone || value.kind == Capability::kNone || !arg_) return false;
  switch (op_) {
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
    case Op::kNumGe:
    case Op::kNumLe: {
      const std::optional<double> x = ToFloat(value);
      if (!x || !arg_number_) return false;
      const double y = *arg_number_;
      if (op_ == Op::kEq) return *x == y;
      if (op_ == Op::kNe) return *x != y;
      if (op_ == Op::kNumLe) return *x <= y;
      return *x >= y;  // both '=' and '>='
    }
    case Op::kIn:
      if (value.kind == Capability::kDict) return value.container->Find(*arg_) != nullptr;
      if (value.kind == Capability::kList) {
        for (const auto& e : value.container->as_array()) {
          if (e.is_string() && e.as_string() == *arg_) return true;
        }
      }
      return false;  // a number or bool: TypeError
    case Op::kIs: return ToBool(value) == arg_truth_;
    case Op::kSNe: return true;  // not a str, so not equal to one
    default: return false;       // <or>, s==; s< and the like raise TypeError
  }
}

bool MatchExtraSpec(std::string_view value, std::string_view req) {
  return CompiledSpec(req).Matches(PrepareCapability(value));
}

bool MatchTypedExtraSpec(const json::Value& value, std::string_view req) {
  return CompiledSpec(req).Matches(FromJson(value));
}

bool CapabilitiesSatisfied(const std::map<std::string, std::string>& extra_specs,
                           const std::function<std::optional<std::string>(std::string_view key)>& capability) {
  for (const auto& [key, req] : extra_specs) {
    bool whole;
    const std::optional<std::string_view> path = CapabilityPath(key, &whole);
    if (!path) continue;
    const std::optional<std::string> value = capability(*path);
    if (!value || !MatchExtraSpec(*value, req)) return false;
  }
  return true;
}

bool CapabilitiesSatisfied(const std::map<std::string, std::string>& extra_specs, const json::Value& capabilities) {
  for (const auto& [key, req] : extra_specs) {
    bool whole;
    const std::optional<std::string_view> path = CapabilityPath(key, &whole);
    if (!path) continue;
    const json::Value* cap = &capabilities;
    if (!whole) {
      // One dict level per ':'-separated part; "a::b" has an empty middle part.
      size_t start = 0;
      while (true) {
        const size_t colon = path->find(':', start);
        const std::string_view part = path->substr(start, colon == std::string_view::npos ? colon : colon - start);
        cap = cap->Find(part);  // nullptr for a missing key and for a level that is no dict
        if (!cap) return false;
        if (colon == std::string_view::npos) break;
        start = colon + 1;
      }
    }
    if (cap->is_array()) {
      const auto& items = cap->as_array();
      if (std::none_of(items.begin(), items.end(), [&](const json::Value& v) { return MatchTypedExtraSpec(v, req); })) {
        return false;
      }
    } else if (!MatchTypedExtraSpec(*cap, req)) {
      return false;
    }
  }
  return true;
}

}  // namespace cinder::scheduler
