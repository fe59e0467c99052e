// Cinder's JsonFilter: the `query` scheduler hint, e.g.
//   ["and", [">=", "$free_capacity_gb", 1024], ["=", "$total_capacity_gb", 2048]]
// parsed once per request and evaluated against each backend.
//
// Semantics follow cinder/scheduler/filters/json_filter.py, surprises included:
//
//   - An empty hint passes every backend. Otherwise the hint must be JSON; a query that is
//     false to Python (null, false, 0, "", [], {}) also passes every backend.
//   - A query is a list [operator, argument...]. The operators are = < > in <= >= not or
//     and; "!=" and any other word are unknown. Where Cinder would raise (an unknown or
//     non-string operator anywhere in the tree, a non-empty object or a true/non-zero
//     number as the query) the scheduling request fails in Cinder, so Parse() refuses it.
//     A non-empty string query is what Cinder makes of it: query[0] is its first
//     character and the other characters are its arguments ("=aa" passes, "=ab" does not).
//   - Arguments: a list is always a sub-query, never data (so ["in", "$x", ["a", "b"]]
//     is an unknown operator "a"); an empty list is true. A string "$a.b" is a variable;
//     other strings are literals. null, "" and variables that resolve to nothing are
//     DROPPED from the argument list, not made false: ["=", "$missing", 1, 1] compares 1
//     with 1 and passes. Numbers, bools and objects are literals.
//   - Every sub-query is evaluated (no short cut), then the operator is applied:
//       = < > <= >=  the first argument against EACH of the others (all must hold);
//                    fewer than two arguments is false.
//       in           the first argument equals one of the others; fewer than two: false.
//       not          returns a LIST of the negated arguments. At the top the query passes
//                    if any element is true; nested, a list is true when non-empty, so
//                    ["and", ["not", true]] passes and ["not"] of a dropped variable fails.
//       or / and     Python's any() / all() over the arguments: ["or"] is false, ["and"]
//                    is true.
//     Values compare as Python's do: bools are numbers (true == 1 == 1.0), a string never
//     equals a number, lists compare element by element, objects only for equality.
//     Truthiness is Python's: false, 0, "", [] and {} are false.
//   - Ordering values Python cannot order (a string against a number, e.g. a backend
//     reporting free_capacity_gb "infinite" against ">=", 1024; objects; null) raises a
//     TypeError in Cinder, which fails the whole request; here that backend does not pass.
#ifndef CINDER_SCHEDULER_JSON_QUERY_H_
#define CINDER_SCHEDULER_JSON_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cinder/status.h"
#include "common/json.h"

namespace cinder::scheduler {

class JsonQuery {
 public:
  // Resolves a variable: it gets the text after '$' as written ("free_capacity_gb",
  // "capabilities.enabled", also "" or "...") and returns its value, or nullopt (or null)
  // where Cinder's lookup gives None: the first part is not a backend attribute or is None,
  // or a later part is missing from its dict or None. Cinder raises AttributeError when a
  // later part walks into something that is not a dict; answer nullopt for that too (the
  // argument is then dropped instead of failing the request). ResolveVariable() below
  // does all of this over a JSON object holding the backend state.
  using Lookup = std::function<std::optional<json::Value>(std::string_view dotted_path)>;

  // Parses the hint's text. InvalidArgument for malformed JSON and for queries Cinder
  // would raise on whatever the backend (see above).
  static Result<JsonQuery> Parse(std::string_view query_text);

  // Whether a backend passes. Never fails: where Cinder would raise, it does not pass.
  bool Passes(const Lookup& lookup) const;

 private:
  enum class Op : uint8_t { kEq, kLt, kGt, kIn, kLe, kGe, kNot, kOr, kAnd };
  struct Arg {
    enum Kind : uint8_t { kLiteral, kVariable, kQuery } kind = kLiteral;
    json::Value literal;  // kLiteral
    std::string path;     // kVariable: the text after '$'
    size_t node = 0;      // kQuery: index into nodes_
  };
  struct Node {
    Op op = Op::kAnd;
    std::vector<Arg> args;
  };

  Result<size_t> Compile(const json::Value::Array& list);
  // Evaluates nodes_[node] into *out (a bool, or a list of bools for "not"); false where
  // Cinder would raise.
  bool Eval(size_t node, const Lookup& lookup, json::Value* out) const;
  // The operator on its evaluated arguments (None already dropped), as Eval.
  static bool Apply(Op op, const std::vector<const json::Value*>& args, json::Value* out);

  std::vector<Node> nodes_;  // nodes_[0] is the root; none: every backend passes
};

// A variable's value in `backend_state` (an object of backend attributes, with nested
// objects such as "capabilities" and "service"), following JsonFilter's rules: each
// '.'-separated part is a member of the object before it; a missing member, a null or a
// non-object on the way gives nullopt.
std::optional<json::Value> ResolveVariable(const json::Value& backend_state, std::string_view dotted_path);

}  // namespace cinder::scheduler

#endif  // CINDER_SCHEDULER_JSON_QUERY_H_
