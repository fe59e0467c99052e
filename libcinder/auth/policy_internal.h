// The policy engine's parts, shared by policy.cc, policy_parser.cc, policy_defaults.cc and the
// tests: a rule's check tree (oslo.policy's _checks), its parser (oslo.policy's _parser), the
// compiled rule set an Enforce walks, and the defaults.
#ifndef CINDER_AUTH_POLICY_INTERNAL_H_
#define CINDER_AUTH_POLICY_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/status.h"

namespace cinder::auth::policy_internal {

// A check's right-hand side as Python's `match % target` reads it: literal text and %(key)s
// references, in order ("%%" is a literal '%').
struct Template {
  // A key the caller's own value stands in for when the target lacks it (Cinder's target
  // starts as the caller's project_id and user_id).
  enum class Fallback : uint8_t { kNone, kProjectId, kUserId };
  struct Piece {
    std::string text;  // the literal, or the key
    bool is_key = false;
    Fallback fallback = Fallback::kNone;
  };
  std::vector<Piece> pieces;

  // InvalidArgument for a '%' that is not "%%" or "%(key)s" (Python would raise at enforcement).
  static Result<Template> Parse(std::string_view text);
  bool IsLiteral() const { return pieces.empty() || (pieces.size() == 1 && !pieces[0].is_key); }
  bool IsSingleKey() const { return pieces.size() == 1 && pieces[0].is_key; }
};

enum class CheckType : uint8_t { kTrue, kFalse, kNot, kAnd, kOr, kRule, kRole, kGeneric };

// What a generic check's left-hand side names: a credential (oslo.context's to_policy_values
// plus Cinder's is_admin; Keystone's token.* paths name the same values), or none (the check
// fails, as a KeyError does in oslo.policy).
enum class Credential : uint8_t {
  kUnknown,
  kUserId,
  kUserDomainId,
  kProjectId,
  kProjectDomainId,
  kDomainId,
  kSystemScope,
  kRoles,
  kIsAdmin,
  kIsAdminProject,
  kAlwaysNone,   // service_user_id and the like: never set here, so Python's None
  kAlwaysEmpty,  // service_roles: an empty list
};

// One node of a rule's tree. kRule, kRole and kGeneric are "kind:match" leaves.
struct Check {
  CheckType type = CheckType::kFalse;
  std::vector<Check> children;  // kNot: one; kAnd, kOr: two or more
  std::string kind;             // left of the first ':'
  std::string match;            // right of it, as written
  Template tmpl;                // `match`, parsed
  // kRole: the role, lower-cased, when `match` has no key. kGeneric with a Python literal on
  // the left ('Member', True, 1): that literal's str().
  std::string literal;
  bool kind_is_literal = false;  // kGeneric: `kind` is a Python literal
  Credential credential = Credential::kUnknown;
  int rule = -1;  // kRule: the index of the named rule in its RuleSet; -1 when undefined

  // oslo.policy's str(): "@", "!", "kind:match", "not X", "(a and b)", "(a or b)".
  std::string ToString() const;
};

// The policy language, as oslo.policy's _parse_text_rule: "" is "@". InvalidArgument where
// oslo.policy would log "Failed to understand rule" and deny (a check without ':', operators
// that do not reduce), and for the http: and https: checks, which are not offered here.
Result<Check> ParseRule(std::string_view text);
// The old list syntax ([["a", "b"], ["c"]] is "(a and b) or c"; [] is "@").
Result<Check> ParseListRule(const std::vector<std::vector<std::string>>& rule);

// Rule names to indices without building a string for the lookup.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Every rule in effect, compiled: rule references resolved to indices. Immutable once built.
struct RuleSet {
  std::vector<std::string> names;
  std::vector<Check> checks;
  std::unordered_map<std::string, int, NameHash, std::equal_to<>> index;

  // -1 when there is no such rule.
  int Find(std::string_view name) const {
    auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
  }
};

// Whether `check` passes for `ctx` on `target` (which the caller's project_id and user_id
// complete). `rules` resolves rule: references.
bool Evaluate(const Check& check, const RuleSet& rules, const RequestContext& ctx, const PolicyTarget& target);

// A rule's code default and the rule it replaced (oslo.policy's RuleDefault and DeprecatedRule).
struct RuleDefault {
  const char* name;
  const char* check;
  const char* deprecated_name = nullptr;   // "" (kSame): the same name
  const char* deprecated_check = nullptr;  // nullptr: no deprecated rule
};
inline constexpr char kSame[] = "";

// Cinder 2023.1's rules (cinder/policies/*.py, in policies.list_rules() order).
std::span<const RuleDefault> CinderRuleDefaults();
// Keystone 2023.1's identity rules that the built-in identity service enforces, and the base
// rules they use (keystone/common/policies/*.py).
std::span<const RuleDefault> IdentityRuleDefaults();

}  // namespace cinder::auth::policy_internal

#endif  // CINDER_AUTH_POLICY_INTERNAL_H_
