#include "scheduler/json_query.h"

#include <algorithm>
#include <cmath>
#include <compare>

namespace cinder::scheduler {

namespace {

// Python's truth value of a JSON value.
bool Truthy(const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::kBool: return v.as_bool();
    case json::Value::Type::kNumber: return v.is_int() ? v.as_int() != 0 : v.as_double() != 0;  // NaN is true
    case json::Value::Type::kString: return !v.as_string().empty();
    case json::Value::Type::kArray:
    case json::Value::Type::kObject: return v.size() != 0;
    default: return false;
  }
}

// Python counts bools as the integers 0 and 1.
bool IsNumeric(const json::Value& v) { return v.is_number() || v.is_bool(); }

std::partial_ordering CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= 9223372036854775808.0) return std::partial_ordering::less;
  if (d < -9223372036854775808.0) return std::partial_ordering::greater;
  // Exact, like Python: converting a large int to double would round it.
  const double t = std::trunc(d);
  const auto ti = static_cast<int64_t>(t);
  if (i != ti) return i <=> ti;
  return t <=> d;  // i == trunc(d): only the fraction can tell them apart
}

std::partial_ordering CompareNumbers(const json::Value& a, const json::Value& b) {
  const bool ai = a.is_int() || a.is_bool(), bi = b.is_int() || b.is_bool();
  const int64_t ia = a.is_bool() ? a.as_bool() : a.as_int(), ib = b.is_bool() ? b.as_bool() : b.as_int();
  if (ai && bi) return ia <=> ib;
  if (!ai && !bi) return a.as_double() <=> b.as_double();
  if (ai) return CompareIntDouble(ia, b.as_double());
  return 0 <=> CompareIntDouble(ib, a.as_double());
}

// Python's ==.
bool PyEqual(const json::Value& a, const json::Value& b) {
  if (IsNumeric(a) && IsNumeric(b)) return CompareNumbers(a, b) == 0;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::Value::Type::kString: return a.as_string() == b.as_string();
    case json::Value::Type::kArray: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!PyEqual(*a.At(i), *b.At(i))) return false;
      }
      return true;
    }
    case json::Value::Type::kObject: {
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.as_object()) {
        const json::Value* o = b.Find(k);
        if (!o || !PyEqual(v, *o)) return false;
      }
      return true;
    }
    default: return true;  // null == null
  }
}

// Python's <, >, <= or >= (`holds` is the test to apply to the ordering), or nullopt
// where Python raises TypeError.
std::optional<bool> PyOrder(const json::Value& a, const json::Value& b, bool (*holds)(std::partial_ordering)) {
  if (IsNumeric(a) && IsNumeric(b)) return holds(CompareNumbers(a, b));
  if (a.is_string() && b.is_string()) {
    // std::string compares bytes as unsigned: code point order for UTF-8.
    return holds(a.as_string().compare(b.as_string()) <=> 0);
  }
  if (a.is_array() && b.is_array()) {
    // Lexicographic: the first unequal pair decides, else the shorter list is less.
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      if (!PyEqual(*a.At(i), *b.At(i))) return PyOrder(*a.At(i), *b.At(i), holds);
    }
    return holds(a.size() <=> b.size());
  }
  return std::nullopt;
}

}  // namespace

Result<JsonQuery> JsonQuery::Parse(std::string_view query_text) {
  JsonQuery q;
  if (query_text.empty()) return q;
  auto parsed = json::Parse(query_text);
  if (!parsed.ok()) return InvalidArgument("Invalid JSON query hint: " + parsed.status().message());
  const json::Value& v = *parsed;
  if (!Truthy(v)) return q;
  if (v.is_array()) {
    CINDER_RETURN_IF_ERROR(q.Compile(v.as_array()).status());
    return q;
  }
  if (v.is_string()) {
    // Cinder indexes the string: its characters become the "list".
    json::Value::Array chars;
    const std::string& s = v.as_string();
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;  // the parser checked the UTF-8
      chars.emplace_back(std::string_view(s).substr(i, n));
      i += n;
    }
    CINDER_RETURN_IF_ERROR(q.Compile(chars).status());
    return q;
  }
  return InvalidArgument(
      "Invalid JSON query hint: the query must be a list such as "
      "[\">=\", \"$free_capacity_gb\", 10], not " +
      json::Serialize(v));
}

Result<size_t> JsonQuery::Compile(const json::Value::Array& list) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {{"=", Op::kEq},    {"<", Op::kLt},  {">", Op::kGt},
                                                             {"in", Op::kIn},   {"<=", Op::kLe}, {">=", Op::kGe},
                                                             {"not", Op::kNot}, {"or", Op::kOr}, {"and", Op::kAnd}};
  const json::Value& cmd = list[0];
  const std::pair<std::string_view, Op>* found = nullptr;
  for (const auto& entry : kOps) {
    if (cmd.is_string() && cmd.as_string() == entry.first) found = &entry;
  }
  if (!found) {
    return InvalidArgument("Invalid JSON query hint: unknown operator " + json::Serialize(cmd) +
                           " (the operators are =, <, >, in, <=, >=, not, or, and)");
  }
  const size_t index = nodes_.size();
  nodes_.push_back(Node{found->second, {}});
  std::vector<Arg> args;
  args.reserve(list.size() - 1);
  for (size_t i = 1; i < list.size(); ++i) {
    const json::Value& a = list[i];
    Arg arg;
    if (a.is_array()) {
      if (a.size() == 0) {
        arg.literal = true;  // an empty query is true
      } else {
        CINDER_ASSIGN_OR_RETURN(arg.node, Compile(a.as_array()));
        arg.kind = Arg::kQuery;
      }
    } else if (a.is_null() || (a.is_string() && a.as_string().empty())) {
      continue;  // Cinder drops None, and its lookup turns "" into None
    } else if (a.is_string() && a.as_string()[0] == '$') {
      arg.kind = Arg::kVariable;
      arg.path = a.as_string().substr(1);
    } else {
      arg.literal = a;
    }
    args.push_back(std::move(arg));
  }
  nodes_[index].args = std::move(args);  // by index: the recursion may have moved nodes_
  return index;
}

bool JsonQuery::Eval(size_t node, const Lookup& lookup, json::Value* out) const {
  const Node& n = nodes_[node];
  // The cooked arguments point at literals in the tree or at values owned here; the
  // reserve keeps `owned` from moving while pointers into it are taken.
  std::vector<json::Value> owned;
  owned.reserve(n.args.size());
  std::vector<const json::Value*> args;
  args.reserve(n.args.size());
  for (const Arg& a : n.args) {
    switch (a.kind) {
      case Arg::kLiteral: args.push_back(&a.literal); break;
      case Arg::kVariable: {
        std::optional<json::Value> v = lookup(a.path);
        if (!v || v->is_null()) break;  // None: dropped
        owned.push_back(std::move(*v));
        args.push_back(&owned.back());
        break;
      }
      case Arg::kQuery:
        owned.emplace_back();
        if (!Eval(a.node, lookup, &owned.back())) return false;
        args.push_back(&owned.back());
        break;
    }
  }
  return Apply(n.op, args, out);
}

bool JsonQuery::Apply(Op op, const std::vector<const json::Value*>& args, json::Value* out) {
  bool (*holds)(std::partial_ordering) = nullptr;
  switch (op) {
    case Op::kNot: {
      json::Value::Array negated;
      negated.reserve(args.size());
      for (const json::Value* a : args) negated.emplace_back(!Truthy(*a));
      *out = json::Value(std::move(negated));
      return true;
    }
    case Op::kOr: {
      bool any = false;
      for (const json::Value* a : args) any = any || Truthy(*a);
      *out = any;
      return true;
    }
    case Op::kAnd: {
      bool all = true;
      for (const json::Value* a : args) all = all && Truthy(*a);
      *out = all;
      return true;
    }
    case Op::kEq:
    case Op::kIn: {
      if (args.size() < 2) {
        *out = false;
        return true;
      }
      bool all = true, any = false;
      for (size_t i = 1; i < args.size(); ++i) {
        const bool eq = PyEqual(*args[0], *args[i]);
        all = all && eq;
        any = any || eq;
      }
      *out = op == Op::kEq ? all : any;
      return true;
    }
    case Op::kLt: holds = [](std::partial_ordering c) { return c < 0; }; break;
    case Op::kGt: holds = [](std::partial_ordering c) { return c > 0; }; break;
    case Op::kLe: holds = [](std::partial_ordering c) { return c <= 0; }; break;
    case Op::kGe: holds = [](std::partial_ordering c) { return c >= 0; }; break;
  }
  if (args.size() < 2) {
    *out = false;
    return true;
  }
  // Cinder compares every pair before deciding, so a TypeError anywhere counts.
  bool all = true;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::optional<bool> r = PyOrder(*args[0], *args[i], holds);
    if (!r) return false;
    all = all && *r;
  }
  *out = all;
  return true;
}

bool JsonQuery::Passes(const Lookup& lookup) const {
  if (nodes_.empty()) return true;
  json::Value result;
  if (!Eval(0, lookup, &result)) return false;
  if (result.is_array()) {  // a top-level "not": any true element passes
    for (const auto& e : result.as_array()) {
      if (Truthy(e)) return true;
    }
    return false;
  }
  return Truthy(result);
}

std::optional<json::Value> ResolveVariable(const json::Value& backend_state, std::string_view dotted_path) {
  const json::Value* v = &backend_state;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted_path.find('.', start);
    v = v->Find(dotted_path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!v || v->is_null()) return std::nullopt;
    if (dot == std::string_view::npos) return *v;
    start = dot + 1;
  }
}

}  // namespace cinder::scheduler
