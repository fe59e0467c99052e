// The expression evaluator's evaluation: the tree evaluator_parser.cc builds, walked with
// the values following Python's rules for the operations Cinder's evaluator.py performs on
// them.
#include "scheduler/evaluator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>

#include "scheduler/evaluator_internal.h"

namespace cinder::scheduler {

using evaluator_internal::Bool;
using evaluator_internal::EqualsIgnoreCase;
using evaluator_internal::Float;
using evaluator_internal::Int;
using evaluator_internal::IsDigit;
using evaluator_internal::Kind;
using evaluator_internal::NodeType;
using evaluator_internal::Quote;
using evaluator_internal::Str;
using evaluator_internal::Value;

namespace {

// The most bytes a string or list built by + or * may hold (Python has no limit; a scheduler
// function has no use for megabytes).
constexpr size_t kMaxBuilt = 1 << 20;

const char* TypeName(const Value& v) {
  switch (v.kind) {
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kBool: return "bool";
    case Kind::kStr: return "str";
    case Kind::kList: return "list";
  }
  return "?";
}

// What Python's str.strip() removes (the ASCII part).
bool IsPySpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

// Digits gathered for std::from_chars, without heap use for any sane number.
class NumberBuffer {
 public:
  void Push(char c) {
    if (n_ < sizeof(inline_)) {
      inline_[n_++] = c;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_, n_);
    heap_.push_back(c);
    ++n_;
  }
  const char* data() const { return heap_.empty() ? inline_ : heap_.data(); }
  size_t size() const { return n_; }

 private:
  char inline_[128];
  std::string heap_;
  size_t n_ = 0;
};

// Python accepts "1_000": single underscores between digits. Reads such a run at s[*i]
// into `out`; false when it is malformed or there are no digits.
bool ReadDigits(std::string_view s, size_t* i, NumberBuffer* out, size_t* count) {
  size_t start = *i;
  *count = 0;
  while (*i < s.size()) {
    if (IsDigit(s[*i])) {
      out->Push(s[*i]);
      ++*count;
      ++*i;
    } else if (s[*i] == '_' && *i > start && IsDigit(s[*i - 1]) && *i + 1 < s.size() && IsDigit(s[*i + 1])) {
      ++*i;
    } else {
      break;
    }
  }
  return *count > 0;
}

std::string_view PyStrip(std::string_view s) {
  while (!s.empty() && IsPySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPySpace(s.back())) s.remove_suffix(1);
  return s;
}

// Python's int(s) for a str, as a double; nullopt where Python raises ValueError.
std::optional<double> PyInt(std::string_view s) {
  s = PyStrip(s);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i >= s.size() || !IsDigit(s[i])) return std::nullopt;
  NumberBuffer digits;
  size_t count;
  if (!ReadDigits(s, &i, &digits, &count) || i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) v = std::numeric_limits<double>::infinity();
  return negative ? -v : v;
}

// Python's float(s) for a str; nullopt where Python raises ValueError.
std::optional<double> PyFloat(std::string_view s) {
  s = PyStrip(s);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string_view rest = s.substr(i);
  double sign = negative ? -1.0 : 1.0;
  if (EqualsIgnoreCase(rest, "inf") || EqualsIgnoreCase(rest, "infinity")) {
    return sign * std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(rest, "nan")) return std::numeric_limits<double>::quiet_NaN();
  // [digits] ['.' [digits]] [e [sign] digits], with at least one mantissa digit; rebuilt as
  // "I.F" so from_chars sees one shape whatever the input left out.
  NumberBuffer buf;
  size_t int_digits = 0, frac_digits = 0, n;
  if (i < s.size() && IsDigit(s[i])) {
    if (!ReadDigits(s, &i, &buf, &int_digits)) return std::nullopt;
  }
  if (int_digits == 0) buf.Push('0');
  buf.Push('.');
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i < s.size() && IsDigit(s[i])) {
      if (!ReadDigits(s, &i, &buf, &frac_digits)) return std::nullopt;
    }
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (frac_digits == 0) buf.Push('0');
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    if (i >= s.size() || !IsDigit(s[i])) return std::nullopt;
    NumberBuffer exp_digits;
    if (!ReadDigits(s, &i, &exp_digits, &n)) return std::nullopt;
    for (size_t k = 0; k < exp_digits.size(); ++k) {
      exponent = std::min<int64_t>(exponent * 10 + (exp_digits.data()[k] - '0'), 1'000'000'000);
    }
    if (exp_negative) exponent = -exponent;
    buf.Push('e');
    for (char c : std::to_string(exponent)) buf.Push(c);
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Too large is inf, too small is 0, as Python's float() gives: find the decimal magnitude
    // of the first significant digit.
    const char* d = buf.data();
    int64_t magnitude = 0;
    bool found = false;
    for (size_t k = 0, pos = 0; k < buf.size() && d[k] != 'e'; ++k) {
      if (d[k] == '.') continue;
      if (d[k] != '0') {
        int64_t int_len = static_cast<int64_t>(int_digits == 0 ? 1 : int_digits);
        magnitude = int_len - static_cast<int64_t>(pos) - 1 + exponent;
        found = true;
        break;
      }
      ++pos;
    }
    v = found && magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return sign * v;
}

// The length of the UTF-8 character starting with byte c (1 for a stray byte).
size_t Utf8Length(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

}  // namespace

class ExpressionEvaluator {
 public:
  ExpressionEvaluator(const Expression& e, const EvalVars& vars) : e_(e), vars_(vars) {}

  // False with error() set where Cinder raises.
  bool Run(Value* out) { return Eval(e_.root_, out); }
  const std::string& error() const { return error_; }

  static bool Truthy(const Value& v) {
    switch (v.kind) {
      case Kind::kStr: return !v.str.empty();
      case Kind::kList: return !v.list->empty();
      default: return v.num != 0;  // NaN is true, as in Python
    }
  }

 private:
  using Node = Expression::Node;
  using Operand = Expression::Operand;

  bool Error(std::string message) {
    error_ = std::move(message);
    return false;
  }
  const Operand& Arg(const Node& n, uint32_t i) const { return e_.operands_[n.first + i]; }

  bool Eval(uint32_t index, Value* out) {
    const Node& n = e_.nodes_[index];
    switch (n.type) {
      case NodeType::kConst: *out = n.constant; return true;
      case NodeType::kVar: return Lookup(n, out);
      case NodeType::kCall: return Call(n, out);
      case NodeType::kPow:
      case NodeType::kMul:
      case NodeType::kAdd: {
        if (!Eval(Arg(n, 0).node, out)) return false;
        for (uint32_t i = 1; i < n.count; ++i) {
          Value v;
          if (!Eval(Arg(n, i).node, &v)) return false;
          if (!Arithmetic(Arg(n, i).op, *out, v, out)) return false;
        }
        return true;
      }
      case NodeType::kSign: {
        Value v;
        if (!Eval(Arg(n, 0).node, &v)) return false;
        return Arithmetic('*', Int(n.op == '-' ? -1 : 1), v, out);  // Cinder multiplies by ±1
      }
      case NodeType::kNot: {
        Value v;
        if (!Eval(Arg(n, 0).node, &v)) return false;
        *out = Bool(!Truthy(v));
        return true;
      }
      case NodeType::kCompare: {
        // A chain stops at the first false link; later operands are not evaluated.
        Value left;
        if (!Eval(Arg(n, 0).node, &left)) return false;
        for (uint32_t i = 1; i < n.count; ++i) {
          Value right;
          bool holds;
          if (!Eval(Arg(n, i).node, &right) || !Compare(Arg(n, i).op, left, right, &holds)) {
            return false;
          }
          if (!holds) {
            *out = Bool(false);
            return true;
          }
          left = right;
        }
        *out = Bool(true);
        return true;
      }
      case NodeType::kTernary: {
        Value cond;
        if (!Eval(Arg(n, 0).node, &cond)) return false;
        return Eval(Arg(n, Truthy(cond) ? 1 : 2).node, out);
      }
      case NodeType::kAnd:
      case NodeType::kOr: {
        // Both sides are evaluated (no short circuit), then Python's `and`/`or` picks one.
        Value left, right;
        if (!Eval(Arg(n, 0).node, &left) || !Eval(Arg(n, 1).node, &right)) return false;
        bool pick_left = (n.type == NodeType::kAnd) != Truthy(left);
        *out = pick_left ? left : right;
        return true;
      }
      case NodeType::kComma: {
        // [left] + right when right is a list, else [left, right]: lists nest only leftwards.
        Value left, right;
        if (!Eval(Arg(n, 0).node, &left) || !Eval(Arg(n, 1).node, &right)) return false;
        std::vector<Value>* list = NewList();
        list->push_back(left);
        if (right.kind == Kind::kList) {
          list->insert(list->end(), right.list->begin(), right.list->end());
        } else {
          list->push_back(right);
        }
        *out = Value{Kind::kList, 0, {}, list};
        return true;
      }
    }
    return Error("internal error: unknown node");
  }

  // object.property, then Cinder's int() / float() / quote stripping of the value.
  [[gnu::noinline]] bool Lookup(const Node& n, Value* out) {
    auto object = vars_.find(n.a);
    if (object == vars_.end()) {
      return Error("unknown variable " + Quote(std::string(n.a) + "." + std::string(n.b)) + ": no object " +
                   Quote(n.a));
    }
    auto prop = object->second.find(n.b);
    if (prop == object->second.end()) {
      return Error("unknown variable " + Quote(std::string(n.a) + "." + std::string(n.b)));
    }
    const auto& v = prop->second.v;
    if (const double* d = std::get_if<double>(&v)) {
      if (std::isinf(*d)) return Error("cannot convert float infinity to integer");
      *out = std::isnan(*d) ? Float(*d) : Int(std::trunc(*d));  // int(40.5) is 40
      return true;
    }
    if (const bool* b = std::get_if<bool>(&v)) {
      *out = Int(*b ? 1 : 0);
      return true;
    }
    const std::string& s = std::get<std::string>(v);
    if (auto i = PyInt(s)) {
      *out = Int(*i);
    } else if (auto f = PyFloat(s)) {
      *out = Float(*f);
    } else if (s.find_first_of("'\"") == std::string::npos) {
      *out = Str(s);
    } else {
      std::string* stripped = NewString();
      for (char c : s) {
        if (c != '\'' && c != '"') stripped->push_back(c);
      }
      *out = Str(*stripped);
    }
    return true;
  }

  // The running state of abs/max/min over arguments fed one at a time, so that a call like
  // max(a, b, c) builds no list.
  struct Accumulator {
    enum Fn { kAbs, kMax, kMin, kUnknown } fn;
    size_t count = 0;
    Value first, best;
  };

  [[gnu::noinline]] bool Feed(Accumulator* c, const Value& v) {
    if (c->count++ == 0) {
      c->first = c->best = v;
      return true;
    }
    if (c->fn == Accumulator::kMax || c->fn == Accumulator::kMin) {
      // Python's max keeps the first of equals: it replaces only on a strict > (min: <).
      bool better;
      if (!Compare(c->fn == Accumulator::kMax ? 'g' : 'l', v, c->best, &better)) return false;
      if (better) c->best = v;
    }
    return true;
  }
  [[gnu::noinline]] bool FeedAll(Accumulator* c, const Value& v) {
    if (v.kind != Kind::kList) return Feed(c, v);
    for (const Value& item : *v.list) {
      if (!Feed(c, item)) return false;
    }
    return true;
  }

  bool Call(const Node& n, Value* out) {
    Accumulator c;
    c.fn = n.a == "abs"   ? Accumulator::kAbs
           : n.a == "max" ? Accumulator::kMax
           : n.a == "min" ? Accumulator::kMin
                          : Accumulator::kUnknown;
    // Cinder spreads a list argument into the call: f(a, b) is f(*[a, b]).
    uint32_t arg = Arg(n, 0).node;
    while (e_.nodes_[arg].type == NodeType::kComma) {
      const Node& comma = e_.nodes_[arg];
      Value left;
      if (!Eval(Arg(comma, 0).node, &left) || !Feed(&c, left)) return false;
      arg = Arg(comma, 1).node;
    }
    Value last;
    if (!Eval(arg, &last) || !FeedAll(&c, last)) return false;
    return FinishCall(n, c, out);
  }

  // The call's result once its arguments are in (kept out of Call, which recurses).
  [[gnu::noinline]] bool FinishCall(const Node& n, const Accumulator& c, Value* out) {
    // Cinder evaluates the arguments before it looks the function up.
    if (c.fn == Accumulator::kUnknown) return Error("unknown function " + Quote(n.a));
    if (c.fn == Accumulator::kAbs) {
      if (c.count != 1) {
        return Error("abs() takes exactly one argument (" + std::to_string(c.count) + " given)");
      }
      if (!c.first.numeric()) {
        return Error(std::string("bad operand type for abs(): '") + TypeName(c.first) + "'");
      }
      *out = c.first.kind == Kind::kFloat ? Float(std::fabs(c.first.num)) : Int(std::fabs(c.first.num));
      return true;
    }
    const char* name = c.fn == Accumulator::kMax ? "max" : "min";
    if (c.count == 0) return Error(std::string(name) + " expected at least 1 argument, got 0");
    if (c.count > 1) {
      *out = c.best;
      return true;
    }
    // One argument: Python iterates it. A string yields its characters.
    const Value& only = c.first;
    if (only.kind == Kind::kList) {
      Accumulator inner;
      inner.fn = c.fn;
      for (const Value& item : *only.list) {
        if (!Feed(&inner, item)) return false;
      }
      if (inner.count == 0) return Error(std::string(name) + "() arg is an empty sequence");
      *out = inner.best;
      return true;
    }
    if (only.kind != Kind::kStr) {
      return Error(std::string("'") + TypeName(only) + "' object is not iterable");
    }
    if (only.str.empty()) return Error(std::string(name) + "() arg is an empty sequence");
    std::string_view best;
    for (size_t i = 0; i < only.str.size();) {
      size_t len = std::min(Utf8Length(static_cast<unsigned char>(only.str[i])), only.str.size() - i);
      std::string_view ch = only.str.substr(i, len);
      // UTF-8 byte order is code point order, which is Python's str order.
      if (best.empty() || (c.fn == Accumulator::kMax ? ch > best : ch < best)) best = ch;
      i += len;
    }
    *out = Str(best);
    return true;
  }

  // a op b for op in + - * / ^, with Python's types.
  [[gnu::noinline]] bool Arithmetic(char op, const Value& a, const Value& b, Value* out) {
    auto unsupported = [&](const char* sym) {
      return Error(std::string("unsupported operand type(s) for ") + sym + ": '" + TypeName(a) + "' and '" +
                   TypeName(b) + "'");
    };
    bool both_numeric = a.numeric() && b.numeric();
    bool any_float = a.kind == Kind::kFloat || b.kind == Kind::kFloat;
    switch (op) {
      case '+':
        if (both_numeric) {
          *out = any_float ? Float(a.num + b.num) : Int(a.num + b.num);
          return true;
        }
        if (a.kind == Kind::kStr && b.kind == Kind::kStr) {
          if (a.str.size() + b.str.size() > kMaxBuilt) return Error("string too long");
          std::string* s = NewString();
          s->reserve(a.str.size() + b.str.size());
          s->append(a.str).append(b.str);
          *out = Str(*s);
          return true;
        }
        if (a.kind == Kind::kList && b.kind == Kind::kList) {
          if (a.list->size() + b.list->size() > kMaxBuilt / sizeof(Value)) return Error("list too long");
          std::vector<Value>* l = NewList();
          l->insert(l->end(), a.list->begin(), a.list->end());
          l->insert(l->end(), b.list->begin(), b.list->end());
          *out = Value{Kind::kList, 0, {}, l};
          return true;
        }
        return unsupported("+=");
      case '-':
        if (!both_numeric) return unsupported("-=");
        *out = any_float ? Float(a.num - b.num) : Int(a.num - b.num);
        return true;
      case '*':
        if (both_numeric) {
          *out = any_float ? Float(a.num * b.num) : Int(a.num * b.num);
          return true;
        }
        // An int times a sequence repeats it; a non-positive count gives an empty one.
        if (a.integral() && (b.kind == Kind::kStr || b.kind == Kind::kList)) return Repeat(b, a.num, out);
        if (b.integral() && (a.kind == Kind::kStr || a.kind == Kind::kList)) return Repeat(a, b.num, out);
        return unsupported("*=");
      case '/': {
        // Cinder divides by float(b): a string divisor is parsed, as Python's float() does.
        double divisor;
        if (b.numeric()) {
          divisor = b.num;
        } else if (b.kind == Kind::kStr) {
          auto f = PyFloat(b.str);
          if (!f) return Error("could not convert string to float: " + Quote(b.str));
          divisor = *f;
        } else {
          return Error(std::string("float() argument must be a string or a real number, not '") + TypeName(b) + "'");
        }
        if (!a.numeric()) {
          return Error(std::string("unsupported operand type(s) for /=: '") + TypeName(a) + "' and 'float'");
        }
        if (divisor == 0) return Error("division by zero");
        *out = Float(a.num / divisor);
        return true;
      }
      case '^': return Power(a, b, out);
    }
    return Error("internal error: unknown operator");
  }

  bool Repeat(const Value& seq, double times, Value* out) {
    size_t unit = seq.kind == Kind::kStr ? seq.str.size() : seq.list->size() * sizeof(Value);
    size_t n = 0;
    if (times > 0 && unit > 0) {
      if (times * static_cast<double>(unit) > static_cast<double>(kMaxBuilt)) {
        return Error(seq.kind == Kind::kStr ? "string too long" : "list too long");
      }
      n = static_cast<size_t>(times);
    }
    if (seq.kind == Kind::kStr) {
      if (n == 1) {
        *out = seq;
        return true;
      }
      std::string* s = NewString();
      for (size_t i = 0; i < n; ++i) s->append(seq.str);
      *out = Str(*s);
      return true;
    }
    std::vector<Value>* l = NewList();
    for (size_t i = 0; i < n; ++i) l->insert(l->end(), seq.list->begin(), seq.list->end());
    *out = Value{Kind::kList, 0, {}, l};
    return true;
  }

  // Python's pow(a, b): an int to a non-negative int power is an int (here without Python's
  // unbounded precision); anything else follows float pow, whose errors Cinder lets through.
  bool Power(const Value& a, const Value& b, Value* out) {
    if (!a.numeric() || !b.numeric()) {
      return Error(std::string("unsupported operand type(s) for ** or pow(): '") + TypeName(a) + "' and '" +
                   TypeName(b) + "'");
    }
    double x = a.num, y = b.num;
    if (a.integral() && b.integral() && y >= 0) {
      *out = Int(std::pow(x, y));
      return true;
    }
    if (y == 0 || std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
      *out = Float(std::pow(x, y));  // C's special cases are Python's here
      return true;
    }
    if (x == 0 && y < 0) return Error("0.0 cannot be raised to a negative power");
    if (x < 0 && y != std::floor(y)) {
      return Error("a negative number to a fractional power is a complex number");
    }
    double r = std::pow(x, y);
    if (std::isinf(r)) return Error("numerical result out of range");
    *out = Float(r);
    return true;
  }

  // Python's ==, !=, <, <=, >, >= ('=', '!', 'l', 'L', 'g', 'G'). Mixed types are only
  // unequal; ordering them is a TypeError. Lists compare item by item.
  [[gnu::noinline]] bool Compare(char op, const Value& a, const Value& b, bool* result) {
    if (a.kind == Kind::kList && b.kind == Kind::kList) {
      size_t i = 0, n = std::min(a.list->size(), b.list->size());
      while (i < n && Equal((*a.list)[i], (*b.list)[i])) ++i;
      if (i == n) return Order(op, static_cast<double>(a.list->size()), static_cast<double>(b.list->size()), result);
      if (op == '=' || op == '!') {
        *result = op == '!';
        return true;
      }
      return Compare(op, (*a.list)[i], (*b.list)[i], result);
    }
    if (op == '=' || op == '!') {
      *result = Equal(a, b) == (op == '=');
      return true;
    }
    if (a.numeric() && b.numeric()) return Order(op, a.num, b.num, result);
    if (a.kind == Kind::kStr && b.kind == Kind::kStr) {
      int c = a.str.compare(b.str);
      return Order(op, c, 0, result);
    }
    const char* sym = op == 'l' ? "<" : op == 'L' ? "<=" : op == 'g' ? ">" : ">=";
    return Error(std::string("'") + sym + "' not supported between instances of '" + TypeName(a) + "' and '" +
                 TypeName(b) + "'");
  }
  static bool Order(char op, double x, double y, bool* result) {
    switch (op) {
      case 'l': *result = x < y; break;
      case 'L': *result = x <= y; break;
      case 'g': *result = x > y; break;
      case 'G': *result = x >= y; break;
      case '=': *result = x == y; break;
      default: *result = x != y; break;
    }
    return true;
  }
  static bool Equal(const Value& a, const Value& b) {
    if (a.numeric() && b.numeric()) return a.num == b.num;
    if (a.kind != b.kind) return false;
    if (a.kind == Kind::kStr) return a.str == b.str;
    if (a.list->size() != b.list->size()) return false;
    for (size_t i = 0; i < a.list->size(); ++i) {
      if (!Equal((*a.list)[i], (*b.list)[i])) return false;
    }
    return true;
  }

  // Scratch for built strings and lists; stays empty (no allocation) for plain arithmetic.
  std::string* NewString() {
    strings_.push_back(std::make_unique<std::string>());
    return strings_.back().get();
  }
  std::vector<Value>* NewList() {
    lists_.push_back(std::make_unique<std::vector<Value>>());
    return lists_.back().get();
  }

  const Expression& e_;
  const EvalVars& vars_;
  std::string error_;
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<std::unique_ptr<std::vector<Value>>> lists_;
};

namespace {

// Runs `use` on the result while the evaluator (which may own its strings) is alive.
template <typename T, typename F>
Result<T> WithResult(const Expression& e, const EvalVars& vars, F use) {
  try {
    ExpressionEvaluator ev(e, vars);
    Value v;
    if (!ev.Run(&v)) {
      return InvalidArgument("Cannot evaluate " + Quote(e.text()) + ": " + ev.error());
    }
    return use(v);
  } catch (const std::exception& ex) {
    return InvalidArgument("Cannot evaluate " + Quote(e.text()) + ": " + ex.what());
  }
}

}  // namespace

Result<double> Expression::Evaluate(const EvalVars& vars) const {
  return WithResult<double>(*this, vars, [&](const Value& v) -> Result<double> {
    if (v.numeric()) return v.num;
    return InvalidArgument("Expression " + Quote(text_) + " gives a " + TypeName(v) + ", not a number");
  });
}

Result<EvalValue> Expression::EvaluateValue(const EvalVars& vars) const {
  return WithResult<EvalValue>(*this, vars, [&](const Value& v) -> Result<EvalValue> {
    switch (v.kind) {
      case Kind::kBool: return EvalValue{v.num != 0};
      case Kind::kStr: return EvalValue{std::string(v.str)};
      case Kind::kList: return InvalidArgument("Expression " + Quote(text_) + " gives a list");
      default: return EvalValue{v.num};
    }
  });
}

bool Expression::FilterPasses(const EvalVars& vars) const {
  auto r = WithResult<bool>(*this, vars, [](const Value& v) -> Result<bool> { return ExpressionEvaluator::Truthy(v); });
  return r.ok() && *r;
}

Result<double> Expression::Goodness(const EvalVars& vars) const {
  try {
    ExpressionEvaluator ev(*this, vars);
    Value v;
    if (!ev.Run(&v)) return 0.0;  // Cinder logs a warning and rates the backend 0
    if (v.kind == Kind::kBool) return v.num != 0 ? 100.0 : 0.0;
    if (!v.numeric()) {
      return InvalidArgument("goodness_function " + Quote(text_) + " gives a " + TypeName(v) + ", not a number");
    }
    if (std::isnan(v.num) || v.num < 0 || v.num > 100) return 0.0;
    return v.num;
  } catch (const std::exception&) {
    return 0.0;
  }
}

Result<double> EvaluateExpression(std::string_view text, const EvalVars& vars) {
  auto e = Expression::Parse(text);
  if (!e.ok()) return e.status();
  return (*e)->Evaluate(vars);
}

}  // namespace cinder::scheduler
