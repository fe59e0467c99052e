#include "common/json.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <numeric>

namespace cinder::json {

namespace {

const std::string kEmptyString;
const Value::Array kEmptyArray;
const Value::Object kEmptyObject;

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
// exactly that integer (converting the int to double would round large ones); a big integer
// only to the same digits, or to a double of exactly that integral value.
bool NumbersEqual(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
  if (a.is_double() && b.is_double()) return a.as_double() == b.as_double();
  if (a.is_big_int() || b.is_big_int()) {
    if (a.is_big_int() && b.is_big_int()) return a.big_int_digits() == b.big_int_digits();
    if (a.is_int() || b.is_int()) return false;  // the ranges do not meet
    const double d = a.is_double() ? a.as_double() : b.as_double();
    if (!std::isfinite(d) || d != std::trunc(d)) return false;
    char buf[400];  // every digit of the largest double, exactly
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
    return std::string_view(buf, static_cast<size_t>(r.ptr - buf)) ==
           (a.is_big_int() ? a.big_int_digits() : b.big_int_digits());
  }
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
    case kDoubleIdx:
    case kBigIntIdx: return Type::kNumber;
    case kStringIdx: return Type::kString;
    case kArrayIdx: return Type::kArray;
    case kObjectIdx: return Type::kObject;
    default: return Type::kNull;
  }
}

int64_t Value::as_int() const {
  if (is_int()) return std::get<kIntIdx>(v_);
  if (is_big_int()) return std::get<kBigIntIdx>(v_).digits[0] == '-' ? INT64_MIN : INT64_MAX;
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
  if (is_big_int()) {
    const std::string& digits = std::get<kBigIntIdx>(v_).digits;
    double d = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), d).ec == std::errc::result_out_of_range) {
      return digits[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    }
    return d;
  }
  return 0;
}

const std::string& Value::as_string() const { return is_string() ? std::get<kStringIdx>(v_) : kEmptyString; }
const std::string& Value::big_int_digits() const {
  return is_big_int() ? std::get<kBigIntIdx>(v_).digits : kEmptyString;
}
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
// Parse: simdjson's DOM (it checks the whole text: structure, UTF-8, escapes, numbers), then
// a walk of its document that copies it into Values.

namespace {

namespace dom = simdjson::dom;

constexpr size_t kMaxDepth = 64;
// Texts up to this size are parsed by the calling thread's parser, which keeps its buffers
// (about 15 bytes a byte of text) for the next one; a larger text gets a parser of its own.
constexpr size_t kKeepCapacity = 256 * 1024;

Status ParseError(simdjson::error_code error) {
  const char* what;
  switch (error) {
    case simdjson::EMPTY: what = "no JSON value (the text is empty or only whitespace)"; break;
    case simdjson::TAPE_ERROR:
      what = "not one well-formed JSON value (a character is missing or unexpected, or text follows the value)";
      break;
    case simdjson::DEPTH_ERROR: what = "arrays and objects nest deeper than 64 levels"; break;
    case simdjson::STRING_ERROR: what = "invalid string (a bad escape, or a \\u surrogate without its pair)"; break;
    case simdjson::UNCLOSED_STRING: what = "unterminated string"; break;
    case simdjson::UNESCAPED_CHARS: what = "unescaped control character in a string"; break;
    case simdjson::UTF8_ERROR: what = "invalid UTF-8"; break;
    case simdjson::NUMBER_ERROR: what = "invalid number, or one too large for a double"; break;
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: what = "unexpected word (not true, false or null)"; break;
    default: what = simdjson::error_message(error);
  }
  return InvalidArgument(std::string("JSON parse error: ") + what);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// An integer literal ("-"? [1-9][0-9]*) beyond what simdjson reads (int64 and uint64).
bool IsBigInteger(std::string_view token) {
  const bool negative = !token.empty() && token[0] == '-';
  const std::string_view digits = token.substr(negative ? 1 : 0);
  if (digits.size() < 19 || digits[0] == '0') return false;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
  }
  const char* end = token.data() + token.size();
  if (negative) {
    int64_t i;
    return std::from_chars(token.data(), end, i).ec == std::errc::result_out_of_range;
  }
  uint64_t u;
  return std::from_chars(token.data(), end, u).ec == std::errc::result_out_of_range;
}

// The integer literals of `text` beyond 64 bits, which make simdjson refuse the whole text (as
// NUMBER_ERROR, as it does a malformed number); Python's json reads them. Each is replaced by 0
// in *rewritten, and listed in *big with its position among the text's number literals, which
// is the order in which the walk of the document meets numbers. The scan only needs to be right
// for valid JSON: *rewritten is parsed again, and must then be valid.
void FindBigIntegers(std::string_view text, std::string* rewritten, std::vector<std::pair<size_t, std::string>>* big) {
  size_t numbers = 0, copied = 0;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {  // skip the string
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c != '-' && !IsDigit(c)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && (IsDigit(text[j]) || text[j] == '.' || text[j] == 'e' || text[j] == 'E' ||
                               text[j] == '+' || text[j] == '-')) {
      ++j;
    }
    const std::string_view token = text.substr(i, j - i);
    if (IsBigInteger(token)) {
      rewritten->append(text.substr(copied, i - copied)).push_back('0');
      copied = j;
      big->emplace_back(numbers, std::string(token));
    }
    ++numbers;
    i = j;
  }
  rewritten->append(text.substr(copied));
}

}  // namespace

class Builder {
 public:
  explicit Builder(std::vector<std::pair<size_t, std::string>> big = {}) : big_(std::move(big)) {}

  void Build(dom::element e, Value* out) {
    switch (e.type()) {
      case dom::element_type::OBJECT: {
        const dom::object object = e.get_object().value_unsafe();
        Value::Object members;
        members.reserve(object.size());  // saturates at 2^24 - 1: only a hint
        for (const dom::key_value_pair member : object) {
          members.emplace_back(std::string(member.key), Value());
          Build(member.value, &members.back().second);
        }
        MergeDuplicateKeys(&members);
        out->v_ = std::move(members);
        break;
      }
      case dom::element_type::ARRAY: {
        const dom::array array = e.get_array().value_unsafe();
        Value::Array elements;
        elements.reserve(array.size());  // saturates at 2^24 - 1: only a hint
        for (const dom::element element : array) Build(element, &elements.emplace_back());
        out->v_ = std::move(elements);
        break;
      }
      case dom::element_type::STRING: out->v_ = std::string(e.get_string().value_unsafe()); break;
      case dom::element_type::INT64:
        out->v_ = e.get_int64().value_unsafe();
        Number(out);
        break;
      case dom::element_type::UINT64:  // only past INT64_MAX: a big integer, as Python keeps it
        out->v_ = Value::BigInt{std::to_string(e.get_uint64().value_unsafe())};
        Number(out);
        break;
      case dom::element_type::DOUBLE:
        out->v_ = e.get_double().value_unsafe();
        Number(out);
        break;
      case dom::element_type::BOOL: out->v_ = e.get_bool().value_unsafe(); break;
      case dom::element_type::NULL_VALUE: break;
    }
  }

 private:
  // Puts back a big integer FindBigIntegers took out, when this number is the next one.
  void Number(Value* out) {
    if (next_ < big_.size() && big_[next_].first == numbers_) {
      out->v_ = Value::BigInt{std::move(big_[next_].second)};
      ++next_;
    }
    ++numbers_;
  }

  std::vector<std::pair<size_t, std::string>> big_;
  size_t next_ = 0, numbers_ = 0;
};

Result<Value> Parse(std::string_view text) {
  thread_local dom::parser kept;
  std::unique_ptr<dom::parser> own;
  dom::parser* parser = &kept;
  if (text.size() > kKeepCapacity) {
    own = std::make_unique<dom::parser>();
    parser = own.get();
  }
  if (parser->max_depth() != kMaxDepth) {
    if (auto error = parser->allocate(std::max<size_t>(text.size(), 4096), kMaxDepth)) return ParseError(error);
  }
  dom::element root;
  auto error = parser->parse(text.data(), text.size()).get(root);
  std::vector<std::pair<size_t, std::string>> big;
  if (error == simdjson::NUMBER_ERROR) {
    std::string rewritten;
    FindBigIntegers(text, &rewritten, &big);
    if (!big.empty()) error = parser->parse(rewritten).get(root);
  }
  if (error) return ParseError(error);
  Value out;
  Builder(std::move(big)).Build(root, &out);
  return out;
}

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
      } else if (v.is_big_int()) {
        out->append(v.big_int_digits());
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
