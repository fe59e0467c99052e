// oslo.policy's rule language: the tokenizer and the greedy shift-reduce parser of
// oslo_policy/_parser.py, the checks of oslo_policy/_checks.py, and their evaluation against a
// RequestContext. The parser reduces the same token patterns in the same order, so it groups
// "a or b and c" and "not a and b" as oslo.policy does (and, not, or: tightest first).
#include <algorithm>
#include <utility>

#include "auth/policy_internal.h"

namespace cinder::auth::policy_internal {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

Template::Fallback FallbackFor(std::string_view key) {
  if (key == "project_id") return Template::Fallback::kProjectId;
  if (key == "user_id") return Template::Fallback::kUserId;
  return Template::Fallback::kNone;
}

void AppendLiteral(Template* t, std::string_view text) {
  if (text.empty()) return;
  if (!t->pieces.empty() && !t->pieces.back().is_key) {
    t->pieces.back().text.append(text);
  } else {
    t->pieces.push_back({std::string(text), false, Template::Fallback::kNone});
  }
}

// The end of "%(key)" from its '(' (Python counts nested parentheses in the key).
size_t KeyEnd(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// What ast.literal_eval makes of a check's left-hand side, as str() shows it: a quoted string,
// True, False, None, a decimal integer. False when it is a name (a credential's path).
// InvalidArgument for the literals this engine does not read (floats, escapes, containers).
Result<bool> PythonLiteral(std::string_view kind, std::string* value) {
  if (kind.empty()) return false;
  char q = kind[0];
  if (q == '\'' || q == '"') {
    if (kind.size() < 2 || kind.back() != q || kind.substr(1, kind.size() - 2).find_first_of("\\'\"") != kind.npos) {
      return InvalidArgument("unsupported literal " + std::string(kind));
    }
    *value = std::string(kind.substr(1, kind.size() - 2));
    return true;
  }
  if (kind == "True" || kind == "False" || kind == "None") {
    *value = std::string(kind);
    return true;
  }
  std::string_view digits = kind;
  bool negative = false;
  if (digits[0] == '-' || digits[0] == '+') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool starts_numeric = !digits.empty() && ((digits[0] >= '0' && digits[0] <= '9') || digits[0] == '.');
  if (!starts_numeric) {
    if (q == '[' || q == '{' || q == '(') return InvalidArgument("unsupported literal " + std::string(kind));
    return false;
  }
  bool all_digits = std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  size_t nz = digits.find_first_not_of('0');
  if (!all_digits || (digits[0] == '0' && nz != digits.npos)) {
    return InvalidArgument("unsupported literal " + std::string(kind));
  }
  if (nz == digits.npos) {
    *value = "0";
  } else {
    *value = (negative ? "-" : "") + std::string(digits);
  }
  return true;
}

Credential CredentialFor(std::string_view path) {
  static const std::pair<std::string_view, Credential> kPaths[] = {
      {"user_id", Credential::kUserId},
      {"user_domain_id", Credential::kUserDomainId},
      {"project_id", Credential::kProjectId},
      {"project_domain_id", Credential::kProjectDomainId},
      {"domain_id", Credential::kDomainId},
      {"system_scope", Credential::kSystemScope},
      {"roles", Credential::kRoles},
      {"is_admin", Credential::kIsAdmin},
      {"is_admin_project", Credential::kIsAdminProject},
      {"service_user_id", Credential::kAlwaysNone},
      {"service_user_domain_id", Credential::kAlwaysNone},
      {"service_project_id", Credential::kAlwaysNone},
      {"service_project_domain_id", Credential::kAlwaysNone},
      {"service_roles", Credential::kAlwaysEmpty},
      // Keystone's credentials carry the token itself: the same values under its paths.
      {"token.user_id", Credential::kUserId},
      {"token.user.id", Credential::kUserId},
      {"token.user.domain.id", Credential::kUserDomainId},
      {"token.project.id", Credential::kProjectId},
      {"token.project.domain.id", Credential::kProjectDomainId},
      {"token.domain.id", Credential::kDomainId},
      {"token.roles.name", Credential::kRoles},
  };
  for (const auto& [name, credential] : kPaths) {
    if (name == path) return credential;
  }
  return Credential::kUnknown;
}

// One "kind:match" (or "@", "!"), as oslo.policy's _parse_check.
Result<Check> ParseCheck(std::string_view text) {
  Check c;
  if (text == "!") return c;
  if (text == "@") {
    c.type = CheckType::kTrue;
    return c;
  }
  size_t colon = text.find(':');
  if (colon == text.npos) return InvalidArgument("no ':' in check '" + std::string(text) + "'");
  c.kind = std::string(text.substr(0, colon));
  c.match = std::string(text.substr(colon + 1));
  if (c.kind == "http" || c.kind == "https") return InvalidArgument("http and https checks are not supported");
  auto tmpl = Template::Parse(c.match);
  if (!tmpl.ok()) return InvalidArgument("check '" + std::string(text) + "': " + tmpl.status().message());
  c.tmpl = std::move(*tmpl);
  if (c.kind == "rule") {
    c.type = CheckType::kRule;
  } else if (c.kind == "role") {
    c.type = CheckType::kRole;
    if (c.tmpl.IsLiteral()) c.literal = LowerAscii(c.tmpl.pieces.empty() ? "" : c.tmpl.pieces[0].text);
  } else {
    c.type = CheckType::kGeneric;
    auto literal = PythonLiteral(c.kind, &c.literal);
    if (!literal.ok()) return InvalidArgument("check '" + std::string(text) + "': " + literal.status().message());
    c.kind_is_literal = *literal;
    if (!c.kind_is_literal) c.credential = CredentialFor(c.kind);
  }
  return c;
}

enum class Tok : uint8_t { kCheck, kAndExpr, kOrExpr, kAnd, kOr, kNot, kLParen, kRParen, kString };

struct Token {
  Tok type;
  Check check;    // kCheck, kAndExpr, kOrExpr
  int depth = 1;  // of `check`'s tree
};

// Nesting beyond this is refused, so that evaluating a rule cannot exhaust a thread's stack.
constexpr int kMaxDepth = 64;

Check Combine(CheckType type, Check a, Check b) {
  Check c;
  c.type = type;
  c.children.push_back(std::move(a));
  c.children.push_back(std::move(b));
  return c;
}

// oslo.policy's ParseState: tokens are shifted onto a stack, which is reduced greedily after
// each shift.
class ParseState {
 public:
  void Shift(Token token) {
    stack_.push_back(std::move(token));
    while (Reduce3() || Reduce2()) {
    }
    if (stack_.back().depth > kMaxDepth) too_deep_ = true;
  }
  bool too_deep() const { return too_deep_; }

  Result<Check> Finish() && {
    if (stack_.size() != 1) return InvalidArgument("could not parse rule");
    Tok t = stack_[0].type;
    if (t != Tok::kCheck && t != Tok::kAndExpr && t != Tok::kOrExpr) return InvalidArgument("could not parse rule");
    return std::move(stack_[0].check);
  }

 private:
  bool Is(size_t from_end, Tok t) const { return stack_[stack_.size() - from_end].type == t; }
  bool IsExpr(size_t from_end) const { return Is(from_end, Tok::kCheck) || IsExpr2(from_end); }
  bool IsExpr2(size_t from_end) const { return Is(from_end, Tok::kAndExpr) || Is(from_end, Tok::kOrExpr); }

  int Depth(size_t from_end) const { return stack_[stack_.size() - from_end].depth; }

  // Replaces the last `n` tokens with one.
  void Replace(size_t n, Tok type, Check check, int depth) {
    stack_.resize(stack_.size() - n);
    stack_.push_back({type, std::move(check), depth});
  }

  bool Reduce3() {
    if (stack_.size() < 3) return false;
    Check& a = stack_[stack_.size() - 3].check;
    Check& c = stack_[stack_.size() - 1].check;
    // The depth of a joined a and c (at most one more than the deeper).
    int joined = std::max(Depth(3), Depth(1) + 1);
    if (Is(3, Tok::kLParen) && IsExpr(2) && Is(1, Tok::kRParen)) {
      Replace(3, Tok::kCheck, std::move(stack_[stack_.size() - 2].check), Depth(2));
    } else if (Is(3, Tok::kCheck) && Is(2, Tok::kAnd) && Is(1, Tok::kCheck)) {
      Replace(3, Tok::kAndExpr, Combine(CheckType::kAnd, std::move(a), std::move(c)), joined + 1);
    } else if (Is(3, Tok::kAndExpr) && Is(2, Tok::kAnd) && Is(1, Tok::kCheck)) {
      a.children.push_back(std::move(c));
      Replace(3, Tok::kAndExpr, std::move(a), joined);
    } else if (Is(3, Tok::kOrExpr) && Is(2, Tok::kAnd) && Is(1, Tok::kCheck)) {
      // "a or b and c": the and takes the or's last operand.
      Check last = std::move(a.children.back());
      a.children.pop_back();
      if (last.type == CheckType::kAnd) {
        last.children.push_back(std::move(c));
      } else {
        last = Combine(CheckType::kAnd, std::move(last), std::move(c));
      }
      a.children.push_back(std::move(last));
      Replace(3, Tok::kOrExpr, std::move(a), joined + 1);
    } else if ((Is(3, Tok::kCheck) || Is(3, Tok::kAndExpr)) && Is(2, Tok::kOr) && Is(1, Tok::kCheck)) {
      Replace(3, Tok::kOrExpr, Combine(CheckType::kOr, std::move(a), std::move(c)), joined + 1);
    } else if (Is(3, Tok::kOrExpr) && Is(2, Tok::kOr) && Is(1, Tok::kCheck)) {
      a.children.push_back(std::move(c));
      Replace(3, Tok::kOrExpr, std::move(a), joined);
    } else {
      return false;
    }
    return true;
  }

  bool Reduce2() {
    if (stack_.size() < 2 || !Is(2, Tok::kNot) || !Is(1, Tok::kCheck)) return false;
    Check c;
    c.type = CheckType::kNot;
    c.children.push_back(std::move(stack_.back().check));
    Replace(2, Tok::kCheck, std::move(c), Depth(1) + 1);
    return true;
  }

  std::vector<Token> stack_;
  bool too_deep_ = false;
};

// oslo.policy's _parse_tokenize for one whitespace-separated word: leading '(', the word
// (an operator, a quoted string or a check), trailing ')'.
Status ShiftWord(std::string_view word, ParseState* state) {
  while (!word.empty() && word[0] == '(') {
    state->Shift({Tok::kLParen, {}});
    word.remove_prefix(1);
  }
  if (word.empty()) return Status::OK();
  std::string_view clean = word;
  size_t trail = 0;
  while (!clean.empty() && clean.back() == ')') {
    clean.remove_suffix(1);
    ++trail;
  }
  if (EqualsIgnoreCase(clean, "and")) {
    state->Shift({Tok::kAnd, {}});
  } else if (EqualsIgnoreCase(clean, "or")) {
    state->Shift({Tok::kOr, {}});
  } else if (EqualsIgnoreCase(clean, "not")) {
    state->Shift({Tok::kNot, {}});
  } else if (!clean.empty()) {
    if (word.size() >= 2 && (word[0] == '"' || word[0] == '\'') && word.back() == word[0]) {
      state->Shift({Tok::kString, {}});  // a bare string never reduces: the rule fails to parse
    } else {
      CINDER_ASSIGN_OR_RETURN(Check check, ParseCheck(clean));
      state->Shift({Tok::kCheck, std::move(check)});
    }
  }
  for (size_t i = 0; i < trail; ++i) state->Shift({Tok::kRParen, {}});
  if (state->too_deep()) return InvalidArgument("nested too deeply");
  return Status::OK();
}

}  // namespace

Result<Template> Template::Parse(std::string_view text) {
  Template t;
  size_t i = 0;
  while (i < text.size()) {
    size_t pct = text.find('%', i);
    AppendLiteral(&t, text.substr(i, pct == text.npos ? text.npos : pct - i));
    if (pct == text.npos) break;
    if (pct + 1 < text.size() && text[pct + 1] == '%') {
      AppendLiteral(&t, "%");
      i = pct + 2;
      continue;
    }
    size_t close = pct + 1 < text.size() && text[pct + 1] == '(' ? KeyEnd(text, pct + 1) : text.npos;
    if (close == text.npos || close + 1 >= text.size() || text[close + 1] != 's') {
      return InvalidArgument("'%' must begin %% or %(key)s");
    }
    std::string key(text.substr(pct + 2, close - pct - 2));
    Fallback fallback = FallbackFor(key);
    t.pieces.push_back({std::move(key), true, fallback});
    i = close + 2;
  }
  return t;
}

std::string Check::ToString() const {
  switch (type) {
    case CheckType::kTrue: return "@";
    case CheckType::kFalse: return "!";
    case CheckType::kNot: return "not " + children[0].ToString();
    case CheckType::kAnd:
    case CheckType::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += type == CheckType::kAnd ? " and " : " or ";
        out += children[i].ToString();
      }
      return out + ")";
    }
    default: return kind + ":" + match;
  }
}

Result<Check> ParseRule(std::string_view text) {
  if (text.empty()) {
    Check always;
    always.type = CheckType::kTrue;
    return always;
  }
  ParseState state;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    size_t end = i;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    if (end > i) CINDER_RETURN_IF_ERROR(ShiftWord(text.substr(i, end - i), &state));
    i = end;
  }
  return std::move(state).Finish();
}

Result<Check> ParseListRule(const std::vector<std::vector<std::string>>& rule) {
  Check any;
  if (rule.empty()) {
    any.type = CheckType::kTrue;
    return any;
  }
  any.type = CheckType::kOr;
  for (const auto& inner : rule) {
    if (inner.empty()) continue;
    Check all;
    all.type = CheckType::kAnd;
    for (const std::string& text : inner) {
      CINDER_ASSIGN_OR_RETURN(Check check, ParseCheck(text));
      all.children.push_back(std::move(check));
    }
    any.children.push_back(all.children.size() == 1 ? std::move(all.children[0]) : std::move(all));
  }
  if (any.children.empty()) return Check{};  // only empty lists: oslo.policy denies
  if (any.children.size() == 1) return std::move(any.children[0]);
  return any;
}

// --- Evaluation ------------------------------------------------------------------------------

namespace {

// Python's str() of a credential that may be None: "" is None here.
std::string_view OrNone(const std::string& s) { return s.empty() ? std::string_view("None") : s; }

class Evaluator {
 public:
  Evaluator(const RuleSet& rules, const RequestContext& ctx, const PolicyTarget& target)
      : rules_(rules), ctx_(ctx), target_(target) {}

  bool Run(const Check& c) const {
    switch (c.type) {
      case CheckType::kTrue: return true;
      case CheckType::kFalse: return false;
      case CheckType::kNot: return !Run(c.children[0]);
      case CheckType::kAnd:
        return std::all_of(c.children.begin(), c.children.end(), [&](const Check& x) { return Run(x); });
      case CheckType::kOr:
        return std::any_of(c.children.begin(), c.children.end(), [&](const Check& x) { return Run(x); });
      case CheckType::kRule: return c.rule >= 0 && Run(rules_.checks[c.rule]);
      case CheckType::kRole: return Role(c);
      case CheckType::kGeneric: return Generic(c);
    }
    return false;
  }

 private:
  // The target's value for a %(key)s; false when it has none (a KeyError in oslo.policy).
  bool Lookup(const Template::Piece& piece, std::string_view* value) const {
    auto it = target_.find(piece.text);
    if (it != target_.end()) {
      *value = it->second;
      return true;
    }
    switch (piece.fallback) {
      case Template::Fallback::kProjectId: *value = OrNone(ctx_.project_id); return true;
      case Template::Fallback::kUserId: *value = OrNone(ctx_.user_id); return true;
      default: return false;
    }
  }

  // `match % target`: a view of the literal or of the one value when it can, else built in *buf.
  bool Render(const Template& t, std::string_view* out, std::string* buf) const {
    if (t.IsLiteral()) {
      *out = t.pieces.empty() ? std::string_view() : std::string_view(t.pieces[0].text);
      return true;
    }
    if (t.IsSingleKey()) return Lookup(t.pieces[0], out);
    for (const Template::Piece& p : t.pieces) {
      std::string_view v = p.text;
      if (p.is_key && !Lookup(p, &v)) return false;
      buf->append(v);
    }
    *out = *buf;
    return true;
  }

  bool Role(const Check& c) const {
    std::string_view role = c.literal;
    std::string buf;
    if (!c.tmpl.IsLiteral() && !Render(c.tmpl, &role, &buf)) return false;
    return std::any_of(ctx_.roles.begin(), ctx_.roles.end(),
                       [&](const std::string& r) { return EqualsIgnoreCase(r, role); });
  }

  bool Generic(const Check& c) const {
    std::string_view match;
    std::string buf;
    if (!Render(c.tmpl, &match, &buf)) return false;
    if (c.kind_is_literal) return match == c.literal;
    switch (c.credential) {
      case Credential::kUnknown:
      case Credential::kAlwaysEmpty: return false;
      case Credential::kRoles:
        return std::any_of(ctx_.roles.begin(), ctx_.roles.end(), [&](const std::string& r) { return r == match; });
      default: return Scalar(c.credential) == match;
    }
  }

  std::string_view Scalar(Credential credential) const {
    switch (credential) {
      case Credential::kUserId: return OrNone(ctx_.user_id);
      case Credential::kUserDomainId: return OrNone(ctx_.user_domain_id);
      case Credential::kProjectId: return OrNone(ctx_.project_id);
      case Credential::kProjectDomainId: return OrNone(ctx_.project_domain_id);
      case Credential::kDomainId: return OrNone(ctx_.domain_id);
      case Credential::kSystemScope: return OrNone(ctx_.system_scope);
      case Credential::kIsAdmin: return ctx_.is_admin ? "True" : "False";
      case Credential::kIsAdminProject: return ctx_.is_admin_project ? "True" : "False";
      default: return "None";
    }
  }

  const RuleSet& rules_;
  const RequestContext& ctx_;
  const PolicyTarget& target_;
};

}  // namespace

bool Evaluate(const Check& check, const RuleSet& rules, const RequestContext& ctx, const PolicyTarget& target) {
  return Evaluator(rules, ctx, target).Run(check);
}

}  // namespace cinder::auth::policy_internal
