// Cinder's volume-type extra-spec operators and its CapabilitiesFilter, so that a volume
// type written for Cinder selects the same backends here.
//
// MatchExtraSpec(value, req) is extra_specs_ops.match(). `req` is split on whitespace
// (Python's str.split(): runs of ASCII or Unicode whitespace); its first word picks the
// operator and the SECOND word is the operand. Any further words are ignored, except by
// <or>. Operators are case-sensitive.
//
//   no words, or a first word that is no operator (e.g. "thin", "> 2", "<all-in> a b")
//          -> value == req, comparing the WHOLE req unsplit and case-sensitively.
//   "= N"  -> float(value) >= float(N). Not equality: "= 123" matches 124.
//   "== N", "!= N", ">= N", "<= N"
//          -> compared as floats. Python's float(): surrounding whitespace, a sign,
//             '_' between digits, "1." and ".5", exponents, and inf/infinity/nan in any
//             case. If either side does not convert the spec does not match (so "!= 5"
//             fails on "thin"). There is no "<" or ">".
//   "s== S", "s!= S", "s< S", "s<= S", "s> S", "s>= S"
//          -> string comparison by code point ("12" s< "2"), case-sensitive.
//   "<in> S"   -> S is a substring of value.
//   "<is> B"   -> oslo's bool_from_string(value) == bool_from_string(B): trimmed and
//                 lower-cased, 1/t/true/on/y/yes are true, 0/f/false/off/n/no are false,
//                 ANYTHING ELSE IS FALSE, so "<is> Nonsense" matches a false capability.
//   "<or> A <or> B ..." -> value equals A, or B, ...: every second word is skipped without
//                 being checked, so "<or> a junk b" also accepts b.
//   An operator with no operand ("=", "<in>") never matches; neither does a None value.
//   "<all-in>" is Nova's, not Cinder's: Cinder has no such operator, so "<all-in> a b" is
//   compared as a plain string and only a capability reading "<all-in> a b" matches it.
//
// Where Cinder raises instead (TypeError for "s<" or "<in>" on a number, IndexError for a
// bare "<or>"), the exception escapes the filter and fails the whole scheduling request;
// these functions cannot fail, so they answer false (that backend does not pass).
//
// The string overload takes the capability as a Python str. Cinder keeps a capability's
// reported type, and a bool or number behaves differently from its str(): True never
// equals the spec "True" (only "<is> True" matches it), the s-operators and <in> raise on
// numbers, and float(True) is 1.0 where float("True") fails. For exact behaviour with
// non-string capabilities use MatchTypedExtraSpec() and the json::Value overload of
// CapabilitiesSatisfied().
//
// CapabilitiesSatisfied() is CapabilitiesFilter._satisfies_extra_specs():
//   - No extra specs: pass.
//   - Each extra-spec key is split on ':'. A key with more than one part whose first part
//     is not "capabilities" ("vendor:foo", "qos:iops", "scope_lv1:opt1") is another
//     scope's business and is ignored. A first part "capabilities" is dropped. What is
//     left is a path into the backend's capability dict, one part per level:
//     "thin_provisioning_support" -> caps["thin_provisioning_support"];
//     "capabilities:scope_lv0:scope_lv1:opt1" -> caps["scope_lv0"]["scope_lv1"]["opt1"].
//     (A bare "capabilities" key names the whole dict.)
//   - A path that does not resolve (missing key, or a level that is not a dict) fails the
//     backend; so does a capability whose value is None.
//   - A capability that is a list passes if any element matches; an empty list fails.
//   - Every remaining spec must match (AND); the order does not matter.
//   - Not done here: for an extend_volume request, Cinder first fails a backend that
//     reports online_extend_support as False (the bool) unless the volume is detached.
//
// With the lookup overload, `capability` is asked for the path with its parts joined by
// ':' ("scope_lv0:scope_lv1:opt1") and answers with the value's str(), or nullopt when the
// path does not resolve or the value is None. (It is asked for "" by a bare "capabilities"
// key and by "capabilities:"; nullopt is the natural answer to both.) A caller
// holding nested capabilities should split the key on ':' and walk its dicts (Cinder
// cannot reach a top-level capability whose own name contains ':' either); flattening the
// nested dicts into ':'-joined keys answers the same. Lists cannot be expressed that way:
// use the json::Value overload for them.
#ifndef CINDER_SCHEDULER_EXTRA_SPECS_OPS_H_
#define CINDER_SCHEDULER_EXTRA_SPECS_OPS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace cinder::scheduler {

namespace extra_specs_internal {
struct Capability;  // a capability of any Python type
enum class Op : uint8_t;
}  // namespace extra_specs_internal

// extra_specs_ops.match() for a capability that is the string `value`.
bool MatchExtraSpec(std::string_view value, std::string_view req);
// extra_specs_ops.match() for a capability of any type, as Cinder treats that type (null
// is None; an int and a double differ only for "<is>": 1 is true, 1.0 is neither). Named
// apart because a string would convert to either parameter type.
bool MatchTypedExtraSpec(const json::Value& value, std::string_view req);

// A capability's str prepared once for matching many specs (the scheduler prepares each
// pool's capabilities when their report arrives): what the operators read from it.
struct PreparedCapability {
  std::string_view str;
  std::optional<double> number;  // Python's float(str); nullopt where it raises
  bool truth = false;            // oslo's bool_from_string(str)
};
PreparedCapability PrepareCapability(std::string_view value);

// One extra spec's request parsed once, for a filter that checks it against many pools:
// Matches(PrepareCapability(value)) is MatchExtraSpec(value, req), which is built on it.
// Immutable after construction; `req` must outlive it.
class CompiledSpec {
 public:
  explicit CompiledSpec(std::string_view req);
  bool Matches(const PreparedCapability& value) const;

 private:
  friend bool MatchTypedExtraSpec(const json::Value& value, std::string_view req);
  bool Matches(const extra_specs_internal::Capability& value) const;

  extra_specs_internal::Op op_;
  std::string_view req_;                        // whole, unsplit: what a plain spec compares
  std::optional<std::string_view> arg_;         // the operand (second word)
  std::optional<double> arg_number_;            // float(operand)
  bool arg_truth_ = false;                      // bool_from_string(operand)
  std::vector<std::string_view> alternatives_;  // <or>: the words it accepts
};

// CapabilitiesFilter on capabilities reached through `capability` (see above).
bool CapabilitiesSatisfied(const std::map<std::string, std::string>& extra_specs,
                           const std::function<std::optional<std::string>(std::string_view key)>& capability);
// CapabilitiesFilter on the backend's capability dict itself (a JSON object), exactly.
bool CapabilitiesSatisfied(const std::map<std::string, std::string>& extra_specs, const json::Value& capabilities);

}  // namespace cinder::scheduler

#endif  // CINDER_SCHEDULER_EXTRA_SPECS_OPS_H_
