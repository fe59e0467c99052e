// The expression evaluator's parser. Cinder builds its grammar with pyparsing's
// infix_notation, a PEG: every level is "lookahead(operand op operand) then the group, else
// the next tighter level", tried in order with backtracking. The parser below walks the same
// levels in the same order over the same token shapes, so it accepts exactly what Cinder
// accepts and groups it the same way, including the places where that surprises (see
// evaluator.h). Parsing memoizes (level, position) as pyparsing's packrat mode does, which
// keeps the backtracking linear.
#include "scheduler/evaluator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <limits>
#include <memory>
#include <span>

#include "scheduler/evaluator_internal.h"

namespace cinder::scheduler {

using evaluator_internal::EqualsIgnoreCase;
using evaluator_internal::Float;
using evaluator_internal::Int;
using evaluator_internal::IsDigit;
using evaluator_internal::NodeType;
using evaluator_internal::Quote;
using evaluator_internal::Str;
using evaluator_internal::Value;

Expression::Expression() = default;
Expression::~Expression() = default;

namespace {

// Nesting deeper than this is refused rather than risking the stack (a level costs a few
// hundred bytes of it). A parenthesis costs 12 levels, a prefix operator or a `,` or `^` one:
// 20 nested parentheses or about 245 chained signs fit, more than Cinder's pyparsing manages
// under Python's recursion limit (17 and 165).
constexpr int kMaxDepth = 256;

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// pyparsing's Word(alphas + '_' + '.'): variable and function names alike.
bool IsWordChar(char c) { return IsAlpha(c) || c == '_' || c == '.'; }
// pyparsing's default whitespace.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Cinder's test for a variable reference: ^[a-zA-Z_]+\.[a-zA-Z_]+$.
bool IsVariableName(std::string_view w, size_t* dot) {
  size_t d = w.find('.');
  if (d == std::string_view::npos || d == 0 || d + 1 == w.size()) return false;
  if (w.find('.', d + 1) != std::string_view::npos) return false;
  *dot = d;
  return true;  // the other characters are letters or '_', being a word
}

// Each level's operators, in the order pyparsing's one_of tries them (longest first where one
// is a prefix of another). one_of matches text, not words: "1 andy" is `1 and y`.
constexpr std::string_view kPowOps[] = {"^"};
constexpr std::string_view kSignOps[] = {"+", "-"};
constexpr std::string_view kMulOps[] = {"*", "/"};
constexpr std::string_view kAddOps[] = {"+", "-"};
constexpr std::string_view kNotOps[] = {"NOT", "not", "!"};
constexpr std::string_view kCmpOps[] = {"<=", "<>", "<", ">=", ">", "!=", "=="};
constexpr std::string_view kAndOps[] = {"AND", "and", "&&"};
constexpr std::string_view kOrOps[] = {"OR", "or", "||"};
constexpr std::string_view kCommaOps[] = {","};
constexpr std::string_view kQuestionOp[] = {"?"};
constexpr std::string_view kColonOp[] = {":"};

}  // namespace

class ExpressionParser {
 public:
  explicit ExpressionParser(Expression* e) : e_(e), s_(e->text_) {
    memo_.assign(kLevels * (s_.size() + 1), Memo{kUnknown, 0});
  }

  Status Run() {
    size_t end = 0;
    int32_t root = Parse(kComma, 0, &end);
    if (too_deep_) {
      return InvalidArgument("Malformed expression " + Quote(s_) + ": nested too deeply (over " +
                             std::to_string(kMaxDepth / kLevels - 1) + " parentheses or " + std::to_string(kMaxDepth) +
                             " operators)");
    }
    if (root >= 0) {
      end = SkipSpace(end);
      if (end == s_.size()) {
        Compact(static_cast<uint32_t>(root));
        return Status::OK();
      }
      Fail(end);
    }
    size_t at = std::min(furthest_, s_.size());
    std::string found = "end of expression";
    if (at < s_.size()) {
      size_t stop = at;
      while (stop < s_.size() && stop - at < 12 && !IsSpace(s_[stop])) ++stop;
      found = Quote(s_.substr(at, std::max<size_t>(stop - at, 1)));
    }
    return InvalidArgument("Malformed expression " + Quote(s_) + ": unexpected " + found + " at char " +
                           std::to_string(at));
  }

 private:
  // Cinder's precedence levels, tightest first; ret (the whole expression) is kComma.
  enum Level { kBase, kFn, kPow, kSign, kMul, kAdd, kNot, kCmp, kTernary, kAnd, kOr, kComma, kLevels };
  static constexpr int32_t kUnknown = -2, kFailed = -1;
  struct Memo {
    int32_t node;
    uint32_t end;
  };
  using Operand = Expression::Operand;
  using Node = Expression::Node;

  size_t SkipSpace(size_t pos) const {
    while (pos < s_.size() && IsSpace(s_[pos])) ++pos;
    return pos;
  }
  // Notes where a token was wanted and not found: the furthest such place is where the error is.
  void Fail(size_t pos) { furthest_ = std::max(furthest_, pos); }

  // The first of `alternatives` spelled at pos (after whitespace), as pyparsing's one_of
  // orders them; npos if none. `*which` is its index.
  size_t MatchOneOf(size_t pos, std::span<const std::string_view> alternatives, int* which) {
    pos = SkipSpace(pos);
    int i = 0;
    for (std::string_view a : alternatives) {
      if (s_.compare(pos, a.size(), a) == 0) {
        *which = i;
        return pos + a.size();
      }
      ++i;
    }
    Fail(pos);
    return std::string_view::npos;
  }
  size_t MatchWord(size_t pos) {
    pos = SkipSpace(pos);
    size_t end = pos;
    while (end < s_.size() && IsWordChar(s_[end])) ++end;
    if (end == pos) {
      Fail(pos);
      return std::string_view::npos;
    }
    return end;
  }
  // pyparsing's quoted_string: the regex q(?:[^q\n\r\\]|qq|\\(?:[^x]|x[0-9a-fA-F]+))*q for q
  // either quote. The regex backtracks; along its greedy path the match it settles on is the
  // last place where the closing quote could stand.
  size_t MatchQuoted(size_t pos) {
    char q = s_[pos];
    size_t i = pos + 1, last_close = std::string_view::npos;
    while (i < s_.size()) {
      char c = s_[i];
      if (c == q) {
        last_close = i;
        if (i + 1 < s_.size() && s_[i + 1] == q) {
          i += 2;
          continue;
        }
        break;
      }
      if (c == '\n' || c == '\r') break;
      if (c == '\\') {
        if (i + 1 >= s_.size()) break;
        if (s_[i + 1] != 'x') {
          i += 2;
          continue;
        }
        size_t h = i + 2;
        while (h < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[h]))) ++h;
        if (h == i + 2) break;
        i = h;
        continue;
      }
      ++i;
    }
    if (last_close == std::string_view::npos) {
      Fail(i);
      return std::string_view::npos;
    }
    return last_close + 1;
  }

  // Node building lives outside the recursive functions ([[gnu::noinline]]) so that each
  // level of recursion costs a small stack frame.
  [[gnu::noinline]] int32_t AddNode(NodeType type, char op, const Operand* operands, size_t count,
                                    std::string_view a = {}, std::string_view b = {}) {
    Node n;
    n.type = type;
    n.op = op;
    n.a = a;
    n.b = b;
    n.first = static_cast<uint32_t>(e_->operands_.size());
    n.count = static_cast<uint32_t>(count);
    e_->operands_.insert(e_->operands_.end(), operands, operands + count);
    e_->nodes_.push_back(n);
    return static_cast<int32_t>(e_->nodes_.size() - 1);
  }
  [[gnu::noinline]] int32_t AddConst(Value v) {
    int32_t index = AddNode(NodeType::kConst, 0, nullptr, 0);
    e_->nodes_[static_cast<size_t>(index)].constant = v;
    return index;
  }
  int32_t AddUnary(NodeType type, char op, int32_t child, std::string_view name = {}) {
    Operand operand{static_cast<uint32_t>(child), 0};
    return AddNode(type, op, &operand, 1, name);
  }

  // The node for `level` at pos, or kFailed; *end is where it stopped.
  int32_t Parse(int level, size_t pos, size_t* end) {
    if (too_deep_) return kFailed;
    Memo& m = memo_[static_cast<size_t>(level) * (s_.size() + 1) + pos];
    if (m.node == kUnknown) {
      if (++depth_ > kMaxDepth) {
        too_deep_ = true;
        return kFailed;
      }
      size_t e = pos;
      int32_t node = ParseLevel(level, pos, &e);
      --depth_;
      if (too_deep_) return kFailed;
      m.node = node;  // memo_ never grows, so `m` is still its slot
      m.end = static_cast<uint32_t>(e);
    }
    *end = m.end;
    return m.node;
  }

  int32_t ParseLevel(int level, size_t pos, size_t* end) {
    switch (level) {
      case kBase: return ParseBase(pos, end);
      case kFn: return ParseCall(pos, end);
      case kPow: return ParseBinary(kPow, kFn, kPowOps, "^", /*right=*/true, pos, end);
      case kSign: return ParseUnary(kSign, kPow, kSignOps, pos, end);
      case kMul: return ParseBinary(kMul, kSign, kMulOps, "*/", false, pos, end);
      case kAdd: return ParseBinary(kAdd, kMul, kAddOps, "+-", false, pos, end);
      case kNot: return ParseUnary(kNot, kAdd, kNotOps, pos, end);
      // Codes: l <, L <=, g >, G >=, = ==, ! != and <>.
      case kCmp: return ParseBinary(kCmp, kNot, kCmpOps, "L!lGg!=", false, pos, end);
      case kTernary: return ParseTernary(pos, end);
      case kAnd: return ParseBinary(kAnd, kTernary, kAndOps, "&&&", false, pos, end);
      case kOr: return ParseBinary(kOr, kAnd, kOrOps, "|||", false, pos, end);
      case kComma: return ParseBinary(kComma, kOr, kCommaOps, ",", true, pos, end);
    }
    return kFailed;
  }

  // A word then an operand of this same level is a call; else an operand.
  [[gnu::noinline]] int32_t ParseCall(size_t pos, size_t* end) {
    size_t p = SkipSpace(pos);
    size_t w = MatchWord(p);
    if (w != std::string_view::npos) {
      int32_t arg = Parse(kFn, w, end);
      if (arg >= 0) return AddUnary(NodeType::kCall, 0, arg, std::string_view(s_).substr(p, w - p));
    }
    return Parse(kBase, pos, end);
  }

  // `this := op this | tighter` (the sign and `not`).
  [[gnu::noinline]] int32_t ParseUnary(int level, int tighter, std::span<const std::string_view> ops, size_t pos,
                                       size_t* end) {
    int which;
    size_t p = MatchOneOf(pos, ops, &which);
    if (p != std::string_view::npos) {
      int32_t operand = Parse(level, p, end);
      if (operand >= 0) {
        if (level == kNot) return AddUnary(NodeType::kNot, 0, operand);
        return AddUnary(NodeType::kSign, which == 0 ? '+' : '-', operand);
      }
    }
    return Parse(tighter, pos, end);
  }

  // operand | '(' expression ')'.
  [[gnu::noinline]] int32_t ParseBase(size_t pos, size_t* end) {
    size_t p = SkipSpace(pos);
    if (p < s_.size() && s_[p] == '(') {
      int32_t inner = Parse(kComma, p + 1, end);
      if (inner < 0) return kFailed;
      size_t e = SkipSpace(*end);
      if (e < s_.size() && s_[e] == ')') {
        *end = e + 1;
        return inner;  // pyparsing suppresses the parentheses: no node of their own
      }
      Fail(e);
      return kFailed;
    }
    return ParseOperand(p, end);
  }

  // real | integer | word | quoted string, at p (whitespace already skipped).
  [[gnu::noinline]] int32_t ParseOperand(size_t p, size_t* end) {
    if (p >= s_.size()) {
      Fail(p);
      return kFailed;
    }
    char c = s_[p];
    std::string_view text(s_);
    if (IsDigit(c)) {
      size_t d = p;
      while (d < s_.size() && IsDigit(s_[d])) ++d;
      bool real = d + 1 < s_.size() && s_[d] == '.' && IsDigit(s_[d + 1]);
      if (real) {
        ++d;
        while (d < s_.size() && IsDigit(s_[d])) ++d;
      }
      double v = 0;
      auto [ptr, ec] = std::from_chars(s_.data() + p, s_.data() + d, v);
      if (ec == std::errc::result_out_of_range) v = std::numeric_limits<double>::infinity();
      *end = d;
      return AddConst(real ? Float(v) : Int(v));
    }
    if (IsWordChar(c)) {
      size_t w = MatchWord(p);
      std::string_view word = text.substr(p, w - p);
      *end = w;
      size_t dot;
      if (IsVariableName(word, &dot)) {
        return AddNode(NodeType::kVar, 0, nullptr, 0, word.substr(0, dot), word.substr(dot + 1));
      }
      // Cinder tries int() then float() on every constant: of bare words, only these pass.
      if (EqualsIgnoreCase(word, "inf") || EqualsIgnoreCase(word, "infinity")) {
        return AddConst(Float(std::numeric_limits<double>::infinity()));
      }
      if (EqualsIgnoreCase(word, "nan")) {
        return AddConst(Float(std::numeric_limits<double>::quiet_NaN()));
      }
      return AddConst(Str(word));
    }
    if (c == '"' || c == '\'') {
      size_t q = MatchQuoted(p);
      if (q == std::string_view::npos) return kFailed;
      // Cinder's value is the token with every quote character removed, escapes left as typed.
      auto value = std::make_unique<std::string>();
      for (char ch : text.substr(p, q - p)) {
        if (ch != '"' && ch != '\'') value->push_back(ch);
      }
      std::string_view view(*value);
      e_->strings_.push_back(std::move(value));
      *end = q;
      return AddConst(Str(view));
    }
    Fail(p);
    return kFailed;
  }

  // `this := tighter (op X)+ | tighter` with X = tighter (left) or this (right). Cinder's
  // and/or/comma evaluate only their first two operands, so the rest is parsed, not kept.
  [[gnu::noinline]] int32_t ParseBinary(int level, int tighter, std::span<const std::string_view> ops,
                                        const char* codes, bool right, size_t pos, size_t* end) {
    size_t p;
    int32_t first = Parse(tighter, pos, &p);
    if (first < 0) return kFailed;
    std::vector<Operand> operands;
    for (;;) {
      int which;
      size_t q = MatchOneOf(p, ops, &which);
      if (q == std::string_view::npos) break;
      size_t e;
      int32_t next = Parse(right ? level : tighter, q, &e);
      if (next < 0) break;
      if (operands.empty()) operands.push_back(Operand{static_cast<uint32_t>(first), 0});
      operands.push_back(Operand{static_cast<uint32_t>(next), codes[which]});
      p = e;
    }
    *end = p;
    if (operands.empty()) return first;
    return AddGroup(level, &operands);
  }
  [[gnu::noinline]] int32_t AddGroup(int level, std::vector<Operand>* operands) {
    NodeType type = NodeType::kComma;
    switch (level) {
      case kPow: type = NodeType::kPow; break;
      case kMul: type = NodeType::kMul; break;
      case kAdd: type = NodeType::kAdd; break;
      case kCmp: type = NodeType::kCompare; break;
      case kAnd: type = NodeType::kAnd; break;
      case kOr: type = NodeType::kOr; break;
      default: break;
    }
    if (type == NodeType::kAnd || type == NodeType::kOr || type == NodeType::kComma) {
      operands->resize(2);
    }
    return AddNode(type, 0, operands->data(), operands->size());
  }

  // `c ? a : b` repeated, left-associative: Cinder evaluates only the first triple.
  [[gnu::noinline]] int32_t ParseTernary(size_t pos, size_t* end) {
    size_t p;
    int32_t cond = Parse(kCmp, pos, &p);
    if (cond < 0) return kFailed;
    int32_t yes_no[2] = {kFailed, kFailed};
    for (;;) {
      int which;
      size_t e1, e2;
      size_t q = MatchOneOf(p, kQuestionOp, &which);
      if (q == std::string_view::npos) break;
      int32_t yes = Parse(kCmp, q, &e1);
      if (yes < 0) break;
      q = MatchOneOf(e1, kColonOp, &which);
      if (q == std::string_view::npos) break;
      int32_t no = Parse(kCmp, q, &e2);
      if (no < 0) break;
      if (yes_no[0] == kFailed) yes_no[0] = yes, yes_no[1] = no;
      p = e2;
    }
    *end = p;
    if (yes_no[0] == kFailed) return cond;
    return AddTernary(cond, yes_no[0], yes_no[1]);
  }
  [[gnu::noinline]] int32_t AddTernary(int32_t cond, int32_t yes, int32_t no) {
    Operand operands[3] = {
        {static_cast<uint32_t>(cond), 0}, {static_cast<uint32_t>(yes), '?'}, {static_cast<uint32_t>(no), ':'}};
    return AddNode(NodeType::kTernary, 0, operands, 3);
  }

  // Keeps only the nodes the tree uses (backtracking leaves orphans), children before parents.
  void Compact(uint32_t root) {
    std::vector<Node> nodes;
    std::vector<Operand> operands;
    nodes.reserve(e_->nodes_.size());
    operands.reserve(e_->operands_.size());
    e_->root_ = CopyTree(root, &nodes, &operands);
    e_->nodes_ = std::move(nodes);
    e_->operands_ = std::move(operands);
  }
  uint32_t CopyTree(uint32_t index, std::vector<Node>* nodes, std::vector<Operand>* operands) {
    Node n = e_->nodes_[index];
    std::vector<Operand> kids(e_->operands_.begin() + n.first, e_->operands_.begin() + n.first + n.count);
    for (Operand& k : kids) k.node = CopyTree(k.node, nodes, operands);
    n.first = static_cast<uint32_t>(operands->size());
    operands->insert(operands->end(), kids.begin(), kids.end());
    nodes->push_back(n);
    return static_cast<uint32_t>(nodes->size() - 1);
  }

  Expression* e_;
  const std::string& s_;
  std::vector<Memo> memo_;
  size_t furthest_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
};

Result<std::shared_ptr<const Expression>> Expression::Parse(std::string_view text) {
  if (text.size() > kMaxTextLength) {
    return InvalidArgument("Malformed expression: longer than " + std::to_string(kMaxTextLength) + " characters");
  }
  try {
    auto e = std::make_shared<Expression>();
    e->text_.assign(text);  // the nodes point into it, so it is set before parsing, in place
    ExpressionParser parser(e.get());
    CINDER_RETURN_IF_ERROR(parser.Run());
    return std::shared_ptr<const Expression>(std::move(e));
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("Cannot parse expression: ") + ex.what());
  }
}

}  // namespace cinder::scheduler
