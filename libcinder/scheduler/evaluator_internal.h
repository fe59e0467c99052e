// What the expression evaluator's parser (evaluator_parser.cc) and its evaluation
// (evaluator.cc) share: the values of Python's types as evaluation meets them and the tree
// the parser builds. Not for use outside those two files.
#ifndef CINDER_SCHEDULER_EVALUATOR_INTERNAL_H_
#define CINDER_SCHEDULER_EVALUATOR_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/evaluator.h"

namespace cinder::scheduler {

namespace evaluator_internal {

// Python's types as the evaluation meets them. Ints and floats are both doubles; the kind
// still matters, for a power of two ints is an int and a number times a string repeats it.
enum class Kind : uint8_t { kInt, kFloat, kBool, kStr, kList };

struct Value {
  Kind kind = Kind::kInt;
  double num = 0;                            // kInt, kFloat, kBool (0 or 1)
  std::string_view str;                      // kStr: into the Expression, the vars or scratch
  const std::vector<Value>* list = nullptr;  // kList: into scratch

  bool numeric() const { return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool; }
  bool integral() const { return kind == Kind::kInt || kind == Kind::kBool; }
};

// `+ 0.0` turns -0.0 into 0.0: Python's ints have no negative zero.
inline Value Int(double n) { return Value{Kind::kInt, n + 0.0, {}, nullptr}; }
inline Value Float(double n) { return Value{Kind::kFloat, n, {}, nullptr}; }
inline Value Bool(bool b) { return Value{Kind::kBool, b ? 1.0 : 0.0, {}, nullptr}; }
inline Value Str(std::string_view s) { return Value{Kind::kStr, 0, s, nullptr}; }

enum class NodeType : uint8_t {
  kConst,
  kVar,
  kCall,
  kPow,
  kSign,
  kMul,
  kAdd,
  kNot,
  kCompare,
  kTernary,
  kAnd,
  kOr,
  kComma
};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ASCII letters compared without case (the words inf, infinity and nan; operators).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// s in quotes for an error message, cut after `max` bytes.
inline std::string Quote(std::string_view s, size_t max = 80) {
  std::string out = "'";
  out.append(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out + "'";
}

}  // namespace evaluator_internal

// One node of the parsed tree; its operands are Expression::operands_[first, first + count).
struct Expression::Node {
  evaluator_internal::NodeType type = evaluator_internal::NodeType::kConst;
  char op = 0;                         // kSign: '+' or '-'
  evaluator_internal::Value constant;  // kConst
  std::string_view a, b;               // kVar: object and property; kCall: the function's name
  uint32_t first = 0, count = 0;
};

}  // namespace cinder::scheduler

#endif  // CINDER_SCHEDULER_EVALUATOR_INTERNAL_H_
