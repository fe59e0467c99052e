#include "common/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "common/util.h"

namespace cinder::json {

namespace {

constexpr int kMaxDepth = 64;

const std::string kEmptyString;
const Value::Array kEmptyArray;
const Value::Object kEmptyObject;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Bytes a string can hold as they are while parsing: printable ASCII but '"' and '\'.
// Everything else (quote, escape, control, non-ASCII) leaves the fast loop.
struct PlainTable {
  bool plain[256] = {};
  constexpr PlainTable() {
    for (int c = 0x20; c < 0x80; ++c) plain[c] = true;
    plain[static_cast<unsigned char>('"')] = false;
    plain[static_cast<unsigned char>('\\')] = false;
  }
};
constexpr PlainTable kPlain;

// Length of the well-formed UTF-8 sequence at p (whose first byte is >= 0x80), or 0. The
// ranges are Unicode's table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF.
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = *p;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c == 0xE0) {
    n = 3, lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    n = 3;
  } else if (c == 0xED) {
    n = 3, hi = 0x9F;
  } else if (c == 0xF0) {
    n = 4, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    n = 4;
  } else if (c == 0xF4) {
    n = 4, hi = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return n;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Merges repeated keys the way a Python dict would: the first position, the last value.
// The common case, no repeats, costs a few comparisons and no allocation for small objects.
void MergeDuplicateKeys(Value::Object* obj) {
  const size_t n = obj->size();
  if (n < 2) return;
  std::vector<bool> dead;  // allocated only once a repeat turns up
  auto merge = [&](size_t first, size_t later) {
    (*obj)[first].second = std::move((*obj)[later].second);
    if (dead.empty()) dead.resize(n);
    dead[later] = true;
  };
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if ((dead.empty() || !dead[j]) && (*obj)[j].first == (*obj)[i].first) {
          merge(j, i);
          break;
        }
      }
    }
  } else {
    // Large objects (a big metadata map): sort positions by key instead of n^2 compares.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return (*obj)[a].first < (*obj)[b].first; });
    size_t group = order[0];  // stable: the first of equal keys is the earliest written
    for (size_t k = 1; k < n; ++k) {
      if ((*obj)[order[k]].first == (*obj)[group].first) {
        merge(group, order[k]);
      } else {
        group = order[k];
      }
    }
  }
  if (dead.empty()) return;
  size_t w = 0;
  for (size_t r = 0; r < n; ++r) {
    if (dead[r]) continue;
    if (w != r) (*obj)[w] = std::move((*obj)[r]);
    ++w;
  }
  obj->resize(w);
}

// Numbers compare by value: an int64 and a double are equal only when the double is
// exactly that integer (converting the int to double would round large ones).
bool NumbersEqual(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
  if (a.is_double() && b.is_double()) return a.as_double() == b.as_double();
  const int64_t i = a.is_int() ? a.as_int() : b.as_int();
  const double d = a.is_int() ? b.as_double() : a.as_double();
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) return false;
  return static_cast<int64_t>(d) == i;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Value

Value::Type Value::type() const {
  switch (v_.index()) {
    case kBoolIdx: return Type::kBool;
    case kIntIdx:
    case kDoubleIdx: return Type::kNumber;
    case kStringIdx: return Type::kString;
    case kArrayIdx: return Type::kArray;
    case kObjectIdx: return Type::kObject;
    default: return Type::kNull;
  }
}

int64_t Value::as_int() const {
  if (is_int()) return std::get<kIntIdx>(v_);
  if (!is_double()) return 0;
  const double d = std::get<kDoubleIdx>(v_);
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775808.0) return INT64_MAX;
  if (d <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(d);
}

double Value::as_double() const {
  if (is_int()) return static_cast<double>(std::get<kIntIdx>(v_));
  if (is_double()) return std::get<kDoubleIdx>(v_);
  return 0;
}

const std::string& Value::as_string() const { return is_string() ? std::get<kStringIdx>(v_) : kEmptyString; }
const Value::Array& Value::as_array() const { return is_array() ? std::get<kArrayIdx>(v_) : kEmptyArray; }
const Value::Object& Value::as_object() const { return is_object() ? std::get<kObjectIdx>(v_) : kEmptyObject; }

size_t Value::size() const {
  if (is_array()) return std::get<kArrayIdx>(v_).size();
  if (is_object()) return std::get<kObjectIdx>(v_).size();
  return 0;
}

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<kObjectIdx>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) { return const_cast<Value*>(std::as_const(*this).Find(key)); }

const Value* Value::At(size_t i) const {
  if (!is_array() || i >= std::get<kArrayIdx>(v_).size()) return nullptr;
  return &std::get<kArrayIdx>(v_)[i];
}

Value::Array& Value::mutable_array() {
  if (!is_array()) v_ = Array{};
  return std::get<kArrayIdx>(v_);
}

Value& Value::Set(std::string key, Value v) {
  if (!is_object()) v_ = Object{};
  if (Value* existing = Find(key)) return *existing = std::move(v);
  auto& obj = std::get<kObjectIdx>(v_);
  obj.emplace_back(std::move(key), std::move(v));
  return obj.back().second;
}

bool Value::operator==(const Value& other) const {
  if (is_number() && other.is_number()) return NumbersEqual(*this, other);
  if (v_.index() != other.v_.index()) return false;
  switch (v_.index()) {
    case kBoolIdx: return as_bool() == other.as_bool();
    case kStringIdx: return as_string() == other.as_string();
    case kArrayIdx: return as_array() == other.as_array();
    case kObjectIdx: {
      if (size() != other.size()) return false;
      for (const auto& [k, v] : as_object()) {
        const Value* o = other.Find(k);
        if (!o || !(*o == v)) return false;
      }
      return true;
    }
    default: return true;  // null
  }
}

// ---------------------------------------------------------------------------------------
// Parser: recursive descent over the bytes; strings are appended a run at a time.

class Parser {
 public:
  explicit Parser(std::string_view text) : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  Result<Value> Run() {
    Value v;
    SkipSpace();
    if (p_ == end_) {
      Fail(p_, "no JSON value (the text is empty or only whitespace)");
      return error_;
    }
    if (!ParseValue(&v, 0)) return error_;
    SkipSpace();
    if (p_ != end_) {
      Fail(p_, "unexpected " + Describe(p_) + " after the JSON value");
      return error_;
    }
    return v;
  }

 private:
  bool Fail(const char* at, const std::string& what) {
    error_ = InvalidArgument("JSON parse error at offset " + std::to_string(at - begin_) + ": " + what);
    return false;
  }

  // How an offending byte reads in a message.
  std::string Describe(const char* at) const {
    if (at == end_) return "end of input";
    const auto c = static_cast<unsigned char>(*at);
    if (c > 0x20 && c < 0x7F) return std::string("character '") + *at + "'";
    static const char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool ParseValue(Value* out, int depth) {
    if (p_ == end_) return Fail(p_, "unexpected end of input, expected a value");
    switch (*p_) {
      case '{': return ParseObject(out, depth + 1);
      case '[': return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        out->v_ = std::move(s);
        return true;
      }
      case 't': return ParseWord("true", Value(true), out);
      case 'f': return ParseWord("false", Value(false), out);
      case 'n': return ParseWord("null", Value(), out);
      default:
        if (*p_ == '-' || IsDigit(*p_)) return ParseNumber(out);
        return Fail(p_, "unexpected " + Describe(p_) + ", expected a value");
    }
  }

  bool ParseWord(std::string_view word, Value v, Value* out) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return Fail(p_, "unexpected " + Describe(p_) + ", expected a value");
    }
    p_ += word.size();
    *out = std::move(v);
    return true;
  }

  bool ParseArray(Value* out, int depth) {
    if (depth > kMaxDepth) return Fail(p_, "arrays and objects nest deeper than 64 levels");
    ++p_;  // '['
    Value::Array arr;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      out->v_ = std::move(arr);
      return true;
    }
    while (true) {
      SkipSpace();
      arr.emplace_back();
      if (!ParseValue(&arr.back(), depth)) return false;
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
      } else if (p_ < end_ && *p_ == ']') {
        ++p_;
        break;
      } else {
        return Fail(p_, "unexpected " + Describe(p_) + ", expected ',' or ']' in an array");
      }
    }
    out->v_ = std::move(arr);
    return true;
  }

  bool ParseObject(Value* out, int depth) {
    if (depth > kMaxDepth) return Fail(p_, "arrays and objects nest deeper than 64 levels");
    ++p_;  // '{'
    Value::Object obj;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      out->v_ = std::move(obj);
      return true;
    }
    while (true) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') {
        return Fail(p_, "unexpected " + Describe(p_) + ", expected a '\"'-quoted object key");
      }
      obj.emplace_back();
      if (!ParseString(&obj.back().first)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') {
        return Fail(p_, "unexpected " + Describe(p_) + ", expected ':' after an object key");
      }
      ++p_;
      SkipSpace();
      if (!ParseValue(&obj.back().second, depth)) return false;
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
      } else if (p_ < end_ && *p_ == '}') {
        ++p_;
        break;
      } else {
        return Fail(p_, "unexpected " + Describe(p_) + ", expected ',' or '}' in an object");
      }
    }
    MergeDuplicateKeys(&obj);
    out->v_ = std::move(obj);
    return true;
  }

  bool ParseString(std::string* out) {
    const char* open = p_++;
    const char* run = p_;  // start of the bytes not yet copied to *out
    while (true) {
      while (p_ < end_ && kPlain.plain[static_cast<unsigned char>(*p_)]) ++p_;
      if (p_ == end_) return Fail(open, "unterminated string");
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out->append(run, static_cast<size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c >= 0x80) {
        const size_t n =
            Utf8Length(reinterpret_cast<const unsigned char*>(p_), reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return Fail(p_, "invalid UTF-8 (" + Describe(p_) + ") in a string");
        p_ += n;
        continue;
      }
      if (c < 0x20) return Fail(p_, "unescaped control character (" + Describe(p_) + ") in a string");
      out->append(run, static_cast<size_t>(p_ - run));
      if (!ParseEscape(out)) return false;
      run = p_;
    }
  }

  bool ReadHex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p_[i];
      v <<= 4;
      if (IsDigit(c)) {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    p_ += 4;
    *out = v;
    return true;
  }

  bool ParseEscape(std::string* out) {
    const char* at = p_++;  // the backslash
    if (p_ == end_) return Fail(at, "unterminated string");
    const char e = *p_++;
    switch (e) {
      case '"': out->push_back('"'); return true;
      case '\\': out->push_back('\\'); return true;
      case '/': out->push_back('/'); return true;
      case 'b': out->push_back('\b'); return true;
      case 'f': out->push_back('\f'); return true;
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case 'u': break;
      default: return Fail(at, "invalid escape '\\" + std::string(1, e) + "' in a string");
    }
    uint32_t cp;
    if (!ReadHex4(&cp)) return Fail(at, "\\u must be followed by four hexadecimal digits");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail(at, "lone low surrogate \\u escape (no UTF-8 form)");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
        return Fail(at, "high surrogate \\u escape not followed by a low surrogate");
      }
      p_ += 2;
      if (!ReadHex4(&lo)) return Fail(p_ - 2, "\\u must be followed by four hexadecimal digits");
      if (lo < 0xDC00 || lo > 0xDFFF) return Fail(at, "high surrogate \\u escape not followed by a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    AppendUtf8(out, cp);
    return true;
  }

  bool ParseNumber(Value* out) {
    const char* start = p_;
    bool integral = true;
    if (*p_ == '-') ++p_;
    if (p_ == end_ || !IsDigit(*p_)) return Fail(start, "'-' must be followed by a digit");
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && IsDigit(*p_)) return Fail(start, "numbers may not have leading zeros");
    } else {
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return Fail(p_, "expected a digit after the decimal point");
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return Fail(p_, "expected a digit in the exponent");
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (integral) {
      int64_t i;
      if (std::from_chars(start, p_, i).ec == std::errc()) {
        out->v_ = i;
        return true;
      }
      // Past int64: keep it as the nearest double.
    }
    double d = 0;
    const auto r = std::from_chars(start, p_, d);
    if (r.ec == std::errc::result_out_of_range) {
      if (DecimalOverflows(std::string_view(start, static_cast<size_t>(p_ - start)))) {
        return Fail(start, "number is too large for a double");
      }
      d = (*start == '-') ? -0.0 : 0.0;
    } else if (r.ec != std::errc() || r.ptr != p_) {
      return Fail(start, "invalid number");
    }
    out->v_ = d;
    return true;
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  Status error_;
};

Result<Value> Parse(std::string_view text) { return Parser(text).Run(); }

// ---------------------------------------------------------------------------------------
// Serialize

namespace {

// Bytes the writer must look at: '"', '\', control characters and non-ASCII (to check
// the UTF-8). Plain ASCII is copied a run at a time.
struct AttentionTable {
  bool look[256] = {};
  constexpr AttentionTable() {
    for (int c = 0; c < 0x20; ++c) look[c] = true;
    for (int c = 0x80; c < 0x100; ++c) look[c] = true;
    look[static_cast<unsigned char>('"')] = true;
    look[static_cast<unsigned char>('\\')] = true;
  }
};
constexpr AttentionTable kAttention;

void WriteString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;
  auto flush = [&] { out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run)); };
  while (true) {
    while (p < end && !kAttention.look[*p]) ++p;
    if (p == end) break;
    if (*p >= 0x80) {
      if (const size_t n = Utf8Length(p, end)) {
        p += n;
        continue;
      }
      flush();
      out->append("\\ufffd");
      run = ++p;
      continue;
    }
    flush();
    switch (*p) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[*p >> 4]);
        out->push_back(kHex[*p & 15]);
    }
    run = ++p;
  }
  flush();
  out->push_back('"');
}

// Python's repr(): the shortest digits that read back exactly, positional for decimal
// exponents -4..15 (always with a fractional part, so 10.0 stays a double), else e-notation.
void WriteDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));  // [-]D[.DDD]e(+|-)XX
  const size_t e = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e + 2, sci.data() + sci.size(), exp);
  if (sci[e + 1] == '-') exp = -exp;
  if (exp < -4 || exp >= 16) {
    out->append(sci);
    return;
  }
  const bool neg = sci[0] == '-';
  char digits[32];
  int nd = 0;
  for (size_t i = neg ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits[nd++] = sci[i];
  }
  if (neg) out->push_back('-');
  if (exp < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits, static_cast<size_t>(nd));
  } else if (nd <= exp + 1) {
    out->append(digits, static_cast<size_t>(nd));
    out->append(static_cast<size_t>(exp + 1 - nd), '0');
    out->append(".0");
  } else {
    out->append(digits, static_cast<size_t>(exp + 1));
    out->push_back('.');
    out->append(digits + exp + 1, static_cast<size_t>(nd - exp - 1));
  }
}

void Write(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull: out->append("null"); break;
    case Value::Type::kBool: out->append(v.as_bool() ? "true" : "false"); break;
    case Value::Type::kNumber:
      if (v.is_int()) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
        out->append(buf, static_cast<size_t>(r.ptr - buf));
      } else {
        WriteDouble(v.as_double(), out);
      }
      break;
    case Value::Type::kString: WriteString(v.as_string(), out); break;
    case Value::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        Write(e, out);
      }
      out->push_back(']');
      break;
    }
    case Value::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        WriteString(k, out);
        out->push_back(':');
        Write(e, out);
      }
      out->push_back('}');
      break;
    }
  }
}

}  // namespace

std::string Serialize(const Value& value) {
  std::string out;
  Write(value, &out);
  return out;
}

}  // namespace cinder::json
