// The scheduler's expression evaluator: the language of a backend's `filter_function`
// (DriverFilter) and `goodness_function` (GoodnessWeigher), with the results Cinder's
// cinder/scheduler/evaluator/evaluator.py gives, quirks included, so a function an operator
// wrote for Cinder filters and weighs backends the same way here.
//
// The language (a pyparsing infix grammar in Cinder), loosest binding first:
//   a, b            list (only useful as function arguments: max(a, b, c))
//   a or b          also OR, ||      \  both sides are always evaluated; the result is a side,
//   a and b         also AND, &&     /  as in Python: `0 or 3` is 3, `1 and 2` is 2
//   c ? a : b       only the chosen branch is evaluated
//   a < b           <, <=, >, >=, ==, !=, <> (same as !=); chains like Python: 1 < x <= 3
//   not a           also NOT, !
//   a + b, a - b
//   a * b, a / b    `/` always divides as floats; dividing by zero is an error
//   +a, -a
//   a ^ b           power, right to left: 2^3^2 is 512; binds tighter than a sign: -2^2 is -4
//   f x, f(x)       abs, min, max (a function name is any word followed by an operand)
//   operands        123, 1.5, 'text', "text", object.property, any other bare word, ( ... )
// Surprises callers (and operators) should know; each is Cinder's behaviour:
//  - true/false are not keywords: a bare word is a string, so `false` is the non-empty, true
//    string "false"; the words inf, infinity and nan (any case) are floats.
//  - A chain of the same and/or operator uses only its first two operands: `1 and 1 and 0` is
//    1, `0 or 0 or 1` is 0; `a ? b : c ? d : e` is just `a ? b : c`. Use parentheses.
//  - A word followed by an operand is a function call, so `volume.size and 1` parses as the
//    call volume.size(and(1)) and fails, and so does `x < capabilities.free_capacity_gb and
//    y`; `volume.size > 5 and x` is fine (5 is no word). Write &&, || and ! (or parenthesize:
//    `(volume.size) and 1`). Operators are matched as text, not words: `notable` is not 'able'.
//  - Variable names are letters and '_' only, exactly one dot: `stats.x86` is a call of the
//    function "stats.x" on 86. Any other dotted word (a.b.c) is a plain string.
//  - A variable's number is truncated to an integer: a free_capacity_gb of 40.5 reads as 40,
//    a usage of 0.65 as 0 (Cinder runs int() on it). A bool reads as 1 or 0. A string that
//    Python's int() or float() accepts (" 12 ", "1_000", "2.5", "inf") reads as that number;
//    other strings read as themselves with every ' and " removed.
//  - Strings concatenate with +, repeat with * by an integer (-'ab' is ''), and compare with
//    each other; == and != between a string and a number are simply false/true, while < and
//    the like between them are an error. A quoted string is never converted to a number.
//  - Errors (unknown object/property/function, type errors, division by zero, 0 to a negative
//    power, a negative number to a fractional power, float overflow in ^) fail evaluation;
//    Cinder raises, and both of its callers catch and log that (see below).
// Deliberate deviations: integers are doubles (exact to 2^53; Python's are unbounded); a
// string or list built by * or + may not exceed 1 MiB; input is capped at 16 KiB and nesting
// at 20 parentheses or about 245 chained prefix operators, `,` or `^` (Cinder's pyparsing hits
// Python's recursion limit at 17 and 165); a negative number to a fractional power, which
// Python turns into a complex number, is an error here.
//
// How Cinder's callers use it (cinder/scheduler/filters/driver_filter.py and
// weights/goodness.py), for whoever wires this in:
//  - Variables: `stats` = the backend state: host, volume_backend_name, vendor_name,
//    driver_version, storage_protocol, QoS_support, total_capacity_gb, allocated_capacity_gb,
//    free_capacity_gb, reserved_percentage, updated (DriverFilter adds cluster_name and
//    backend_id); `capabilities` = the capabilities the driver reported for the pool;
//    `extra` = the volume type's extra specs; `qos` = the volume type's QoS specs' `specs`;
//    `volume` = request_spec.volume_properties (size, ...). Leave out a value that is None or
//    not a scalar (a dict, a list, a datetime): Cinder's int() then raises, which fails the
//    function like the unknown variable it then is here. Leave out a whole object that
//    Cinder would have as None (e.g. no QoS specs) for the same reason.
//  - The function text is the backend capability "filter_function" / "goodness_function"
//    (str() of it). When the text contains "storage_protocol" and the backend reports a list
//    of protocols, Cinder evaluates once per protocol (stats.storage_protocol and
//    capabilities.storage_protocol set to that one): the filter passes if any run passes,
//    the goodness is the largest.
//  - DriverFilter: no filter_function -> the backend passes; any error -> it fails (logged as
//    a warning); else it passes when the result is truthy (Python truth: non-zero number,
//    non-empty string or list). See Expression::FilterPasses.
//  - GoodnessWeigher: no goodness_function -> 0 (warning); any error -> 0 (warning); a bool
//    result -> 100 or 0; a number outside 0..100 -> 0 (warning); else the number. A string or
//    list result makes Cinder's own comparison raise outside its try, failing the whole
//    scheduling request. See Expression::Goodness.
#ifndef CINDER_SCHEDULER_EVALUATOR_H_
#define CINDER_SCHEDULER_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cinder/status.h"

namespace cinder::scheduler {

// A variable's value: Cinder passes Python values; here a number, a string or a bool.
struct EvalValue {
  std::variant<double, std::string, bool> v;
};
// property -> value. Transparent, so evaluation looks names up without building strings.
using EvalProps = std::map<std::string, EvalValue, std::less<>>;
// object name ("capabilities", "volume", "qos", "extra", "stats") -> property -> value
using EvalVars = std::map<std::string, EvalProps, std::less<>>;

// A parsed expression: immutable, safe to evaluate from many threads at once. Evaluation
// walks a flat tree and allocates nothing unless the expression builds strings or lists.
class Expression {
 public:
  // The longest text Parse accepts, in bytes.
  static constexpr size_t kMaxTextLength = 16 * 1024;

  // InvalidArgument naming the character position and what was found there for malformed
  // input, too long input or too deep nesting. Never throws.
  static Result<std::shared_ptr<const Expression>> Parse(std::string_view text);

  // The result as a number: a bool is 1 or 0 (Python's bool is an int). InvalidArgument when
  // evaluation fails (as Cinder raises) or the result is a string or a list.
  Result<double> Evaluate(const EvalVars& vars) const;
  // The result with its type: a number, a string or a bool; InvalidArgument as Cinder raises,
  // or when the result is a list (Cinder returns a Python list, which EvalValue cannot hold).
  Result<EvalValue> EvaluateValue(const EvalVars& vars) const;
  // DriverFilter's verdict for a backend with this filter_function: false when evaluation
  // fails, else the Python truth of the result (lists included).
  bool FilterPasses(const EvalVars& vars) const;
  // GoodnessWeigher's rating in 0..100 for a backend with this goodness_function: 0 when
  // evaluation fails or the number is outside 0..100 (or NaN, which Cinder would pass on),
  // 100/0 for true/false. InvalidArgument when the result is a string or a list, where
  // Cinder's weigher raises and the request fails; a caller may prefer to use 0.
  Result<double> Goodness(const EvalVars& vars) const;

  // The text it was parsed from.
  const std::string& text() const { return text_; }

  struct Node;  // the tree, defined in evaluator_internal.h
  struct Operand {
    uint32_t node;
    char op;  // the operator before this operand ('+', '-', '*', '/', '^', 'l', 'L', ...)
  };
  Expression();  // public for std::make_shared only: use Parse()
  ~Expression();
  Expression(const Expression&) = delete;
  Expression& operator=(const Expression&) = delete;

 private:
  friend class ExpressionParser;
  friend class ExpressionEvaluator;

  std::string text_;
  // Constant strings that differ from their spelling (quotes removed); nodes point into them.
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<Node> nodes_;
  std::vector<Operand> operands_;
  uint32_t root_ = 0;
};

// Parses and evaluates in one go, for one-off uses and tests.
Result<double> EvaluateExpression(std::string_view text, const EvalVars& vars = {});

}  // namespace cinder::scheduler

#endif  // CINDER_SCHEDULER_EVALUATOR_H_
